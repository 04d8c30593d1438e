// PassthroughFs: extended attributes (SETXATTR, GETXATTR, LISTXATTR,
// REMOVEXATTR). All ENOSYS unless config.xattr (the guest kernel then stops
// asking).
//
// Where the call goes:
//  - regular files and directories: an fd reopened read-only through
//    /proc/self/fd/N, then f*xattr();
//  - symlinks, FIFOs, sockets, devices: never opened. The path form
//    (getxattr, not lgetxattr) on "N" relative to /proc/self/fd: following
//    the magic link lands on the inode itself and stops there (the l*
//    variants would act on the /proc link instead). For this the thread's
//    cwd is set to /proc/self/fd, which needs a thread-private fs context
//    (credentials.h PrepareThread); without one these fail EOPNOTSUPP.
//
// Names: non-empty, no NUL, <= XATTR_NAME_MAX (else ERANGE, as the kernel
// says). Values: <= XATTR_SIZE_MAX (E2BIG). No name mapping or filtering:
// a guest that may write the share may also set trusted.* / security.*
// attributes there (mount the share nosuid on the host).
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "fs/passthrough/credentials.h"
#include "fs/passthrough/host_ops.h"
#include "fs/passthrough/passthrough_fs.h"

namespace hostshare::fs {
namespace {

Result<std::string> XattrName(std::string_view name) {
  if (name.empty()) return Errno{EINVAL};
  if (name.size() > XATTR_NAME_MAX) return Errno{ERANGE};
  if (name.find('\0') != std::string_view::npos) return Errno{EINVAL};
  return std::string(name);
}

// Moves the calling thread's private cwd for the duration of a path call.
class ScopedCwd {
 public:
  ScopedCwd(int to, int back) : back_(back) { ok_ = fchdir(to) == 0; }
  ~ScopedCwd() {
    if (ok_) (void)fchdir(back_);
  }
  bool ok() const { return ok_; }

 private:
  int back_;
  bool ok_ = false;
};

}  // namespace

Result<size_t> PassthroughFs::XattrCall(const InodeRef& inode, XattrOp op, const char* name,
                                        void* buf, size_t size, int flags) {
  const uint32_t type = inode.type();
  ssize_t rc;
  if (S_ISREG(type) || S_ISDIR(type)) {
    int open_flags = O_RDONLY | O_NONBLOCK | (S_ISDIR(type) ? O_DIRECTORY : 0);
    auto fd = Reopen(inode.fd(), open_flags);
    if (!fd.ok()) return Errno{fd.error()};
    const int f = fd->get();
    switch (op) {
      case XattrOp::kGet:
        rc = fgetxattr(f, name, buf, size);
        break;
      case XattrOp::kSet:
        rc = fsetxattr(f, name, buf, size, flags);
        break;
      case XattrOp::kList:
        rc = flistxattr(f, static_cast<char*>(buf), size);
        break;
      case XattrOp::kRemove:
        rc = fremovexattr(f, name);
        break;
      default:
        return Errno{EINVAL};
    }
  } else {
    if (!PrepareThread()) return Errno{EOPNOTSUPP};
    auto root = GetInode(fuse::kRootNodeId);
    if (!root.ok()) return Errno{root.error()};
    ScopedCwd cwd(proc_self_fd_.get(), root->fd());
    if (!cwd.ok()) return LastErrno();
    FdName path(inode.fd());
    switch (op) {
      case XattrOp::kGet:
        rc = getxattr(path.s, name, buf, size);
        break;
      case XattrOp::kSet:
        rc = setxattr(path.s, name, buf, size, flags);
        break;
      case XattrOp::kList:
        rc = listxattr(path.s, static_cast<char*>(buf), size);
        break;
      case XattrOp::kRemove:
        rc = removexattr(path.s, name);
        break;
      default:
        return Errno{EINVAL};
    }
  }
  if (rc < 0) return LastErrno();
  return static_cast<size_t>(rc);
}

Status PassthroughFs::SetXattr(const fuse::Context&, fuse::NodeId node, std::string_view name,
                               std::span<const char> value, uint32_t flags) {
  if (!config_.xattr) return Errno{ENOSYS};
  HS_RETURN_IF_ERROR(Writable());
  if (flags & ~static_cast<uint32_t>(XATTR_CREATE | XATTR_REPLACE)) return Errno{EINVAL};
  if (value.size() > XATTR_SIZE_MAX) return Errno{E2BIG};
  auto cname = XattrName(name);
  if (!cname.ok()) return Errno{cname.error()};
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  auto r = XattrCall(*inode, XattrOp::kSet, cname->c_str(), const_cast<char*>(value.data()),
                     value.size(), static_cast<int>(flags));
  if (!r.ok()) return Errno{r.error()};
  return OkStatus();
}

Result<size_t> PassthroughFs::GetXattr(const fuse::Context&, fuse::NodeId node,
                                       std::string_view name, std::span<char> buf) {
  if (!config_.xattr) return Errno{ENOSYS};
  auto cname = XattrName(name);
  if (!cname.ok()) return Errno{cname.error()};
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  size_t size = std::min<size_t>(buf.size(), XATTR_SIZE_MAX);
  return XattrCall(*inode, XattrOp::kGet, cname->c_str(), size ? buf.data() : nullptr, size, 0);
}

Result<size_t> PassthroughFs::ListXattr(const fuse::Context&, fuse::NodeId node,
                                        std::span<char> buf) {
  if (!config_.xattr) return Errno{ENOSYS};
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  size_t size = std::min<size_t>(buf.size(), XATTR_LIST_MAX);
  return XattrCall(*inode, XattrOp::kList, nullptr, size ? buf.data() : nullptr, size, 0);
}

Status PassthroughFs::RemoveXattr(const fuse::Context&, fuse::NodeId node, std::string_view name) {
  if (!config_.xattr) return Errno{ENOSYS};
  HS_RETURN_IF_ERROR(Writable());
  auto cname = XattrName(name);
  if (!cname.ok()) return Errno{cname.error()};
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  auto r = XattrCall(*inode, XattrOp::kRemove, cname->c_str(), nullptr, 0, 0);
  if (!r.ok()) return Errno{r.error()};
  return OkStatus();
}

}  // namespace hostshare::fs
