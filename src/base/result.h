// Result<T>: a value or an errno, the vocabulary of every fallible call.
//
// Trust boundary: none (pure utility). Thread-safety: a Result is a value type.
// Why not exceptions: errors on the data path are expected (ENOENT, EACCES ...)
// and become FUSE replies; they are not exceptional.
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

namespace hostshare {

// An errno value, wrapped so that it cannot be confused with a count.
struct Errno {
  int value;
};

inline Errno LastErrno() { return Errno{errno}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Errno e) : v_(e) {}                 // NOLINT: implicit on purpose

  bool ok() const { return v_.index() == 0; }
  // REQUIRES: !ok()
  int error() const { return std::get<1>(v_).value; }
  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Errno> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Errno e) : error_(e.value) {}  // NOLINT: implicit on purpose
  bool ok() const { return error_ == 0; }
  int error() const { return error_; }

 private:
  int error_ = 0;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

// Returns Status from a syscall-style return value (-1 means errno).
inline Status StatusFromSyscall(long rc) {
  if (rc < 0) return LastErrno();
  return OkStatus();
}

}  // namespace hostshare

// Propagates an error out of the calling function.
#define HS_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    auto hs_status_ = (expr);                          \
    if (!hs_status_.ok()) return ::hostshare::Errno{hs_status_.error()}; \
  } while (0)
