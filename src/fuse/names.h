// Validation of the strings a request carries: path components, symlink
// targets and xattr names (ARCHITECTURE.md, untrusted-input rule 5).
//
// Trust boundary: inputs are guest-controlled; a string that passes is safe
// to hand to a Filesystem (see the contract in filesystem.h).
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "base/result.h"
#include "fuse/body_cursor.h"

namespace hostshare::fuse {

enum class NameCheck {
  kOk,
  kDotOrDotDot,  // "." or ".."
  kInvalid,      // empty, contains '/' or NUL
  kTooLong,      // longer than NAME_MAX: ENAMETOOLONG, as the host kernel would answer
};

// Classifies a single path component.
[[nodiscard]] NameCheck CheckName(std::string_view name);

// Takes a NUL-terminated path component. EINVAL if unterminated, empty,
// ".", "..", or containing '/'; ENAMETOOLONG if longer than NAME_MAX (the
// guest kernel passes names up to 1024 bytes on; a Linux file system answers
// ENAMETOOLONG, and so do we).
[[nodiscard]] Result<std::string_view> TakeName(BodyCursor& body);

// Takes a NUL-terminated symlink target: EINVAL if unterminated, empty or
// PATH_MAX bytes or longer (with its NUL it must fit in PATH_MAX).
[[nodiscard]] Result<std::string_view> TakeSymlinkTarget(BodyCursor& body);

// Takes a NUL-terminated xattr name: EINVAL if unterminated, empty or
// longer than XATTR_NAME_MAX. (The guest kernel answers ERANGE itself before
// sending such a name, so one that arrives is a malformed message.)
[[nodiscard]] Result<std::string_view> TakeXattrName(BodyCursor& body);

}  // namespace hostshare::fuse
