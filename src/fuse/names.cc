#include "fuse/names.h"

#include "fuse/wire.h"

namespace hostshare::fuse {

NameCheck CheckName(std::string_view name) {
  if (name.empty()) return NameCheck::kInvalid;
  if (name.size() > wire::kNameMax) return NameCheck::kTooLong;
  if (name == "." || name == "..") return NameCheck::kDotOrDotDot;
  // A NUL cannot occur (names are cut at the first NUL) but the check is
  // cheap and keeps this function safe for callers with other sources.
  if (name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
    return NameCheck::kInvalid;
  }
  return NameCheck::kOk;
}

Result<std::string_view> TakeName(BodyCursor& body) {
  std::optional<std::string_view> name = body.TakeCString();
  if (!name) return Errno{EINVAL};
  switch (CheckName(*name)) {
    case NameCheck::kOk:
      return *name;
    case NameCheck::kTooLong:
      return Errno{ENAMETOOLONG};
    case NameCheck::kDotOrDotDot:
    case NameCheck::kInvalid:
      break;
  }
  return Errno{EINVAL};
}

Result<std::string_view> TakeSymlinkTarget(BodyCursor& body) {
  std::optional<std::string_view> target = body.TakeCString();
  if (!target || target->empty() || target->size() > wire::kSymlinkTargetMax) {
    return Errno{EINVAL};
  }
  return *target;
}

Result<std::string_view> TakeXattrName(BodyCursor& body) {
  std::optional<std::string_view> name = body.TakeCString();
  if (!name || name->empty() || name->size() > wire::kXattrNameMax) return Errno{EINVAL};
  return *name;
}

}  // namespace hostshare::fuse
