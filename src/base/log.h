// Minimal leveled logging to stderr or syslog.
//
// Thread-safety: all functions may be called from any thread.
// Guest-controlled values are logged only at debug level, and rate-limited
// callers should prefer LogOnce-style counters to avoid log flooding by a guest.
#pragma once

#include <cstdarg>

namespace hostshare::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

void SetLevel(Level level);
Level GetLevel();
void UseSyslog(bool enable);
// Parses "error|warn|info|debug|trace|off"; returns false on unknown text.
bool ParseLevel(const char* text, Level* out);

void Write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

inline bool Enabled(Level level) { return static_cast<int>(level) <= static_cast<int>(GetLevel()); }

}  // namespace hostshare::log

#define HS_LOG(level, ...)                                                    \
  do {                                                                        \
    if (::hostshare::log::Enabled(::hostshare::log::Level::level))            \
      ::hostshare::log::Write(::hostshare::log::Level::level, __VA_ARGS__);   \
  } while (0)
#define LOG_ERROR(...) HS_LOG(kError, __VA_ARGS__)
#define LOG_WARN(...) HS_LOG(kWarn, __VA_ARGS__)
#define LOG_INFO(...) HS_LOG(kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) HS_LOG(kDebug, __VA_ARGS__)
#define LOG_TRACE(...) HS_LOG(kTrace, __VA_ARGS__)
