#!/usr/bin/python3
"""Helpers the workload suite runs in the guest (and on the host, to compare):

  guest_tools.py treehash DIR        one line: "<entries> <sha256>" over every
                                     entry (path, type, mode, size, content or
                                     link target), sorted; same on both sides
                                     when the trees are byte-for-byte equal
  guest_tools.py sqlite-init DB       creates the table, journal_mode=WAL
  guest_tools.py sqlite-writer DB ID N
                                     inserts N rows (WAL, busy timeout) in
                                     small transactions, as writer ID
  guest_tools.py sqlite-summary DB   integrity_check, row count and a digest
  guest_tools.py crash-writer DIR ACKS
                                     appends numbered 4 KiB records to
                                     DIR/log, fsync'ing each, and also creates
                                     DIR/f-<n> files (fsync file + directory);
                                     after each fsync returns, appends the
                                     record number to ACKS (guest tmpfs);
                                     runs until killed
Stdlib only.
"""

import hashlib
import os
import sqlite3
import stat
import sys
import time


def treehash(root):
    h = hashlib.sha256()
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                item = "L %s %s" % (rel, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                item = "D %s %o" % (rel, mode)
            elif stat.S_ISREG(st.st_mode):
                fh = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        fh.update(chunk)
                item = "F %s %o %d %s" % (rel, mode, st.st_size, fh.hexdigest())
            else:
                item = "S %s %o %d" % (rel, st.st_mode, st.st_rdev)
            h.update(item.encode("utf-8", "surrogateescape") + b"\n")
            n += 1
    print("%d %s" % (n, h.hexdigest()))


def sqlite_init(db):
    """Creates the table and switches to WAL (persistent), before the writers
    start: changing the journal mode needs the database to itself."""
    con = sqlite3.connect(db, timeout=60)
    mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    con.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, writer INT, seq INT, "
                "payload TEXT)")
    con.commit()
    con.close()
    print("journal_mode=%s" % mode)


def sqlite_writer(db, wid, count):
    con = sqlite3.connect(db, timeout=60)
    con.execute("PRAGMA synchronous=NORMAL")
    done = 0
    while done < count:
        batch = min(20, count - done)
        for attempt in range(200):
            try:
                with con:
                    for i in range(done, done + batch):
                        payload = hashlib.sha256(("%s-%d" % (wid, i)).encode()).hexdigest() * 4
                        con.execute("INSERT INTO t (writer, seq, payload) VALUES (?, ?, ?)",
                                    (wid, i, payload))
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                time.sleep(0.05)
        else:
            raise SystemExit("writer %s: database stayed locked" % wid)
        done += batch
    con.close()
    print("writer %s inserted %d" % (wid, done))


def sqlite_summary(db):
    con = sqlite3.connect(db)
    ic = con.execute("PRAGMA integrity_check").fetchone()[0]
    rows = con.execute("SELECT writer, seq, payload FROM t ORDER BY writer, seq").fetchall()
    bad = sum(1 for w, s, p in rows
              if p != hashlib.sha256(("%s-%d" % (w, s)).encode()).hexdigest() * 4)
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    per = {}
    for w, s, _ in rows:
        per[w] = per.get(w, 0) + 1
    print("integrity=%s rows=%d bad=%d per_writer=%s digest=%s"
          % (ic, len(rows), bad, sorted(per.items()), digest))


def crash_writer(d, acks):
    os.makedirs(d, exist_ok=True)
    log = os.open(os.path.join(d, "log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    ack = open(acks, "a", buffering=1)
    n = 0
    while True:
        rec = ("%08d " % n).encode() + hashlib.sha256(str(n).encode()).hexdigest().encode() * 64
        rec = rec[:4095] + b"\n"
        os.write(log, rec)
        os.fsync(log)
        if n % 10 == 0:
            fd = os.open(os.path.join(d, "f-%d" % n), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, rec)
            os.fsync(fd)
            os.close(fd)
            os.fsync(dfd)
        ack.write("%d\n" % n)
        n += 1


def main():
    cmd = sys.argv[1]
    if cmd == "treehash":
        treehash(sys.argv[2])
    elif cmd == "sqlite-init":
        sqlite_init(sys.argv[2])
    elif cmd == "sqlite-writer":
        sqlite_writer(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "sqlite-summary":
        sqlite_summary(sys.argv[2])
    elif cmd == "crash-writer":
        crash_writer(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
