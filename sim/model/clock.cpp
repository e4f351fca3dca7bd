#include "model/clock.hpp"

#include <algorithm>

#include "core/rng.hpp"

namespace migsim {

void ClockBounds::build(const Scenario& s) {
  const Behaviour& b = s.behaviour;
  n = s.n_countries();
  separation = b.job_separation_rate;
  exit.assign(static_cast<std::size_t>(n) * 2, 0.0);
  any.assign(exit.size(), 0.0);
  kind.assign(exit.size(), Exclusive<3>{});
  wait.clear();
  std::vector<double> deport(n);
  for (int c = 0; c < n; ++c) deport[c] = s.countries[c].deportation_rate;
  for (const Event& e : s.events)
    if (e.field == Event::Field::DeportationRate) deport[e.index] = std::max(deport[e.index], e.value);
  for (int l = 0; l < n; ++l) {
    for (int irr = 0; irr < 2; ++irr) {
      // The exit hazard of an employed migrant (exits.cpp) with its crisis factor at most 1.
      const double ret = b.return_rate * (irr ? b.return_irregular_factor : 1.0);
      const double x = std::min(1.0, b.natural_mortality + (irr ? deport[l] : 0.0) + ret + b.onward_rate);
      const double q = 1.0 - (1.0 - separation) * (1.0 - x);
      const std::size_t i = at(l, irr);
      exit[i] = x;
      any[i] = q;
      if (q > 0) kind[i] = Exclusive<3>::from({separation * (1 - x) / q, (1 - separation) * x / q, separation * x / q});
      wait.emplace_back(q > 0 && q < 1 ? q : 0.5);  // q outside (0, 1) is handled in next_wake
    }
  }
}

std::int16_t ClockBounds::next_wake(KeyedStream& rs, int t, std::size_t cls) const {
  const double q = any[cls];
  if (!(q > 0)) return kNever;
  if (q >= 1) return static_cast<std::int16_t>(std::min(t + 1, int{kNever}));
  const std::int64_t failures = wait[cls](rs);
  return static_cast<std::int16_t>(std::min<std::int64_t>(std::int64_t{t} + 1 + failures, kNever));
}

}  // namespace migsim
