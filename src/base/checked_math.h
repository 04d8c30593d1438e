// Overflow-checked arithmetic for lengths and addresses that a peer controls.
//
// Every sum or product involving a guest- or frontend-supplied value goes
// through these helpers: a wrapped address is how a bounds check is defeated.
#pragma once

#include <cstdint>
#include <optional>

namespace hostshare {

template <typename T>
[[nodiscard]] inline std::optional<T> CheckedAdd(T a, T b) {
  T out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

template <typename T>
[[nodiscard]] inline std::optional<T> CheckedMul(T a, T b) {
  T out;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// True when [offset, offset+len) lies inside [0, size).
[[nodiscard]] inline bool RangeInside(uint64_t offset, uint64_t len, uint64_t size) {
  return offset <= size && len <= size - offset;
}

}  // namespace hostshare
