#include "model/agents.hpp"

#include <sys/mman.h>

namespace migsim {

void advise_huge_pages(void* p, std::size_t bytes) noexcept {
#ifdef MADV_HUGEPAGE
  (void)madvise(p, bytes, MADV_HUGEPAGE);
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
