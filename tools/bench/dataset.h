// The benchmark's data set, created under <share>/hsbench on the host, and
// the Fixture that names it for a run (through a backend: node ids and
// handles from LOOKUP/OPEN; natively: fds).
//
//   hsbench/files/f00..f63   4 KiB files (GETATTR, LOOKUP)
//   hsbench/read.dat         preloaded file for READ (default 256 MiB)
//   hsbench/write.dat        file for WRITE (default 256 MiB)
//   hsbench/dir10k/          the READDIRPLUS directory (default 10000 empty files)
//   hsbench/create/          CREATE + UNLINK happen here (emptied first)
//   hsbench/mem/             files for the inode-memory probe (--memory)
#pragma once

#include <cstdint>
#include <string>

#include "queue_driver.h"
#include "workloads.h"

namespace hostshare::bench {

inline constexpr uint32_t kSmallFiles = 64;

struct DatasetOptions {
  std::string share;                 // the shared directory
  uint64_t read_size = 256ull << 20;
  uint64_t write_size = 256ull << 20;
  uint32_t dir_entries = 10000;
  uint32_t mem_entries = 0;          // 0: no mem/ directory
};

// Creates (or reuses) the data set and reads read.dat once so that it is in
// the page cache. False with `error` on failure.
bool PrepareDataset(const DatasetOptions& o, std::string* error);

// Looks the data set up through the backend and opens the files.
bool SetUpFixture(QueueDriver& q, const DatasetOptions& o, uint32_t max_io, Fixture* fx,
                  std::string* error);
// Opens the data set for the native mode.
bool SetUpNativeFixture(const DatasetOptions& o, Fixture* fx, std::string* error);
void CloseNativeFixture(Fixture* fx);

// LOOKUPs every name in hsbench/mem/ (count must match the data set);
// returns the number of successful lookups.
uint32_t LookupMemFiles(QueueDriver& q, const DatasetOptions& o);

std::string SmallFileName(uint32_t i);
std::string DirEntryName(uint32_t i);

}  // namespace hostshare::bench
