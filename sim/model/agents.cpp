#include "model/agents.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace migsim {

void advise_huge_pages(void* p, std::size_t bytes) noexcept {
#ifdef MADV_HUGEPAGE
  (void)madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

void prefault(void* p, std::size_t bytes) noexcept {
#ifdef MADV_POPULATE_WRITE
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) / page * page;
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)bytes;
#endif
}

const char* to_string(Status s) {
  switch (s) {
    case Status::Aspiring: return "aspiring";
    case Status::Applied: return "applied";
    case Status::Waiting: return "waiting";
    case Status::InTransit: return "in_transit";
    case Status::Regular: return "settled_regular";
    case Status::Irregular: return "settled_irregular";
    case Status::Exited: return "exited";
  }
  return "?";
}

void Agents::resize(std::size_t n) {
  id.resize(n);
  origin.resize(n);
  location.resize(n);
  destination.resize(n);
  status.resize(n);
  flags.resize(n);
  pathway.resize(n);
  since.resize(n);
  job_since.resize(n);
  wake.resize(n);
}

void Agents::reserve(std::size_t n) {
  id.reserve(n);
  origin.reserve(n);
  location.reserve(n);
  destination.reserve(n);
  status.reserve(n);
  flags.reserve(n);
  pathway.reserve(n);
  since.reserve(n);
  job_since.reserve(n);
  wake.reserve(n);
}

void Agents::copy(std::size_t from, std::size_t to) {
  id[to] = id[from];
  origin[to] = origin[from];
  location[to] = location[from];
  destination[to] = destination[from];
  status[to] = status[from];
  flags[to] = flags[from];
  pathway[to] = pathway[from];
  since[to] = since[from];
  job_since[to] = job_since[from];
  wake[to] = wake[from];
}

}  // namespace migsim
