// BlockingPool: worker threads for requests that may block or run long
// (large READ/WRITE, fsync, ...), so that a queue's own thread keeps
// serving the short ones (GETATTR, LOOKUP, ...) meanwhile.
//
// A queue worker hands a job over with its descriptor chain; a pool thread
// runs the handler on it and gives the job back through PoolClient::Done,
// which returns the chain to the guest. Jobs are intrusive (no allocation
// per request) and served in FIFO order.
//
// Thread-safety: Submit() from any thread. The pool starts its threads on
// the first Submit (never before the daemon's sandbox is in place: threads
// do not survive a fork) and joins them on destruction.
// REQUIRES: no job is in flight when the pool is destroyed (queue workers
// wait for their jobs when they stop).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "device/request_handler.h"
#include "virtio/descriptor_chain.h"

namespace hostshare::device {

class PoolClient;

struct PoolJob {
  virtio::Chain chain;        // the request; its vectors keep their capacity
  PoolClient* client = nullptr;
  PoolJob* next = nullptr;    // pool queue / client free list
};

class PoolClient {
 public:
  virtual ~PoolClient() = default;
  // Called on a pool thread once the handler returned `len` reply bytes.
  virtual void Done(PoolJob* job, size_t len) = 0;
};

class BlockingPool {
 public:
  BlockingPool(uint32_t threads, RequestHandler& handler);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  uint32_t threads() const { return nthreads_; }
  void Submit(PoolJob* job);

 private:
  void Run();

  const uint32_t nthreads_;
  RequestHandler& handler_;
  std::mutex mu_;
  std::condition_variable cv_;
  PoolJob* head_ = nullptr;  // guarded by mu_
  PoolJob* tail_ = nullptr;  // guarded by mu_
  uint32_t idle_ = 0;        // threads waiting on cv_; guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  std::vector<std::thread> threads_;  // started on first Submit, under mu_
};

}  // namespace hostshare::device
