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
// access = 1 - (1 - a)(1 - q): a is the expected admission of the best open pathway times
// exp(-cost_weight * its cost / y_l), q the irregular route's feasibility,
// pass * exp(-risk_weight * death - cost_weight * cost / y_l), y_l = wage[l,s](1 -
// unemployment[l]): a pathway's cost and a route's weigh alike. The monthly chance that an aspirant with no
// pathway departs irregularly is
//   irregular_rate * q * logistic(income_weight * ln(y_d / y_l) + network_weight * ln(1 + D/1000)),
// y_d being the expected income at d.
//
// New movers: per origin o and sector s, the expected number of working-age people who
// start to consider moving this month is
//   working_age[o] * share[o,s] * move_rate
//     * exp(gain_weight * (logsum[o,o,s] - U_home) + crisis_weight * crisis[o]
//           + unemployment_weight * unemployment[o]),
// with U_home = income_weight * ln(y_o) and logsum the log of the choice's sum of exp(U)
// (the expected best destination's utility).
//
// How it is computed: exp(U) is the product of one factor per term, each depending on
// fewer indices than the group (income on d and s, network on o and d, distance on l and
// d, ...), so each factor is computed once per month (or once per run) and a group's
// weights are products; each factor is divided by its largest value so that products stay
// within floating-point range, and the logsum adds the logs of those maxima back.
#include <algorithm>
#include <cmath>

#include "model/tables.hpp"

namespace migsim {

void ChoiceConstants::build(const Scenario& s) {
  const Behaviour& b = s.behaviour;
  n = s.n_countries();
  distance.assign(static_cast<std::size_t>(n) * n, 0.0);
  distance_log_max.assign(n, 0.0);
  for (int l = 0; l < n; ++l) {
    double top = -1e300;
    std::vector<double> lg(n);
    for (int d = 0; d < n; ++d) {
      lg[d] = -b.distance_weight * std::log(std::max(s.distance_km[l][d], 100.0) / 1000.0);
      if (d != l) top = std::max(top, lg[d]);
    }
    distance_log_max[l] = top;
    for (int d = 0; d < n; ++d) distance[static_cast<std::size_t>(l) * n + d] = std::exp(lg[d] - top);
  }
  language_log_max = std::max(0.0, b.language_weight);
  language.assign(static_cast<std::size_t>(n) * n, 0.0);
  for (int o = 0; o < n; ++o)
    for (int d = 0; d < n; ++d) {
      const bool common = !s.countries[o].language.empty() && s.countries[o].language == s.countries[d].language;
      language[static_cast<std::size_t>(o) * n + d] = std::exp((common ? b.language_weight : 0.0) - language_log_max);
    }
}

/// x^w. The default weight is 1, where std::pow(x, 1) is x, and calling it anyway was a
/// third of the cost of computing a group (perf: pow 2.2%, compute_group 3.5% of the 1M
/// benchmark with 1 thread). That pow returns x exactly is tested (test_mechanisms.cpp).
double access_power(double x, double w) { return w == 1.0 ? x : std::pow(x, w); }

void MonthTables::compute_group(std::size_t g) {
  constexpr double kAccessFloor = 1e-6;
  const auto N = static_cast<std::size_t>(n);
  const int l = static_cast<int>(g / (static_cast<std::size_t>(origins) * sectors));
  const int o = static_cast<int>((g / sectors) % origins);
  const int sec = static_cast<int>(g % sectors);
  const ChoiceFactors& f = factors;
  const ChoiceConstants& k = *f.constants;
  double* cdf = &choice_cdf[g * N];
  Chance* irr = &irregular[g * N];
  choice_ok[g] = 0;
  logsum[g] = 0.0;
  if (o >= n) {  // the rest of the world's migrants do not choose
    std::fill(cdf, cdf + N, 0.0);
    std::fill(irr, irr + N, Chance{});
    return;
  }
  double total = 0.0;
  for (int d = 0; d < n; ++d) {
    irr[d] = Chance{};
    if (d != l && d != o) {
      const std::size_t lds_i = (static_cast<std::size_t>(l) * N + d) * sectors + sec;
      const std::size_t od = static_cast<std::size_t>(o) * N + d;
      const std::size_t cell = dos(d, o, sec);
      double a = admission_chance[cell];
      if (a > 0) {
        const int ci = f.pathway_cost_index[entry_pathway[cell]];
        if (ci >= 0) a *= f.pathway_afford[(static_cast<std::size_t>(l) * sectors + sec) * f.costs + static_cast<std::size_t>(ci)];
      }
      const double qd = f.q[lds_i];
      const double acc = a > 0 ? access_power(std::max(1.0 - (1.0 - a) * (1.0 - qd), kAccessFloor), f.access_weight)
                               : f.q_access[lds_i];
      total += f.income[static_cast<std::size_t>(d) * sectors + sec] * f.network[od] *
               k.distance[static_cast<std::size_t>(l) * N + d] * k.language[od] * acc;
      if (qd > 0) irr[d] = Chance(f.irregular_rate * qd / (1.0 + f.gain_inv[lds_i] * f.network_inv[od]));
    }
    cdf[d] = total;
  }
  if (total > 0.0 && std::isfinite(total)) {
    choice_ok[g] = 1;
    logsum[g] = std::log(total) + f.income_log_max[sec] + f.network_log_max[o] + k.distance_log_max[l] +
                k.language_log_max;
  }
}

void build_choice_tables(const TableInputs& in, const ChoiceConstants& k, MonthTables& out) {
  const Scenario& s = in.scenario;
  const Behaviour& b = s.behaviour;
  const Drivers& dr = in.drivers;
  const RouteTable& rt = in.routes;
  const int n = s.n_countries(), O = s.n_origins(), S = s.n_sectors();
  const auto N = static_cast<std::size_t>(n);
  const double ppa = static_cast<double>(s.people_per_agent);
  constexpr double kAccessFloor = 1e-6;

  // Factors of (d, s): income.
  std::vector<double> log_income(N * S), log_home(N * S), income(N * S);
  std::vector<double> income_log_max(S, -1e300);
  for (int d = 0; d < n; ++d)
    for (int sec = 0; sec < S; ++sec) {
      const std::size_t i = static_cast<std::size_t>(d) * S + sec;
      log_income[i] = std::log(std::max(dr.wage[i] * std::max(out.employment_prospect[i], 0.01), 1e-9));
      log_home[i] = std::log(std::max(dr.wage[i] * (1.0 - dr.unemployment[d]), 1e-9));
      income_log_max[sec] = std::max(income_log_max[sec], b.income_weight * log_income[i]);
    }
  for (int d = 0; d < n; ++d)
    for (int sec = 0; sec < S; ++sec) {
      const std::size_t i = static_cast<std::size_t>(d) * S + sec;
      income[i] = std::exp(b.income_weight * log_income[i] - income_log_max[sec]);
    }
  // Factors of (o, d): network, from settled people born in o living in d.
  std::vector<double> network(static_cast<std::size_t>(O) * N), network_log_max(O, 0.0), network_inv(static_cast<std::size_t>(O) * N);
  for (int o = 0; o < O; ++o) {
    std::vector<double> lg(N);
    for (int d = 0; d < n; ++d) {
      const double D = ppa * double(in.counts[in.layout.stock_at(o, d, static_cast<int>(Status::Regular))] +
                                    in.counts[in.layout.stock_at(o, d, static_cast<int>(Status::Irregular))]);
      lg[d] = b.network_weight * std::log1p(D / 1000.0);
      network_log_max[o] = std::max(network_log_max[o], lg[d]);
    }
    for (int d = 0; d < n; ++d) {
      network[static_cast<std::size_t>(o) * N + d] = std::exp(lg[d] - network_log_max[o]);
      network_inv[static_cast<std::size_t>(o) * N + d] = std::exp(-lg[d]);
    }
  }
  // Factors of (l, d, s): the irregular route's feasibility q, q^access_weight, and the
  // income ratio's part of the departure logistic.
  const std::size_t lds = N * N * S;
  std::vector<double> q(lds, 0.0), q_access(lds), gain_inv(lds);
  const double floor_access = std::pow(kAccessFloor, b.access_weight);
  const double log_floor = std::log(kAccessFloor);
  std::vector<double> home_income(N * S);  // exp(log_home), computed once per (l, s)
  for (std::size_t ls = 0; ls < N * S; ++ls) home_income[ls] = std::exp(log_home[ls]);
  // Pathways' costs against the income at home, once per distinct cost (most share a few).
  const std::vector<double>& pcost = in.policy.pathway_cost;
  std::vector<double> distinct;
  for (double c : pcost)
    if (c > 0) distinct.push_back(c);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<int> cost_index(pcost.size(), -1);
  for (std::size_t p = 0; p < pcost.size(); ++p)
    if (pcost[p] > 0)
      cost_index[p] = static_cast<int>(std::lower_bound(distinct.begin(), distinct.end(), pcost[p]) - distinct.begin());
  const std::size_t K = distinct.size();
  std::vector<double> afford(N * S * K);
  for (std::size_t ls = 0; ls < N * S; ++ls)
    for (std::size_t c = 0; c < K; ++c) afford[ls * K + c] = std::exp(-b.cost_weight * distinct[c] / home_income[ls]);
  // Each (l, d, s) on its own: shared among the threads (a pure function of the month).
#pragma omp parallel for schedule(static)
  for (int l = 0; l < n; ++l)
    for (int d = 0; d < n; ++d) {
      const std::size_t ld = static_cast<std::size_t>(l) * N + d;
      const bool route = l != d && rt.reachable(l, d);
      // The sectors share the route's pass and death terms.
      const double route_lq = route ? std::log(std::max(rt.pass[ld], 1e-300)) - b.risk_weight * rt.death[ld] : 0.0;
      for (int sec = 0; sec < S; ++sec) {
        const std::size_t i = ld * S + sec;
        const std::size_t ls = static_cast<std::size_t>(l) * S + sec, ds = static_cast<std::size_t>(d) * S + sec;
        if (route) {
          const double lq = route_lq - b.cost_weight * rt.cost[ld] / home_income[ls];
          q[i] = std::exp(lq);
          q_access[i] = std::exp(b.access_weight * std::max(lq, log_floor));
        } else {
          q_access[i] = floor_access;
        }
        gain_inv[i] = std::exp(-b.income_weight * (log_income[ds] - log_home[ls]));
      }
    }

  auto& f = out.factors;
  f.income = std::move(income);
  f.income_log_max = std::move(income_log_max);
  f.network = std::move(network);
  f.network_inv = std::move(network_inv);
  f.network_log_max = std::move(network_log_max);
  f.q = std::move(q);
  f.q_access = std::move(q_access);
  f.gain_inv = std::move(gain_inv);
  f.pathway_afford = std::move(afford);
  f.pathway_cost_index = std::move(cost_index);
  f.costs = K;
  f.constants = &k;
  f.irregular_rate = b.irregular_rate;
  f.access_weight = b.access_weight;

  const std::size_t groups = N * O * S;
  out.choice_cdf.resize(groups * N);
  out.choice_ok.resize(groups);
  out.logsum.resize(groups);
  out.irregular.resize(groups * N);
  if (out.group_state_size != groups) {
    out.group_state = std::make_unique<std::atomic<std::uint8_t>[]>(groups);
    out.group_state_size = groups;
  }
  for (std::size_t g = 0; g < groups; ++g) out.group_state[g].store(0, std::memory_order_relaxed);
  // People at home: needed now for the movers' means; other groups when used. Static
  // shares: handing out 180 small groups one at a time cost more than it balanced (1M
  // agents, 2 threads: 2.6-2.8 ms a run dynamic, 1.8 static).
#pragma omp parallel for schedule(static)
  for (int os = 0; os < n * S; ++os) out.ensure_group(out.group(os / S, os / S, os % S));

  out.home_utility.assign(N * S, 0.0);
  out.mover_mean.assign(static_cast<std::size_t>(O) * S, 0.0);
  for (int o = 0; o < n; ++o) {
    for (int sec = 0; sec < S; ++sec) {
      const std::size_t os = static_cast<std::size_t>(o) * S + sec;
      out.home_utility[os] = b.income_weight * log_home[os];
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
