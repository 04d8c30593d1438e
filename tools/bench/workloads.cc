#include "workloads.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "fuse_calls.h"

namespace hostshare::bench {
namespace {

// ---- request helpers -----------------------------------------------------------

struct Shape {
  uint32_t args = 0;
  uint32_t out_args = 0;
  uint32_t data_in = 0;
  uint32_t data_out = 0;
  bool no_reply = false;
};

void Request(ThreadCtx& t, Slot& s, uint32_t opcode, uint64_t node, const Shape& shape) {
  s.args_len = shape.args;
  s.out_args = shape.out_args;
  s.data_in = shape.data_in;
  s.data_out = shape.data_out;
  s.no_reply = shape.no_reply;
  t.q->Prepare(s, opcode, node);
}

// The reply's errno (0 = success); EPROTO when no reply was written.
int ReplyErrno(const Slot& s) {
  const fuse_out_header* h = s.out_header();
  if (h->len == UINT32_MAX || h->len < sizeof(fuse_out_header)) return EPROTO;
  return -h->error;
}

uint32_t ReplyBody(const Slot& s) {
  return s.out_header()->len - static_cast<uint32_t>(sizeof(fuse_out_header));
}

Outcome Fail(ThreadCtx& t, int err) {
  if (t.first_error == 0) t.first_error = err;
  Outcome o;
  o.error = true;
  return o;
}

Outcome Ok(uint32_t ops = 1, uint64_t bytes = 0) {
  Outcome o;
  o.ops = ops;
  o.bytes = bytes;
  return o;
}

Outcome FromSyscall(ThreadCtx& t, long rc, uint64_t bytes = 0) {
  if (rc < 0) return Fail(t, errno);
  return Ok(1, bytes);
}

// ---- single-request workloads ----------------------------------------------------

void BeginGetattr(ThreadCtx& t, Slot& s) {
  const auto& files = t.fx->files;
  uint64_t node = files[t.seq++ % files.size()];
  fuse_getattr_in in{};
  memcpy(s.args(), &in, sizeof in);
  Request(t, s, FUSE_GETATTR, node, {.args = sizeof in, .out_args = sizeof(fuse_attr_out)});
}

void BeginLookup(ThreadCtx& t, Slot& s, bool hit) {
  uint32_t len;
  if (hit) {
    const auto& names = t.fx->file_names;
    len = PutName(s.args(), names[t.seq++ % names.size()]);
  } else {
    char name[64];
    snprintf(name, sizeof name, "missing-%u-%llu", t.thread,
             static_cast<unsigned long long>(t.seq++ % 4096));
    len = PutName(s.args(), name);
  }
  Request(t, s, FUSE_LOOKUP, t.fx->files_dir, {.args = len, .out_args = sizeof(fuse_entry_out)});
}

Outcome LookupReply(ThreadCtx& t, Slot& s, bool hit) {
  int err = ReplyErrno(s);
  if (hit) return err == 0 ? Ok() : Fail(t, err);
  return err == ENOENT ? Ok() : Fail(t, err == 0 ? EEXIST : err);
}


void BeginRead(ThreadCtx& t, Slot& s, uint32_t size, bool random) {
  size = std::min(size, t.fx->max_io);
  uint64_t off = random ? RandomOffset(t, t.fx->read_size, size)
                        : SequentialOffset(t, t.fx->read_size, size);
  fuse_read_in in{};
  in.fh = t.fx->read_fh;
  in.offset = off;
  in.size = size;
  memcpy(s.args(), &in, sizeof in);
  Request(t, s, FUSE_READ, t.fx->read_node, {.args = sizeof in, .data_out = size});
}

Outcome ReadReply(ThreadCtx& t, Slot& s) {
  int err = ReplyErrno(s);
  if (err != 0) return Fail(t, err);
  return Ok(1, ReplyBody(s));
}

void BeginWrite(ThreadCtx& t, Slot& s, uint32_t size, bool random) {
  size = std::min(size, t.fx->max_io);
  uint64_t off = random ? RandomOffset(t, t.fx->write_size, size)
                        : SequentialOffset(t, t.fx->write_size, size);
  fuse_write_in in{};
  in.fh = t.fx->write_fh;
  in.offset = off;
  in.size = size;
  memcpy(s.args(), &in, sizeof in);
  Request(t, s, FUSE_WRITE, t.fx->write_node,
          {.args = sizeof in, .out_args = sizeof(fuse_write_out), .data_in = size});
}

Outcome WriteReply(ThreadCtx& t, Slot& s) {
  int err = ReplyErrno(s);
  if (err != 0) return Fail(t, err);
  fuse_write_out o;
  memcpy(&o, s.out_args_ptr(), sizeof o);
  return Ok(1, o.size);
}

class Getattr : public Workload {
 public:
  const char* name() const override { return "getattr"; }
  void Begin(ThreadCtx& t, Slot& s) override { BeginGetattr(t, s); }
  Outcome OnReply(ThreadCtx& t, Slot& s) override {
    int err = ReplyErrno(s);
    return err == 0 ? Ok() : Fail(t, err);
  }
  Outcome Native(ThreadCtx& t) override {
    const auto& fds = t.fx->file_fds;
    struct statx stx;
    return FromSyscall(t, statx(fds[t.seq++ % fds.size()], "",
                                AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx));
  }
};

class Lookup : public Workload {
 public:
  explicit Lookup(bool hit) : hit_(hit) {}
  const char* name() const override { return hit_ ? "lookup" : "lookup-miss"; }
  void Begin(ThreadCtx& t, Slot& s) override { BeginLookup(t, s, hit_); }
  Outcome OnReply(ThreadCtx& t, Slot& s) override { return LookupReply(t, s, hit_); }
  Outcome Native(ThreadCtx& t) override {
    struct stat st;
    if (hit_) {
      const auto& names = t.fx->file_names;
      return FromSyscall(t, fstatat(t.fx->files_dir_fd, names[t.seq++ % names.size()].c_str(),
                                    &st, AT_SYMLINK_NOFOLLOW));
    }
    char name[64];
    snprintf(name, sizeof name, "missing-%u-%llu", t.thread,
             static_cast<unsigned long long>(t.seq++ % 4096));
    if (fstatat(t.fx->files_dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) return Fail(t, EEXIST);
    return errno == ENOENT ? Ok() : Fail(t, errno);
  }

 private:
  bool hit_;
};

class Io : public Workload {
 public:
  Io(const char* name, bool write, uint32_t size, bool random)
      : name_(name), write_(write), size_(size), random_(random) {}
  const char* name() const override { return name_; }
  void Begin(ThreadCtx& t, Slot& s) override {
    if (write_) {
      BeginWrite(t, s, size_, random_);
    } else {
      BeginRead(t, s, size_, random_);
    }
  }
  Outcome OnReply(ThreadCtx& t, Slot& s) override {
    return write_ ? WriteReply(t, s) : ReadReply(t, s);
  }
  bool GetIoShape(IoShape* shape) const override {
    shape->write = write_;
    shape->random = random_;
    shape->size = size_;
    return true;
  }
  Outcome Native(ThreadCtx& t) override {
    const uint64_t fsize = write_ ? t.fx->write_size : t.fx->read_size;
    uint64_t off = random_ ? RandomOffset(t, fsize, size_) : SequentialOffset(t, fsize, size_);
    if (t.buf.size() < size_) t.buf.assign(size_, 'x');
    ssize_t n = write_ ? pwrite(t.fx->write_fd, t.buf.data(), size_, static_cast<off_t>(off))
                       : pread(t.fx->read_fd, t.buf.data(), size_, static_cast<off_t>(off));
    return FromSyscall(t, n, n > 0 ? static_cast<uint64_t>(n) : 0);
  }

 private:
  const char* name_;
  bool write_;
  uint32_t size_;
  bool random_;
};

// ---- CREATE + RELEASE + UNLINK + FORGET --------------------------------------------

class Create : public Workload {
 public:
  const char* name() const override { return "create"; }

  void Begin(ThreadCtx& t, Slot& s) override {
    s.c = t.seq++;
    s.step = 0;
    fuse_create_in in{};
    in.flags = O_WRONLY | O_CREAT | O_EXCL;
    in.mode = S_IFREG | 0644;
    in.umask = 022;
    memcpy(s.args(), &in, sizeof in);
    uint32_t len = sizeof in + PutName(s.args() + sizeof in, Name(t, s).c_str());
    Request(t, s, FUSE_CREATE, t.fx->create_dir,
            {.args = len, .out_args = sizeof(fuse_entry_out) + sizeof(fuse_open_out)});
  }

  Outcome OnReply(ThreadCtx& t, Slot& s) override {
    int err = s.no_reply ? 0 : ReplyErrno(s);
    switch (s.step) {
      case 0: {  // CREATE -> RELEASE
        if (err != 0) return Fail(t, err);
        fuse_entry_out e;
        fuse_open_out o;
        memcpy(&e, s.out_args_ptr(), sizeof e);
        memcpy(&o, s.out_args_ptr() + sizeof e, sizeof o);
        s.a = e.nodeid;
        fuse_release_in in{};
        in.fh = o.fh;
        in.flags = O_WRONLY;
        memcpy(s.args(), &in, sizeof in);
        Request(t, s, FUSE_RELEASE, s.a, {.args = sizeof in});
        break;
      }
      case 1: {  // RELEASE -> UNLINK
        if (err != 0) return Fail(t, err);
        uint32_t len = PutName(s.args(), Name(t, s).c_str());
        Request(t, s, FUSE_UNLINK, t.fx->create_dir, {.args = len});
        break;
      }
      case 2: {  // UNLINK -> FORGET
        if (err != 0) return Fail(t, err);
        fuse_forget_in in{};
        in.nlookup = 1;
        memcpy(s.args(), &in, sizeof in);
        Request(t, s, FUSE_FORGET, s.a, {.args = sizeof in, .no_reply = true});
        break;
      }
      default:
        return Ok();
    }
    ++s.step;
    Outcome o;
    o.next_ready = true;
    return o;
  }

  Outcome Native(ThreadCtx& t) override {
    char name[64];
    snprintf(name, sizeof name, "n%u.%llu", t.thread, static_cast<unsigned long long>(t.seq++));
    int fd = openat(t.fx->create_dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Fail(t, errno);
    close(fd);
    return FromSyscall(t, unlinkat(t.fx->create_dir_fd, name, 0));
  }

 private:
  static std::string Name(const ThreadCtx& t, const Slot& s) {
    char name[64];
    snprintf(name, sizeof name, "c%u.%u.%llu", t.thread, s.head,
             static_cast<unsigned long long>(s.c));
    return name;
  }
};

// ---- READDIRPLUS of a big directory ------------------------------------------------

// Every slot lists the directory on its own handle, from its own starting
// point (the slots are spread evenly over the directory, so that no two look
// up the same entries at the same time), wrapping around at the end.
//   cold: the entries of each reply are forgotten right away (BATCH_FORGET),
//         so every lookup finds an inode the backend does not hold: an
//         `ls -l` of a directory the guest has not seen.
//   warm: nothing is forgotten until the end: the backend holds every inode,
//         as when the guest lists a directory again.
class ReadDirPlus : public Workload {
 public:
  explicit ReadDirPlus(bool cold) : cold_(cold) {}
  const char* name() const override { return cold_ ? "readdirplus" : "readdirplus-warm"; }

  int Setup(ThreadCtx& t) override {
    // A first pass on slot 0 finds the cookies where replies start.
    uint64_t fh;
    int rc = FuseOpen(*t.q, t.fx->big_dir, O_RDONLY | O_DIRECTORY, &fh, /*dir=*/true);
    if (rc != 0) return rc;
    std::vector<uint64_t> starts{0};
    std::vector<uint64_t> seen;
    for (uint64_t off = 0;;) {
      Slot& s = t.q->slot(0);
      s.a = fh;
      s.b = off;
      Begin(t, s);
      rc = t.q->Call(s);
      if (rc != 0) return rc < 0 ? -rc : rc;
      uint32_t n = Parse(s, &seen);
      if (n == 0) break;
      off = s.b;
      starts.push_back(off);
      if (seen.size() >= 4096) rc = ForgetAll(t, &seen);
      if (rc != 0) return rc;
    }
    if (int frc = ForgetAll(t, &seen); frc != 0) return frc;
    (void)FuseRelease(*t.q, t.fx->big_dir, fh, /*dir=*/true);
    starts.pop_back();  // the end of the directory
    const uint32_t depth = t.q->depth();
    const uint64_t spread = uint64_t{t.threads} * depth;
    for (uint32_t i = 0; i < depth; ++i) {
      rc = FuseOpen(*t.q, t.fx->big_dir, O_RDONLY | O_DIRECTORY, &fh, /*dir=*/true);
      if (rc != 0) return rc;
      Slot& s = t.q->slot(i);
      s.a = fh;
      s.b = starts[(uint64_t{t.thread} * depth + i) * starts.size() / spread];
      s.nodes.clear();
    }
    return 0;
  }

  void Teardown(ThreadCtx& t) override {
    std::vector<uint64_t> nodes, handles;
    for (uint32_t i = 0; i < t.q->depth(); ++i) {
      Slot& s = t.q->slot(i);
      nodes.insert(nodes.end(), s.nodes.begin(), s.nodes.end());
      s.nodes.clear();
      handles.push_back(s.a);
    }
    (void)ForgetAll(t, &nodes);
    for (uint64_t fh : handles) (void)FuseRelease(*t.q, t.fx->big_dir, fh, /*dir=*/true);
  }

  void Begin(ThreadCtx& t, Slot& s) override {
    s.step = 0;
    fuse_read_in in{};
    in.fh = s.a;
    in.offset = s.b;
    in.size = kPage;
    memcpy(s.args(), &in, sizeof in);
    Request(t, s, FUSE_READDIRPLUS, t.fx->big_dir, {.args = sizeof in, .data_out = kPage});
  }

  Outcome OnReply(ThreadCtx& t, Slot& s) override {
    if (s.step == 1) return Outcome{};  // a BATCH_FORGET went through
    int err = ReplyErrno(s);
    if (err != 0) return Fail(t, err);
    uint32_t entries = Parse(s, &s.nodes);
    Outcome o = Ok(entries);
    if (entries == 0) s.b = 0;  // end of the directory: wrap around
    if (cold_ && !s.nodes.empty()) {
      QueueForget(t, s, &s.nodes);
      o.next_ready = true;
    }
    return o;
  }

  Outcome Native(ThreadCtx& t) override {
    // One getdents64 of about the entries a 4 KiB READDIRPLUS reply holds,
    // and a stat of each; rewinds at the end.
    if (t.buf.size() < 2048) t.buf.resize(2048);
    long n = syscall(SYS_getdents64, t.dir_fd, t.buf.data(), 2048);
    if (n < 0) return Fail(t, errno);
    if (n == 0) {
      lseek(t.dir_fd, 0, SEEK_SET);
      return Ok(0);
    }
    uint32_t entries = 0;
    for (long pos = 0; pos < n;) {
      auto* d = reinterpret_cast<dirent64*>(t.buf.data() + pos);
      struct stat st;
      if (fstatat(t.dir_fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) ++entries;
      pos += d->d_reclen;
    }
    return Ok(entries);
  }

 private:
  // Walks the direntplus records of the reply in `s`: collects the node ids
  // (each one a lookup to forget), moves s.b to the next cookie. Returns the
  // entry count.
  static uint32_t Parse(Slot& s, std::vector<uint64_t>* nodes) {
    uint32_t len = std::min(ReplyBody(s), s.data_out);
    uint32_t pos = 0, entries = 0;
    while (pos + sizeof(fuse_direntplus) <= len) {
      fuse_direntplus d;
      memcpy(&d, s.data + pos, sizeof d);
      uint32_t rec = static_cast<uint32_t>(FUSE_DIRENTPLUS_SIZE(&d));
      if (d.dirent.namelen == 0 || rec > len - pos) break;
      if (d.entry_out.nodeid != 0) nodes->push_back(d.entry_out.nodeid);
      s.b = d.dirent.off;
      ++entries;
      pos += rec;
    }
    return entries;
  }

  // Turns `s` into a BATCH_FORGET of (up to a data buffer of) `nodes`.
  static void QueueForget(ThreadCtx& t, Slot& s, std::vector<uint64_t>* nodes) {
    const uint32_t room = t.q->data_size() / sizeof(fuse_forget_one);
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(nodes->size(), room));
    auto* one = reinterpret_cast<fuse_forget_one*>(s.data);
    for (uint32_t i = 0; i < n; ++i) {
      one[i].nodeid = (*nodes)[nodes->size() - 1 - i];
      one[i].nlookup = 1;
    }
    nodes->resize(nodes->size() - n);
    fuse_batch_forget_in in{};
    in.count = n;
    memcpy(s.args(), &in, sizeof in);
    Request(t, s, FUSE_BATCH_FORGET, 0,
            {.args = sizeof in, .data_in = n * static_cast<uint32_t>(sizeof(fuse_forget_one)),
             .no_reply = true});
    s.step = 1;
  }

  // Synchronously forgets every lookup in `nodes` (set-up and tear-down).
  static int ForgetAll(ThreadCtx& t, std::vector<uint64_t>* nodes) {
    while (!nodes->empty()) {
      Slot& s = t.q->slot(0);
      QueueForget(t, s, nodes);
      int rc = t.q->Call(s);
      if (rc != 0) return rc < 0 ? -rc : rc;
    }
    return 0;
  }

  bool cold_;
};

// ---- mixed ------------------------------------------------------------------------

class Mixed : public Workload {
 public:
  const char* name() const override { return "mixed"; }
  void Begin(ThreadCtx& t, Slot& s) override {
    s.step = Pick(t);
    switch (s.step) {
      case 0: return BeginGetattr(t, s);
      case 1: return BeginLookup(t, s, true);
      case 2: return BeginLookup(t, s, false);
      case 3: return BeginRead(t, s, kPage, true);
      default: return BeginWrite(t, s, kPage, true);
    }
  }
  Outcome OnReply(ThreadCtx& t, Slot& s) override {
    switch (s.step) {
      case 0: {
        int err = ReplyErrno(s);
        return err == 0 ? Ok() : Fail(t, err);
      }
      case 1: return LookupReply(t, s, true);
      case 2: return LookupReply(t, s, false);
      case 3: return ReadReply(t, s);
      default: return WriteReply(t, s);
    }
  }
  Outcome Native(ThreadCtx& t) override {
    switch (Pick(t)) {
      case 0: return getattr_.Native(t);
      case 1: return lookup_.Native(t);
      case 2: return miss_.Native(t);
      case 3: return read_.Native(t);
      default: return write_.Native(t);
    }
  }

 private:
  static uint32_t Pick(ThreadCtx& t) {
    uint32_t r = static_cast<uint32_t>(t.Random() % 100);
    if (r < 30) return 0;
    if (r < 50) return 1;
    if (r < 60) return 2;
    if (r < 85) return 3;
    return 4;
  }
  Getattr getattr_;
  Lookup lookup_{true};
  Lookup miss_{false};
  Io read_{"read4k", false, kPage, true};
  Io write_{"write4k", true, kPage, true};
};

}  // namespace

uint64_t RandomOffset(ThreadCtx& t, uint64_t file_size, uint32_t size) {
  uint64_t blocks = file_size / size;
  return (t.Random() % blocks) * size;
}

uint64_t SequentialOffset(ThreadCtx& t, uint64_t file_size, uint32_t size) {
  // Each thread walks its own region so that threads do not share pages.
  uint64_t blocks = file_size / size;
  return ((t.seq++ + t.thread * 97) % blocks) * size;
}

const std::vector<std::string>& WorkloadNames() {
  static const std::vector<std::string> names = {
      "getattr", "lookup",  "lookup-miss", "read4k",      "read1m",
      "write4k", "write1m", "create",      "readdirplus", "readdirplus-warm", "mixed"};
  return names;
}

std::unique_ptr<Workload> MakeWorkload(const std::string& name) {
  if (name == "getattr") return std::make_unique<Getattr>();
  if (name == "lookup") return std::make_unique<Lookup>(true);
  if (name == "lookup-miss") return std::make_unique<Lookup>(false);
  if (name == "read4k") return std::make_unique<Io>("read4k", false, kPage, true);
  if (name == "read1m") return std::make_unique<Io>("read1m", false, 1u << 20, false);
  if (name == "write4k") return std::make_unique<Io>("write4k", true, kPage, true);
  if (name == "write1m") return std::make_unique<Io>("write1m", true, 1u << 20, false);
  if (name == "create") return std::make_unique<Create>();
  if (name == "readdirplus") return std::make_unique<ReadDirPlus>(/*cold=*/true);
  if (name == "readdirplus-warm") return std::make_unique<ReadDirPlus>(/*cold=*/false);
  if (name == "mixed") return std::make_unique<Mixed>();
  return nullptr;
}

}  // namespace hostshare::bench
