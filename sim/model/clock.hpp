#pragma once
/// @file clock.hpp
/// Event clocks: most settled migrants are employed, and in a given month nothing happens
/// to them (no job loss, no exit). Instead of drawing for each of them every month, each
/// such migrant carries the month of its next *candidate* event (`Agents::wake`), drawn
/// from a geometric distribution with a probability Q that bounds, over the whole run, the
/// monthly chance that anything happens to a migrant of its kind (location, legal status).
/// The month it wakes, a candidate is a job loss, an exit, or both, in the proportions two
/// independent Bernoulli trials would give, and an exit candidate becomes an exit with
/// probability p(t)/Q_exit, p(t) being the month's exit hazard. This is exact thinning
/// (Lewis and Shedler 1979, in discrete time): each month, job loss and each exit happen
/// with exactly the probabilities of the monthly draws, independently. Because the
/// geometric distribution is memoryless, a clock may be redrawn whenever the migrant's
/// situation changes.
///
/// Unemployed settled migrants run on clocks too (UnemployedClocks): their candidate
/// probability bounds both hiring and exits, with a hiring bound per (location, sector, legal
/// status) that is the model's state. In a month when a group's hiring chance exceeds its
/// bound, the bound is raised and the group's unemployed take that month's draws and fresh
/// clocks with the new bound.

#include <boost/random/geometric_distribution.hpp>
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "model/tables.hpp"
#include "scenario/scenario.hpp"

namespace migsim {

/// "Never" for a clock: beyond any run.
inline constexpr std::int16_t kNever = INT16_MAX;
/// A clock still to be drawn: the agent takes the draws of the month it is next visited
/// (new agents, and the initial unemployed).
inline constexpr std::int16_t kDue = INT16_MIN;

using Geometric = boost::random::geometric_distribution<std::int64_t, double>;

/// Clocks redrawn in the monthly pass (month t), computed in batches: the pass queues each
/// migrant's draw (one 32-bit word) and where its wake goes; the batch computes them kMax at
/// a time, and the rest when finished, in a loop the compiler vectorises. Each wake equals,
/// bit for bit, what next_wake() computes from a stream whose next word is that word:
/// Boost's Geometric(q) takes floor(log(1 - w 2^-32) / log(1 - q)). The batch takes that
/// ratio with a logarithm of its own (vectorised, relative error about 1e-15), and where the
/// ratio lies within a tolerance (1e-9, relative) of a whole number, where the two
/// logarithms could disagree on the floor, it asks the Geometric itself.
class WakeBatch {
 public:
  static constexpr std::size_t kMax = 1024;  ///< a multiple of the vector width
  explicit WakeBatch(int t) : t_(t) {}
  WakeBatch(const WakeBatch&) = delete;
  WakeBatch& operator=(const WakeBatch&) = delete;
  ~WakeBatch() { assert(n_ == 0 && "WakeBatch destroyed with wakes still queued: call finish()"); }
  /// The month after which the queued clocks wake.
  int month() const { return t_; }
  /// Queues the wake after month() of a clock with distribution `wait`, whose logarithm
  /// log(1 - q) is `log_1mp`, drawing word `w`; it is stored at `out` by the time finish()
  /// returns.
  void add(std::int16_t* out, std::uint32_t w, const Geometric& wait, double log_1mp) {
    out_[n_] = out;
    word_[n_] = w;
    wait_[n_] = &wait;
    log_1mp_[n_] = log_1mp;
    if (++n_ == kMax) finish();
  }
  /// Computes and stores every queued wake, and empties the batch.
  void finish();
  /// How many wakes, since the batch was made, finish() left to the Geometric (tests).
  std::size_t exact_draws() const { return exact_; }

 private:
  int t_;
  std::size_t n_ = 0, exact_ = 0;
  std::int16_t* out_[kMax];
  std::uint32_t word_[kMax];
  const Geometric* wait_[kMax];
  double log_1mp_[kMax];
  double ratio_[kMax];
};

/// The wake after batch.month() of a clock whose candidate probability is q: never when q
/// is 0, next month when it is 1, else drawn from the word `w` (queued in the batch).
inline void queue_wake(double q, const Geometric& wait, double log_1mp, WakeBatch& batch, std::int16_t* out,
                       std::uint32_t w) {
  if (!(q > 0)) *out = kNever;
  else if (q >= 1) *out = static_cast<std::int16_t>(std::min(batch.month() + 1, int{kNever}));
  else batch.add(out, w, wait, log_1mp);
}

struct ClockBounds {
  int n = 0;
  double separation = 0;          ///< monthly job-loss probability (constant)
  std::vector<double> exit;       ///< [l * 2 + irregular]: bound on the monthly exit hazard
  std::vector<double> exit_unemployed;  ///< [l * 2 + irregular]: the same for the unemployed
  std::vector<double> any;        ///< [l * 2 + irregular]: 1 - (1 - separation)(1 - exit)
  std::vector<Exclusive<3>> kind; ///< [l * 2 + irregular]: job loss only, exit only, both
  /// [l * 2 + irregular]: months to wait minus one, Geometric(any); built once (its
  /// constructor takes a logarithm).
  std::vector<Geometric> wait;
  std::vector<double> log_1mp;  ///< [l * 2 + irregular]: log(1 - any), as the Geometric's

  /// The month after `t` at which the clock of a migrant of class `at(l, irregular)` next
  /// wakes, drawing from `rs` (the migrant's keyed stream of the month); kNever when
  /// nothing can happen to it. The model queues its clocks in a WakeBatch (overload below);
  /// this form is the definition the tests hold the batch to.
  std::int16_t next_wake(KeyedStream& rs, int t, std::size_t cls) const;
  /// The same wake, after the batch's month, drawn from the word `w` (the stream's next):
  /// stored at `out` now or queued in `batch`.
  void next_wake(WakeBatch& batch, std::int16_t* out, std::uint32_t w, std::size_t cls) const;

  /// Bounds from the scenario: behaviour rates and the highest deportation rate each
  /// country has at any time of the run (events included).
  void build(const Scenario& s);
  std::size_t at(int l, int irregular) const { return static_cast<std::size_t>(l) * 2 + irregular; }
};

/// Event clocks of unemployed settled migrants, group g = (l * sectors + sector) * 2 +
/// irregular. A candidate is a hiring only, an exit only, or both, as two independent
/// Bernoulli trials with the bounds H (hire_bound) and X (ClockBounds::exit_unemployed)
/// would give; a hiring candidate is hired with probability h(t)/H, an exit candidate
/// leaves with the month's hazards divided by X. Exact thinning, as for the employed.
struct UnemployedClocks {
  /// Bound = kHireMargin x the hiring chance of the month it is set + kHireSlack (at most
  /// 1): a trade between candidates that come to nothing and months with every unemployed
  /// migrant awake (chosen on the benchmark scenarios; see docs/performance.md).
  static constexpr double kHireMargin = 1.25;
  static constexpr double kHireSlack = 0.02;

  std::vector<double> hire_bound;  ///< [g]: state, checkpointed; empty before the first month
  std::vector<std::uint8_t> raised;  ///< [g]: this month the bound was raised (or first set)
  std::vector<Exclusive<3>> kind;  ///< [g]: hiring only, exit only, both
  std::vector<Chance> hire;        ///< [g]: this month's h(t) / H
  std::vector<double> any;         ///< [g]: 1 - (1 - H)(1 - X)
  std::vector<Geometric> wait;     ///< [g]
  std::vector<double> log_1mp;     ///< [g]: log(1 - any), as the Geometric's

  /// Before each month's pass, with its hiring chances `hire_p` (MonthTables::hire_p):
  /// raises the bounds that are exceeded (set all in the first month).
  void update(const ClockBounds& bounds, const std::vector<double>& hire_p, int sectors);
  // A group's clock is redrawn with queue_wake(any[g], wait[g], log_1mp[g], ...), like the
  // employed's (AgentMonth::redraw_clock in step.cpp).
  std::size_t group(int l, int sector, int irregular, int sectors) const {
    return (static_cast<std::size_t>(l) * sectors + sector) * 2 + irregular;
  }
};


}  // namespace migsim
