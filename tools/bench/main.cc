// hostshare-bench: a load generator for vhost-user-fs backends.
//
// It plays the VMM and the guest's virtio-fs driver at once (memfd guest
// memory, split rings, eventfds, vhost-user over a Unix socket) and drives
// any vhost-user-fs backend with `depth` FUSE requests in flight on each of
// `queues` request queues, without a VM. It reports ops/s, MiB/s, latency
// percentiles and the backend's CPU time per op (from /proc/PID/stat), as a
// table and as JSON. --native runs the same operations as direct syscalls.
//
//   hostshare-bench --dir /srv/share --spawn 'hostshared --socket-path={socket} --shared-dir={dir}'
//   hostshare-bench --dir /srv/share --socket /run/fs.sock
//   hostshare-bench --dir /srv/share --native
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_process.h"
#include "dataset.h"
#include "fuse_calls.h"
#include "guest_ram.h"
#include "native_uring.h"
#include "queue_driver.h"
#include "report.h"
#include "runner.h"
#include "stats.h"
#include "vhost_frontend.h"
#include "workloads.h"

namespace hostshare::bench {
namespace {

const char kUsage[] = R"(hostshare-bench: load generator for vhost-user-fs backends (virtio-fs without a VM)

Usage: hostshare-bench --dir DIR (--spawn CMD | --socket PATH | --native) [options]

Target (one of):
  --spawn CMD        start the backend as /bin/sh -c "exec CMD", once per queue
                     count; {socket} and {dir} in CMD are replaced by the socket
                     path and DIR. Use `env VAR=value cmd` for environment.
  --socket PATH      connect to a backend that listens on PATH (one queue count)
  --native           no backend: the same operations as direct syscalls

Options:
  --dir DIR          the shared directory; the data set lives in DIR/hsbench (required)
  --label NAME       the target's name in the report (default: from the command)
  --workloads LIST   comma-separated, or "all" (default): getattr, lookup,
                     lookup-miss, read4k, read1m, write4k, write1m, create,
                     readdirplus, mixed
  --queues LIST      request queues to use (native: threads), e.g. 1,2,4 (default 1)
  --depth N          requests in flight per queue (default 16)
  --ring-size N      virtqueue size (default 1024)
  --duration S       measured seconds per workload (default 3)
  --warmup S         unmeasured seconds before each (default 0.5)
  --file-size MIB    size of read.dat and write.dat (default 256)
  --dir-entries N    entries of the READDIRPLUS directory (default 10000)
  --memory N         after the workloads, LOOKUP N distinct files and report the
                     backend's RSS growth per cached inode (default 0: off)
  --io-engine E      native mode, READ/WRITE workloads: sync (default: one
                     pread/pwrite at a time per thread), uring (io_uring, --depth
                     in flight per thread) or uring-async (the same, IOSQE_ASYNC)
  --log FILE         backend output (spawn mode; default: in a temporary directory)
  --json FILE        also write the results as JSON ("-" for stdout)
  --smoke            tiny run for CI: --duration 0.2 --warmup 0.05 --file-size 8
                     --dir-entries 200
  -h, --help         this text

Columns: ops/s and MiB/s over the measured window; latency percentiles per
op, from its first request's submission to its last reply (readdirplus: per
READDIRPLUS request); dCPU = backend CPU (user+system, whole process tree)
per op; bCPU = this tool's CPU per op. readdirplus counts directory entries
as ops; create counts CREATE+RELEASE+UNLINK+FORGET as one op.
)";

struct Options {
  std::string dir;
  std::string spawn;
  std::string socket;
  bool native = false;
  std::string label;
  std::vector<std::string> workloads;
  std::vector<uint32_t> queues{1};
  uint32_t depth = 16;
  uint32_t ring_size = 1024;
  RunOptions run;
  DatasetOptions data;
  uint32_t memory = 0;
  std::string log;
  std::string json;
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool ParseNumber(const char* opt, const char* v, double min, double max, double* out) {
  char* end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno != 0 || *end != 0 || d < min || d > max) {
    fprintf(stderr, "hostshare-bench: bad value '%s' for %s\n", v, opt);
    return false;
  }
  *out = d;
  return true;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  enum {
    kDir = 1000, kSpawn, kSocket, kNative, kLabel, kWorkloads, kQueues, kDepth, kRing,
    kDuration, kWarmup, kFileSize, kDirEntries, kMemory, kLog, kJson, kSmoke, kHelp, kEngine
  };
  static const option longopts[] = {
      {"dir", required_argument, nullptr, kDir},
      {"spawn", required_argument, nullptr, kSpawn},
      {"socket", required_argument, nullptr, kSocket},
      {"native", no_argument, nullptr, kNative},
      {"label", required_argument, nullptr, kLabel},
      {"workloads", required_argument, nullptr, kWorkloads},
      {"queues", required_argument, nullptr, kQueues},
      {"depth", required_argument, nullptr, kDepth},
      {"ring-size", required_argument, nullptr, kRing},
      {"duration", required_argument, nullptr, kDuration},
      {"warmup", required_argument, nullptr, kWarmup},
      {"file-size", required_argument, nullptr, kFileSize},
      {"dir-entries", required_argument, nullptr, kDirEntries},
      {"memory", required_argument, nullptr, kMemory},
      {"log", required_argument, nullptr, kLog},
      {"io-engine", required_argument, nullptr, kEngine},
      {"json", required_argument, nullptr, kJson},
      {"smoke", no_argument, nullptr, kSmoke},
      {"help", no_argument, nullptr, kHelp},
      {nullptr, 0, nullptr, 0}};
  std::string workloads = "all";
  std::string queues = "1";
  int c;
  double d;
  while ((c = getopt_long(argc, argv, "h", longopts, nullptr)) != -1) {
    switch (c) {
      case kDir: o->dir = optarg; break;
      case kSpawn: o->spawn = optarg; break;
      case kSocket: o->socket = optarg; break;
      case kNative: o->native = true; break;
      case kLabel: o->label = optarg; break;
      case kWorkloads: workloads = optarg; break;
      case kQueues: queues = optarg; break;
      case kDepth:
        if (!ParseNumber("--depth", optarg, 1, 1024, &d)) return false;
        o->depth = static_cast<uint32_t>(d);
        break;
      case kRing:
        if (!ParseNumber("--ring-size", optarg, 2, 32768, &d)) return false;
        o->ring_size = static_cast<uint32_t>(d);
        if (o->ring_size & (o->ring_size - 1)) {
          fprintf(stderr, "hostshare-bench: --ring-size must be a power of two\n");
          return false;
        }
        break;
      case kDuration:
        if (!ParseNumber("--duration", optarg, 0.01, 86400, &o->run.duration_s)) return false;
        break;
      case kWarmup:
        if (!ParseNumber("--warmup", optarg, 0, 3600, &o->run.warmup_s)) return false;
        break;
      case kFileSize:
        if (!ParseNumber("--file-size", optarg, 1, 1 << 20, &d)) return false;
        o->data.read_size = o->data.write_size = static_cast<uint64_t>(d) << 20;
        break;
      case kDirEntries:
        if (!ParseNumber("--dir-entries", optarg, 1, 10000000, &d)) return false;
        o->data.dir_entries = static_cast<uint32_t>(d);
        break;
      case kMemory:
        if (!ParseNumber("--memory", optarg, 0, 10000000, &d)) return false;
        o->memory = static_cast<uint32_t>(d);
        break;
      case kLog: o->log = optarg; break;
      case kEngine:
        if (strcmp(optarg, "sync") == 0) {
          o->run.engine = RunOptions::Engine::kSync;
        } else if (strcmp(optarg, "uring") == 0) {
          o->run.engine = RunOptions::Engine::kUring;
        } else if (strcmp(optarg, "uring-async") == 0) {
          o->run.engine = RunOptions::Engine::kUringAsync;
        } else {
          fprintf(stderr, "hostshare-bench: --io-engine must be sync, uring or uring-async\n");
          return false;
        }
        break;
      case kJson: o->json = optarg; break;
      case kSmoke:
        o->run.duration_s = 0.2;
        o->run.warmup_s = 0.05;
        o->data.read_size = o->data.write_size = 8ull << 20;
        o->data.dir_entries = 200;
        break;
      case kHelp:
      case 'h':
        fputs(kUsage, stdout);
        exit(0);
      default:
        return false;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "hostshare-bench: unexpected argument '%s'\n", argv[optind]);
    return false;
  }
  if (o->dir.empty()) {
    fprintf(stderr, "hostshare-bench: --dir is required\n");
    return false;
  }
  if ((o->spawn.empty() ? 0 : 1) + (o->socket.empty() ? 0 : 1) + (o->native ? 1 : 0) != 1) {
    fprintf(stderr, "hostshare-bench: give exactly one of --spawn, --socket, --native\n");
    return false;
  }
  o->workloads = workloads == "all" ? WorkloadNames() : Split(workloads);
  for (const auto& w : o->workloads) {
    if (!MakeWorkload(w)) {
      fprintf(stderr, "hostshare-bench: unknown workload '%s'\n", w.c_str());
      return false;
    }
  }
  o->queues.clear();
  for (const auto& q : Split(queues)) {
    if (!ParseNumber("--queues", q.c_str(), 1, 64, &d)) return false;
    o->queues.push_back(static_cast<uint32_t>(d));
  }
  if (!o->socket.empty() && o->queues.size() != 1) {
    fprintf(stderr, "hostshare-bench: --socket runs one queue count (a backend serves one frontend)\n");
    return false;
  }
  if (o->depth > o->ring_size) {
    fprintf(stderr, "hostshare-bench: --depth exceeds --ring-size\n");
    return false;
  }
  o->data.mem_entries = o->memory;
  o->run.native_depth = o->depth;
  if (o->run.engine != RunOptions::Engine::kSync) {
    if (!o->native) {
      fprintf(stderr, "hostshare-bench: --io-engine applies to --native only\n");
      return false;
    }
    if (!UringAvailable()) {
      fprintf(stderr, "hostshare-bench: this build has no io_uring (liburing-dev missing)\n");
      return false;
    }
  }
  if (o->label.empty()) {
    if (o->native) {
      o->label = "native";
    } else if (!o->spawn.empty()) {
      std::string first = o->spawn;
      std::stringstream ss(o->spawn);
      while (ss >> first) {
        if (first != "env" && first.find('=') == std::string::npos) break;
      }
      auto slash = first.rfind('/');
      o->label = slash == std::string::npos ? first : first.substr(slash + 1);
    } else {
      o->label = "backend";
    }
  }
  return true;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

bool WaitForSocket(const std::string& path, DaemonProcess* d, int timeout_ms) {
  uint64_t deadline = NowNs() + static_cast<uint64_t>(timeout_ms) * 1000000ull;
  while (NowNs() < deadline) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return true;
    if (d != nullptr && !d->Alive()) return false;
    usleep(10000);
  }
  return false;
}

void RunNativeTarget(const Options& o, std::vector<TargetRun>* runs) {
  for (uint32_t threads : o.queues) {
    TargetRun t;
    t.target = o.label;
    t.mode = "native";
    t.queues = threads;
    t.depth = o.run.engine == RunOptions::Engine::kSync ? 1 : o.depth;
    Fixture fx;
    std::string error;
    if (!SetUpNativeFixture(o.data, &fx, &error)) {
      t.failure = error;
      fprintf(stderr, "hostshare-bench: %s\n", error.c_str());
      runs->push_back(t);
      CloseNativeFixture(&fx);
      continue;
    }
    for (const auto& name : o.workloads) {
      auto w = MakeWorkload(name);
      RunResult r = RunNative(*w, threads, fx, o.run);
      PrintRow(stdout, t, r);
      t.results.push_back(r);
    }
    CloseNativeFixture(&fx);
    runs->push_back(t);
  }
}

// One backend (started or connected to) with `queues` request queues.
void RunVirtioTarget(const Options& o, uint32_t queues, const std::string& tmpdir,
                     TargetRun* t) {
  t->target = o.label;
  t->mode = "virtio";
  t->queues = queues;
  t->depth = o.depth;
  std::string error;
  std::unique_ptr<DaemonProcess> daemon;
  std::string socket = o.socket;
  if (!o.spawn.empty()) {
    socket = tmpdir + "/vhost-" + std::to_string(queues) + ".sock";
    unlink(socket.c_str());
    t->command = Replace(Replace(o.spawn, "{socket}", socket), "{dir}", o.dir);
    const std::string log = o.log.empty() ? tmpdir + "/daemon.log" : o.log;
    daemon = DaemonProcess::Spawn(t->command, log, &error);
    if (!daemon) {
      t->failure = error;
      return;
    }
    if (!WaitForSocket(socket, daemon.get(), 15000)) {
      t->failure = "the backend did not create " + socket + " (" +
                   (daemon->Alive() ? "still running" : daemon->Stop(0)) + "); see " + log;
      daemon->Stop(1000);
      return;
    }
    usleep(100000);  // let it settle into accept()
    ProcUsage u = ReadProcessTree(daemon->pid());
    t->rss_listen_kib = u.rss_kib;
    t->rss_listen_max_kib = u.max_rss_kib;
    t->pss_listen_kib = u.pss_kib;
  }
  auto fe = VhostUserFrontend::Connect(socket, 10000, &error);
  if (!fe) {
    t->failure = error;
    return;
  }
  const pid_t root = daemon ? daemon->pid() : fe->peer_pid();

  constexpr uint32_t kData = 1u << 20;
  const uint64_t per_slot = kData + kReqBuf + kReplyBuf + 16ull * (4 + 2 * (kData / kPage)) + 256;
  const uint64_t ram_size = (queues + 1) * (o.depth * per_slot + 64ull * o.ring_size + (1 << 16)) +
                            (8 << 20);
  auto ram = GuestRam::Create(ram_size, &error);
  if (!ram) {
    t->failure = error;
    return;
  }
  std::vector<std::unique_ptr<QueueDriver>> drivers;
  std::vector<DriverRing*> rings;
  for (uint32_t i = 0; i <= queues; ++i) {
    // Queue 0 is the hiprio queue: started, as the guest does, but unused.
    uint32_t depth = i == 0 ? 1 : o.depth;
    drivers.push_back(std::make_unique<QueueDriver>(*ram, i, static_cast<uint16_t>(o.ring_size),
                                                    depth, i == 0 ? kPage : kData));
    if (!drivers.back()->ok()) {
      t->failure = "guest memory too small";
      return;
    }
    rings.push_back(&drivers.back()->ring());
  }
  if (!fe->Start(*ram, rings, &error)) {
    t->failure = error;
    if (daemon) t->exit_status = daemon->Stop(2000);
    return;
  }
  for (uint32_t i = 0; i <= queues; ++i) drivers[i]->SetFds(fe->kick_fd(i), fe->call_fd(i));

  QueueDriver& q1 = *drivers[1];
  InitResult init;
  if (int rc = FuseInit(q1, &init); rc != 0) {
    t->failure = std::string("FUSE INIT failed: ") + strerror(rc);
    if (daemon) t->exit_status = daemon->Stop(2000);
    return;
  }
  uint32_t max_io = std::min({kData, init.max_write, init.max_pages * kPage});
  Fixture fx;
  if (!SetUpFixture(q1, o.data, max_io, &fx, &error)) {
    t->failure = error;
    if (daemon) t->exit_status = daemon->Stop(2000);
    return;
  }
  {
    ProcUsage u = ReadProcessTree(root);
    t->rss_connected_kib = u.rss_kib - u.shmem_kib;
    t->rss_connected_max_kib = u.max_rss_kib;
    t->pss_connected_kib = u.pss_kib;
    t->processes = u.processes;
  }
  if (max_io < kData) {
    fprintf(stdout, "# %s: the backend accepts at most %u bytes per READ/WRITE (1 MiB ops use that)\n",
            o.label.c_str(), max_io);
  }

  std::vector<QueueDriver*> request_queues;
  for (uint32_t i = 1; i <= queues; ++i) request_queues.push_back(drivers[i].get());
  for (const auto& name : o.workloads) {
    auto w = MakeWorkload(name);
    RunResult r = RunVirtio(*w, request_queues, fx, o.run, root);
    PrintRow(stdout, *t, r);
    t->results.push_back(r);
    if (!r.failure.empty()) break;  // the backend is gone or stuck
  }
  if (o.memory > 0 && (t->results.empty() || t->results.back().failure.empty())) {
    ProcUsage before = ReadProcessTree(root);
    uint32_t n = LookupMemFiles(q1, o.data);
    ProcUsage after = ReadProcessTree(root);
    t->inode_probe = n;
    int64_t grown = static_cast<int64_t>(after.rss_kib - after.shmem_kib) -
                    static_cast<int64_t>(before.rss_kib - before.shmem_kib);
    t->inode_bytes = n ? static_cast<double>(grown) * 1024.0 / n : 0;
  }
  fe->Close();
  if (daemon) t->exit_status = daemon->Stop(5000);
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    fprintf(stderr, "(see hostshare-bench --help)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  o.data.share = o.dir;
  std::string error;
  if (!PrepareDataset(o.data, &error)) {
    fprintf(stderr, "hostshare-bench: preparing the data set: %s\n", error.c_str());
    return 1;
  }
  char tmpl[] = "/tmp/hostshare-bench.XXXXXX";
  std::string tmpdir;
  if (!o.native) {
    if (mkdtemp(tmpl) == nullptr) {
      perror("mkdtemp");
      return 1;
    }
    tmpdir = tmpl;
  }
  FILE* table = o.json == "-" ? stderr : stdout;
  PrintTableHeader(table);
  std::vector<TargetRun> runs;
  int status = 0;
  if (o.native) {
    RunNativeTarget(o, &runs);
  } else {
    for (uint32_t queues : o.queues) {
      TargetRun t;
      RunVirtioTarget(o, queues, tmpdir, &t);
      if (!t.failure.empty()) {
        fprintf(table, "%-12s %2u: FAILED: %s\n", t.target.c_str(), queues, t.failure.c_str());
        status = 1;
      }
      PrintTargetSummary(table, t);
      runs.push_back(std::move(t));
    }
  }
  for (const auto& t : runs) {
    for (const auto& r : t.results) {
      if (!r.failure.empty()) status = 1;
    }
  }
  if (!o.json.empty()) {
    std::string js = ToJson(runs, o.run);
    if (o.json == "-") {
      fputs(js.c_str(), stdout);
    } else {
      std::ofstream f(o.json);
      f << js;
      if (!f) {
        fprintf(stderr, "hostshare-bench: cannot write %s\n", o.json.c_str());
        status = 1;
      }
    }
  }
  if (!tmpdir.empty() && o.log.empty() && status == 0) {
    unlink((tmpdir + "/daemon.log").c_str());
    rmdir(tmpdir.c_str());
  } else if (!tmpdir.empty() && status != 0) {
    fprintf(stderr, "hostshare-bench: backend log in %s\n", tmpdir.c_str());
  }
  return status;
}

}  // namespace
}  // namespace hostshare::bench

int main(int argc, char** argv) { return hostshare::bench::Main(argc, argv); }
