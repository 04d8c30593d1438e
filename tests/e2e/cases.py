"""The Hostshare e2e test cases (registered in run order)."""

import errno
import hashlib
import os
import re
import shutil
import stat
import time

from harness import MNT, TAG, Failure, case, q

AUTO = ["auto-xattr"]
NEVER = ["never"]
BIG = 256 * 1024 * 1024
MANY = 10000


def wait_attr_timeout(t):
    """Under cache=auto the guest may keep attributes/entries for 1 s."""
    if t.config.cache != "never":
        time.sleep(1.6)


def host_read(path):
    with open(path, "rb") as f:
        return f.read()


def host_write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def err_name(out):
    m = re.search(r"ERR [^:]*: (E[A-Z0-9]+)", out)
    return m.group(1) if m else None


# ---------------------------------------------------------------- mount

@case()
def test_mount(t):
    """virtiofs mounts on /mnt and shows host files."""
    host_write(t.hp("marker.txt"), "host marker\n")
    t.gok("umount %s" % MNT)
    t.gfail("grep ' %s virtiofs ' /proc/mounts" % MNT)
    t.gok("mount -t virtiofs %s %s" % (TAG, MNT))
    line = t.gok("grep ' %s ' /proc/mounts" % MNT).strip()
    t.check(line.split()[:3] == [TAG, MNT, "virtiofs"], "unexpected mount line: %r" % line)
    t.eq(t.gok("cat %s" % q(t.gp("marker.txt"))), "host marker\n", "guest reads host file")
    t.check(t.name in t.gok("ls %s" % MNT).split(), "test dir not listed in /mnt")


# ---------------------------------------------------------------- basic I/O

@case()
def test_create_read_write_append_truncate(t):
    """create/read/write/append/truncate, checked on both sides."""
    f, hf = t.gp("f.txt"), t.hp("f.txt")
    t.gok("printf 'hello\\n' > %s" % q(f))
    t.eq(host_read(hf), b"hello\n", "host sees guest-created file")
    t.eq(t.gok("cat %s" % q(f)), "hello\n", "guest reads back")
    t.gok("printf 'world\\n' >> %s" % q(f))
    t.eq(host_read(hf), b"hello\nworld\n", "after guest append")
    t.gok("printf 'J' | dd of=%s bs=1 seek=6 conv=notrunc 2>/dev/null" % q(f))
    t.eq(host_read(hf), b"hello\nJorld\n", "after guest overwrite in place")
    t.gok("guest_tool writeat %s 20000 XYZ" % q(f))
    data = host_read(hf)
    t.eq(len(data), 20003, "size after write past EOF")
    t.check(data[12:20000] == bytes(20000 - 12), "gap after write past EOF is not zeros")
    t.eq(data[20000:], b"XYZ", "bytes written past EOF")
    t.gok("truncate -s 3 %s" % q(f))
    t.eq(host_read(hf), b"hel", "after guest truncate (shrink)")
    t.eq(t.gok("cat %s" % q(f)), "hel", "guest reads truncated file")
    t.gok("truncate -s 8192 %s" % q(f))
    t.eq(host_read(hf), b"hel" + bytes(8189), "after guest truncate (grow)")
    t.eq(t.gstat(f)["size"], 8192, "guest size after grow")
    t.gok(": > %s" % q(f))
    t.eq(os.path.getsize(hf), 0, "after O_TRUNC open")
    # host -> guest
    host_write(t.hp("h.txt"), "from the host\n")
    t.eq(t.gok("cat %s" % q(t.gp("h.txt"))), "from the host\n", "guest reads host-created file")
    t.gok("rm %s" % q(f))
    t.check(not os.path.exists(hf), "guest rm: file still on host")
    t.gok("mkdir %s && rmdir %s" % (q(t.gp("sub")), q(t.gp("sub"))))
    t.check(not os.path.exists(t.hp("sub")), "guest rmdir: dir still on host")


# ---------------------------------------------------------------- big files

@case(timeout=600)
def test_big_file_guest_to_host(t):
    """256 MiB written by the guest, sha256 compared on the host."""
    f = t.gp("big.bin")
    res = t.gok("guest_tool pattern 7 %d | sha256sum" % BIG, timeout=600)
    want = res.split()[0]
    t0 = time.monotonic()
    t.gok("guest_tool pattern 7 %d > %s && sync" % (BIG, q(f)), timeout=600)
    secs = time.monotonic() - t0
    t.note("guest wrote 256 MiB in %.1fs (%.1f MiB/s)" % (secs, 256 / secs))
    t.eq(os.path.getsize(t.hp("big.bin")), BIG, "host size")
    h = hashlib.sha256()
    with open(t.hp("big.bin"), "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    t.eq(h.hexdigest(), want, "sha256 on host of the guest-written file")
    os.unlink(t.hp("big.bin"))


@case(timeout=600)
def test_big_file_host_to_guest(t):
    """256 MiB written by the host, sha256 compared in the guest."""
    h = hashlib.sha256()
    with open(t.hp("big.bin"), "wb") as fh:
        for _ in range(BIG // (1 << 20)):
            chunk = os.urandom(1 << 20)
            h.update(chunk)
            fh.write(chunk)
    t0 = time.monotonic()
    out = t.gok("dd if=%s bs=1M 2>/dev/null | sha256sum" % q(t.gp("big.bin")), timeout=600)
    secs = time.monotonic() - t0
    t.note("guest read 256 MiB in %.1fs" % secs)
    t.eq(out.split()[0], h.hexdigest(), "sha256 in guest of the host-written file")
    t.eq(t.gstat(t.gp("big.bin"))["size"], BIG, "guest size")
    os.unlink(t.hp("big.bin"))


# ---------------------------------------------------------------- directories

@case(timeout=600)
def test_readdir_10000(t):
    """mkdir + readdir of 10,000 entries, counted in the guest and on the host.

    The guest creates 10,000 files (2,000 under cache=never, where each
    create costs ~4 uncached round trips, ~75 s for 10,000 under TCG) and the
    host creates another 10,000 the guest reads (many READDIR(PLUS) rounds).
    """
    n_guest = MANY if t.config.cache != "never" else 2000
    d = t.gp("many")
    t.gok("mkdir %s" % q(d))
    t.check(os.path.isdir(t.hp("many")), "guest mkdir not on host")
    t.gok("guest_tool mkentries %s %d e" % (q(d), n_guest), timeout=600)
    out = t.gok("guest_tool countdir %s" % q(d), timeout=300)
    t.eq(out.strip(), "count=%d dups=0 dots=2" % n_guest, "guest readdir of guest-made dir")
    if t.config.cache != "never":  # busybox ls lstat()s every entry: slow uncached
        t.eq(int(t.gok("ls -1 %s | wc -l" % q(d), timeout=300)), n_guest, "guest ls | wc -l")
    names = os.listdir(t.hp("many"))
    t.eq(len(names), n_guest, "host entry count")
    t.eq(sorted(names)[0], "e000000", "first name")
    t.eq(sorted(names)[-1], "e%06d" % (n_guest - 1), "last name")
    # A daemon may hold one fd per inode the guest knows, and RLIMIT_NOFILE
    # may be as low as 20000 (it is here, without CAP_SYS_RESOURCE): let the
    # guest forget these inodes before it looks up another 10,000.
    if t.config.cache != "never":
        t.gok("rm -rf %s" % q(d), timeout=600)
        t.check(not os.path.exists(t.hp("many")), "guest rm -rf left the dir on the host")
    else:
        shutil.rmtree(t.hp("many"))
    t.gok("sync && echo 3 > /proc/sys/vm/drop_caches")

    hd = t.hp("hostmany")
    os.mkdir(hd)
    for i in range(MANY):
        os.close(os.open(os.path.join(hd, "h-entry-with-a-longer-name-%05d" % i),
                         os.O_CREAT | os.O_WRONLY, 0o644))
    out = t.gok("guest_tool countdir %s" % q(t.gp("hostmany")), timeout=300)
    t.eq(out.strip(), "count=%d dups=0 dots=2" % MANY, "guest readdir of host-made dir")
    if t.config.cache != "never":
        t.eq(int(t.gok("ls -1 %s | wc -l" % q(t.gp("hostmany")), timeout=300)), MANY,
             "guest ls | wc -l of host-made dir")
    shutil.rmtree(hd)
    t.gok("echo 3 > /proc/sys/vm/drop_caches")


@case()
def test_rename_and_rename2(t):
    """rename, rename over, RENAME_EXCHANGE (file/file, file/dir), RENAME_NOREPLACE."""
    host_write(t.hp("a"), "AAA")
    host_write(t.hp("b"), "BBB")
    t.gok("mv %s %s" % (q(t.gp("a")), q(t.gp("c"))))
    t.check(not os.path.exists(t.hp("a")) and host_read(t.hp("c")) == b"AAA", "plain rename")
    t.gok("mv %s %s" % (q(t.gp("c")), q(t.gp("b"))))
    t.check(not os.path.exists(t.hp("c")), "rename over: source still there")
    t.eq(host_read(t.hp("b")), b"AAA", "rename over: target content")
    t.eq(t.gok("cat %s" % q(t.gp("b"))), "AAA", "guest view after rename over")

    host_write(t.hp("x"), "XXX")
    host_write(t.hp("y"), "YYY")
    t.eq(t.gok("cat %s %s" % (q(t.gp("x")), q(t.gp("y")))), "XXXYYY", "before exchange")
    out = t.gok("guest_tool rename2 exchange %s %s" % (q(t.gp("x")), q(t.gp("y"))))
    t.eq(out.strip(), "OK", "renameat2(RENAME_EXCHANGE)")
    t.eq((host_read(t.hp("x")), host_read(t.hp("y"))), (b"YYY", b"XXX"), "host after exchange")
    t.eq(t.gok("cat %s %s" % (q(t.gp("x")), q(t.gp("y")))), "YYYXXX", "guest after exchange")

    os.mkdir(t.hp("D"))
    host_write(t.hp("D", "inner"), "in")
    t.gok("guest_tool rename2 exchange %s %s" % (q(t.gp("x")), q(t.gp("D"))))
    t.check(os.path.isdir(t.hp("x")) and host_read(t.hp("x", "inner")) == b"in",
            "file<->dir exchange: x should now be the directory")
    t.eq(host_read(t.hp("D")), b"YYY", "file<->dir exchange: D should now be the file")
    t.eq(t.gok("cat %s" % q(t.gp("x", "inner"))), "in", "guest path through exchanged dir")

    out = t.gfail("guest_tool rename2 noreplace %s %s" % (q(t.gp("y")), q(t.gp("D"))))
    t.eq(err_name(out), "EEXIST", "RENAME_NOREPLACE onto an existing name")
    t.eq((host_read(t.hp("y")), host_read(t.hp("D"))), (b"XXX", b"YYY"),
         "NOREPLACE failure changed files")
    t.gok("guest_tool rename2 noreplace %s %s" % (q(t.gp("y")), q(t.gp("z"))))
    t.check(not os.path.exists(t.hp("y")) and host_read(t.hp("z")) == b"XXX",
            "RENAME_NOREPLACE to a new name")
    # directory rename across directories
    t.gok("mkdir %s && mv %s %s" % (q(t.gp("P")), q(t.gp("x")), q(t.gp("P", "moved"))))
    t.eq(host_read(t.hp("P", "moved", "inner")), b"in", "directory moved into another")


@case()
def test_symlink_readlink(t):
    """symlink in guest -> readlink on host, and the reverse."""
    host_write(t.hp("target.txt"), "T")
    t.gok("ln -s target.txt %s" % q(t.gp("link")))
    t.check(os.path.islink(t.hp("link")), "host: not a symlink")
    t.eq(os.readlink(t.hp("link")), "target.txt", "host readlink")
    t.eq(t.gok("readlink %s" % q(t.gp("link"))).strip(), "target.txt", "guest readlink")
    t.eq(t.gok("cat %s" % q(t.gp("link"))), "T", "guest read through symlink")
    os.symlink("../some/where/else", t.hp("hostlink"))
    t.eq(t.gok("readlink %s" % q(t.gp("hostlink"))).strip(), "../some/where/else",
         "guest readlink of host symlink")
    t.gok("test -L %s && ! test -e %s" % (q(t.gp("hostlink")), q(t.gp("hostlink"))))
    st = t.gstat(t.gp("link"))
    t.eq(stat.S_IFMT(st["mode"]), stat.S_IFLNK, "guest lstat type")
    t.eq(st["size"], len("target.txt"), "guest lstat size of symlink")
    long_target = "x" * 1000
    t.gok("ln -s %s %s" % (long_target, q(t.gp("longlink"))))
    t.eq(os.readlink(t.hp("longlink")), long_target, "1000-byte symlink target on host")


@case()
def test_hard_link(t):
    """link(2): link counts on both sides, shared content."""
    host_write(t.hp("f"), "one")
    t.gok("ln %s %s" % (q(t.gp("f")), q(t.gp("f2"))))
    a, b = os.stat(t.hp("f")), os.stat(t.hp("f2"))
    t.eq((a.st_nlink, b.st_nlink), (2, 2), "host nlink after guest link")
    t.eq(a.st_ino, b.st_ino, "host inode numbers")
    t.eq(t.gstat(t.gp("f"))["nlink"], 2, "guest nlink of f")
    t.eq(t.gstat(t.gp("f2"))["nlink"], 2, "guest nlink of f2")
    t.eq(t.gstat(t.gp("f"))["ino"], t.gstat(t.gp("f2"))["ino"], "guest inode numbers")
    os.link(t.hp("f"), t.hp("f3"))
    wait_attr_timeout(t)
    t.eq(t.gstat(t.gp("f3"))["nlink"], 3, "guest nlink after host link")
    t.eq(t.gstat(t.gp("f"))["nlink"], 3, "guest nlink of f after host link")
    t.gok("printf two > %s" % q(t.gp("f3")))
    t.eq(host_read(t.hp("f")), b"two", "write through one link, read through another")
    t.gok("rm %s" % q(t.gp("f2")))
    t.eq(os.stat(t.hp("f")).st_nlink, 2, "host nlink after guest unlink")
    t.eq(t.gstat(t.gp("f"))["nlink"], 2, "guest nlink after guest unlink")


# ---------------------------------------------------------------- attributes

@case()
def test_attrs_guest_to_host(t):
    """chmod/chown/utimes in the guest, checked on the host with os.stat."""
    host_write(t.hp("f"), "x")
    f = q(t.gp("f"))
    t.gok("chmod 0640 %s" % f)
    t.eq(oct(os.stat(t.hp("f")).st_mode & 0o7777), oct(0o640), "host mode after chmod 0640")
    t.gok("chown 1234:5678 %s" % f)
    st = os.stat(t.hp("f"))
    t.eq((st.st_uid, st.st_gid), (1234, 5678), "host owner after chown")
    t.gok("chmod 4751 %s" % f)  # after chown: chown would clear S_ISUID
    t.eq(oct(os.stat(t.hp("f")).st_mode & 0o7777), oct(0o4751), "host mode after chmod 4751")
    t.gok("guest_tool utimens %s 1000000000.123456789 1200000000.987654321" % f)
    st = os.stat(t.hp("f"))
    t.eq(st.st_atime_ns, 1000000000123456789, "host atime (ns)")
    t.eq(st.st_mtime_ns, 1200000000987654321, "host mtime (ns)")
    t.gok("touch -d '2001-02-03 04:05:06' %s" % f)
    t.eq(int(os.stat(t.hp("f")).st_mtime), int(time.mktime((2001, 2, 3, 4, 5, 6, 0, 0, -1))),
         "host mtime after touch -d")
    t.gok("mkdir %s && chmod 1777 %s" % (q(t.gp("d")), q(t.gp("d"))))
    t.eq(oct(os.stat(t.hp("d")).st_mode & 0o7777), oct(0o1777), "host dir mode 1777")
    gs = t.gstat(t.gp("f"))
    t.eq((gs["uid"], gs["gid"], oct(gs["mode"] & 0o7777)), (1234, 5678, oct(0o4751)),
         "guest view of owner and mode")


@case()
def test_attrs_host_to_guest(t):
    """chmod/chown/utimes on the host, seen in the guest (after the attr timeout
    under cache=auto, at once under cache=never)."""
    host_write(t.hp("f"), "x")
    before = t.gstat(t.gp("f"))  # the guest now caches the attributes
    t.eq(oct(before["mode"] & 0o7777), oct(os.stat(t.hp("f")).st_mode & 0o7777),
         "initial mode")
    os.chmod(t.hp("f"), 0o604)
    os.chown(t.hp("f"), 4321, 8765)
    os.utime(t.hp("f"), ns=(1100000000111111111, 1300000000222222222))
    wait_attr_timeout(t)
    st = t.gstat(t.gp("f"))
    t.eq(oct(st["mode"] & 0o7777), oct(0o604), "guest mode")
    t.eq((st["uid"], st["gid"]), (4321, 8765), "guest owner")
    t.eq(st["atime"], "1100000000.111111111", "guest atime")
    t.eq(st["mtime"], "1300000000.222222222", "guest mtime")
    t.eq(t.gok("stat -c '%%a %%u %%g' %s" % q(t.gp("f"))).strip(), "604 4321 8765",
         "busybox stat in guest")


# ---------------------------------------------------------------- mmap, sparse

@case(configs=AUTO)
def test_mmap_shared_write(t):
    """MAP_SHARED write + msync in the guest; the host sees the bytes."""
    host_write(t.hp("m.bin"), b"." * 12288)
    out = t.g("guest_tool mmapw %s 4100 HELLO-MMAP" % q(t.gp("m.bin")))
    if out.rc != 0:
        raise Failure("MAP_SHARED write failed in the guest: %s" % out.out.strip())
    data = host_read(t.hp("m.bin"))
    t.eq(data[4100:4110], b"HELLO-MMAP", "host bytes after msync")
    t.eq(data[:4100] + data[4110:], b"." * (12288 - 10), "other bytes untouched")
    t.eq(len(data), 12288, "host size")
    t.eq(t.gok("guest_tool mmapr %s 4100 10" % q(t.gp("m.bin"))).strip(), "HELLO-MMAP",
         "guest reads back through mmap")
    t.eq(t.gok("dd if=%s bs=1 skip=4100 count=10 2>/dev/null" % q(t.gp("m.bin"))),
         "HELLO-MMAP", "guest reads back through read(2)")


@case()
def test_fallocate_seek_data_hole(t):
    """fallocate (alloc, keep-size, punch-hole) and lseek SEEK_DATA/SEEK_HOLE."""
    f, hf = t.gp("sparse"), t.hp("sparse")
    # 4 MiB sparse file with data at 1 MiB and 3 MiB
    t.gok("truncate -s 4194304 %s" % q(f))
    t.gok("guest_tool writeat %s 1048576 DATA1 && guest_tool writeat %s 3145728 DATA3"
          % (q(f), q(f)))
    fd = os.open(hf, os.O_RDONLY)
    try:
        hd = [os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, 1048576, os.SEEK_HOLE),
              os.lseek(fd, 1048576 + 4096, os.SEEK_DATA)]
        hh0 = os.lseek(fd, 0, os.SEEK_HOLE)
    finally:
        os.close(fd)
    t.check(hd[0] <= 1048576 and hh0 == 0, "host file is not sparse as expected: %r %r"
            % (hd, hh0))
    gd = [int(t.gok("guest_tool seek %s data 0" % q(f))),
          int(t.gok("guest_tool seek %s hole 1048576" % q(f))),
          int(t.gok("guest_tool seek %s data %d" % (q(f), 1048576 + 4096)))]
    t.eq(gd, hd, "guest SEEK_DATA/SEEK_HOLE vs host")
    t.eq(int(t.gok("guest_tool seek %s hole 0" % q(f))), 0, "SEEK_HOLE at 0")
    out = t.gfail("guest_tool seek %s data 4194304" % q(f))
    t.eq(err_name(out), "ENXIO", "SEEK_DATA at EOF")

    # punch a hole into written data
    g, hg = t.gp("punch"), t.hp("punch")
    t.gok("guest_tool pattern 3 1048576 > %s" % q(g))
    before = host_read(hg)
    t.gok("guest_tool fallocate %s punch 65536 131072" % q(g))
    after = host_read(hg)
    t.eq(len(after), 1048576, "size after punch (KEEP_SIZE)")
    t.check(after[65536:196608] == bytes(131072), "punched range is not zero on the host")
    t.check(after[:65536] == before[:65536] and after[196608:] == before[196608:],
            "data outside the punched range changed")
    t.eq(int(t.gok("guest_tool seek %s hole 0" % q(g))), 65536, "guest SEEK_HOLE after punch")
    t.eq(int(t.gok("guest_tool seek %s data 65536" % q(g))), 196608,
         "guest SEEK_DATA after punch")
    t.eq(t.gok("dd if=%s bs=65536 skip=1 count=2 2>/dev/null | sha256sum" % q(g)).split()[0],
         hashlib.sha256(bytes(131072)).hexdigest(), "guest reads zeros in the hole")

    # plain and keep-size allocation
    h, hh = t.gp("alloc"), t.hp("alloc")
    t.gok("guest_tool fallocate %s alloc 0 1048576" % q(h))
    st = os.stat(hh)
    t.eq(st.st_size, 1048576, "host size after fallocate")
    t.check(st.st_blocks * 512 >= 1048576, "host blocks after fallocate: %d" % st.st_blocks)
    t.gok("guest_tool fallocate %s keep 0 262144" % q(t.gp("keep")))
    st = os.stat(t.hp("keep"))
    t.eq(st.st_size, 0, "size after FALLOC_FL_KEEP_SIZE")
    t.check(st.st_blocks * 512 >= 262144, "blocks after KEEP_SIZE: %d" % st.st_blocks)


# ---------------------------------------------------------------- statfs

@case()
def test_statfs(t):
    """statfs / df in the guest vs os.statvfs on the host."""
    out = t.gok("guest_tool statfs %s" % MNT)
    g = {k: v for k, v in (kv.split("=") for kv in out.split())}
    h = os.statvfs(t.s.shared)
    t.eq(int(g["bsize"]), h.f_bsize, "f_bsize")
    t.eq(int(g["frsize"]), h.f_frsize, "f_frsize")
    t.eq(int(g["blocks"]), h.f_blocks, "f_blocks")
    t.eq(int(g["files"]), h.f_files, "f_files")
    t.eq(int(g["namemax"]), h.f_namemax, "f_namemax")
    t.eq(g["type"], "0x65735546", "f_type (FUSE_SUPER_MAGIC)")
    tol = max(h.f_blocks // 100, 256)
    t.check(abs(int(g["bfree"]) - h.f_bfree) <= tol, "f_bfree %s vs host %d" % (g["bfree"], h.f_bfree))
    t.check(abs(int(g["bavail"]) - h.f_bavail) <= tol,
            "f_bavail %s vs host %d" % (g["bavail"], h.f_bavail))
    df = t.gok("df -k %s" % MNT).strip().splitlines()[-1].split()
    total_kib = h.f_blocks * h.f_frsize // 1024
    t.check(abs(int(df[1]) - total_kib) <= max(total_kib // 1000, 1),
            "df total %s KiB vs host %d KiB" % (df[1], total_kib))
    avail_kib = h.f_bavail * h.f_frsize // 1024
    t.check(abs(int(df[3]) - avail_kib) <= max(total_kib // 100, 1024),
            "df avail %s KiB vs host %d KiB" % (df[3], avail_kib))


# ---------------------------------------------------------------- xattrs

@case(configs=AUTO)
def test_xattr(t):
    """user.* xattrs set/get/list/remove in the guest, checked on the host."""
    host_write(t.hp("f"), "x")
    f, hf = q(t.gp("f")), t.hp("f")
    t.gok("guest_tool setx %s user.color blue" % f)
    t.eq(os.getxattr(hf, "user.color"), b"blue", "host getxattr after guest set")
    t.gok("guest_tool setx %s user.shape round" % f)
    t.eq(t.gok("guest_tool getx %s user.color" % f), "blue\n", "guest getxattr")
    names = sorted(t.gok("guest_tool listx %s" % f).split())
    t.eq(names, ["user.color", "user.shape"], "guest listxattr")
    t.eq(sorted(os.listxattr(hf)), ["user.color", "user.shape"], "host listxattr")
    t.gok("guest_tool setx %s user.color red replace" % f)
    t.eq(os.getxattr(hf, "user.color"), b"red", "host value after XATTR_REPLACE")
    out = t.gfail("guest_tool setx %s user.color green create" % f)
    t.eq(err_name(out), "EEXIST", "XATTR_CREATE on existing name")
    out = t.gfail("guest_tool setx %s user.none v replace" % f)
    t.eq(err_name(out), "ENODATA", "XATTR_REPLACE on missing name")
    t.gok("guest_tool rmx %s user.shape" % f)
    t.eq(os.listxattr(hf), ["user.color"], "host listxattr after guest remove")
    out = t.gfail("guest_tool getx %s user.shape" % f)
    t.eq(err_name(out), "ENODATA", "guest getxattr of removed name")
    big = "v" * 3000
    t.gok("guest_tool setx %s user.big %s" % (f, big))
    t.eq(os.getxattr(hf, "user.big"), big.encode(), "3000-byte value on host")
    os.setxattr(hf, "user.fromhost", b"host-value")
    t.eq(t.gok("guest_tool getx %s user.fromhost" % f), "host-value\n",
         "guest sees host-set xattr")
    t.check("user.fromhost" in t.gok("guest_tool listx %s" % f).split(),
            "guest listxattr lacks host-set name")
    os.mkdir(t.hp("d"))
    t.gok("guest_tool setx %s user.dirattr dv" % q(t.gp("d")))
    t.eq(os.getxattr(t.hp("d"), "user.dirattr"), b"dv", "xattr on a directory")


@case(configs=NEVER)
def test_xattr_disabled(t):
    """Without the xattr option, setxattr fails with EOPNOTSUPP."""
    host_write(t.hp("f"), "x")
    out = t.gfail("guest_tool setx %s user.color blue" % q(t.gp("f")))
    t.eq(err_name(out), "EOPNOTSUPP", "setxattr with xattr disabled")
    t.eq(os.listxattr(t.hp("f")), [], "host xattrs")


# ---------------------------------------------------------------- coherence

@case()
def test_host_change_visible(t):
    """A host-side change is seen by the guest: at once under cache=never,
    after the 1 s timeout under cache=auto."""
    host_write(t.hp("f"), "one")
    host_write(t.hp("gone"), "bye")
    t.eq(t.gok("cat %s" % q(t.gp("f"))), "one", "initial read")
    t.gok("test -e %s && test ! -e %s" % (q(t.gp("gone")), q(t.gp("new"))))
    host_write(t.hp("f"), "two-and-longer")
    host_write(t.hp("new"), "N")
    os.unlink(t.hp("gone"))
    if t.config.cache == "never":
        script = "cat %s; echo; test -e %s && echo new-ok; test -e %s || echo gone-ok"
    else:
        early = t.g("cat %s" % q(t.gp("f"))).out
        t.note("cache=auto, read right after the host change: %r" % early)
        time.sleep(1.6)
        script = "cat %s; echo; test -e %s && echo new-ok; test -e %s || echo gone-ok"
    out = t.gok(script % (q(t.gp("f")), q(t.gp("new")), q(t.gp("gone"))))
    t.eq(out.splitlines(), ["two-and-longer", "new-ok", "gone-ok"],
         "guest view after host change (cache=%s)" % t.config.cache)
    # appended on the host while the guest keeps reading
    with open(t.hp("f"), "ab") as fh:
        fh.write(b"+more")
    wait_attr_timeout(t)
    t.eq(t.gok("cat %s" % q(t.gp("f"))), "two-and-longer+more", "after host append")


# ---------------------------------------------------------------- lifecycle

@case()
def test_umount_remount(t):
    """umount + mount again; data written before is still there."""
    t.gok("echo persistent > %s" % q(t.gp("keep")))
    t.gok("umount %s" % MNT)
    t.gfail("grep ' %s virtiofs ' /proc/mounts" % MNT)
    t.gfail("test -e %s" % q(t.gp("keep")))
    t.gok("mount -t virtiofs %s %s" % (TAG, MNT))
    t.eq(t.gok("cat %s" % q(t.gp("keep"))), "persistent\n", "data after remount")
    for i in range(3):
        t.gok("umount %s && mount -t virtiofs %s %s" % (MNT, TAG, MNT))
    t.eq(t.gok("cat %s" % q(t.gp("keep"))), "persistent\n", "data after 3 more remounts")


@case(configs=AUTO, timeout=180)
def test_guest_reboot_remount(t):
    """reboot -f in the guest, remount on the same daemon, data still there."""
    t.gok("echo before-reboot > %s && sync" % q(t.gp("f")))
    pid = t.s.daemon.proc.pid
    secs = t.guest.reboot()
    t.note("guest rebooted in %.1fs" % secs)
    t.s.mounted = False
    t.check(t.s.daemon.alive() and t.s.daemon.proc.pid == pid,
            "daemon died across the guest reboot:\n%s" % t.s.daemon_log_tail())
    t.gfail("grep ' %s virtiofs ' /proc/mounts" % MNT)
    t.gok("mount -t virtiofs %s %s" % (TAG, MNT))
    t.eq(t.gok("cat %s" % q(t.gp("f"))), "before-reboot\n", "data after reboot")
    t.gok("echo after-reboot > %s" % q(t.gp("g")))
    t.eq(host_read(t.hp("g")), b"after-reboot\n", "host sees a write after reboot")


@case(timeout=600)
def test_escape_attempts(t):
    """Guest-side escapes: host-planted and guest-made symlinks out of the
    share (absolute and relative), '..' from the root, device nodes and
    fifos, and a host that swaps a directory for a symlink to the outside
    while the guest works in it. A sentinel next to the share stays unread
    and unchanged, and the daemon keeps serving."""
    import threading
    outside = os.path.join(os.path.dirname(t.s.shared), "sentinel-%s" % t.config.name)
    shutil.rmtree(outside, ignore_errors=True)
    os.makedirs(outside)
    secret = os.path.join(outside, "secret")
    host_write(secret, "host secret\n")
    os.chmod(secret, 0o600)
    os.utime(secret, (1000000000, 1000000000))
    before = (os.stat(secret), sorted(os.listdir(outside)))
    depth = os.path.relpath(outside, t.dir_host)  # ../../sentinel-...
    os.symlink(secret, t.hp("abs"))
    os.symlink(os.path.join(depth, "secret"), t.hp("rel"))
    os.symlink(outside, t.hp("absdir"))
    os.symlink(depth, t.hp("reldir"))
    # The guest resolves every symlink in its own namespace: none of these
    # reaches the host's sentinel (the paths do not exist in the guest).
    for link in ("abs", "rel"):
        g = q(t.gp(link))
        t.gfail("cat %s" % g)
        t.g("echo pwned > %s; echo pwned >> %s; chmod 777 %s; truncate -s 0 %s; "
            "touch %s" % (g, g, g, g, g))
    for d in ("absdir", "reldir"):
        g = q(t.gp(d))
        t.g("ls %s; cat %s/secret; echo x > %s/new; mkdir %s/sub; ln -s x %s/l; "
            "mv %s/secret %s/moved; rm -f %s/secret" % ((g,) * 8))
    # Symlinks the guest makes, then used from the guest and from names.
    t.gok("cd %s && ln -s ../../../../../../../etc/shadow up && ln -s /etc/shadow root "
          "&& ln -s %s hostpath" % (q(t.gp()), q(secret)))
    t.g("cd %s && cat up root hostpath; echo x > hostpath; ln hostpath hard" % q(t.gp()))
    # '..' from the share root and from the test directory is the guest's own.
    t.eq(t.gok("cd %s/.. && pwd" % MNT).strip(), "/", "'..' of the mount root")
    t.gok("ls %s/../.. >/dev/null && ls %s >/dev/null" % (q(t.gp()), q(t.gp("..", ".."))))
    # Rename and link across the share's root: the guest refuses (EXDEV) or
    # copies in its own memory; the host sees nothing outside.
    t.gok("echo in > %s" % q(t.gp("inside")))
    t.g("mv %s /tmp/moved-out; ln %s /tmp/hard-out" % (q(t.gp("inside")), q(t.gp("x"))))
    # Device nodes and fifos: created on the host, served by the guest kernel
    # (the daemon never opens them, so it neither blocks nor reaches a device).
    t.gok("cd %s && mknod null c 1 3 && mknod disk b 8 0 && mkfifo fifo" % q(t.gp()))
    t.check(stat.S_ISCHR(os.lstat(t.hp("null")).st_mode), "host: char node made")
    t.gok("cd %s && echo data > null && head -c 4 null | wc -c" % q(t.gp()))
    t.gok("cd %s && (echo through-fifo > fifo &) && timeout 30 cat fifo" % q(t.gp()))
    t.g("cd %s && head -c 512 disk | wc -c" % q(t.gp()))
    # A host that swaps a directory for a symlink to the outside, repeatedly,
    # while the guest reads, writes and lists through it.
    os.makedirs(t.hp("swap"))
    host_write(t.hp("swap", "x"), "inside\n")
    stop = threading.Event()

    def swapper():
        n = 0
        while not stop.is_set():
            n += 1
            try:
                os.rename(t.hp("swap"), t.hp("swap.real"))
                os.symlink(outside, t.hp("swap"))
                time.sleep(0.002)
                os.unlink(t.hp("swap"))
                os.rename(t.hp("swap.real"), t.hp("swap"))
            except OSError:
                pass
            time.sleep(0.002)
    th = threading.Thread(target=swapper)
    th.start()
    try:
        t.g("cd %s && i=0; while [ $i -lt 150 ]; do cat swap/x swap/secret; echo w > swap/x; "
            "echo w > swap/new$i; ls swap; cat swap/../swap/secret; i=$((i+1)); done "
            ">/dev/null 2>&1; true" % q(t.gp()), timeout=500)
    finally:
        stop.set()
        th.join()
    after = (os.stat(secret), sorted(os.listdir(outside)))
    t.eq(host_read(secret), b"host secret\n", "sentinel content")
    t.eq(after[1], before[1], "sentinel directory listing")
    t.eq((after[0].st_mode, after[0].st_size, after[0].st_mtime_ns, after[0].st_ino),
         (before[0].st_mode, before[0].st_size, before[0].st_mtime_ns, before[0].st_ino),
         "sentinel mode, size, mtime, inode")
    t.eq(after[0].st_atime_ns, before[0].st_atime_ns, "sentinel atime (never read)")
    t.check(t.s.daemon.alive(), "daemon died:\n%s" % t.s.daemon_log_tail())
    t.gok("echo still-serving > %s && cat %s" % (q(t.gp("ok")), q(t.gp("ok"))))
    t.eq(host_read(t.hp("ok")), b"still-serving\n", "host sees a write after the attempts")
    shutil.rmtree(outside, ignore_errors=True)


@case(last=True)
def test_daemon_exits_cleanly(t):
    """poweroff -f in the guest: QEMU quits, the daemon exits with status 0."""
    t.gok("sync")
    qrc = t.guest.poweroff(timeout=60)
    t.eq(qrc, 0, "QEMU exit status")
    rc = t.s.daemon.wait(20)
    if rc is None:
        raise Failure("daemon still running 20s after QEMU quit")
    t.eq(rc, 0, "daemon exit status")
