#include "report.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <fstream>
#include <sstream>

namespace hostshare::bench {
namespace {

double PerSec(double v, double s) { return s > 0 ? v / s : 0; }
double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }
double PerOpUs(uint64_t ns, uint64_t ops) {
  return ops ? static_cast<double>(ns) / 1000.0 / static_cast<double>(ops) : 0;
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

std::string CpuModel() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      if (p != std::string::npos) return line.substr(p + 2);
    }
  }
  return "unknown";
}

}  // namespace

void PrintTableHeader(FILE* out) {
  fprintf(out, "%-12s %2s %4s %-12s %11s %9s %9s %9s %9s %10s %10s %6s\n", "target", "q",
          "depth", "workload", "ops/s", "MiB/s", "p50 us", "p99 us", "p999 us", "dCPU us/op",
          "bCPU us/op", "errors");
}

void PrintRow(FILE* out, const TargetRun& t, const RunResult& r) {
  const Counters& c = r.c;
  fprintf(out, "%-12s %2u %4u %-12s %11.0f %9.1f %9.1f %9.1f %9.1f %10.2f %10.2f %6" PRIu64 "%s%s\n",
          t.target.c_str(), t.queues, t.depth, r.workload.c_str(),
          PerSec(static_cast<double>(c.ops), r.seconds),
          PerSec(static_cast<double>(c.bytes) / (1 << 20), r.seconds),
          Us(c.latency.Percentile(0.50)), Us(c.latency.Percentile(0.99)),
          Us(c.latency.Percentile(0.999)), PerOpUs(r.daemon_cpu_ns, c.ops),
          PerOpUs(r.bench_cpu_ns, c.ops), c.errors, r.failure.empty() ? "" : "  FAILED: ",
          r.failure.c_str());
  fflush(out);
}

void PrintTargetSummary(FILE* out, const TargetRun& t) {
  if (t.mode == "native") return;
  fprintf(out,
          "%-12s %2u: RSS listening %.2f MiB (largest process %.2f), connected %.2f MiB "
          "(guest memory excluded; %u processes); PSS listening %.2f MiB, connected %.2f MiB",
          t.target.c_str(), t.queues, t.rss_listen_kib / 1024.0, t.rss_listen_max_kib / 1024.0,
          t.rss_connected_kib / 1024.0, t.processes, t.pss_listen_kib / 1024.0,
          t.pss_connected_kib / 1024.0);
  if (t.inode_probe > 0) {
    fprintf(out, "; %.0f bytes per cached inode (%u inodes)", t.inode_bytes, t.inode_probe);
  }
  fprintf(out, "; backend %s\n", t.exit_status.empty() ? "still running" : t.exit_status.c_str());
  fflush(out);
}

std::string ToJson(const std::vector<TargetRun>& runs, const RunOptions& opts) {
  std::ostringstream j;
  utsname u{};
  uname(&u);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  j << "{\n  \"tool\": \"hostshare-bench\",\n  \"format\": 1,\n";
  j << "  \"machine\": {\"cpu\": " << JsonString(CpuModel())
    << ", \"cpus\": " << sysconf(_SC_NPROCESSORS_ONLN)
    << ", \"memory_mib\": "
    << (static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) >> 20)
    << ", \"kernel\": " << JsonString(u.release) << ", \"host\": " << JsonString(host) << "},\n";
  j << "  \"options\": {\"warmup_s\": " << opts.warmup_s << ", \"duration_s\": " << opts.duration_s
    << "},\n  \"runs\": [";
  for (size_t i = 0; i < runs.size(); ++i) {
    const TargetRun& t = runs[i];
    j << (i ? ",\n" : "\n") << "    {\"target\": " << JsonString(t.target)
      << ", \"mode\": " << JsonString(t.mode) << ", \"command\": " << JsonString(t.command)
      << ", \"queues\": " << t.queues << ", \"depth\": " << t.depth
      << ", \"rss_listen_kib\": " << t.rss_listen_kib
      << ", \"rss_listen_max_kib\": " << t.rss_listen_max_kib
      << ", \"rss_connected_kib\": " << t.rss_connected_kib
      << ", \"rss_connected_max_kib\": " << t.rss_connected_max_kib
      << ", \"pss_listen_kib\": " << t.pss_listen_kib
      << ", \"pss_connected_kib\": " << t.pss_connected_kib
      << ", \"processes\": " << t.processes
      << ", \"inode_bytes\": " << t.inode_bytes << ", \"inode_probe\": " << t.inode_probe
      << ", \"exit_status\": " << JsonString(t.exit_status)
      << ", \"failure\": " << JsonString(t.failure) << ",\n     \"results\": [";
    for (size_t k = 0; k < t.results.size(); ++k) {
      const RunResult& r = t.results[k];
      const Counters& c = r.c;
      j << (k ? ",\n" : "\n") << "      {\"workload\": " << JsonString(r.workload)
        << ", \"seconds\": " << r.seconds << ", \"ops\": " << c.ops
        << ", \"requests\": " << c.requests << ", \"all_requests\": " << c.all_requests
        << ", \"bytes\": " << c.bytes
        << ", \"errors\": " << c.errors
        << ", \"ops_per_s\": " << PerSec(static_cast<double>(c.ops), r.seconds)
        << ", \"mib_per_s\": " << PerSec(static_cast<double>(c.bytes) / (1 << 20), r.seconds)
        << ", \"p50_us\": " << Us(c.latency.Percentile(0.5))
        << ", \"p99_us\": " << Us(c.latency.Percentile(0.99))
        << ", \"p999_us\": " << Us(c.latency.Percentile(0.999))
        << ", \"mean_us\": " << c.latency.MeanNs() / 1000.0
        << ", \"daemon_cpu_us_per_op\": " << PerOpUs(r.daemon_cpu_ns, c.ops)
        << ", \"bench_cpu_us_per_op\": " << PerOpUs(r.bench_cpu_ns, c.ops)
        << ", \"kicks\": " << r.kicks << ", \"interrupts\": " << r.interrupts
        << ", \"first_error\": " << r.first_error
        << ", \"failure\": " << JsonString(r.failure) << "}";
    }
    j << "]}";
  }
  j << "\n  ]\n}\n";
  return j.str();
}

}  // namespace hostshare::bench
