// Preloaded into migsim by tests (LD_PRELOAD) to act as a file system that cannot map files,
// as some network and FUSE ones cannot: every mmap of a checkpoint (a file whose name ends in
// ".ckpt") fails with ENODEV, and migsim reads the file into memory instead. Other mappings
// (memory, libraries) go through as usual.
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {
bool is_checkpoint(int fd) {
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 5) return false;
  return std::memcmp(path + n - 5, ".ckpt", 5) == 0;
}
}  // namespace

extern "C" void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  using Mmap = void* (*)(void*, size_t, int, int, int, off_t);
  static const Mmap real = reinterpret_cast<Mmap>(dlsym(RTLD_NEXT, "mmap"));
  if (fd >= 0 && is_checkpoint(fd)) {
    errno = ENODEV;
    return MAP_FAILED;
  }
  return real(addr, len, prot, flags, fd, off);
}

extern "C" void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  return mmap(addr, len, prot, flags, fd, off);
}
