#include "model/clock.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

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
  log_1mp.clear();
  std::vector<double> deport(n);
  for (int c = 0; c < n; ++c) deport[c] = s.countries[c].deportation_rate;
  for (const Event& e : s.events)
    if (e.field == Event::Field::DeportationRate) deport[e.index] = std::max(deport[e.index], e.value);
  for (int l = 0; l < n; ++l) {
    for (int irr = 0; irr < 2; ++irr) {
      // The exit hazard of an employed migrant (exits.cpp) with its crisis factor at most 1.
      const double ret = b.return_rate * (irr ? b.return_irregular_factor : 1.0);
      const double onward = b.onward_rate * (irr ? b.onward_irregular_factor : 1.0);
      const double x = std::min(1.0, b.natural_mortality + (irr ? deport[l] : 0.0) + ret + onward);
      const double q = 1.0 - (1.0 - separation) * (1.0 - x);
      const std::size_t i = at(l, irr);
      exit[i] = x;
      // Unemployed: return and onward moves at up to their long-unemployment factors times
      // the rates.
      const double ret_u = ret * std::max(1.0, b.return_unemployed_factor);
      const double onward_u = onward * std::max(1.0, b.onward_unemployed_factor);
      exit_unemployed[i] = std::min(1.0, b.natural_mortality + (irr ? deport[l] : 0.0) + ret_u + onward_u);
      any[i] = q;
      if (q > 0) kind[i] = Exclusive<3>::from({separation * (1 - x) / q, (1 - separation) * x / q, separation * x / q});
      wait.emplace_back(q > 0 && q < 1 ? q : 0.5);  // q outside (0, 1) is handled in next_wake
      log_1mp.push_back(std::log(1 - wait.back().p()));
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

/// An engine that yields one word, for the Geometric to draw from.
struct OneWord {
  using result_type = std::uint32_t;
  std::uint32_t w;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() const { return w; }
};

/// log(x) for x in [2^-32, 1], in a form the compiler vectorises: x = 2^e m with m in
/// [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.1716, by
/// its series to s^21 (the rest is below 1e-19). Relative error about 1e-15.
inline double log_unit(double x) {
  const auto bits = std::bit_cast<std::uint64_t>(x);
  auto e = static_cast<std::int64_t>(bits >> 52) - 1023;
  double m = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
  const bool high = m > 1.4142135623730951;
  m = high ? 0.5 * m : m;
  e = high ? e + 1 : e;
  const double s = (m - 1.0) / (m + 1.0), z = s * s;
  const double series =
      1.0 / 3 +
      z * (1.0 / 5 +
           z * (1.0 / 7 +
                z * (1.0 / 9 + z * (1.0 / 11 + z * (1.0 / 13 + z * (1.0 / 15 + z * (1.0 / 17 + z * (1.0 / 19 + z / 21))))))));
  return static_cast<double>(e) * 0.6931471805599453 + 2.0 * (s + s * z * series);
}
}  // namespace

void WakeBatch::finish() {
  const std::size_t n = n_;
  // Whole vectors (8 doubles with AVX-512): the lanes past n compute on harmless inputs.
  constexpr std::size_t kLanes = 8;
  const std::size_t padded = std::min(kMax, (n + kLanes - 1) / kLanes * kLanes);
  for (std::size_t j = n; j < padded; ++j) {
    word_[j] = 0;
    log_1mp_[j] = -1.0;
  }
#pragma omp simd
  for (std::size_t j = 0; j < padded; ++j)
    ratio_[j] = log_unit(1.0 - static_cast<double>(word_[j]) * 0x1p-32) / log_1mp_[j];
  // Months to wait minus one: the floor of the ratio, unless the ratio is so close to a whole
  // number that Boost's logarithm might put it on the other side; beyond kNever months any
  // number is as good.
  constexpr double kTolerance = 1e-9;
  for (std::size_t j = 0; j < n; ++j) {
    const double r = ratio_[j], margin = kTolerance * (1.0 + r);
    std::int64_t failures;
    if (r - margin >= double{kNever}) {
      failures = kNever;
    } else if (r >= 0 && std::floor(r - margin) == std::floor(r + margin)) {
      failures = static_cast<std::int64_t>(std::floor(r));
    } else {
      OneWord w{word_[j]};
      failures = (*wait_[j])(w);
      ++exact_;
    }
    *out_[j] = static_cast<std::int16_t>(std::min<std::int64_t>(std::int64_t{t_} + 1 + failures, kNever));
  }
  n_ = 0;
}

std::int16_t ClockBounds::next_wake(KeyedStream& rs, int t, std::size_t cls) const {
  return wake_after(any[cls], wait[cls], rs, t);
}

void ClockBounds::next_wake(WakeBatch& batch, std::int16_t* out, std::uint32_t w, std::size_t cls) const {
  queue_wake(any[cls], wait[cls], log_1mp[cls], batch, out, w);
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
  log_1mp.clear();
  for (std::size_t g = 0; g < G; ++g) {
    const int l = static_cast<int>(g / 2 / static_cast<std::size_t>(sectors));
    const double H = hire_bound[g], X = bounds.exit_unemployed[bounds.at(l, static_cast<int>(g % 2))];
    const double q = 1.0 - (1.0 - H) * (1.0 - X);
    any[g] = q;
    kind[g] = q > 0 ? Exclusive<3>::from({H * (1 - X) / q, (1 - H) * X / q, H * X / q}) : Exclusive<3>{};
    hire[g] = Chance(H > 0 ? hire_p[g] / H : 0.0);
    wait.emplace_back(q > 0 && q < 1 ? q : 0.5);  // q outside (0, 1) is handled in queue_wake
    log_1mp.push_back(std::log(1 - wait.back().p()));
  }
}

}  // namespace migsim
