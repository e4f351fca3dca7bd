#pragma once
/// @file woken.hpp
/// The settled migrants whose event clock woke this month with nothing but a job change to
/// draw (about 60% of the busy agents of the benchmark scenarios), told apart from a block's
/// other busy agents all at once, without a branch per agent: with AVX-512 or AVX2 intrinsics
/// where the build targets them (see MIGSIM_NATIVE), otherwise a scalar loop. The month's pass
/// (step.cpp) updates those migrants from the result in a loop of their own, and runs every
/// other busy agent's month in full (AgentMonth::run). What each migrant draws is as
/// AgentMonth::wake_up() would draw it: the same results, bit for bit.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/clock.hpp"

namespace migsim {

/// The month's clocks of settled migrants, one row for each (location, sector, legal status,
/// employment): ClockBounds' class for the employed, UnemployedClocks' group for the
/// unemployed, and whether the month lets such a migrant sleep on its clock. Built before each
/// month's pass (after UnemployedClocks::update and the month's regularisations).
struct WokenTable {
  int sectors = 0;
  /// Per row (row()), 64-bit so that vector code gathers them alike:
  std::vector<std::uint64_t> first_limit;  ///< the clock's kind.limit[0]: below it, a job change candidate
  std::vector<std::uint64_t> last_limit;   ///< kind.limit[2]: at or above it, nothing happens
  std::vector<std::uint64_t> hire;         ///< unemployed: UnemployedClocks::hire's limit; employed: 2^32
  /// 1 where such a migrant runs on its clock this month (runs_on_clock in step.cpp, but for
  /// an irregular migrant's pending application, which classify_woken checks): not irregular
  /// where a regularisation is open, and employed or in a group whose hiring bound was not
  /// raised.
  std::vector<std::uint64_t> on_clock;
  /// The row's clock, for a fresh one after the month (queue_wake).
  std::vector<double> any, log_1mp;
  std::vector<const Geometric*> wait;

  std::size_t row(int l, int sector, int irregular, int employed) const {
    return ((static_cast<std::size_t>(l) * static_cast<std::size_t>(sectors) + static_cast<std::size_t>(sector)) * 2 +
            static_cast<std::size_t>(irregular)) *
               2 +
           static_cast<std::size_t>(employed);
  }
  /// `regularisation_open[l]` for l < countries; the pointers in `wait` point into `clock`
  /// and `unemployed`, which must outlive the table's use.
  void build(const ClockBounds& clock, const UnemployedClocks& unemployed, const std::uint8_t* regularisation_open,
             int countries, int sectors);
};

/// A block's busy agents, their fields gathered side by side (entry k is the k-th busy agent),
/// and the first two words of the block each draws first this month (a settled migrant's
/// Settled block). Every array is read up to `n` rounded up to a multiple of 8 (the vector
/// code reads whole groups of eight): what lies past `n` there is ignored.
struct BusyAgents {
  const std::uint8_t* status;
  const std::uint8_t* flags;
  const std::uint8_t* location;  ///< below the table's countries for every settled one
  const std::uint8_t* pathway;
  const std::int16_t* wake;
  const std::uint32_t* word0;
  const std::uint32_t* word1;
  std::size_t n;
};

/// For each busy agent k < agents.n, with t the month:
/// - bit k of `quick` (bit k % 64 of word k / 64): settled, its clock woke this month (wake == t),
///   running on it (table.on_clock, and no pending pathway if irregular), and no exit
///   candidate (word0 below first_limit, or at or above last_limit, as Exclusive::pick's 0 or 3:
///   its limits never decrease);
/// - bit k of `job_change`: quick, and its job changes: word0 below first_limit and word1
///   below hire (an employed migrant loses its job, an unemployed one is hired);
/// - row_after[k], for the quick ones: its row after the job change.
/// `quick` and `job_change` get (n + 63) / 64 whole words; row_after must have room for n
/// rounded up to 8, and is meaningful only where quick.
void classify_woken(const WokenTable& table, const BusyAgents& agents, std::int16_t t, std::uint64_t* quick,
                    std::uint64_t* job_change, std::uint16_t* row_after);

/// Which code classify_woken runs in this build: "avx512" or "avx2" (intrinsics, chosen by the
/// instruction set the build targets) or "portable".
const char* classify_woken_kind();

}  // namespace migsim
