// The whole device stack in one process: FakeFrontend (as QEMU) + FuseClient
// (as the guest's virtio-fs driver) talk vhost-user over a socketpair to
// daemon::Service::Serve() on a thread, serving a temporary directory.
// Every operation is checked both in its FUSE reply and on the host.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/config.h"
#include "daemon/service.h"
#include "support/fake_frontend.h"
#include "support/fake_guest_memory.h"
#include "support/fuse_client.h"

namespace hostshare {
namespace {

namespace fsys = std::filesystem;
using fake::Bytes;
using fake::FakeFrontend;
using fake::FakeGuestMemory;
using fake::FuseClient;

constexpr uint64_t kRoot = FUSE_ROOT_ID;

std::string ReadHostFile(const fsys::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteHostFile(const fsys::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 8));
  return v;
}

class FuseOverVhostUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hostshare-it-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    daemon::Config config;
    config.shared_dir = dir_.string();
    config.cache = daemon::Cache::kAuto;
    std::string error;
    service_ = daemon::Service::Create(config, &error);
    ASSERT_NE(service_, nullptr) << error;

    ASSERT_TRUE(fmem_.ok());
    fake::FrontendOptions o;
    o.timeout_ms = 10000;
    ScopedFd theirs;
    fe_ = FakeFrontend::Connect(fmem_, &theirs, o);
    ASSERT_NE(fe_, nullptr);
    std::promise<Status> p;
    served_ = p.get_future();
    thread_ = std::thread([this, fd = std::move(theirs), p = std::move(p)]() mutable {
      p.set_value(service_->Serve(std::move(fd)));
    });
    ASSERT_TRUE(fe_->Handshake().ok());
    fc_ = std::make_unique<FuseClient>(*fe_);
  }
  void TearDown() override {
    if (fe_) fe_->Close();
    if (thread_.joinable()) thread_.join();
    service_.reset();
    std::error_code ec;
    fsys::remove_all(dir_, ec);
  }
  // Closes the frontend and returns what Serve() returned.
  std::optional<Status> CloseAndWait() {
    fe_->Close();
    if (served_.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return std::nullopt;
    }
    thread_.join();
    return served_.get();
  }
  void Init() {
    auto init = fc_->Init();
    ASSERT_TRUE(init.ok()) << strerror(init.error());
    EXPECT_EQ(init->major, 7u);
    EXPECT_EQ(init->minor, 38u);
    EXPECT_GE(init->max_write, 4096u);
  }

  fsys::path dir_;
  std::unique_ptr<daemon::Service> service_;
  FakeGuestMemory fmem_;
  std::unique_ptr<FakeFrontend> fe_;
  std::unique_ptr<FuseClient> fc_;
  std::future<Status> served_;
  std::thread thread_;
};

TEST_F(FuseOverVhostUserTest, RequestsBeforeInitAreRefused) {
  auto e = fc_->Lookup(kRoot, "x");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error(), EIO);
}

TEST_F(FuseOverVhostUserTest, FileLifecycle) {
  Init();
  WriteHostFile(dir_ / "hello.txt", "hello from the host\n");

  // LOOKUP: a missing name, then an existing file.
  auto missing = fc_->Lookup(kRoot, "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), ENOENT);
  auto hello = fc_->Lookup(kRoot, "hello.txt");
  ASSERT_TRUE(hello.ok()) << strerror(hello.error());
  EXPECT_NE(hello->nodeid, 0u);
  EXPECT_NE(hello->nodeid, kRoot);
  EXPECT_TRUE(S_ISREG(hello->attr.mode));
  EXPECT_EQ(hello->attr.size, 20u);

  // CREATE + WRITE + READ.
  auto created = fc_->Create(kRoot, "new.txt", 0640);
  ASSERT_TRUE(created.ok()) << strerror(created.error());
  const uint64_t node = created->entry.nodeid;
  const uint64_t fh = created->open.fh;
  ASSERT_TRUE(fsys::exists(dir_ / "new.txt"));
  EXPECT_EQ(fsys::status(dir_ / "new.txt").permissions() & fsys::perms::all,
            fsys::perms::owner_read | fsys::perms::owner_write | fsys::perms::group_read);
  auto again = fc_->Create(kRoot, "new.txt");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), EEXIST);

  auto data = Pattern(100000, 1);
  auto written = fc_->Write(node, fh, 0, data);
  ASSERT_TRUE(written.ok()) << strerror(written.error());
  EXPECT_EQ(*written, data.size());
  auto tail = Bytes("-tail");
  written = fc_->Write(node, fh, data.size(), tail);
  ASSERT_TRUE(written.ok());
  std::string host = ReadHostFile(dir_ / "new.txt");
  ASSERT_EQ(host.size(), data.size() + 5);
  EXPECT_EQ(0, memcmp(host.data(), data.data(), data.size()));
  EXPECT_EQ(host.substr(data.size()), "-tail");

  auto read = fc_->Read(node, fh, 0, 100005);
  ASSERT_TRUE(read.ok()) << strerror(read.error());
  ASSERT_EQ(read->size(), 100005u);
  EXPECT_EQ(0, memcmp(read->data(), data.data(), data.size()));
  auto past_end = fc_->Read(node, fh, 100003, 100);
  ASSERT_TRUE(past_end.ok());
  EXPECT_EQ(*past_end, Bytes("il"));
  auto eof = fc_->Read(node, fh, 1 << 20, 100);
  ASSERT_TRUE(eof.ok());
  EXPECT_TRUE(eof->empty());
  ASSERT_TRUE(fc_->Release(node, fh).ok());

  // READDIRPLUS sees both files with their attributes.
  auto dh = fc_->OpenDir(kRoot);
  ASSERT_TRUE(dh.ok()) << strerror(dh.error());
  auto entries = fc_->ReadDirPlus(kRoot, dh->fh);
  ASSERT_TRUE(entries.ok()) << strerror(entries.error());
  std::set<std::string> names;
  for (const auto& e : *entries) {
    names.insert(e.name);
    if (e.name == "new.txt") {
      EXPECT_EQ(e.entry.nodeid, node);
      EXPECT_EQ(e.entry.attr.size, data.size() + 5);
    }
    if (e.name == "hello.txt") {
      EXPECT_EQ(e.entry.attr.size, 20u);
    }
  }
  EXPECT_TRUE(names.count("hello.txt"));
  EXPECT_TRUE(names.count("new.txt"));
  EXPECT_EQ(names.size() - names.count(".") - names.count(".."), 2u);
  // Reading on from the last offset gives nothing more.
  ASSERT_FALSE(entries->empty());
  auto rest = fc_->ReadDirPlus(kRoot, dh->fh, entries->back().off);
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->empty());
  ASSERT_TRUE(fc_->ReleaseDir(kRoot, dh->fh).ok());

  // RENAME2 with RENAME_NOREPLACE: refused onto an existing name, fine onto a new one.
  Status st = fc_->Rename2(kRoot, "new.txt", kRoot, "hello.txt", RENAME_NOREPLACE);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), EEXIST);
  EXPECT_EQ(ReadHostFile(dir_ / "hello.txt"), "hello from the host\n");
  ASSERT_TRUE(fc_->Rename2(kRoot, "new.txt", kRoot, "renamed.txt", RENAME_NOREPLACE).ok());
  EXPECT_FALSE(fsys::exists(dir_ / "new.txt"));
  EXPECT_EQ(fsys::file_size(dir_ / "renamed.txt"), data.size() + 5);

  // RENAME2 with RENAME_EXCHANGE swaps the two files.
  ASSERT_TRUE(fc_->Rename2(kRoot, "renamed.txt", kRoot, "hello.txt", RENAME_EXCHANGE).ok());
  EXPECT_EQ(ReadHostFile(dir_ / "renamed.txt"), "hello from the host\n");
  EXPECT_EQ(fsys::file_size(dir_ / "hello.txt"), data.size() + 5);
  st = fc_->Rename2(kRoot, "renamed.txt", kRoot, "nothing-there", RENAME_EXCHANGE);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), ENOENT);

  // UNLINK.
  ASSERT_TRUE(fc_->Unlink(kRoot, "renamed.txt").ok());
  EXPECT_FALSE(fsys::exists(dir_ / "renamed.txt"));
  st = fc_->Unlink(kRoot, "renamed.txt");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), ENOENT);
  auto gone = fc_->Lookup(kRoot, "renamed.txt");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error(), ENOENT);

  auto served = CloseAndWait();
  ASSERT_TRUE(served.has_value()) << "Serve() did not return after the frontend closed";
  EXPECT_TRUE(served->ok());
}

TEST_F(FuseOverVhostUserTest, PayloadsStraddlingMemoryRegions) {
  Init();
  auto created = fc_->Create(kRoot, "split.bin");
  ASSERT_TRUE(created.ok());
  const uint64_t node = created->entry.nodeid;
  const uint64_t fh = created->open.fh;
  constexpr uint64_t C = FakeGuestMemory::kRegionC;
  auto& q = fe_->queue(FuseClient::kRequestQueue);

  // WRITE whose payload straddles B|C: the daemon must pwritev both pieces.
  auto data = Pattern(8192, 7);
  auto req = fc_->BuildRequest(FUSE_WRITE, node, fc_->WriteBody(fh, 0, data));
  const size_t head_len = sizeof(fuse_in_header) + sizeof(fuse_write_in);
  ASSERT_TRUE(fmem_.Reserve(C - 4096, data.size()));
  ASSERT_TRUE(fmem_.Write(C - 4096, data));
  auto chain = q.Chain()
                   .Readable(std::vector<uint8_t>(req.begin(), req.begin() + head_len))
                   .ReadableAt(C - 4096, static_cast<uint32_t>(data.size()))
                   .Writable(sizeof(fuse_out_header) + sizeof(fuse_write_out))
                   .Publish();
  ASSERT_TRUE(chain);
  ASSERT_TRUE(fe_->Kick(FuseClient::kRequestQueue).ok());
  auto done = fe_->WaitUsed(FuseClient::kRequestQueue, chain->head);
  ASSERT_TRUE(done.ok());
  auto reply = FuseClient::Parse(*done, fc_->last_unique());
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->error, 0);
  fuse_write_out wo;
  ASSERT_EQ(reply->body.size(), sizeof(wo));
  memcpy(&wo, reply->body.data(), sizeof(wo));
  EXPECT_EQ(wo.size, data.size());
  std::string host = ReadHostFile(dir_ / "split.bin");
  ASSERT_EQ(host.size(), data.size());
  EXPECT_EQ(0, memcmp(host.data(), data.data(), data.size()));

  // READ whose reply buffer straddles B|C (header in its own descriptor,
  // as the Linux driver lays it out).
  fmem_.Free(C - 4096);
  const uint64_t out_gpa = C - 3000;
  ASSERT_TRUE(fmem_.Reserve(out_gpa, 6000));
  auto rreq = fc_->BuildRequest(FUSE_READ, node, fc_->ReadBody(fh, 0, 6000));
  auto rchain = q.Chain()
                    .Readable(rreq)
                    .Writable(sizeof(fuse_out_header))
                    .WritableAt(out_gpa, 6000)
                    .Publish();
  ASSERT_TRUE(rchain);
  ASSERT_TRUE(fe_->Kick(FuseClient::kRequestQueue).ok());
  auto rdone = fe_->WaitUsed(FuseClient::kRequestQueue, rchain->head);
  ASSERT_TRUE(rdone.ok());
  auto rreply = FuseClient::Parse(*rdone, fc_->last_unique());
  ASSERT_TRUE(rreply.ok());
  ASSERT_EQ(rreply->error, 0);
  ASSERT_EQ(rreply->body.size(), 6000u);
  EXPECT_EQ(0, memcmp(rreply->body.data(), data.data(), 6000));
  EXPECT_EQ(fmem_.ReadBytes(out_gpa, 6000),
            std::vector<uint8_t>(data.begin(), data.begin() + 6000));
}

TEST_F(FuseOverVhostUserTest, GuestRebootInvalidatesNodeIds) {
  Init();
  WriteHostFile(dir_ / "a", "aaaa");
  WriteHostFile(dir_ / "b", "bb");
  auto a = fc_->Lookup(kRoot, "a");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(fc_->GetAttr(a->nodeid).ok());

  // The reboot as QEMU 7.2 plays it: rings stopped and restarted from 0,
  // then the new kernel's FUSE_INIT. No reset message.
  ASSERT_TRUE(fe_->Reboot().ok());
  Init();

  auto stale = fc_->GetAttr(a->nodeid);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error() == ESTALE || stale.error() == ENOENT) << strerror(stale.error());
  // New lookups may reuse table slots: the old id must still not name them.
  auto b = fc_->Lookup(kRoot, "b");
  ASSERT_TRUE(b.ok());
  EXPECT_NE(b->nodeid, a->nodeid);
  auto stale2 = fc_->GetAttr(a->nodeid);
  EXPECT_FALSE(stale2.ok());
  auto a2 = fc_->Lookup(kRoot, "a");
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a2->attr.size, 4u);
  // The root is always 1.
  auto root = fc_->GetAttr(kRoot);
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(S_ISDIR(root->attr.mode));
}

TEST_F(FuseOverVhostUserTest, ForgetOnTheHiprioQueueHasNoReply) {
  Init();
  WriteHostFile(dir_ / "f", "x");
  auto f = fc_->Lookup(kRoot, "f");
  ASSERT_TRUE(f.ok());
  auto f2 = fc_->Lookup(kRoot, "f");  // two lookups on the same node
  ASSERT_TRUE(f2.ok());
  ASSERT_EQ(f2->nodeid, f->nodeid);

  auto len = fc_->Forget(f->nodeid, 1);  // readable-only chain, as Linux sends it
  ASSERT_TRUE(len.ok()) << strerror(len.error());
  EXPECT_EQ(*len, 0u);
  EXPECT_TRUE(fc_->GetAttr(f->nodeid).ok());  // one lookup left
  len = fc_->Forget(f->nodeid, 1, /*reply_size=*/64);  // a buffer offered anyway: still no bytes
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 0u);
  auto forgotten = fc_->GetAttr(f->nodeid);
  ASSERT_FALSE(forgotten.ok());
  // A bogus FORGET is silently ignored too.
  len = fc_->Forget(0xdeadbeef12345678ull, 1000);
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 0u);
  // The request queue still works.
  EXPECT_TRUE(fc_->Lookup(kRoot, "f").ok());
}

TEST_F(FuseOverVhostUserTest, MalformedRequestGetsEinvalAndTheQueueGoesOn) {
  Init();
  // A LOOKUP whose name is not NUL-terminated within the request.
  auto r = fc_->Call(FUSE_LOOKUP, kRoot, Bytes("abc"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, EINVAL);
  // A WRITE claiming more payload than it carries.
  fuse_write_in in{};
  in.size = 1000;
  auto w = fc_->Call(FUSE_WRITE, kRoot, FuseClient::Body(in));
  ASSERT_TRUE(w.ok());
  EXPECT_NE(w->error, 0);
  // Unknown opcode.
  auto u = fc_->Call(9999, kRoot, {});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->error, ENOSYS);
  WriteHostFile(dir_ / "ok", "");
  EXPECT_TRUE(fc_->Lookup(kRoot, "ok").ok());
}

TEST_F(FuseOverVhostUserTest, HostileChainBreaksOnlyItsQueue) {
  Init();
  auto& q = fe_->queue(FuseClient::kRequestQueue);
  auto d = q.AllocDesc();
  ASSERT_TRUE(d);
  q.WriteDesc(*d, virtio::Desc{FakeGuestMemory::kGapStart, 64, 0, 0});  // outside memory
  q.PublishHead(*d);
  ASSERT_TRUE(fe_->Kick(FuseClient::kRequestQueue).ok());
  // The daemon is alive: FORGET on hiprio and vhost-user messages still work.
  auto len = fc_->Forget(12345, 1);
  ASSERT_TRUE(len.ok());
  ASSERT_TRUE(fe_->Sync().ok());
  auto served = CloseAndWait();
  ASSERT_TRUE(served.has_value());
  EXPECT_TRUE(served->ok());
}

}  // namespace
}  // namespace hostshare
