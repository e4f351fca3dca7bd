// Mechanism 8, return and onward moves: the monthly hazards of a settled migrant, by
// location, origin, legal status and long unemployment. In this order, from one word:
// natural death; deportation (irregular only, at the host's deportation rate); return home,
// at return_rate x return_unemployed_factor (if long unemployed) x return_irregular_factor
// (if irregular) x exp(-return_crisis_weight x crisis at origin); onward move, at
// onward_rate x onward_unemployed_factor (if long unemployed) x onward_irregular_factor (if
// irregular) (not for the rest of the world's migrants). For employed migrants on event
// clocks (clock.hpp) the same hazards, divided by the clock's bound; likewise for the
// unemployed's clocks.
#include <cmath>
#include <vector>

#include "model/clock.hpp"
#include "model/tables.hpp"

namespace migsim {

void build_exit_tables(const TableInputs& in, MonthTables& out) {
  const Scenario& s = in.scenario;
  const Behaviour& b = s.behaviour;
  const int n = s.n_countries(), O = s.n_origins();
  out.exits.resize(static_cast<std::size_t>(n) * O * 4);
  out.clock_exits.resize(static_cast<std::size_t>(n) * O * 2);
  out.unemployed_clock_exits.resize(out.exits.size());
  std::vector<double> crisis_factor(static_cast<std::size_t>(O));  // per origin, computed once
  for (int o = 0; o < O; ++o) crisis_factor[o] = std::exp(-b.return_crisis_weight * (o < n ? in.drivers.crisis[o] : 0.0));
#pragma omp parallel for schedule(static)
  for (int l = 0; l < n; ++l) {
    for (int o = 0; o < O; ++o) {
      for (int irregular = 0; irregular < 2; ++irregular) {
        for (int long_unemployed = 0; long_unemployed < 2; ++long_unemployed) {
          const double ret = b.return_rate * (long_unemployed ? b.return_unemployed_factor : 1.0) *
                             (irregular ? b.return_irregular_factor : 1.0) * crisis_factor[o];
          const std::size_t i = ((static_cast<std::size_t>(l) * O + o) * 2 + irregular) * 2 + long_unemployed;
          const double onward = o < n ? b.onward_rate * (long_unemployed ? b.onward_unemployed_factor : 1.0) *
                                            (irregular ? b.onward_irregular_factor : 1.0)
                                      : 0.0;
          const std::array<double, 4> p = {b.natural_mortality, irregular ? in.policy.deportation_rate[l] : 0.0, ret,
                                           onward};
          out.exits[i] = Exclusive<4>::from(p);
          const double ubound = in.clock.exit_unemployed[in.clock.at(l, irregular)];
          std::array<double, 4> uscaled{};
          for (int k = 0; k < 4; ++k) uscaled[k] = ubound > 0 ? p[k] / ubound : 0.0;
          out.unemployed_clock_exits[i] = Exclusive<4>::from(uscaled);
          if (!long_unemployed) {
            const double bound = in.clock.exit[in.clock.at(l, irregular)];
            std::array<double, 4> scaled{};
            for (int k = 0; k < 4; ++k) scaled[k] = bound > 0 ? p[k] / bound : 0.0;
            out.clock_exits[(static_cast<std::size_t>(l) * O + o) * 2 + irregular] = Exclusive<4>::from(scaled);
          }
        }
      }
    }
  }
}

}  // namespace migsim
