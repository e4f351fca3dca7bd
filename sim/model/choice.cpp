// Mechanisms 2 and 3: new movers' expected numbers and destination choice.
//
// Destination choice is a multinomial logit over the countries other than where the agent
// is and where it was born. For a group (location l, origin o, sector s) and destination d:
//   U = income_weight   * ln(wage[d,s] * max(prospect[d,s], 0.01))
//     + network_weight  * ln(1 + diaspora[o,d] / 1000)
//     - distance_weight * ln(max(distance[l,d], 100 km) / 1000 km)
//     + language_weight * [o and d share a language]
//     + access_weight   * ln(max(access, 1e-6))
// where prospect is the steady-state employed share of migrants there (labour.cpp) and
// access = 1 - (1 - a)(1 - q): a is the expected admission of the best open pathway, q the
// irregular route's feasibility, pass * exp(-risk_weight * death - cost_weight * cost /
// wage[l,s]). The monthly chance that an aspirant with no pathway departs irregularly is
//   irregular_rate * q * logistic(income_weight * ln(y_d / y_l) + network_weight * ln(1 + D/1000)),
// y_l being the expected income where the agent is.
//
// New movers: per origin o and sector s, the expected number of working-age people who
// start to consider moving this month is
//   working_age[o] * share[o,s] * move_rate
//     * exp(gain_weight * (logsum[o,o,s] - U_home) + crisis_weight * crisis[o]
//           + unemployment_weight * unemployment[o]),
// with U_home = income_weight * ln(wage[o,s] * (1 - unemployment[o])) and logsum the log of
// the choice's sum of exp(U) (the expected best destination's utility).
#include <algorithm>
#include <cmath>

#include "model/tables.hpp"

namespace migsim {

void build_choice_tables(const TableInputs& in, MonthTables& out) {
  const Scenario& s = in.scenario;
  const Behaviour& b = s.behaviour;
  const Drivers& dr = in.drivers;
  const RouteTable& rt = in.routes;
  const int n = s.n_countries(), O = s.n_origins(), S = s.n_sectors();
  const double ppa = static_cast<double>(s.people_per_agent);

  // Diaspora: settled people born in o living in d, persons.
  std::vector<double> diaspora(static_cast<std::size_t>(O) * n, 0.0);
  for (int o = 0; o < O; ++o)
    for (int d = 0; d < n; ++d)
      diaspora[static_cast<std::size_t>(o) * n + d] =
          ppa * double(in.counts[in.layout.stock_at(o, d, static_cast<int>(Status::Regular))] +
                       in.counts[in.layout.stock_at(o, d, static_cast<int>(Status::Irregular))]);
  std::vector<double> log_income(static_cast<std::size_t>(n) * S);
  std::vector<double> home_income(static_cast<std::size_t>(n) * S);
  for (int d = 0; d < n; ++d) {
    for (int sec = 0; sec < S; ++sec) {
      const std::size_t i = static_cast<std::size_t>(d) * S + sec;
      log_income[i] = std::log(std::max(dr.wage[i] * std::max(out.employment_prospect[i], 0.01), 1e-9));
      home_income[i] = std::max(dr.wage[i] * (1.0 - dr.unemployment[d]), 1e-9);
    }
  }

  const std::size_t groups = static_cast<std::size_t>(n) * O * S;
  out.choice.resize(groups);
  out.choice_ok.assign(groups, 0);
  out.logsum.assign(groups, 0.0);
  out.irregular.assign(groups * n, Chance{});

#pragma omp parallel
  {
    std::vector<double> utility(n), weight(n);
#pragma omp for schedule(dynamic, 16)
    for (std::size_t g = 0; g < groups; ++g) {
      const int l = static_cast<int>(g / (static_cast<std::size_t>(O) * S));
      const int o = static_cast<int>((g / S) % O);
      const int sec = static_cast<int>(g % S);
      if (o >= n) continue;  // the rest of the world's migrants do not choose
      double top = -1e300;
      for (int d = 0; d < n; ++d) {
        utility[d] = -1e300;
        if (d == l || d == o) continue;
        const std::size_t ld = static_cast<std::size_t>(l) * n + d;
        const double D = diaspora[static_cast<std::size_t>(o) * n + d];
        const double network = std::log1p(D / 1000.0);
        double q = 0.0;
        if (rt.reachable(l, d)) {
          q = rt.pass[ld] * std::exp(-b.risk_weight * rt.death[ld] -
                                     b.cost_weight * rt.cost[ld] / home_income[static_cast<std::size_t>(l) * S + sec]);
        }
        const double a = out.admission_chance[out.dos(d, o, sec)];
        const double access = 1.0 - (1.0 - a) * (1.0 - q);
        const bool common = !s.countries[o].language.empty() &&
                            s.countries[o].language == s.countries[d].language;
        const double dist = std::max(s.distance_km[l][d], 100.0) / 1000.0;
        utility[d] = b.income_weight * log_income[static_cast<std::size_t>(d) * S + sec] +
                     b.network_weight * network - b.distance_weight * std::log(dist) +
                     (common ? b.language_weight : 0.0) +
                     b.access_weight * std::log(std::max(access, 1e-6));
        top = std::max(top, utility[d]);
        if (q > 0) {
          const double gain = b.income_weight * (log_income[static_cast<std::size_t>(d) * S + sec] -
                                                 std::log(home_income[static_cast<std::size_t>(l) * S + sec])) +
                              b.network_weight * network;
          const double p = b.irregular_rate * q / (1.0 + std::exp(-gain));
          out.irregular[g * n + d] = Chance(p);
        }
      }
      double total = 0.0;
      for (int d = 0; d < n; ++d) {
        weight[d] = utility[d] <= -1e299 ? 0.0 : std::exp(utility[d] - top);
        total += weight[d];
      }
      if (total > 0.0) {
        out.choice[g] = boost::random::discrete_distribution<int, double>(weight.begin(), weight.end());
        out.choice_ok[g] = 1;
        out.logsum[g] = top + std::log(total);
      }
    }
  }

  out.home_utility.assign(static_cast<std::size_t>(n) * S, 0.0);
  out.mover_mean.assign(static_cast<std::size_t>(O) * S, 0.0);
  for (int o = 0; o < n; ++o) {
    for (int sec = 0; sec < S; ++sec) {
      const std::size_t os = static_cast<std::size_t>(o) * S + sec;
      out.home_utility[os] = b.income_weight * std::log(home_income[os]);
      const std::size_t g = out.group(o, o, sec);
      if (!out.choice_ok[g]) continue;
      const double x = b.gain_weight * (out.logsum[g] - out.home_utility[os]) +
                       b.crisis_weight * dr.crisis[o] + b.unemployment_weight * dr.unemployment[o];
      out.mover_mean[os] = dr.working_age[o] * s.countries[o].sector_shares[sec] * b.move_rate *
                           std::exp(std::clamp(x, -50.0, 20.0));
    }
  }
}

}  // namespace migsim
