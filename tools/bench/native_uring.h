// The native mode's io_uring engine: a READ/WRITE workload driven through
// io_uring with `depth` requests in flight on one thread: the answer to
// "would io_uring beat plain preadv/pwritev here?". IOSQE_ASYNC variant:
// every request punted to the kernel's io-wq workers (parallel copies).
//
// Thread-safety: one call per thread.
#pragma once

#include <cstdint>
#include <string>

#include "workloads.h"

namespace hostshare::bench {

// True when this build has liburing.
bool UringAvailable();

// Runs until `tend` (ns, NowNs clock); counts what completes in [t0, tend).
// Returns an error text, or "" on success.
std::string RunUringLoop(ThreadCtx& t, const Workload::IoShape& shape, uint32_t depth,
                         bool force_async, uint64_t t0, uint64_t tend, Counters* out);

}  // namespace hostshare::bench
