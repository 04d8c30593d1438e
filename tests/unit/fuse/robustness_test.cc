// Hostile input and concurrency: random and mutated requests against the
// NullFilesystem and the recording fake never crash, never overrun the
// reply buffer, and always produce a well-formed reply or none; Handle is
// safe to call from several threads.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "fuse/null_filesystem.h"
#include "opcode_cases.h"

namespace hostshare::fuse::testing {
namespace {

Bytes RandomBytes(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (char& c : b) c = static_cast<char>(rng());
  return b;
}

TEST(NullFilesystem, EveryOpIsEnosys) {
  NullFilesystem fs;
  Server server(fs, ServerOptions{});
  Replied init = InitServer(server);
  auto out = init.As<fuse_init_out>();
  EXPECT_EQ(out.flags & ~uint32_t{FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_INIT_EXT}, 0u)
      << "NullFilesystem wants nothing";
  for (const OpCase& c : AllOpcodeCases()) {
    if (c.no_reply || c.opcode == FUSE_INIT || c.opcode == FUSE_DESTROY) continue;
    Bytes body = c.body;
    if (c.opcode == FUSE_SETXATTR) {  // no FUSE_SETXATTR_EXT: the 8-byte setxattr_in
      body = Body().Struct(fuse_setxattr_in{3, 0}, 8).Str("user.a").Raw("xyz");
    }
    Replied r = Send(server, MakeRequest(c.opcode, c.nodeid, body));
    EXPECT_EQ(r.error(), ENOSYS) << c.label;
  }
}

TEST(Robustness, RandomRequests) {
  std::mt19937_64 rng(12345);
  NullFilesystem null_fs;
  RecordingFs rec_fs;
  Server null_server(null_fs, ServerOptions{});
  Server rec_server(rec_fs, ServerOptions{});
  InitServer(null_server);
  InitServer(rec_server);
  for (int i = 0; i < 20000; ++i) {
    uint32_t op = static_cast<uint32_t>(rng() % 56);
    if (op == FUSE_INIT || op == FUSE_DESTROY) continue;  // keep the sessions alive
    Bytes body = RandomBytes(rng, rng() % 200);
    if (rng() % 4 == 0 && !body.empty()) body.back() = '\0';  // more names parse
    ReqOpts o;
    switch (rng() % 8) {
      case 0: o.len_override = static_cast<int64_t>(rng() % 300); break;
      case 1: o.total_extlen = static_cast<uint16_t>(rng() % 40); break;
      default: break;
    }
    Bytes req = MakeRequest(op, rng() % 8, body, o);
    size_t room = rng() % 3 == 0 ? rng() % 200 : 4096;
    size_t split = rng() % 3 == 0 ? 1 + rng() % 17 : 0;
    Send(null_server, req, room, split);
    Send(rec_server, req, room, split);
  }
}

TEST(Robustness, MutatedValidRequests) {
  std::mt19937_64 rng(777);
  RecordingFs fs;
  Server server(fs, ServerOptions{});
  InitServer(server);
  std::vector<OpCase> cases = AllOpcodeCases();
  for (int i = 0; i < 20000; ++i) {
    const OpCase& c = cases[rng() % cases.size()];
    if (c.opcode == FUSE_INIT || c.opcode == FUSE_DESTROY) continue;
    Bytes req = MakeRequest(c.opcode, c.nodeid, c.body);
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // Leave the opcode alone half the time so the handlers get exercised.
      size_t pos = rng() % req.size();
      if (pos >= 4 && pos < 8 && rng() % 2) continue;
      req[pos] = static_cast<char>(req[pos] ^ (1u << (rng() % 8)));
    }
    Send(server, req, rng() % 2 ? 4096 : rng() % 300);
  }
}

TEST(Robustness, ConcurrentRequests) {
  RecordingFs fs;
  Server server(fs, ServerOptions{});
  InitServer(server);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        ReqOpts o;
        o.unique = static_cast<uint64_t>(t) << 32 | static_cast<uint64_t>(i);
        Bytes req = i % 2 ? MakeRequest(FUSE_GETATTR, 5, Body().Struct(fuse_getattr_in{}), o)
                          : MakeRequest(FUSE_LOOKUP, 1, Body().Str("n"), o);
        Replied r = Send(server, req, 4096);
        if (r.hdr.error != 0 || r.hdr.unique != o.unique) ++bad;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(fs.calls().size(), 8u * 500u + 1u);  // + Init
}

}  // namespace
}  // namespace hostshare::fuse::testing
