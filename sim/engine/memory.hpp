#pragma once
/// @file memory.hpp
/// How much memory a run needs, estimated from the scenario before anything is allocated,
/// and how much the machine has, so that a run too big for the machine is refused with the
/// estimate instead of being killed by the kernel's out-of-memory killer hours later.
///
/// The estimate (docs/errors.md explains it to users):
///   agents   initial agents x Agents::kBytesPerAgent (16 bytes) x 1.5: the per-agent
///            scratch of the monthly pass, room for the population to grow and for one
///            field's array to be copied when it grows;
///   series   months x (values recorded per month) x 8 bytes x 2: the recorded series and
///            their copy in the dataset being written;
///   threads  threads x counters per month x 8 bytes;
///   fixed    64 MiB: the program, its libraries, HDF5's buffers, the scenario.
/// A resume whose checkpoint was read into memory (its file system cannot map files) holds
/// that copy until the model is restored, beside all of the above but the series' copy for
/// writing: the run needs the larger of the two peaks (MemoryEstimate::needed). A mapped
/// checkpoint counts the same way under ulimit -v, whose limit its mapping takes from.
/// Measured on the example corridor (60 months, 2 threads, 1.5 and 7.5 million agents): 20.6
/// bytes of resident memory per agent and 15 MiB besides; the estimate (24 bytes and 64 MiB)
/// is about 17% above what a run with a stable population uses at large sizes. A run whose population grows well beyond its initial
/// size can still run out of memory; that is reported as a run failure (exit 1).

#include <cstdint>
#include <string>

#include "scenario/scenario.hpp"

namespace migsim {

struct MemoryEstimate {
  std::int64_t agents = 0;       ///< initial agents
  std::uint64_t agent_bytes = 0;
  std::uint64_t series_bytes = 0;
  std::uint64_t thread_bytes = 0;
  std::uint64_t fixed_bytes = 0;
  /// A resumed run: the checkpoint's path (messages name it, and a resume cannot change its
  /// scenario's people_per_agent), and the bytes of it held until the model is restored: read
  /// into memory where its file system cannot map files, or mapped under ulimit -v.
  std::string resume_file;
  std::uint64_t held_bytes = 0;
  /// The held bytes are the checkpoint mapped, not copied: they count only where the address
  /// space is what limits the run (ulimit -v), as a mapping's pages can be dropped and read again.
  bool held_mapped = false;
  /// The run's memory: the agents, the series and their copy while writing, the threads'
  /// counters and the fixed part.
  std::uint64_t total() const { return agent_bytes + series_bytes + thread_bytes + fixed_bytes; }
  /// While a checkpoint's copy is held: everything but the series' copy for writing, and the copy.
  std::uint64_t while_held() const {
    return held_bytes == 0 ? 0 : agent_bytes + series_bytes / 2 + thread_bytes + fixed_bytes + held_bytes;
  }
  /// What the run needs at its peak.
  std::uint64_t needed() const { return total() > while_held() ? total() : while_held(); }
};

/// The memory a run of `months` months on `threads` threads needs (see the file comment).
MemoryEstimate estimate_memory(const Scenario& s, int months, int threads);

/// available_memory()'s `source` when the address-space limit (ulimit -v) is the smallest.
extern const char* const kAddressSpaceLimit;

/// Memory this process can still use: the smallest of MemAvailable (/proc/meminfo), the
/// cgroup's memory.max less memory.current, and the address-space limit (ulimit -v) less
/// what the process already maps. 0 when none can be read. `source` says which one it is.
std::uint64_t available_memory(std::string* source = nullptr);

/// Throws InputError, naming the scenario's people_per_agent (or initial_stock) and giving
/// the estimate, what is available and the smallest people_per_agent that would fit, when
/// the initial agents exceed what a run can hold (2^32 - 2) or the estimate exceeds
/// `available` (0 = unknown: not checked). A resumed run's refusal (`resume_file`) names the
/// checkpoint, and the copy of it held in memory if any, rather than people_per_agent.
void check_memory(const Scenario& s, const MemoryEstimate& e, std::uint64_t available,
                  const std::string& available_source);

/// Makes memory this process frees stay in it for its later allocations, rather than go back
/// to the kernel: blocks up to 32 MiB (glibc's largest setting) come from malloc's heap
/// instead of a mapping of their own that free() unmaps, and the heap's top is returned only
/// beyond 2 GiB. Why: a page the kernel hands out is mapped on its first write, and on the
/// benchmark VM that costs 5-20 us per 4 KiB (docs/performance.md); `migsim run` frees the
/// model before writing its output, and HDF5's and zlib's allocations then reuse the model's
/// pages instead of faulting in new ones (1M agents, 2 threads: the write 3.7 ms shorter, of
/// 17.6, in 10 of 10 paired runs). The cost: the process keeps its largest size until it
/// exits, and peak memory rose by about 4 MB at 1M agents and 2 MB at 30M (0.4%). For one run
/// only (`migsim run`), called before its scenario is read: in a batch (`migsim sweep`),
/// whose threads run member after member, each in a malloc arena of its own, it more than
/// doubled peak memory (behaviour-lhs, 40 members: 93 -> 215 MB), as members' blocks no
/// longer went back to the kernel between them. glibc only (elsewhere it does nothing and
/// returns false).
bool keep_freed_memory();

/// "1.3 GiB", "512 MiB".
std::string format_bytes(std::uint64_t bytes);

}  // namespace migsim
