#include "model/clock.hpp"

#include <algorithm>

#include "core/rng.hpp"

namespace migsim {

void ClockBounds::build(const Scenario& s) {
  const Behaviour& b = s.behaviour;
  n = s.n_countries();
  separation = b.job_separation_rate;
  exit.assign(static_cast<std::size_t>(n) * 2, 0.0);
  exit_unemployed.assign(exit.size(), 0.0);
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
      // Unemployed: return at up to return_unemployed_factor times the rate (long unemployed).
      const double ret_u = ret * std::max(1.0, b.return_unemployed_factor);
      exit_unemployed[i] = std::min(1.0, b.natural_mortality + (irr ? deport[l] : 0.0) + ret_u + b.onward_rate);
      any[i] = q;
      if (q > 0) kind[i] = Exclusive<3>::from({separation * (1 - x) / q, (1 - separation) * x / q, separation * x / q});
      wait.emplace_back(q > 0 && q < 1 ? q : 0.5);  // q outside (0, 1) is handled in next_wake
    }
  }
}

namespace {
/// The month after t at which a clock with candidate probability q wakes.
std::int16_t wake_after(double q, const Geometric& wait, KeyedStream& rs, int t) {
  if (!(q > 0)) return kNever;
  if (q >= 1) return static_cast<std::int16_t>(std::min(t + 1, int{kNever}));
  const std::int64_t failures = wait(rs);
  return static_cast<std::int16_t>(std::min<std::int64_t>(std::int64_t{t} + 1 + failures, kNever));
}
}  // namespace

std::int16_t ClockBounds::next_wake(KeyedStream& rs, int t, std::size_t cls) const {
  return wake_after(any[cls], wait[cls], rs, t);
}

void UnemployedClocks::update(const ClockBounds& bounds, const std::vector<double>& hire_p, int sectors) {
  const std::size_t G = hire_p.size();
  const bool first = hire_bound.size() != G;  // the first month: nobody has a clock yet
  hire_bound.resize(G, 0.0);
  raised.assign(G, 0);
  for (std::size_t g = 0; g < G; ++g) {
    if (!first && hire_p[g] <= hire_bound[g]) continue;
    // This group's unemployed take this month's draws and get clocks with the new bound.
    raised[g] = 1;
    hire_bound[g] = std::min(1.0, kHireMargin * hire_p[g] + kHireSlack);
  }
  kind.resize(G);
  hire.resize(G);
  any.resize(G);
  wait.clear();
  for (std::size_t g = 0; g < G; ++g) {
    const int l = static_cast<int>(g / 2 / static_cast<std::size_t>(sectors));
    const double H = hire_bound[g], X = bounds.exit_unemployed[bounds.at(l, static_cast<int>(g % 2))];
    const double q = 1.0 - (1.0 - H) * (1.0 - X);
    any[g] = q;
    kind[g] = q > 0 ? Exclusive<3>::from({H * (1 - X) / q, (1 - H) * X / q, H * X / q}) : Exclusive<3>{};
    hire[g] = Chance(H > 0 ? hire_p[g] / H : 0.0);
    wait.emplace_back(q > 0 && q < 1 ? q : 0.5);  // q outside (0, 1) is handled in next_wake
  }
}

std::int16_t UnemployedClocks::next_wake(KeyedStream& rs, int t, std::size_t g) const {
  return wake_after(any[g], wait[g], rs, t);
}

}  // namespace migsim
