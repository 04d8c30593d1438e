#include "dataset.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "fuse_calls.h"

namespace hostshare::bench {
namespace {

std::string Errstr(const std::string& what) { return what + ": " + strerror(errno); }

bool MakeDir(const std::string& p, std::string* error) {
  if (mkdir(p.c_str(), 0755) == 0 || errno == EEXIST) return true;
  *error = Errstr("mkdir " + p);
  return false;
}

bool MakeFile(const std::string& p, uint64_t size, std::string* error) {
  struct stat st;
  if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == size) {
    return true;
  }
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = Errstr("create " + p);
    return false;
  }
  std::vector<char> buf(1 << 20);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>('a' + i % 26);
  for (uint64_t done = 0; done < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
    ssize_t w = write(fd, buf.data(), n);
    if (w <= 0) {
      *error = Errstr("write " + p);
      close(fd);
      return false;
    }
    done += static_cast<uint64_t>(w);
  }
  close(fd);
  return true;
}

bool MakeEntries(const std::string& dir, uint32_t n, std::string* error) {
  if (!MakeDir(dir, error)) return false;
  // Cheap check: the last name exists and the one after it does not.
  struct stat st;
  if (n > 0 && stat((dir + "/" + DirEntryName(n - 1)).c_str(), &st) == 0 &&
      stat((dir + "/" + DirEntryName(n)).c_str(), &st) != 0) {
    return true;
  }
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    *error = Errstr("open " + dir);
    return false;
  }
  for (uint32_t i = 0; i < n; ++i) {
    int fd = openat(dfd, DirEntryName(i).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      *error = Errstr("create in " + dir);
      close(dfd);
      return false;
    }
    close(fd);
  }
  for (uint32_t i = n;; ++i) {  // a previous, bigger data set
    if (unlinkat(dfd, DirEntryName(i).c_str(), 0) != 0) break;
  }
  close(dfd);
  return true;
}

bool EmptyDir(const std::string& dir, std::string* error) {
  if (!MakeDir(dir, error)) return false;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    *error = Errstr("opendir " + dir);
    return false;
  }
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
  return true;
}

void Warm(const std::string& p) {
  int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::vector<char> buf(1 << 20);
  while (read(fd, buf.data(), buf.size()) > 0) {
  }
  close(fd);
}

std::string Base(const DatasetOptions& o) { return o.share + "/hsbench"; }

}  // namespace

std::string SmallFileName(uint32_t i) {
  char b[16];
  snprintf(b, sizeof b, "f%02u", i);
  return b;
}

std::string DirEntryName(uint32_t i) {
  char b[32];
  snprintf(b, sizeof b, "entry-%06u", i);
  return b;
}

bool PrepareDataset(const DatasetOptions& o, std::string* error) {
  const std::string base = Base(o);
  if (!MakeDir(o.share, error) || !MakeDir(base, error) || !MakeDir(base + "/files", error)) {
    return false;
  }
  for (uint32_t i = 0; i < kSmallFiles; ++i) {
    if (!MakeFile(base + "/files/" + SmallFileName(i), 4096, error)) return false;
  }
  if (!MakeFile(base + "/read.dat", o.read_size, error) ||
      !MakeFile(base + "/write.dat", o.write_size, error) ||
      !MakeEntries(base + "/dir10k", o.dir_entries, error) ||
      !EmptyDir(base + "/create", error)) {
    return false;
  }
  if (o.mem_entries > 0 && !MakeEntries(base + "/mem", o.mem_entries, error)) return false;
  Warm(base + "/read.dat");
  Warm(base + "/write.dat");
  return true;
}

bool SetUpFixture(QueueDriver& q, const DatasetOptions& o, uint32_t max_io, Fixture* fx,
                  std::string* error) {
  auto lookup = [&](uint64_t parent, const std::string& name, uint64_t* node) {
    fuse_entry_out e{};
    int rc = FuseLookup(q, parent, name, &e);
    if (rc != 0) {
      *error = "LOOKUP " + name + ": " + strerror(rc);
      return false;
    }
    *node = e.nodeid;
    return true;
  };
  auto open = [&](uint64_t node, uint32_t flags, uint64_t* fh, const char* what) {
    int rc = FuseOpen(q, node, flags, fh);
    if (rc != 0) {
      *error = std::string("OPEN ") + what + ": " + strerror(rc);
      return false;
    }
    return true;
  };
  uint64_t base;
  if (!lookup(FUSE_ROOT_ID, "hsbench", &base) || !lookup(base, "files", &fx->files_dir) ||
      !lookup(base, "read.dat", &fx->read_node) || !lookup(base, "write.dat", &fx->write_node) ||
      !lookup(base, "dir10k", &fx->big_dir) || !lookup(base, "create", &fx->create_dir)) {
    return false;
  }
  fx->files.clear();
  fx->file_names.clear();
  for (uint32_t i = 0; i < kSmallFiles; ++i) {
    uint64_t node;
    if (!lookup(fx->files_dir, SmallFileName(i), &node)) return false;
    fx->files.push_back(node);
    fx->file_names.push_back(SmallFileName(i));
  }
  if (!open(fx->read_node, O_RDONLY, &fx->read_fh, "read.dat") ||
      !open(fx->write_node, O_RDWR, &fx->write_fh, "write.dat")) {
    return false;
  }
  fx->read_size = o.read_size;
  fx->write_size = o.write_size;
  fx->max_io = max_io;
  return true;
}

bool SetUpNativeFixture(const DatasetOptions& o, Fixture* fx, std::string* error) {
  const std::string base = Base(o);
  auto op = [&](const std::string& p, int flags, int* out) {
    *out = open(p.c_str(), flags | O_CLOEXEC);
    if (*out < 0) {
      *error = Errstr("open " + p);
      return false;
    }
    return true;
  };
  if (!op(base + "/files", O_PATH | O_DIRECTORY, &fx->files_dir_fd) ||
      !op(base + "/read.dat", O_RDONLY, &fx->read_fd) ||
      !op(base + "/write.dat", O_RDWR, &fx->write_fd) ||
      !op(base + "/dir10k", O_RDONLY | O_DIRECTORY, &fx->big_dir_fd) ||
      !op(base + "/create", O_PATH | O_DIRECTORY, &fx->create_dir_fd)) {
    return false;
  }
  for (uint32_t i = 0; i < kSmallFiles; ++i) {
    int fd;
    if (!op(base + "/files/" + SmallFileName(i), O_PATH | O_NOFOLLOW, &fd)) return false;
    fx->file_fds.push_back(fd);
    fx->file_names.push_back(SmallFileName(i));
  }
  fx->read_size = o.read_size;
  fx->write_size = o.write_size;
  return true;
}

void CloseNativeFixture(Fixture* fx) {
  for (int fd : {fx->files_dir_fd, fx->read_fd, fx->write_fd, fx->big_dir_fd, fx->create_dir_fd}) {
    if (fd >= 0) close(fd);
  }
  for (int fd : fx->file_fds) close(fd);
  *fx = Fixture{};
}

uint32_t LookupMemFiles(QueueDriver& q, const DatasetOptions& o) {
  fuse_entry_out e{};
  if (FuseLookup(q, FUSE_ROOT_ID, "hsbench", &e) != 0) return 0;
  uint64_t base = e.nodeid;
  if (FuseLookup(q, base, "mem", &e) != 0) return 0;
  uint64_t dir = e.nodeid;
  uint32_t ok = 0;
  for (uint32_t i = 0; i < o.mem_entries; ++i) {
    if (FuseLookup(q, dir, DirEntryName(i), &e) == 0) ++ok;
  }
  return ok;
}

}  // namespace hostshare::bench
