// BodyCursor: a bounds-checked read cursor over a request body that has
// already been copied out of guest memory.
//
// The server copies each (non-streamed) body out of the transport exactly
// once, then decodes it with this cursor, so no guest byte is read twice
// and nothing can change underneath a check (double fetch).
//
// Trust boundary: the bytes are guest-controlled; every Take* is
// bounds-checked and fails without consuming. Thread-safety: one thread.
#pragma once

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace hostshare::fuse {

class BodyCursor {
 public:
  BodyCursor() = default;
  explicit BodyCursor(std::span<const char> bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size() - pos_; }

  // Takes the next n bytes, or nothing if fewer remain.
  std::optional<std::span<const char>> TakeBytes(size_t n) {
    if (n > remaining()) return std::nullopt;
    std::span<const char> out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  // Takes a NUL-terminated string and its NUL; returns the string without
  // the NUL, or nothing if no NUL lies within the remaining bytes.
  std::optional<std::string_view> TakeCString() {
    if (remaining() == 0) return std::nullopt;  // also keeps memchr off a null pointer
    const char* start = bytes_.data() + pos_;
    const void* nul = memchr(start, '\0', remaining());
    if (nul == nullptr) return std::nullopt;
    size_t len = static_cast<const char*>(nul) - start;
    pos_ += len + 1;
    return std::string_view(start, len);
  }

 private:
  std::span<const char> bytes_;
  size_t pos_ = 0;
};

}  // namespace hostshare::fuse
