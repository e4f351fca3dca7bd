#pragma once
// Runs a small scenario month by month and keeps every month's result, for model tests.
#include <omp.h>

#include <cmath>
#include <memory>
#include <vector>

#include "model/model.hpp"
#include "support/fixtures.hpp"

namespace migsim::test {

struct Run {
  std::unique_ptr<Scenario> scenario;
  std::unique_ptr<Model> model;
  std::vector<MonthResult> months;  // months[t]
  std::vector<std::vector<std::int64_t>> recount_ok;

  explicit Run(const std::string& yaml, int n_months = -1, int threads = 0, std::uint64_t seed = 7)
      : scenario(std::make_unique<Scenario>(load(yaml))) {
    if (threads > 0) omp_set_num_threads(threads);
    model = std::make_unique<Model>(*scenario, seed);
    const int n = n_months < 0 ? scenario->months() : n_months;
    for (int t = 0; t < n; ++t) months.push_back(model->step());
  }
  const CounterLayout& L() const { return model->layout(); }
  std::int64_t at(int t, std::size_t index) const { return months[static_cast<std::size_t>(t)].counts[index]; }
  /// Sum over months of counters[index].
  std::int64_t total(std::size_t index) const {
    std::int64_t s = 0;
    for (const auto& m : months) s += m.counts[index];
    return s;
  }
  std::int64_t stock(int t, int o, int l, Status st) const {
    return at(t, L().stock_at(o, l, static_cast<int>(st)));
  }
};

/// |observed - expected| within k standard deviations (sd from the distribution).
inline bool within_sd(double observed, double expected, double sd, double k = 5.0) {
  return std::fabs(observed - expected) <= k * sd + 1e-9;
}

}  // namespace migsim::test
