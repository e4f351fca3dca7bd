// The memory check that refuses a run too big for the machine before allocating anything.
#include <doctest/doctest.h>

#include "core/errors.hpp"
#include "engine/memory.hpp"
#include "model/agents.hpp"
#include "support/fixtures.hpp"

using namespace migsim;
using namespace migsim::test;

namespace {
/// check_memory's one problem, or "" if the run fits.
std::string refusal_of(const Scenario& s, const MemoryEstimate& e, std::uint64_t available) {
  try {
    check_memory(s, e, available, "MemAvailable in /proc/meminfo");
  } catch (const InputError& err) {
    REQUIRE(err.problems().size() == 1);
    return err.problems()[0];
  }
  return "";
}
std::string refusal(const Scenario& s, std::uint64_t available, int months = 12) {
  return refusal_of(s, estimate_memory(s, months, 2), available);
}
}  // namespace

TEST_CASE("the estimate grows with the agents and the months") {
  const Scenario s = load(base_yaml(12, 1) + "initial_stock: {CCC: {AAA: 1000000}}\n");
  const MemoryEstimate e = estimate_memory(s, 12, 2);
  CHECK(e.agents == 1000000);
  // Agents::kBytesPerAgent bytes per agent with 50% room.
  CHECK(e.agent_bytes == 1000000 * Agents::kBytesPerAgent * 3 / 2);
  CHECK(e.fixed_bytes == 64ull << 20);
  CHECK(estimate_memory(s, 24, 2).series_bytes == 2 * e.series_bytes);
  CHECK(estimate_memory(s, 12, 4).thread_bytes == 2 * e.thread_bytes);
  CHECK(e.total() == e.agent_bytes + e.series_bytes + e.thread_bytes + e.fixed_bytes);
}

TEST_CASE("a run that does not fit is refused, naming people_per_agent, with the estimate") {
  const Scenario s = load(base_yaml(12, 1) + "initial_stock: {CCC: {AAA: 100000000}}\n");
  CHECK(refusal(s, 64ull << 30).empty());  // about 2.3 GiB fits in 64 GiB
  const std::string msg = refusal(s, 2ull << 30);
  CHECK(msg.rfind("test.yaml:6:19: people_per_agent: the run needs about ", 0) == 0);
  CHECK(msg.find("GiB of memory (100,000,000 agents at people_per_agent 1") != std::string::npos);
  CHECK(msg.find("but 2.0 GiB is available (MemAvailable in /proc/meminfo)") != std::string::npos);
  // 2.2 GiB of agents into 2 GiB less 64 MiB and the series: 2 people per agent.
  CHECK(msg.find("set people_per_agent to at least 2") != std::string::npos);
  CHECK(refusal(s, 0).empty());  // unknown: not checked
}

TEST_CASE("series too long for the machine whatever people_per_agent is") {
  const Scenario s = load(base_yaml(12, 1) + "initial_stock: {CCC: {AAA: 10}}\n");
  const std::string msg = refusal(s, 32ull << 20);
  CHECK(msg.find("run fewer months (--months) or fewer countries") != std::string::npos);
}

TEST_CASE("a resumed run is refused naming its checkpoint, not people_per_agent") {
  const Scenario s = load(base_yaml(12, 1) + "initial_stock: {CCC: {AAA: 100000000}}\n");
  MemoryEstimate e = estimate_memory(s, 12, 2);
  e.resume_file = "runs/a.h5.ckpt";
  CHECK(e.needed() == e.total());  // nothing held
  CHECK(refusal_of(s, e, e.total()).empty());
  const std::string msg = refusal_of(s, e, 2ull << 30);
  CHECK(msg.rfind("runs/a.h5.ckpt: cannot resume from this checkpoint: the run needs about ", 0) == 0);
  CHECK(msg.find("but 2.0 GiB is available (MemAvailable in /proc/meminfo); resume on a machine with more memory") !=
        std::string::npos);
  CHECK(msg.find("set people_per_agent") == std::string::npos);  // a resume cannot change the scenario
  CHECK(msg.find("read into memory") == std::string::npos);      // nothing was
}

TEST_CASE("a checkpoint read into memory is counted while it is held, beside all but the series' copy") {
  const Scenario s = load(base_yaml(12, 1) + "initial_stock: {CCC: {AAA: 100000000}}\n");
  MemoryEstimate e = estimate_memory(s, 12, 2);
  e.resume_file = "runs/a.h5.ckpt";
  REQUIRE(e.series_bytes > 0);
  e.held_bytes = e.series_bytes / 2 + (200ull << 20);  // the peak is while it is held
  CHECK(e.while_held() == e.agent_bytes + e.series_bytes / 2 + e.thread_bytes + e.fixed_bytes + e.held_bytes);
  CHECK(e.needed() == e.while_held());
  CHECK(e.needed() == e.total() + (200ull << 20));
  const std::uint64_t available = e.total() + (100ull << 20);  // the run fits; beside the copy it does not
  const std::string msg = refusal_of(s, e, available);
  CHECK(msg.rfind("runs/a.h5.ckpt: cannot resume from this checkpoint: the run needs about ", 0) == 0);
  CHECK(msg.find("; the checkpoint, read into memory because its file system cannot map files: ") !=
        std::string::npos);
  CHECK(msg.find("from a copy of the checkpoint on a file system that can map files") != std::string::npos);
  CHECK(msg.find("set people_per_agent") == std::string::npos);
  CHECK(refusal_of(s, e, e.needed()).empty());
  // Mapped under ulimit -v, the same bytes: named as the mapping, with its own advice.
  e.held_mapped = true;
  const std::string mapped = refusal_of(s, e, available);
  CHECK(mapped.find("; the checkpoint, mapped into the address space that ulimit -v limits: ") != std::string::npos);
  CHECK(mapped.find("raise ulimit -v, or resume on a machine with more memory") != std::string::npos);
  CHECK(mapped.find("read into memory") == std::string::npos);
  e.held_mapped = false;
  // A small copy: the peak is the run's own, at the write (the series' copy), not while held.
  e.held_bytes = e.series_bytes / 4;
  CHECK(e.needed() == e.total());
  CHECK(refusal_of(s, e, e.total()).empty());
}

TEST_CASE("more agents than a run can hold is refused on any machine") {
  const Scenario s = load(base_yaml(12, 1) + "initial_stock: {CCC: {AAA: 5000000000}}\n");
  const std::string msg = refusal(s, 0);
  CHECK(msg.find("people_per_agent: the initial stock makes 5,000,000,000 agents") != std::string::npos);
  CHECK(msg.find("set people_per_agent to at least 2") != std::string::npos);
}

TEST_CASE("available memory is read from the machine") {
  std::string source;
  const std::uint64_t available = available_memory(&source);
  CHECK(available > 0);
  CHECK(!source.empty());
}

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {
void* volatile escaped;  // the test's allocations are stored here, so that none can be optimised away
}

TEST_CASE("keep_freed_memory: a freed block of several MiB stays in the process for the next allocations") {
  REQUIRE(keep_freed_memory());
  constexpr std::size_t kBytes = 8u << 20;  // above glibc's default mmap threshold (128 KiB to 32 MiB, adaptive)
  const struct mallinfo2 before = mallinfo2();
  auto* p = static_cast<unsigned char*>(std::malloc(kBytes));
  REQUIRE(p != nullptr);
  escaped = p;
  std::memset(p, 1, kBytes);
  const auto first = reinterpret_cast<std::uintptr_t>(p);
  const struct mallinfo2 held = mallinfo2();
  CHECK(held.hblkhd == before.hblkhd);  // from the heap, not a mapping of its own
  std::free(p);
  const struct mallinfo2 after = mallinfo2();
  CHECK(after.fordblks >= kBytes);  // kept, free for the next allocation
  CHECK(after.arena == held.arena);  // the heap was not trimmed
  void* q = std::malloc(kBytes / 2);
  REQUIRE(q != nullptr);
  escaped = q;
  const auto second = reinterpret_cast<std::uintptr_t>(q);
  CHECK(second >= first);  // served from the freed block
  CHECK(second < first + kBytes);
  CHECK(mallinfo2().arena == held.arena);
  std::free(q);
}
#endif
