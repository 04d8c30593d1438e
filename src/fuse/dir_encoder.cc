#include "fuse/dir_encoder.h"

#include <cstring>

#include "base/log.h"
#include "fuse/encode.h"
#include "fuse/names.h"
#include "fuse/wire.h"

namespace hostshare::fuse {

bool DirEncoder::Add(const DirEntry& d, const Entry* plus) {
  if (NameCheck c = CheckName(d.name); c == NameCheck::kInvalid || c == NameCheck::kTooLong) {
    LOG_DEBUG("fuse: readdir: backend gave an invalid name (%zu bytes); stopping", d.name.size());
    return false;
  }
  const size_t head = plus_ ? sizeof(fuse_direntplus) : sizeof(fuse_dirent);
  const size_t rec = wire::RecAlign(head + d.name.size());  // <= 152 + 255 + 7
  if (rec > limit_ - used_ || rec > out_.Available()) return false;

  alignas(8) char buf[sizeof(fuse_direntplus) + wire::kNameMax + 8] = {};
  fuse_dirent dirent{};
  dirent.ino = d.ino;
  dirent.off = d.offset;
  dirent.namelen = static_cast<uint32_t>(d.name.size());
  dirent.type = d.type;
  if (plus_) {
    fuse_entry_out entry{};
    if (plus != nullptr) entry = EncodeEntryOut(*plus);
    memcpy(buf, &entry, sizeof entry);
    memcpy(buf + offsetof(fuse_direntplus, dirent), &dirent, sizeof dirent);
  } else {
    memcpy(buf, &dirent, sizeof dirent);
  }
  memcpy(buf + head, d.name.data(), d.name.size());
  if (!out_.Write(buf, rec).ok()) return false;
  used_ += rec;
  ++entries_;
  return true;
}

}  // namespace hostshare::fuse
