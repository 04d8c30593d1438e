// libFuzzer target: the FUSE server (decode, dispatch, encode) on a
// NullFilesystem, every operation ENOSYS. Exercises header and body
// validation, the opcode table, names, and reply encoding without any
// backend state. See fuse_input.h for the input format.
#include <cstddef>
#include <cstdint>

#include "base/log.h"
#include "fuse/null_filesystem.h"
#include "fuse/server.h"
#include "fuse_input.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hostshare::log::Level off;
  if (hostshare::log::ParseLevel("off", &off)) hostshare::log::SetLevel(off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hostshare::fuse::NullFilesystem fs;
  hostshare::fuse::Server server(fs, hostshare::fuse::ServerOptions{});
  hostshare::fuzz::RunInput(server, data, size);
  return 0;
}
