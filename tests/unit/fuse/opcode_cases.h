// One well-formed request per opcode, with the Filesystem calls it must
// produce and the reply it must get (against a default RecordingFs, on a
// session initialised with InitServer()). Shared by the decode, truncation
// and reply-bound tests.
#pragma once

#include <string>
#include <vector>

#include "fuse_test_util.h"

namespace hostshare::fuse::testing {

struct OpCase {
  std::string label;
  uint32_t opcode = 0;
  uint64_t nodeid = 0;
  Bytes body;
  std::vector<std::string> calls;  // expected Filesystem calls
  int error = 0;                   // expected reply error (0 = success)
  size_t reply_body = 0;           // expected reply body size on success
  bool no_reply = false;
};

std::vector<OpCase> AllOpcodeCases();

inline void PrintTo(const OpCase& c, std::ostream* os) { *os << c.label; }

}  // namespace hostshare::fuse::testing
