#include "base/log.h"

#include <syslog.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace hostshare::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_syslog{false};
// -1 means "off": nothing is printed.
constexpr const char* kNames[] = {"error", "warn", "info", "debug", "trace"};
}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }
Level GetLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

void UseSyslog(bool enable) {
  // LOG_NDELAY: connect to /dev/log now, before the sandbox hides it.
  if (enable) openlog("hostshared", LOG_PID | LOG_NDELAY, LOG_DAEMON);
  g_syslog.store(enable);
}

bool ParseLevel(const char* text, Level* out) {
  for (int i = 0; i < 5; ++i) {
    if (strcmp(text, kNames[i]) == 0) {
      *out = static_cast<Level>(i);
      return true;
    }
  }
  if (strcmp(text, "off") == 0) {
    *out = static_cast<Level>(-1);
    return true;
  }
  return false;
}

void Write(Level level, const char* fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  int lv = static_cast<int>(level);
  if (g_syslog.load()) {
    static constexpr int kPrio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG};
    syslog(kPrio[lv], "%s", msg);
    return;
  }
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  fprintf(stderr, "[%02d:%02d:%02d.%03ld hostshared %s] %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
          ts.tv_nsec / 1000000, kNames[lv], msg);
}

}  // namespace hostshare::log
