// The benchmark's workloads. Each is one kind of FUSE traffic, runnable
// against a vhost-user-fs backend (as requests on a QueueDriver) and
// natively (the same operation as direct syscalls: the floor no daemon can
// beat).
//
//   getattr       GETATTR of 64 known files, round robin        | statx(fd, "")
//   lookup        LOOKUP of 64 existing names (hit)              | fstatat(dir, name)
//   lookup-miss   LOOKUP of names that do not exist (ENOENT)     | fstatat -> ENOENT
//   read4k        4 KiB READ at random aligned offsets           | pread
//   read1m        1 MiB READ, sequential, wrapping               | pread
//   write4k       4 KiB WRITE at random aligned offsets          | pwrite
//   write1m       1 MiB WRITE, sequential, wrapping              | pwrite
//   create        CREATE + RELEASE + UNLINK + FORGET (one op)    | open(O_CREAT|O_EXCL) close unlink
//   readdirplus   READDIRPLUS (4 KiB replies) of a 10k-entry     | getdents64 + fstatat per entry
//                 directory, each reply's entries forgotten at
//                 once (the backend meets every inode cold); ops = entries
//   readdirplus-warm  the same, nothing forgotten (the backend holds every inode)
//   mixed         random: 30% getattr, 20% lookup, 10% lookup-miss, 25% read4k, 15% write4k
//
// Thread-safety: a Workload is shared by all threads and keeps no mutable
// state of its own; per-thread and per-slot state lives in ThreadCtx / Slot.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "queue_driver.h"
#include "stats.h"

namespace hostshare::bench {

// The data set, as the backend names it (node ids, handles) and as the
// native mode opens it (fds). Built once before the workloads run.
struct Fixture {
  // virtio mode
  uint64_t files_dir = 0;
  std::vector<uint64_t> files;  // nodes of files/f00..f63
  uint64_t read_node = 0, read_fh = 0;
  uint64_t write_node = 0, write_fh = 0;
  uint64_t big_dir = 0;         // dir10k
  uint64_t create_dir = 0;
  uint32_t max_io = 1 << 20;    // largest READ/WRITE payload the backend accepts
  // native mode
  int files_dir_fd = -1;
  std::vector<int> file_fds;    // O_PATH
  int read_fd = -1, write_fd = -1, big_dir_fd = -1, create_dir_fd = -1;
  // both
  uint64_t read_size = 0, write_size = 0;
  std::vector<std::string> file_names;
};

// What a thread measured.
struct Counters {
  uint64_t ops = 0;
  uint64_t requests = 0;
  uint64_t bytes = 0;
  uint64_t errors = 0;
  uint64_t all_requests = 0;  // every completion, warm-up included (syscalls per request)
  Histogram latency;  // per op (first submission to last reply); native: per call group
  void Merge(const Counters& o) {
    ops += o.ops;
    requests += o.requests;
    bytes += o.bytes;
    errors += o.errors;
    all_requests += o.all_requests;
    latency.Merge(o.latency);
  }
};

struct ThreadCtx {
  uint32_t thread = 0;
  uint32_t threads = 1;
  const Fixture* fx = nullptr;
  QueueDriver* q = nullptr;  // virtio mode
  uint64_t rng = 0;
  uint64_t seq = 0;
  std::vector<char> buf;     // native mode I/O buffer
  int dir_fd = -1;           // native mode: this thread's fd of the big directory
  int first_error = 0;       // errno of the first failure (for the report)
  uint64_t Random() {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  }
};

// What one reply meant.
struct Outcome {
  uint32_t ops = 0;
  uint64_t bytes = 0;
  bool error = false;
  bool next_ready = false;  // the slot holds the op's next request: submit it
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual const char* name() const = 0;
  // Per-thread set-up/tear-down over synchronous calls (e.g. OPENDIR).
  virtual int Setup(ThreadCtx&) { return 0; }
  virtual void Teardown(ThreadCtx&) {}
  // Fills `s` with the first request of a new op.
  virtual void Begin(ThreadCtx& t, Slot& s) = 0;
  // Interprets the reply in `s`.
  virtual Outcome OnReply(ThreadCtx& t, Slot& s) = 0;
  // Native mode: one op as syscalls.
  virtual Outcome Native(ThreadCtx& t) = 0;
  // For READ/WRITE workloads: their shape (the native io_uring engine
  // drives those itself). False for every other workload.
  struct IoShape {
    bool write = false;
    bool random = false;
    uint32_t size = 0;
  };
  virtual bool GetIoShape(IoShape*) const { return false; }
};

// Offset of the next I/O of `size` bytes in a file of `file_size` bytes.
uint64_t RandomOffset(ThreadCtx& t, uint64_t file_size, uint32_t size);
uint64_t SequentialOffset(ThreadCtx& t, uint64_t file_size, uint32_t size);

// All workload names, in the order `all` runs them.
const std::vector<std::string>& WorkloadNames();
std::unique_ptr<Workload> MakeWorkload(const std::string& name);

}  // namespace hostshare::bench
