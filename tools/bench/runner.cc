#include "runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "native_uring.h"
#include "stats.h"

namespace hostshare::bench {
namespace {

// The measured window. Threads set up first (per-thread set-up such as
// OPENDIR is not measured), then the main thread opens the window.
struct Window {
  uint64_t t0 = 0;    // measuring starts
  uint64_t tend = 0;  // measuring ends; no new op starts after it
  std::atomic<uint32_t> ready{0};
  std::atomic<bool> open{false};
  bool In(uint64_t t) const { return t >= t0 && t < tend; }
  // Thread side: reports set-up done (ok or not) and waits for the window.
  void Arrive() {
    ready.fetch_add(1);
    while (!open.load(std::memory_order_acquire)) usleep(100);
  }
  // Main side: waits for `n` threads, then starts warm-up + measuring.
  void Open(uint32_t n, const RunOptions& o) {
    while (ready.load() < n) usleep(100);
    t0 = NowNs() + static_cast<uint64_t>(o.warmup_s * 1e9);
    tend = t0 + static_cast<uint64_t>(o.duration_s * 1e9);
    open.store(true, std::memory_order_release);
  }
};

void SleepUntil(uint64_t t) {
  for (uint64_t now = NowNs(); now < t; now = NowNs()) {
    uint64_t left = t - now;
    timespec ts{static_cast<time_t>(left / 1000000000ull), static_cast<long>(left % 1000000000ull)};
    nanosleep(&ts, nullptr);
  }
}

struct ThreadOut {
  Counters c;
  uint64_t kicks = 0, interrupts = 0;
  int first_error = 0;
  std::string failure;
};

void VirtioThread(Workload& w, QueueDriver& q, const Fixture& fx, uint32_t index,
                  uint32_t threads, Window& win, const RunOptions& opts, ThreadOut* out) {
  ThreadCtx t;
  t.thread = index;
  t.threads = threads;
  t.fx = &fx;
  t.q = &q;
  t.rng = 0x9E3779B97F4A7C15ull * (index + 1);
  int setup = w.Setup(t);
  win.Arrive();
  if (setup != 0) {
    out->failure = std::string("set-up failed: ") + strerror(setup);
    return;
  }
  const uint64_t kicks0 = q.kicks(), irqs0 = q.interrupts();
  uint32_t outstanding = 0;
  for (uint32_t i = 0; i < q.depth(); ++i) {
    Slot& s = q.slot(i);
    w.Begin(t, s);
    s.t_begin = NowNs();
    q.Add(s);
    ++outstanding;
  }
  q.Flush();
  while (outstanding > 0) {
    const std::vector<uint32_t>& done = q.Wait(opts.timeout_ms);
    if (done.empty()) {
      out->failure = "no completion for " + std::to_string(opts.timeout_ms) +
                     " ms (backend stuck or dead)";
      break;
    }
    const uint64_t now = NowNs();
    const bool in = win.In(now);
    for (uint32_t i : done) {
      Slot& s = q.slot(i);
      --outstanding;
      ++out->c.all_requests;
      if (in) ++out->c.requests;
      Outcome o = w.OnReply(t, s);
      if (o.error) ++out->c.errors;
      if (in && o.ops > 0) {
        out->c.latency.Add(now - s.t_begin);  // per op: all its requests
        out->c.ops += o.ops;
        out->c.bytes += o.bytes;
      }
      if (!o.next_ready) {
        if (now >= win.tend) continue;  // finishing: no new op
        w.Begin(t, s);
        s.t_begin = now;
      }
      q.Add(s);
      ++outstanding;
    }
    q.Flush();
  }
  out->kicks = q.kicks() - kicks0;
  out->interrupts = q.interrupts() - irqs0;
  out->first_error = t.first_error;
  if (out->failure.empty()) w.Teardown(t);
}

void NativeThread(Workload& w, const Fixture& fx, uint32_t index, Window& win,
                  const RunOptions& opts, ThreadOut* out) {
  ThreadCtx t;
  t.thread = index;
  t.fx = &fx;
  t.rng = 0x9E3779B97F4A7C15ull * (index + 1);
  if (fx.big_dir_fd >= 0) {
    t.dir_fd = openat(fx.big_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  win.Arrive();
  Workload::IoShape shape;
  if (opts.engine != RunOptions::Engine::kSync && w.GetIoShape(&shape)) {
    out->failure = RunUringLoop(t, shape, opts.native_depth,
                                opts.engine == RunOptions::Engine::kUringAsync, win.t0, win.tend,
                                &out->c);
    out->first_error = t.first_error;
    if (t.dir_fd >= 0) close(t.dir_fd);
    return;
  }
  for (;;) {
    uint64_t start = NowNs();
    if (start >= win.tend) break;
    Outcome o = w.Native(t);
    uint64_t end = NowNs();
    if (o.error) ++out->c.errors;
    if (win.In(end)) {
      out->c.latency.Add(end - start);
      ++out->c.requests;
      out->c.ops += o.ops;
      out->c.bytes += o.bytes;
    }
  }
  if (t.dir_fd >= 0) close(t.dir_fd);
  out->first_error = t.first_error;
}

RunResult Collect(const Workload& w, std::vector<ThreadOut>& outs, const RunOptions& opts) {
  RunResult r;
  r.workload = w.name();
  r.seconds = opts.duration_s;
  for (ThreadOut& o : outs) {
    r.c.Merge(o.c);
    r.kicks += o.kicks;
    r.interrupts += o.interrupts;
    if (r.first_error == 0) r.first_error = o.first_error;
    if (r.failure.empty()) r.failure = o.failure;
  }
  return r;
}

}  // namespace

RunResult RunVirtio(Workload& w, const std::vector<QueueDriver*>& queues, const Fixture& fx,
                    const RunOptions& opts, pid_t daemon_root) {
  std::vector<ThreadOut> outs(queues.size());
  Window win;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < queues.size(); ++i) {
    threads.emplace_back(VirtioThread, std::ref(w), std::ref(*queues[i]), std::cref(fx),
                         static_cast<uint32_t>(i), static_cast<uint32_t>(queues.size()),
                         std::ref(win), std::cref(opts), &outs[i]);
  }
  win.Open(static_cast<uint32_t>(queues.size()), opts);
  SleepUntil(win.t0);
  ProcUsage d0 = ReadProcessTree(daemon_root);
  uint64_t s0 = SelfCpuNs();
  SleepUntil(win.tend);
  ProcUsage d1 = ReadProcessTree(daemon_root);
  uint64_t s1 = SelfCpuNs();
  for (auto& t : threads) t.join();
  RunResult r = Collect(w, outs, opts);
  r.daemon_cpu_ns = d1.cpu_ns > d0.cpu_ns ? d1.cpu_ns - d0.cpu_ns : 0;
  r.bench_cpu_ns = s1 - s0;
  return r;
}

RunResult RunNative(Workload& w, uint32_t nthreads, const Fixture& fx, const RunOptions& opts) {
  std::vector<ThreadOut> outs(nthreads);
  Window win;
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < nthreads; ++i) {
    threads.emplace_back(NativeThread, std::ref(w), std::cref(fx), i, std::ref(win),
                         std::cref(opts), &outs[i]);
  }
  win.Open(nthreads, opts);
  SleepUntil(win.t0);
  uint64_t s0 = SelfCpuNs();
  SleepUntil(win.tend);
  uint64_t s1 = SelfCpuNs();
  for (auto& t : threads) t.join();
  RunResult r = Collect(w, outs, opts);
  r.bench_cpu_ns = s1 - s0;
  return r;
}

}  // namespace hostshare::bench
