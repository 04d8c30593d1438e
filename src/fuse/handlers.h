// The request handlers the opcode table dispatches to, one per opcode.
//
// A handler runs after the server has validated the header, the session
// state and the fixed body length; it decodes the rest (names, values),
// calls the Filesystem and encodes the reply. Malformed content gets
// EINVAL and no Filesystem call.
//
// Trust boundary: see call.h. Thread-safety: handlers are reentrant; INIT and
// DESTROY serialise on the session mutex.
#pragma once

#include "fuse/call.h"

namespace hostshare::fuse::handlers {

// session (handlers_session.cc)
size_t Init(Call& c);
size_t Destroy(Call& c);
size_t Interrupt(Call& c);
size_t NotImplemented(Call& c);  // ENOSYS

// names and nodes (handlers_node.cc)
size_t Lookup(Call& c);
size_t Forget(Call& c);
size_t BatchForget(Call& c);
size_t GetAttr(Call& c);
size_t SetAttr(Call& c);
size_t ReadLink(Call& c);
size_t Symlink(Call& c);
size_t Mknod(Call& c);
size_t Mkdir(Call& c);
size_t Unlink(Call& c);
size_t Rmdir(Call& c);
size_t Rename(Call& c);
size_t Rename2(Call& c);
size_t Link(Call& c);
size_t Access(Call& c);
size_t StatFs(Call& c);

// files (handlers_file.cc)
size_t Open(Call& c);
size_t Create(Call& c);
size_t TmpFile(Call& c);
size_t Read(Call& c);
size_t Write(Call& c);
size_t Flush(Call& c);
size_t Release(Call& c);
size_t Fsync(Call& c);
size_t Fallocate(Call& c);
size_t Lseek(Call& c);
size_t CopyFileRange(Call& c);

// directories (handlers_dir.cc)
size_t OpenDir(Call& c);
size_t ReadDir(Call& c);
size_t ReadDirPlus(Call& c);
size_t ReleaseDir(Call& c);
size_t FsyncDir(Call& c);
size_t SyncFs(Call& c);

// extended attributes (handlers_xattr.cc)
size_t SetXattr(Call& c);
size_t GetXattr(Call& c);
size_t ListXattr(Call& c);
size_t RemoveXattr(Call& c);

}  // namespace hostshare::fuse::handlers
