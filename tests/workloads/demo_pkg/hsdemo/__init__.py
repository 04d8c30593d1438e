"""hsdemo: installed into a venv on a Hostshare share by tests/workloads."""
import hashlib


def fingerprint():
    return hashlib.sha256(b"".join(bytes([i]) * i for i in range(256))).hexdigest()
