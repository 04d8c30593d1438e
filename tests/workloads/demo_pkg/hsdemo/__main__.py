import sys

import hsdemo

print("hsdemo %s prefix=%s" % (hsdemo.fingerprint()[:16], sys.prefix))
