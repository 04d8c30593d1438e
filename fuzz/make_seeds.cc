// Writes the seed corpora of the fuzzers into DIR/<target>/ (the committed
// fuzz/corpus was made with: make_fuzz_seeds fuzz/corpus). Each seed is a
// well-formed input in the target's format, so that fuzzing starts from
// requests that get past validation.
#include <linux/fuse.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <vector>

#include "vhost_user/protocol.h"
#include "virtio/descriptor_chain.h"

namespace {

using Bytes = std::vector<uint8_t>;
namespace vu = hostshare::vhost_user;

std::string g_dir;

void Save(const std::string& target, const std::string& name, const Bytes& b) {
  std::string dir = g_dir + "/" + target;
  mkdir(dir.c_str(), 0755);
  std::string path = dir + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) {
    perror(path.c_str());
    return;
  }
  fwrite(b.data(), 1, b.size(), f);
  fclose(f);
}

template <typename T>
Bytes Of(const T& v) {
  Bytes b(sizeof v);
  memcpy(b.data(), &v, sizeof v);
  return b;
}
Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
Bytes Str(const std::string& s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  return b;
}

// --- FUSE requests (fuse_input.h record format) ------------------------------------

uint64_t g_unique = 100;

// One record: ctl, u16 len, fuse_in_header + body.
Bytes Rec(uint32_t opcode, uint64_t node, const Bytes& body, uint8_t ctl = 5 << 2) {
  fuse_in_header h{};
  h.len = static_cast<uint32_t>(sizeof h + body.size());
  h.opcode = opcode;
  h.unique = g_unique++;
  h.nodeid = node;
  Bytes req = Cat(Of(h), body);
  Bytes r = {ctl, static_cast<uint8_t>(req.size()), static_cast<uint8_t>(req.size() >> 8)};
  return Cat(r, req);
}

struct Named {
  const char* name;
  Bytes bytes;
};

std::vector<Named> FuseSeeds() {
  fuse_read_in rd{16, 0, 4096, 0, 0, 0, 0};
  fuse_write_in wr{};
  wr.fh = 16;
  wr.size = 5;
  fuse_setattr_in sa{};
  sa.valid = FATTR_MODE | FATTR_SIZE;
  sa.mode = 0600;
  sa.size = 3;
  fuse_setxattr_in sx{};
  sx.size = 3;
  fuse_forget_one one{1, 1};
  fuse_batch_forget_in bf{2, 0};
  fuse_copy_file_range_in cfr{};
  cfr.fh_in = 16;
  cfr.fh_out = 16;
  cfr.nodeid_out = 1;
  cfr.len = 100;
  fuse_lseek_in ls{};
  ls.fh = 16;
  ls.whence = 3;
  fuse_fallocate_in fa{};
  fa.fh = 16;
  fa.length = 4096;
  std::vector<Named> v = {
      {"lookup", Rec(FUSE_LOOKUP, 1, Str("a"))},
      {"getattr", Rec(FUSE_GETATTR, 1, Of(fuse_getattr_in{}))},
      {"setattr", Rec(FUSE_SETATTR, 1, Of(sa))},
      {"readlink", Cat(Rec(FUSE_LOOKUP, 1, Str("l")), Rec(FUSE_READLINK, 17, {}))},
      {"symlink", Rec(FUSE_SYMLINK, 1, Cat(Str("s"), Str("target")))},
      {"mknod", Rec(FUSE_MKNOD, 1, Cat(Of(fuse_mknod_in{S_IFIFO | 0644, 0, 0, 0}), Str("n")))},
      {"mkdir-rmdir", Cat(Rec(FUSE_MKDIR, 1, Cat(Of(fuse_mkdir_in{0755, 0}), Str("m"))),
                          Rec(FUSE_RMDIR, 1, Str("m")))},
      {"unlink", Rec(FUSE_UNLINK, 1, Str("b"))},
      {"rename", Rec(FUSE_RENAME, 1, Cat(Cat(Of(fuse_rename_in{1}), Str("a")), Str("z")))},
      {"rename2", Rec(FUSE_RENAME2, 1, Cat(Cat(Of(fuse_rename2_in{1, 2, 0}), Str("a")), Str("b")))},
      {"link", Rec(FUSE_LINK, 1, Cat(Of(fuse_link_in{17}), Str("hard")))},
      {"open-read-write-release",
       Cat(Cat(Cat(Rec(FUSE_OPEN, 17, Of(fuse_open_in{O_RDWR, 0})), Rec(FUSE_READ, 17, Of(rd))),
               Rec(FUSE_WRITE, 17, Cat(Of(wr), Str("data")))),
           Rec(FUSE_RELEASE, 17, Of(fuse_release_in{16, 0, 0, 0})))},
      {"create-write-flush-fsync",
       Cat(Cat(Cat(Rec(FUSE_CREATE, 1, Cat(Of(fuse_create_in{O_RDWR, 0644, 0, 0}), Str("c"))),
                   Rec(FUSE_WRITE, 17, Cat(Of(wr), Str("data")))),
               Rec(FUSE_FLUSH, 17, Of(fuse_flush_in{16, 0, 0, 0}))),
           Rec(FUSE_FSYNC, 17, Of(fuse_fsync_in{16, 1, 0})))},
      {"tmpfile", Rec(FUSE_TMPFILE, 1, Of(fuse_create_in{O_RDWR, 0600, 0, 0}))},
      {"statfs", Rec(FUSE_STATFS, 1, {})},
      {"xattr",
       Cat(Cat(Cat(Rec(FUSE_SETXATTR, 1, Cat(Cat(Of(sx), Str("user.x")), Bytes{'a', 'b', 'c'})),
                   Rec(FUSE_GETXATTR, 1, Cat(Of(fuse_getxattr_in{64, 0}), Str("user.x")))),
               Rec(FUSE_LISTXATTR, 1, Of(fuse_getxattr_in{0, 0}))),
           Rec(FUSE_REMOVEXATTR, 1, Str("user.x")))},
      {"opendir-readdir",
       Cat(Cat(Cat(Rec(FUSE_OPENDIR, 1, Of(fuse_open_in{O_RDONLY, 0})), Rec(FUSE_READDIR, 1, Of(rd))),
               Rec(FUSE_READDIRPLUS, 1, Of(rd))),
           Rec(FUSE_RELEASEDIR, 1, Of(fuse_release_in{16, 0, 0, 0})))},
      {"fsyncdir", Rec(FUSE_FSYNCDIR, 1, Of(fuse_fsync_in{16, 0, 0}))},
      {"access", Rec(FUSE_ACCESS, 1, Of(fuse_access_in{4, 0}))},
      {"forget", Cat(Rec(FUSE_LOOKUP, 1, Str("d")), Rec(FUSE_FORGET, 17, Of(fuse_forget_in{1})))},
      {"batch-forget", Rec(FUSE_BATCH_FORGET, 0, Cat(Cat(Of(bf), Of(one)), Of(one)))},
      {"interrupt", Rec(FUSE_INTERRUPT, 0, Of(fuse_interrupt_in{5}))},
      {"fallocate", Rec(FUSE_FALLOCATE, 17, Of(fa))},
      {"lseek", Rec(FUSE_LSEEK, 17, Of(ls))},
      {"copy-file-range", Rec(FUSE_COPY_FILE_RANGE, 17, Of(cfr))},
      {"syncfs", Rec(FUSE_SYNCFS, 1, Of(fuse_syncfs_in{}))},
      {"getlk", Rec(FUSE_GETLK, 17, Of(fuse_lk_in{}))},
      {"ioctl", Rec(FUSE_IOCTL, 17, Of(fuse_ioctl_in{}))},
      {"destroy-init", Cat(Rec(FUSE_DESTROY, 0, {}), Rec(FUSE_INIT, 0, Of(fuse_init_in{7, 31, 0, 0, 0, {}})))},
      {"scattered", Cat(Rec(FUSE_LOOKUP, 1, Str("d"), 2 << 0 | 5 << 2),
                        Rec(FUSE_LOOKUP, 1, Str("a"), 3 << 0 | 1 << 2))},
      {"unknown", Rec(4242, 1, Bytes(16, 0))},
  };
  return v;
}

// --- rings (chain_fuzzer.cc format) -------------------------------------------------

using hostshare::virtio::Desc;

struct Ring {
  Bytes mem = Bytes(3 * 4096, 0);
  uint32_t qsize;
  explicit Ring(uint32_t q) : qsize(q) {}
  void SetDesc(uint16_t i, const Desc& d) { memcpy(&mem[16 * i], &d, 16); }
  void Avail(uint16_t idx, std::vector<uint16_t> heads) {
    memcpy(&mem[2048 + 2], &idx, 2);
    for (size_t i = 0; i < heads.size(); ++i) memcpy(&mem[2048 + 4 + 2 * i], &heads[i], 2);
  }
  // Guest address of byte `off` of region r (0: A, 1: B, 2: C).
  static uint64_t Gpa(int r, uint64_t off) {
    return (r == 0 ? 0x0000 : r == 1 ? 0x2000 : 0x3000) + off;
  }
  void Put(int r, uint64_t off, const Bytes& b) { memcpy(&mem[r * 4096 + off], b.data(), b.size()); }
  Bytes Seed(uint8_t flags) const {
    uint8_t log2 = 0;
    while ((2u << log2) < qsize) ++log2;
    Bytes head = {log2, flags, 0, 0};
    return Cat(head, mem);
  }
};

std::vector<Named> ChainSeeds() {
  using hostshare::virtio::kDescFIndirect;
  using hostshare::virtio::kDescFNext;
  using hostshare::virtio::kDescFWrite;
  std::vector<Named> v;
  {
    Ring r(4);
    r.SetDesc(0, {Ring::Gpa(1, 0), 64, kDescFNext, 1});
    r.SetDesc(1, {Ring::Gpa(1, 64), 128, kDescFWrite, 0});
    r.Avail(1, {0});
    v.push_back({"simple", r.Seed(3)});
  }
  {
    Ring r(8);
    r.SetDesc(0, {Ring::Gpa(1, 4000), 400, kDescFNext, 3});  // straddles B|C
    r.SetDesc(3, {Ring::Gpa(2, 1000), 100, kDescFWrite | kDescFNext, 5});
    r.SetDesc(5, {Ring::Gpa(2, 2000), 100, kDescFWrite, 0});
    r.SetDesc(1, {Ring::Gpa(1, 100), 32, 0, 0});
    r.Avail(2, {0, 1});
    v.push_back({"two-chains-straddling", r.Seed(1)});
  }
  {
    Ring r(16);
    Desc table[3] = {{Ring::Gpa(1, 0), 40, kDescFNext, 1},
                     {Ring::Gpa(1, 40), 8, kDescFNext, 2},
                     {Ring::Gpa(2, 0), 256, kDescFWrite, 0}};
    Bytes t(sizeof table);
    memcpy(t.data(), table, sizeof table);
    r.Put(1, 2048, t);
    r.SetDesc(0, {Ring::Gpa(1, 2048), sizeof table, kDescFIndirect, 0});
    r.Avail(1, {0});
    v.push_back({"indirect", r.Seed(3)});
  }
  {
    Ring r(128);
    for (uint16_t i = 0; i < 127; ++i) {
      r.SetDesc(i, {Ring::Gpa(1, i), 1, kDescFNext, uint16_t(i + 1)});
    }
    r.SetDesc(127, {Ring::Gpa(2, 0), 16, kDescFWrite, 0});
    r.Avail(1, {0});
    v.push_back({"long", r.Seed(0)});
  }
  return v;
}

// --- vhost-user messages (vhost_user_fuzzer.cc format) ---------------------------

Bytes Msg(uint32_t code, const Bytes& payload, uint8_t fdspec = 0, uint32_t flags = vu::kVersion) {
  vu::Header h{code, flags, static_cast<uint32_t>(payload.size())};
  return Cat(Cat(Bytes{fdspec}, Of(h)), payload);
}

std::vector<Named> VhostSeeds() {
  const uint64_t uva = 0x10000000;
  vu::MemoryRegion region{0, 64 * 1024, uva, 0};
  Bytes table = Cat(Of(uint32_t{1}), Of(uint32_t{0}));
  table = Cat(table, Of(region));
  vu::SingleMemoryRegion single{0, region};
  auto state = [](uint32_t i, uint32_t n) { return Of(vu::VringState{i, n}); };
  vu::VringAddr addr{1, 0, uva, uva + 0x2000, uva + 0x1000, 0};
  const uint64_t fdspec_mem = 1 | (1 << 4);  // one fd, the memory fd
  Bytes boot = Cat(Bytes{0}, Msg(vu::kGetFeatures, {}));
  for (const Bytes& m : {
           Msg(vu::kGetProtocolFeatures, {}),
           Msg(vu::kSetProtocolFeatures, Of(uint64_t{0x8000 | 0x2000 | 0x200 | 0x8 | 0x1})),
           Msg(vu::kGetQueueNum, {}),
           Msg(vu::kGetMaxMemSlots, {}),
           Msg(vu::kSetOwner, {}),
           Msg(vu::kSetVringCall, Of(uint64_t{1}), 1),
           Msg(vu::kSetFeatures, Of(uint64_t{(1ull << 32) | (1ull << 28) | (1ull << 29) | (1ull << 30)})),
           Msg(vu::kSetMemTable, table, fdspec_mem),
           Msg(vu::kSetVringNum, state(1, 8)),
           Msg(vu::kSetVringBase, state(1, 0)),
           Msg(vu::kSetVringAddr, Of(addr)),
           Msg(vu::kSetVringKick, Of(uint64_t{1}), 1),
           Msg(vu::kSetVringEnable, state(1, 1)),
           Msg(vu::kGetVringBase, state(1, 0)),
       }) {
    boot = Cat(boot, m);
  }
  Bytes slots = Cat(Bytes{0}, Msg(vu::kSetProtocolFeatures, Of(uint64_t{0x8000 | 0x8})));
  slots = Cat(slots, Msg(vu::kAddMemReg, Of(single), fdspec_mem, vu::kVersion | vu::kFlagNeedReply));
  slots = Cat(slots, Msg(vu::kRemMemReg, Of(single)));
  vu::ConfigHeader ch{0, 40, 0};
  Bytes config = Cat(Bytes{0}, Msg(vu::kGetProtocolFeatures, {}));
  config = Cat(config, Msg(vu::kGetConfig, Cat(Of(ch), Bytes(40, 0))));
  config = Cat(config, Msg(vu::kSetConfig, Cat(Of(ch), Bytes(40, 0))));
  config = Cat(config, Msg(vu::kResetDevice, {}));
  // Channel mode: the raw bytes of a few messages.
  Bytes raw = {1};
  for (const Bytes& m : {Msg(vu::kGetFeatures, {}), Msg(vu::kSetVringKick, Of(uint64_t{0})),
                         Msg(vu::kSetMemTable, table)}) {
    raw = Cat(raw, Bytes(m.begin() + 1, m.end()));
  }
  return {{"boot", boot}, {"mem-slots", slots}, {"config", config}, {"channel", raw}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];
  mkdir(g_dir.c_str(), 0755);
  for (const auto& s : FuseSeeds()) {
    Save("fuse_null_fuzzer", s.name, s.bytes);
    Save("fuse_passthrough_fuzzer", s.name, s.bytes);
  }
  for (const auto& s : ChainSeeds()) Save("chain_fuzzer", s.name, s.bytes);
  for (const auto& s : VhostSeeds()) Save("vhost_user_fuzzer", s.name, s.bytes);
  return 0;
}
