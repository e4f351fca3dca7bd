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

#include <boost/random/geometric_distribution.hpp>
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "model/tables.hpp"
#include "scenario/scenario.hpp"

namespace migsim {

/// "Never" for a clock: beyond any run.
inline constexpr std::int16_t kNever = INT16_MAX;

struct ClockBounds {
  int n = 0;
  double separation = 0;          ///< monthly job-loss probability (constant)
  std::vector<double> exit;       ///< [l * 2 + irregular]: bound on the monthly exit hazard
  std::vector<double> any;        ///< [l * 2 + irregular]: 1 - (1 - separation)(1 - exit)
  std::vector<Exclusive<3>> kind; ///< [l * 2 + irregular]: job loss only, exit only, both
  /// [l * 2 + irregular]: months to wait minus one, Geometric(any); built once (its
  /// constructor takes a logarithm).
  std::vector<boost::random::geometric_distribution<std::int64_t, double>> wait;

  /// The month after `t` at which the clock of a migrant of class `at(l, irregular)` next
  /// wakes, drawing from `rs` (the migrant's keyed stream of the month); kNever when
  /// nothing can happen to it.
  std::int16_t next_wake(KeyedStream& rs, int t, std::size_t cls) const;

  /// Bounds from the scenario: behaviour rates and the highest deportation rate each
  /// country has at any time of the run (events included).
  void build(const Scenario& s);
  std::size_t at(int l, int irregular) const { return static_cast<std::size_t>(l) * 2 + irregular; }
};


}  // namespace migsim
