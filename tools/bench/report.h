// Report: results as a human-readable table (printed as they come) and as
// JSON (written at the end).
//
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "runner.h"

namespace hostshare::bench {

// One backend configuration (target x queue count) and what it measured.
struct TargetRun {
  std::string target;   // label
  std::string mode;     // "virtio" or "native"
  std::string command;  // how the backend was started (spawn mode)
  uint32_t queues = 1;
  uint32_t depth = 1;
  uint64_t rss_listen_kib = 0;     // backend tree VmRSS before the frontend connected
  uint64_t rss_listen_max_kib = 0;  // ... of its largest process
  uint64_t rss_connected_kib = 0;  // tree, after INIT + set-up, guest memory excluded
  uint64_t rss_connected_max_kib = 0;  // ... of its largest process (guest memory included)
  uint64_t pss_listen_kib = 0;     // tree PSS before the frontend connected (stats.h)
  uint64_t pss_connected_kib = 0;  // tree PSS after set-up, guest memory excluded
  uint32_t processes = 0;          // in the backend's tree, once connected
  double inode_bytes = 0;          // RSS growth per cached inode (memory probe), 0 = not run
  uint32_t inode_probe = 0;        // inodes looked up by the probe
  std::string exit_status;         // how the backend ended
  std::string failure;             // set-up failure, if any
  std::vector<RunResult> results;
};

void PrintTableHeader(FILE* out);
void PrintRow(FILE* out, const TargetRun& t, const RunResult& r);
void PrintTargetSummary(FILE* out, const TargetRun& t);
std::string ToJson(const std::vector<TargetRun>& runs, const RunOptions& opts);

}  // namespace hostshare::bench
