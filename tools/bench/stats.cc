#include "stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace hostshare::bench {

size_t Histogram::Index(uint64_t v) {
  if (v < (1u << kSubBits)) return static_cast<size_t>(v);
  int msb = 63 - __builtin_clzll(v);
  if (msb > kMaxExp) return (static_cast<size_t>(kMaxExp + 1) << kSubBits) - 1;
  int shift = msb - kSubBits;
  size_t sub = static_cast<size_t>((v >> shift) & ((1u << kSubBits) - 1));
  return (static_cast<size_t>(shift + 1) << kSubBits) + sub;
}

uint64_t Histogram::Middle(size_t index) {
  if (index < (1u << kSubBits)) return index;
  size_t shift = (index >> kSubBits) - 1;
  uint64_t sub = index & ((1u << kSubBits) - 1);
  uint64_t low = ((uint64_t{1} << kSubBits) + sub) << shift;
  return low + ((uint64_t{1} << shift) >> 1);
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_));
  if (rank >= count_) rank = count_ - 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen > rank) return Middle(i);
  }
  return Middle(buckets_.size() - 1);
}

namespace {

struct StatLine {
  pid_t ppid = 0;
  uint64_t ticks = 0;
  uint32_t threads = 0;
};

bool ReadStat(pid_t pid, StatLine* out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = fopen(path, "re");
  if (f == nullptr) return false;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  char* p = strrchr(buf, ')');
  if (p == nullptr) return false;
  std::vector<char*> fields;
  for (char* tok = strtok(p + 1, " "); tok != nullptr; tok = strtok(nullptr, " ")) {
    fields.push_back(tok);
  }
  // fields[0] is field 3 (state): ppid is 4, utime 14, stime 15, num_threads 20.
  if (fields.size() < 18) return false;
  out->ppid = static_cast<pid_t>(atoi(fields[1]));
  out->ticks = strtoull(fields[11], nullptr, 10) + strtoull(fields[12], nullptr, 10);
  out->threads = static_cast<uint32_t>(atoi(fields[17]));
  return true;
}

// VmRSS and RssShmem of one process, in KiB.
void ReadRssKib(pid_t pid, uint64_t* rss, uint64_t* shmem) {
  *rss = *shmem = 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE* f = fopen(path, "re");
  if (f == nullptr) return;
  char line[256];
  while (fgets(line, sizeof line, f) != nullptr) {
    if (strncmp(line, "VmRSS:", 6) == 0) *rss = strtoull(line + 6, nullptr, 10);
    if (strncmp(line, "RssShmem:", 9) == 0) *shmem = strtoull(line + 9, nullptr, 10);
  }
  fclose(f);
}

// Pss minus Pss_Shmem of one process, in KiB (0 if unreadable).
uint64_t ReadPssKib(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
  FILE* f = fopen(path, "re");
  if (f == nullptr) return 0;
  uint64_t pss = 0, shmem = 0;
  char line[256];
  while (fgets(line, sizeof line, f) != nullptr) {
    if (strncmp(line, "Pss:", 4) == 0) pss = strtoull(line + 4, nullptr, 10);
    if (strncmp(line, "Pss_Shmem:", 10) == 0) shmem = strtoull(line + 10, nullptr, 10);
  }
  fclose(f);
  return pss > shmem ? pss - shmem : 0;
}

}  // namespace

ProcUsage ReadProcessTree(pid_t root) {
  ProcUsage u;
  if (root <= 0) return u;
  std::map<pid_t, StatLine> all;
  DIR* d = opendir("/proc");
  if (d == nullptr) return u;
  while (dirent* e = readdir(d)) {
    char* end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != 0 || pid <= 0) continue;
    StatLine s;
    if (ReadStat(static_cast<pid_t>(pid), &s)) all[static_cast<pid_t>(pid)] = s;
  }
  closedir(d);
  const long hz = sysconf(_SC_CLK_TCK);
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto it = all.find(p);
    if (it == all.end()) continue;
    u.cpu_ns += it->second.ticks * (1000000000ull / static_cast<uint64_t>(hz));
    u.threads += it->second.threads;
    ++u.processes;
    uint64_t rss, shmem;
    ReadRssKib(p, &rss, &shmem);
    u.rss_kib += rss;
    u.shmem_kib += shmem;
    u.pss_kib += ReadPssKib(p);
    if (rss > u.max_rss_kib) u.max_rss_kib = rss;
    for (const auto& [pid, s] : all) {
      if (s.ppid == p) todo.push_back(pid);
    }
  }
  return u;
}

uint64_t SelfCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace hostshare::bench
