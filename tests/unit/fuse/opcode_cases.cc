#include "opcode_cases.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace hostshare::fuse::testing {

std::vector<OpCase> AllOpcodeCases() {
  std::vector<OpCase> v;
  auto add = [&](OpCase c) { v.push_back(std::move(c)); };

  add({"LOOKUP", FUSE_LOOKUP, 1, Body().Str("foo"), {Call("Lookup", 1, "foo")}, 0, 128});
  add({"FORGET", FUSE_FORGET, 5, Body().Struct(fuse_forget_in{3}), {Call("Forget", 5, 3)}, 0, 0,
       true});
  add({"BATCH_FORGET", FUSE_BATCH_FORGET, 0,
       Body().Struct(fuse_batch_forget_in{2, 0}).Struct(fuse_forget_one{10, 1})
           .Struct(fuse_forget_one{11, 2}),
       {Call("Forget", 10, 1), Call("Forget", 11, 2)}, 0, 0, true});
  add({"GETATTR", FUSE_GETATTR, 5, Body().Struct(fuse_getattr_in{FUSE_GETATTR_FH, 0, 7}),
       {Call("GetAttr", 5, 7)}, 0, 104});
  {
    fuse_setattr_in in{};
    in.valid = FATTR_MODE | FATTR_SIZE | FATTR_FH | FATTR_ATIME | FATTR_MTIME | FATTR_MTIME_NOW |
               FATTR_UID | FATTR_GID | FATTR_KILL_SUIDGID;
    in.fh = 7;
    in.size = 100;
    in.mode = 0640;
    in.uid = 11;
    in.gid = 12;
    in.atime = 1000;
    in.atimensec = 5;
    in.mtime = 2000;
    in.mtimensec = 6;
    add({"SETATTR", FUSE_SETATTR, 5, Body().Struct(in),
         {Call("SetAttr", 5, in.valid, 7, 100, 0640, 11, 12, "1000.5", "now", "omit", 1)}, 0,
         104});
  }
  add({"READLINK", FUSE_READLINK, 5, {}, {Call("ReadLink", 5)}, 0, 6});
  add({"SYMLINK", FUSE_SYMLINK, 1, Body().Str("ln").Str("../some/target"),
       {Call("Symlink", 1, "ln", "../some/target")}, 0, 128});
  add({"MKNOD", FUSE_MKNOD, 1, Body().Struct(fuse_mknod_in{S_IFCHR | 0600, 0x801, 022, 0}).Str("dev"),
       {Call("Mknod", 1, "dev", S_IFCHR | 0600, 0x801, 022)}, 0, 128});
  add({"MKDIR", FUSE_MKDIR, 1, Body().Struct(fuse_mkdir_in{0755, 022}).Str("d"),
       {Call("Mkdir", 1, "d", 0755, 022)}, 0, 128});
  add({"UNLINK", FUSE_UNLINK, 1, Body().Str("f"), {Call("Unlink", 1, "f")}, 0, 0});
  add({"RMDIR", FUSE_RMDIR, 1, Body().Str("d"), {Call("Rmdir", 1, "d")}, 0, 0});
  add({"RENAME", FUSE_RENAME, 1, Body().Struct(fuse_rename_in{2}).Str("a").Str("b"),
       {Call("Rename", 1, "a", 2, "b", 0)}, 0, 0});
  add({"RENAME2", FUSE_RENAME2, 1,
       Body().Struct(fuse_rename2_in{2, RENAME_NOREPLACE, 0}).Str("a").Str("b"),
       {Call("Rename", 1, "a", 2, "b", RENAME_NOREPLACE)}, 0, 0});
  add({"LINK", FUSE_LINK, 2, Body().Struct(fuse_link_in{5}).Str("l"), {Call("Link", 5, 2, "l")}, 0,
       128});
  add({"OPEN", FUSE_OPEN, 5, Body().Struct(fuse_open_in{O_RDWR, 0}), {Call("Open", 5, O_RDWR)}, 0,
       16});
  add({"CREATE", FUSE_CREATE, 1,
       Body().Struct(fuse_create_in{O_CREAT | O_WRONLY, S_IFREG | 0644, 022, 0}).Str("new"),
       {Call("Create", 1, "new", S_IFREG | 0644, O_CREAT | O_WRONLY, 022)}, 0, 144});
  add({"TMPFILE", FUSE_TMPFILE, 1,
       Body().Struct(fuse_create_in{O_TMPFILE | O_RDWR, S_IFREG | 0600, 077, 0}),
       {Call("TmpFile", 1, S_IFREG | 0600, O_TMPFILE | O_RDWR, 077)}, 0, 144});
  {
    fuse_read_in in{};
    in.fh = 7;
    in.offset = 3;
    in.size = 4096;
    add({"READ", FUSE_READ, 5, Body().Struct(in), {Call("Read", 5, 7, 3, 4096)}, 0, 5});
  }
  {
    fuse_write_in in{};
    in.fh = 7;
    in.offset = 10;
    in.size = 5;
    in.write_flags = FUSE_WRITE_KILL_SUIDGID;
    add({"WRITE", FUSE_WRITE, 5, Body().Struct(in).Raw("hello"),
         {Call("Write", 5, 7, 10, 5, 1)}, 0, 8});
  }
  add({"STATFS", FUSE_STATFS, 1, {}, {Call("StatFs", 1)}, 0, 80});
  add({"RELEASE", FUSE_RELEASE, 5,
       Body().Struct(fuse_release_in{7, O_RDWR, FUSE_RELEASE_FLUSH, 0x1234}),
       {Call("Release", 5, 7, O_RDWR, FUSE_RELEASE_FLUSH, 0x1234)}, 0, 0});
  add({"FSYNC", FUSE_FSYNC, 5, Body().Struct(fuse_fsync_in{7, FUSE_FSYNC_FDATASYNC, 0}),
       {Call("Fsync", 5, 7, 1)}, 0, 0});
  add({"SETXATTR", FUSE_SETXATTR, 5,
       Body().Struct(fuse_setxattr_in{3, XATTR_CREATE, 0, 0}).Str("user.a").Raw("xyz"),
       {Call("SetXattr", 5, "user.a", "xyz", XATTR_CREATE)}, 0, 0});
  add({"GETXATTR", FUSE_GETXATTR, 5, Body().Struct(fuse_getxattr_in{0, 0}).Str("user.a"),
       {Call("GetXattr", 5, "user.a", 0)}, 0, 8});
  add({"LISTXATTR", FUSE_LISTXATTR, 5, Body().Struct(fuse_getxattr_in{100, 0}),
       {Call("ListXattr", 5, 100)}, 0, 14});
  add({"REMOVEXATTR", FUSE_REMOVEXATTR, 5, Body().Str("user.a"),
       {Call("RemoveXattr", 5, "user.a")}, 0, 0});
  add({"FLUSH", FUSE_FLUSH, 5, Body().Struct(fuse_flush_in{7, 0, 0, 0x99}),
       {Call("Flush", 5, 7, 0x99)}, 0, 0});
  add({"INIT", FUSE_INIT, 0, InitBody(7, 38, kKernelFlags), {"Reset()", Call("Init", 7, 38)}, 0,
       64});
  add({"OPENDIR", FUSE_OPENDIR, 5, Body().Struct(fuse_open_in{O_RDONLY | O_DIRECTORY, 0}),
       {Call("OpenDir", 5, O_RDONLY | O_DIRECTORY)}, 0, 16});
  {
    fuse_read_in in{};
    in.fh = 7;
    in.offset = 0;
    in.size = 4096;
    add({"READDIR", FUSE_READDIR, 5, Body().Struct(in), {Call("ReadDir", 5, 7, 0, 4096, 0)}, 0, 0});
    add({"READDIRPLUS", FUSE_READDIRPLUS, 5, Body().Struct(in),
         {Call("ReadDir", 5, 7, 0, 4096, 1)}, 0, 0});
  }
  add({"RELEASEDIR", FUSE_RELEASEDIR, 5, Body().Struct(fuse_release_in{7, 0, 0, 0}),
       {Call("ReleaseDir", 5, 7)}, 0, 0});
  add({"FSYNCDIR", FUSE_FSYNCDIR, 5, Body().Struct(fuse_fsync_in{7, 0, 0}),
       {Call("FsyncDir", 5, 7, 0)}, 0, 0});
  add({"GETLK", FUSE_GETLK, 5, Body().Struct(fuse_lk_in{}), {}, ENOSYS});
  add({"SETLK", FUSE_SETLK, 5, Body().Struct(fuse_lk_in{}), {}, ENOSYS});
  add({"SETLKW", FUSE_SETLKW, 5, Body().Struct(fuse_lk_in{}), {}, ENOSYS});
  add({"ACCESS", FUSE_ACCESS, 5, Body().Struct(fuse_access_in{R_OK | W_OK, 0}),
       {Call("Access", 5, R_OK | W_OK)}, 0, 0});
  add({"INTERRUPT", FUSE_INTERRUPT, 0, Body().Struct(fuse_interrupt_in{0x1233}), {}, 0, 0, true});
  add({"BMAP", FUSE_BMAP, 5, Body().Struct(fuse_bmap_in{}), {}, ENOSYS});
  add({"DESTROY", FUSE_DESTROY, 0, {}, {"Reset()"}, 0, 0});
  add({"IOCTL", FUSE_IOCTL, 5, Body().Struct(fuse_ioctl_in{}), {}, ENOSYS});
  add({"POLL", FUSE_POLL, 5, Body().Struct(fuse_poll_in{}), {}, ENOSYS});
  add({"NOTIFY_REPLY", FUSE_NOTIFY_REPLY, 5, {}, {}, ENOSYS});
  add({"FALLOCATE", FUSE_FALLOCATE, 5,
       Body().Struct(fuse_fallocate_in{7, 100, 200, FALLOC_FL_KEEP_SIZE, 0}),
       {Call("Fallocate", 5, 7, FALLOC_FL_KEEP_SIZE, 100, 200)}, 0, 0});
  add({"LSEEK", FUSE_LSEEK, 5, Body().Struct(fuse_lseek_in{7, 100, SEEK_DATA, 0}),
       {Call("Lseek", 5, 7, 100, SEEK_DATA)}, 0, 8});
  add({"COPY_FILE_RANGE", FUSE_COPY_FILE_RANGE, 5,
       Body().Struct(fuse_copy_file_range_in{7, 10, 6, 8, 20, 300, 0}),
       {Call("CopyFileRange", 5, 7, 10, 6, 8, 20, 300, 0)}, 0, 8});
  add({"SETUPMAPPING", FUSE_SETUPMAPPING, 5, Body().Struct(fuse_setupmapping_in{}), {}, ENOSYS});
  add({"REMOVEMAPPING", FUSE_REMOVEMAPPING, 5, Body().Struct(fuse_removemapping_in{}), {},
       ENOSYS});
  add({"SYNCFS", FUSE_SYNCFS, 1, Body().Struct(fuse_syncfs_in{0}), {Call("SyncFs", 1)}, 0, 0});
  return v;
}

}  // namespace hostshare::fuse::testing
