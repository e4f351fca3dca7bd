// Each mechanism against its formula, in scenarios where only that mechanism is switched
// on. Tolerances are five standard deviations of the distribution the count follows
// (binomial or Poisson): a correct model fails one of them with probability below 1e-6.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

#include "model/tables.hpp"
#include "support/model_run.hpp"

using namespace migsim;
using namespace migsim::test;

namespace {
constexpr int AAA = 0, BBB = 1, CCC = 2;

/// A month's count of events among BBB's initial migrants, each independently with
/// probability p(irregular, employed): the mean and variance of that sum of binomials, and
/// how many start unemployed (counted from the Run's initial state, seed 7).
struct BinomialSum {
  double mean = 0, var = 0, unemployed = 0;
};
template <typename P>
BinomialSum binomials_in_bbb(const Run& r, P p) {
  const auto& L = r.L();
  Model fresh(*r.scenario, 7);
  BinomialSum b;
  for (int irr = 0; irr < 2; ++irr)
    for (int emp = 0; emp < 2; ++emp) {
      double n = 0;
      for (int sector = 0; sector < 2; ++sector) n += double(fresh.counts()[L.labour_at(BBB, sector, irr, emp)]);
      const double q = p(irr, emp);
      b.mean += n * q;
      b.var += n * q * (1 - q);
      if (!emp) b.unemployed += n;
    }
  return b;
}
}  // namespace

TEST_CASE("mechanism 2: new movers follow working-age x share x move_rate when the other terms are off") {
  Run r(base_yaml(12) + quiet_behaviour("move_rate: 1.0e-4, gain_weight: 0, crisis_weight: 0, unemployment_weight: 0, give_up_months: 100"));
  // Per origin and sector: 6e6 x 0.5 x 1e-4 = 300 a month; 12 months = Poisson(3600).
  for (int o : {AAA, BBB, CCC}) {
    const double wa = o == CCC ? 6e7 : 6e6;
    std::int64_t movers = 0;
    for (const auto& m : r.months) movers += m.new_movers[static_cast<std::size_t>(o) * 2 + 0];
    const double expected = 12 * wa * 0.5 * 1e-4;
    CAPTURE(o);
    CHECK(within_sd(double(movers), expected, std::sqrt(expected)));
  }
}

TEST_CASE("mechanism 2: the crisis index raises the mover rate by exp(crisis_weight x crisis)") {
  const std::string y = with(base_yaml(12), "capital: [0, 0]", "capital: [0, 0], crisis: 0.5");
  Run r(y + quiet_behaviour("move_rate: 1.0e-4, gain_weight: 0, crisis_weight: 2, unemployment_weight: 0, give_up_months: 100"));
  std::int64_t movers = 0;
  for (const auto& m : r.months) movers += m.new_movers[0];
  const double expected = 12 * 6e6 * 0.5 * 1e-4 * std::exp(2 * 0.5);
  CHECK(within_sd(double(movers), expected, std::sqrt(expected)));
}

TEST_CASE("mechanism 3: std::pow(x, 1) is x, which access_power relies on when it skips the call") {
  // The choice tables take x for std::pow(x, 1) (weight 1, the default); outputs stay the
  // same only if pow returns x exactly. Checked over 2 million access values in [1e-6, 1]
  // (bit patterns drawn uniformly, so every binade is covered) and at the ends.
  std::mt19937_64 g(42);
  const std::uint64_t lo = 0x3EB0C6F7A0B5ED8Dull, hi = 0x3FF0000000000000ull;  // 1e-6, 1.0
  std::size_t differ = 0;
  for (int k = 0; k < 2'000'000; ++k) {
    const std::uint64_t bits = lo + g() % (hi - lo + 1);
    double x;
    std::memcpy(&x, &bits, sizeof x);
    volatile double one = 1.0;  // not folded at compile time
    differ += std::pow(x, one) != x;
  }
  CHECK(differ == 0);
  for (double x : {1e-6, 0.5, 1.0}) CHECK(access_power(x, 1.0) == std::pow(x, 1.0));
}

TEST_CASE("mechanism 3: with only the income term, destinations are chosen in proportion to wages") {
  // Unlimited free movement to BBB and CCC: every aspirant applies where it chose.
  Run r(base_yaml(12) + quiet_behaviour(
            "move_rate: 5.0e-5, gain_weight: 0, crisis_weight: 0, unemployment_weight: 0, income_weight: 1, "
            "network_weight: 0, distance_weight: 0, language_weight: 0, access_weight: 0") +
        R"(pathways:
  - {name: to-b, country: BBB, kind: free_movement, origins: [AAA]}
  - {name: to-c, country: CCC, kind: free_movement, origins: [AAA]}
)");
  const double b = double(r.total(r.L().applications + 0)), c = double(r.total(r.L().applications + 1));
  const double n = b + c;
  REQUIRE(n > 1000);
  // Vacancies exceed job seekers, so the employment prospect is 1 in both: P(CCC) = 48000 / 60000.
  const double p = 0.8;
  CHECK(within_sd(c / n, p, std::sqrt(p * (1 - p) / n)));
}

TEST_CASE("mechanism 3: a pathway's cost lowers the choice of its destination by exp(-cost_weight x cost / home income)") {
  // Only the access term: both destinations have an uncapped pathway (a = 1), no routes. The
  // income at home is AAA's monthly wage, 6000 / 12, times 1 - 0.1 unemployment: 450 in both
  // sectors; a cost of 4500 at CCC gives it exp(-0.1 x 4500 / 450) = exp(-1) of BBB's weight
  // until an event makes the pathway free at 2020-07 (t = 6).
  Run r(base_yaml(12) + quiet_behaviour(
            "move_rate: 5.0e-5, gain_weight: 0, crisis_weight: 0, unemployment_weight: 0, income_weight: 0, "
            "network_weight: 0, distance_weight: 0, language_weight: 0, access_weight: 1, cost_weight: 0.1") +
        R"(pathways:
  - {name: to-b, country: BBB, kind: free_movement, origins: [AAA]}
  - {name: to-c, country: CCC, kind: free_movement, origins: [AAA], cost: 4500}
events:
  - {date: 2020-07, pathway: to-c, set: {cost: 0}}
)");
  const auto& L = r.L();
  double b = 0, c = 0, b2 = 0, c2 = 0;
  for (int t = 0; t < 6; ++t) {
    b += double(r.at(t, L.applications + 0));
    c += double(r.at(t, L.applications + 1));
  }
  for (int t = 6; t < 12; ++t) {
    b2 += double(r.at(t, L.applications + 0));
    c2 += double(r.at(t, L.applications + 1));
  }
  REQUIRE(b + c > 1000);
  REQUIRE(b2 + c2 > 1000);
  const double p = std::exp(-1.0) / (1.0 + std::exp(-1.0));
  CHECK(within_sd(c / (b + c), p, std::sqrt(p * (1 - p) / (b + c))));
  CHECK(within_sd(c2 / (b2 + c2), 0.5, std::sqrt(0.25 / (b2 + c2))));
}

TEST_CASE("mechanism 3: a larger diaspora attracts more movers") {
  const std::string common = quiet_behaviour(
      "move_rate: 5.0e-5, gain_weight: 0, income_weight: 0, network_weight: 1, distance_weight: 0, "
      "language_weight: 0, access_weight: 0") + R"(pathways:
  - {name: to-b, country: BBB, kind: free_movement, origins: [AAA]}
  - {name: to-c, country: CCC, kind: free_movement, origins: [AAA]}
)";
  Run r(base_yaml(6) + common + "initial_stock: {BBB: {AAA: 50000}, CCC: {AAA: 1000}}\n");
  // P(BBB) / P(CCC) = (1 + 50) / (1 + 1) at the start, as the diaspora then grows.
  CHECK(r.total(r.L().applications + 0) > 10 * r.total(r.L().applications + 1));
}

TEST_CASE("mechanism 4: a capped pathway admits exactly min(quota, pending applications) a month") {
  Run r(base_yaml(12) + quiet_behaviour("move_rate: 5.0e-5, gain_weight: 0, access_weight: 0, give_up_months: 100") + R"(pathways:
  - {name: visa, country: CCC, kind: labour_visa, origins: [AAA], quota: 50, processing_months: 2}
)");
  const auto& L = r.L();
  std::int64_t pending_before = 0;
  for (int t = 0; t < 12; ++t) {
    CAPTURE(t);
    CHECK(r.at(t, L.admissions) == std::min<std::int64_t>(50, pending_before));
    pending_before = r.stock(t, AAA, AAA, Status::Applied);
  }
  CHECK(pending_before > 50);  // oversubscribed, so the cap was binding
  // Once oversubscribed, the quota is used in full every month: rejected applicants apply
  // again in the month they are turned down rather than sitting a month out.
  for (int t = 3; t < 12; ++t) {
    CAPTURE(t);
    CHECK(r.at(t, L.admissions) == 50);
  }
  // Admitted applicants wait processing_months, then arrive with a job (labour visa).
  CHECK(r.at(0, L.arrivals_at(AAA, CCC, 0)) == 0);
  CHECK(r.at(2, L.arrivals_at(AAA, CCC, 0)) == 0);  // admitted at month 1, travel at month 3
  CHECK(r.at(3, L.arrivals_at(AAA, CCC, 0)) == 50);
  CHECK(r.stock(11, AAA, CCC, Status::Regular) == r.at(11, L.labour_at(CCC, 0, 0, 1)) + r.at(11, L.labour_at(CCC, 1, 0, 1)) +
                                                     r.at(11, L.labour_at(CCC, 0, 0, 0)) + r.at(11, L.labour_at(CCC, 1, 0, 0)));
}

TEST_CASE("mechanism 4: admitted applicants travel as soon as processing ends, when an event shortens it") {
  // Processing of 6 months, cut to 1 from 2020-04 (t = 3): those admitted at t = 1 travel at
  // t = 3 (3 - 1 >= 1), not at t = 7, though they were admitted under the longer processing.
  Run r(base_yaml(10) + quiet_behaviour("move_rate: 5.0e-5, gain_weight: 0, access_weight: 0, give_up_months: 100") + R"(pathways:
  - {name: visa, country: CCC, kind: labour_visa, origins: [AAA], quota: 50, processing_months: 6}
events:
  - {date: 2020-04, pathway: visa, set: {processing_months: 1}}
)");
  const auto& L = r.L();
  REQUIRE(r.at(1, L.admissions) == 50);
  CHECK(r.at(2, L.arrivals_at(AAA, CCC, 0)) == 0);
  // Admitted at t = 1 and t = 2 travel at t = 3; from then on, a month after admission.
  CHECK(r.at(3, L.arrivals_at(AAA, CCC, 0)) == r.at(1, L.admissions) + r.at(2, L.admissions));
  for (int t = 4; t < 10; ++t) {
    CAPTURE(t);
    CHECK(r.at(t, L.arrivals_at(AAA, CCC, 0)) == r.at(t - 1, L.admissions));
  }
}

TEST_CASE("mechanism 4: the lottery picks applicants uniformly, not by id") {
  // Month 0's aspirants all apply; in month 1 the lottery admits 200 of them, who travel at
  // once (no processing). If the lottery were uniform, the admitted are split between the
  // lower and upper half of those ids like a draw without replacement.
  Run r(base_yaml(2) + quiet_behaviour("move_rate: 5.0e-5, give_up_months: 100") + R"(pathways:
  - {name: visa, country: CCC, kind: labour_visa, origins: [AAA], quota: 200, processing_months: 0}
)");
  const Agents& a = r.model->agents();
  std::int64_t n0 = 0;
  for (auto k : r.months[0].new_movers) n0 += k;
  REQUIRE(n0 > 400);
  const auto first_new = static_cast<std::uint32_t>(r.scenario->initial_agents());
  std::int64_t admitted = 0, low = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (static_cast<Status>(a.status[i]) != Status::Regular || a.since[i] != 1) continue;
    REQUIRE(a.id[i] >= first_new);
    REQUIRE(a.id[i] < first_new + n0);
    ++admitted;
    low += a.id[i] < first_new + n0 / 2;
  }
  REQUIRE(admitted == 200);
  // Hypergeometric: mean 100, sd <= sqrt(200 x 0.25) = 7.1.
  CHECK(within_sd(double(low), 100.0, 7.1));
}

TEST_CASE("mechanism 5: deaths and interceptions on an edge follow its probabilities") {
  Run r(base_yaml(12) + quiet_behaviour("move_rate: 5.0e-5, irregular_rate: 1, risk_weight: 0, cost_weight: 0, give_up_months: 100") +
        R"(routes:
  - {edge: AAA-BBB, months: 1, mortality: 0.1, interception: 0.2}
  - {edge: BBB-CCC, months: 1}
)");
  const auto& L = r.L();
  const double died = double(r.total(L.route_deaths + 0)), caught = double(r.total(L.interceptions + 0)),
               crossed = double(r.total(L.crossings + 0));
  const double n = died + caught + crossed;
  REQUIRE(n > 1000);
  CHECK(within_sd(died / n, 0.1, std::sqrt(0.1 * 0.9 / n)));
  CHECK(within_sd(caught / n, 0.2, std::sqrt(0.2 * 0.8 / n)));
  CHECK(r.total(L.route_deaths + 1) == 0);
  CHECK(r.total(L.interceptions + 1) == 0);
  // BBB-CCC is risk-free, so its crossings are exact sums of what follows them. Movers of every
  // origin leave irregularly (irregular_rate 1), each over its first edge in the month it
  // starts and over the next edge a month later (both edges take a month). In month t,
  // BBB-CCC is crossed by: AAA's migrants going to CCC on their second edge, who arrive at
  // CCC; BBB's going to CCC and CCC's going to BBB, who arrive at once; and CCC's going to
  // AAA on their first edge, who end the month in transit at BBB (the only CCC-born migrants
  // in transit there, as the edge takes one month).
  std::int64_t crossed1 = 0;
  for (int t = 0; t < 12; ++t) {
    const std::int64_t expected = r.at(t, L.arrivals_at(AAA, CCC, kArrivalIrregular)) +
                                  r.at(t, L.arrivals_at(BBB, CCC, kArrivalIrregular)) +
                                  r.at(t, L.arrivals_at(CCC, BBB, kArrivalIrregular)) +
                                  r.stock(t, CCC, BBB, Status::InTransit);
    CAPTURE(t);
    CHECK(r.at(t, L.crossings + 1) == expected);
    crossed1 += expected;
  }
  CHECK(crossed1 > 1000);
  // AAA's migrants in transit at BBB at the end of month t crossed AAA-BBB towards CCC; all
  // of them cross BBB-CCC and arrive in month t + 1.
  for (int t = 0; t < 11; ++t) {
    CAPTURE(t);
    CHECK(r.at(t + 1, L.arrivals_at(AAA, CCC, kArrivalIrregular)) == r.stock(t, AAA, BBB, Status::InTransit));
  }
}

TEST_CASE("mechanism 5: a journey takes the edges' months") {
  Run r(base_yaml(12) + quiet_behaviour("move_rate: 5.0e-5, irregular_rate: 1, risk_weight: 0, cost_weight: 0, give_up_months: 100") +
        R"(routes:
  - {edge: AAA-BBB, months: 3}
  - {edge: BBB-CCC, months: 3}
)");
  const auto& L = r.L();
  // Departing in month 0, the first edge ends in month 2, the second in month 5.
  for (int t = 0; t < 5; ++t) CHECK(r.at(t, L.arrivals_at(AAA, CCC, kArrivalIrregular)) == 0);
  CHECK(r.at(5, L.arrivals_at(AAA, CCC, kArrivalIrregular)) > 0);
  for (int t = 0; t < 2; ++t) CHECK(r.at(t, L.crossings + 0) == 0);
  CHECK(r.at(2, L.crossings + 0) > 0);
  CHECK(r.stock(4, AAA, BBB, Status::InTransit) > 0);  // on the second edge, counted where it started
}

TEST_CASE("mechanism 5: transit countries with an in-country pathway keep some of those passing through") {
  Run r(base_yaml(8) + quiet_behaviour("move_rate: 5.0e-5, irregular_rate: 1, risk_weight: 0, cost_weight: 0, transit_stay: 0.3, give_up_months: 100") +
        R"(routes:
  - {edge: AAA-BBB}
  - {edge: BBB-CCC}
pathways:
  - {name: refuge, country: BBB, kind: humanitarian_visa, origins: [AAA], applies_from: in_country}
)");
  const auto& L = r.L();
  // Of those reaching BBB on the way to CCC, 30% apply there (the rest go on to CCC).
  std::int64_t stayed = 0, went_on = 0;
  for (int t = 0; t < 7; ++t) {
    stayed += r.at(t, L.applications);
    went_on += r.at(t + 1, L.arrivals_at(AAA, CCC, kArrivalIrregular));  // BBB-CCC is safe
  }
  const double n = double(stayed + went_on);
  REQUIRE(n > 500);
  CAPTURE(stayed);
  CAPTURE(went_on);
  CHECK(within_sd(double(stayed) / n, 0.3, std::sqrt(0.21 / n)));
  CHECK(r.total(L.arrivals_at(AAA, BBB, static_cast<int>(PathwayKind::HumanitarianVisa))) > 0);
}

TEST_CASE("mechanism 6: hires match min(1, V / (R + m I)) per seeker") {
  // Everyone in BBB starts unemployed: BBB's unemployment is 1.
  const std::string y = with(base_yaml(3), "gdp_pc_ppp: 12000, unemployment: 0.05", "gdp_pc_ppp: 12000, unemployment: 1.0");
  Run r(y + quiet_behaviour("irregular_match: 0.5") + R"(initial_stock: {BBB: {AAA: 40000}}
initial_irregular_share: {BBB: 0.5}
)");
  const auto& L = r.L();
  // Month 0: per sector about 10000 regular and 10000 irregular seekers, V = 1000.
  const Scenario& s = *r.scenario;
  Model fresh(s, 7);
  const auto& c0 = fresh.counts();
  for (int sec = 0; sec < 2; ++sec) {
    const double R = double(c0[L.labour_at(BBB, sec, 0, 0)]), I = double(c0[L.labour_at(BBB, sec, 1, 0)]);
    const double h = std::min(1.0, 1000.0 / (R + 0.5 * I));
    const double mean = R * h + I * 0.5 * h;
    const double var = R * h * (1 - h) + I * 0.5 * h * (1 - 0.5 * h);
    CAPTURE(sec);
    CHECK(within_sd(double(r.at(0, L.hires_at(BBB, sec))), mean, std::sqrt(var)));
    // Each group on its own: nobody is employed at the start (unemployment 1) and nobody
    // loses a job or leaves (quiet behaviour), so month 0's employed of each status are its
    // hires: regular ~ Bin(R, h), irregular ~ Bin(I, m h) with m = 0.5. With R and I about
    // 10000, h is about 1/15: about 667 (sd 25) and 333 (sd 18). Were irregular_match ignored
    // (h = 1/20 for both), both would be about 500, the sum unchanged.
    REQUIRE(c0[L.labour_at(BBB, sec, 0, 1)] == 0);
    REQUIRE(c0[L.labour_at(BBB, sec, 1, 1)] == 0);
    CHECK(within_sd(double(r.at(0, L.labour_at(BBB, sec, 0, 1))), R * h, std::sqrt(R * h * (1 - h))));
    CHECK(within_sd(double(r.at(0, L.labour_at(BBB, sec, 1, 1))), I * 0.5 * h, std::sqrt(I * 0.5 * h * (1 - 0.5 * h))));
  }
}

TEST_CASE("mechanism 6: employed migrants lose their job at job_separation_rate") {
  Run r(base_yaml(1) + quiet_behaviour("job_separation_rate: 0.1") + "initial_stock: {CCC: {AAA: 100000}}\n");
  Model fresh(*r.scenario, 7);
  const auto& L = r.L();
  double employed0 = 0, lost = 0;
  for (int sec = 0; sec < 2; ++sec) {
    employed0 += double(fresh.counts()[L.labour_at(CCC, sec, 0, 1)]);
    lost += double(fresh.counts()[L.labour_at(CCC, sec, 0, 1)] - r.at(0, L.labour_at(CCC, sec, 0, 1)));
    lost += double(r.at(0, L.hires_at(CCC, sec)));  // some of the unemployed were hired meanwhile
  }
  CHECK(within_sd(lost, 0.1 * employed0, std::sqrt(employed0 * 0.09)));
}

TEST_CASE("mechanism 7: a regularisation converts at most its monthly capacity, only the eligible") {
  Run r(base_yaml(6) + quiet_behaviour() + R"(pathways:
  - {name: amnesty, country: BBB, kind: regularisation, origins: [AAA], presence_before: 2020-01, take_up: 1, quota: 3000}
initial_stock: {BBB: {AAA: 10000, CCC: 5000}}
initial_irregular_share: {BBB: 1.0}
)");
  const auto& L = r.L();
  CHECK(r.at(0, L.applications) == 10000);  // every eligible one applies at once (take_up 1)
  CHECK(r.at(0, L.admissions) == 0);        // decided from the next month
  CHECK(r.at(1, L.admissions) == 3000);
  CHECK(r.at(2, L.admissions) == 3000);
  CHECK(r.at(3, L.admissions) == 3000);
  CHECK(r.at(4, L.admissions) == 1000);
  CHECK(r.stock(5, AAA, BBB, Status::Regular) == 10000);
  CHECK(r.stock(5, CCC, BBB, Status::Irregular) == 5000);  // not an eligible origin
}

TEST_CASE("mechanism 7: the presence date excludes those who arrived later") {
  // Initial migrants arrived 1..120 months before the start; require arrival before 2015-01
  // (60 months before): about half qualify.
  Run r(base_yaml(2) + quiet_behaviour() + R"(pathways:
  - {name: amnesty, country: BBB, kind: regularisation, presence_before: 2015-01, take_up: 1}
initial_stock: {BBB: {AAA: 12000}}
initial_irregular_share: {BBB: 1.0}
)");
  // Arrived months before the start uniform on 1..120; eligible if more than 60: 60/120.
  const double n = 12000, p = 60.0 / 120.0;
  CHECK(within_sd(double(r.at(0, r.L().applications)), n * p, std::sqrt(n * p * (1 - p))));
  // Exactly: an initial migrant present for k months has since = -k, and arrived before
  // 2015-01 (month -60) if since < -60. All are irregular, of an eligible origin, and apply
  // in month 0 (take_up 1); counted from the same initial agents (the Run's seed, 7).
  Model fresh(*r.scenario, 7);
  const Agents& a = fresh.agents();
  std::int64_t eligible = 0, at_cutoff = 0, irregular = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    irregular += static_cast<Status>(a.status[i]) == Status::Irregular;
    eligible += a.since[i] < -60;
    at_cutoff += a.since[i] == -60;
  }
  REQUIRE(irregular == 12000);
  REQUIRE(at_cutoff > 0);  // about 100 arrived in 2015-01 itself, who must not count
  CHECK(r.at(0, r.L().applications) == eligible);
}

TEST_CASE("mechanism 8: deaths, deportations, returns and onward moves follow their rates") {
  Run r(with(base_yaml(1), "vacancies: {farm: 1000, office: 1000}}", "vacancies: {farm: 1000, office: 1000}, deportation_rate: 0.05}") +
        quiet_behaviour("natural_mortality: 0.01, return_rate: 0.02, onward_rate: 0.03, "
                        "return_unemployed_factor: 1, return_irregular_factor: 1, return_crisis_weight: 0") +
        R"(initial_stock: {BBB: {AAA: 100000}}
initial_irregular_share: {BBB: 0.5}
)");
  const auto& L = r.L();
  Model fresh(*r.scenario, 7);
  const double irregular = double(fresh.counts()[L.stock_at(AAA, BBB, static_cast<int>(Status::Irregular))]);
  const double n = 100000;
  auto check_rate = [&](double observed, double count, double p) {
    CHECK(within_sd(observed, count * p, std::sqrt(count * p * (1 - p))));
  };
  check_rate(double(r.at(0, L.natural_deaths + BBB)), n, 0.01);
  check_rate(double(r.at(0, L.pair_at(L.deportations, AAA, BBB))), irregular, 0.05);
  check_rate(double(r.at(0, L.pair_at(L.returns, AAA, BBB))), n, 0.02);
  check_rate(double(r.at(0, L.onward + BBB)), n, 0.03);
}

TEST_CASE("mechanism 8: onward moves rise with long unemployment and irregular status by their factors") {
  // No hiring in BBB and no job losses, so each initial migrant keeps its state for the month;
  // with long_unemployment_months 1 every initial unemployed one is long unemployed (present
  // since before the start). Onward: 0.03 x 4 if long unemployed x 2 if irregular.
  Run r(with(base_yaml(1), "vacancies: {farm: 1000, office: 1000}}", "vacancies: {farm: 0, office: 0}}") +
        quiet_behaviour("onward_rate: 0.03, onward_unemployed_factor: 4, onward_irregular_factor: 2, "
                        "long_unemployment_months: 1") +
        R"(initial_stock: {BBB: {AAA: 100000}}
initial_irregular_share: {BBB: 0.5}
)");
  const auto b = binomials_in_bbb(r, [](int irr, int emp) { return 0.03 * (emp ? 1.0 : 4.0) * (irr ? 2.0 : 1.0); });
  REQUIRE(b.unemployed > 2000);  // BBB's 5 % unemployment
  // Without the factors the mean would be 3,000; with them about 6,550.
  CHECK(within_sd(double(r.at(0, r.L().onward + BBB)), b.mean, std::sqrt(b.var)));
}

TEST_CASE("mechanism 8: returns rise with long unemployment and irregular status and fall with the crisis at home") {
  // As the onward test: no hiring in BBB and no job losses, so each initial migrant keeps its
  // state for the month, and every initial unemployed one is long unemployed. Half of BBB's
  // migrants start unemployed and half irregular; AAA's crisis index is 0.5. Return:
  // 0.02 x 4 if long unemployed x 2 if irregular x exp(-1 x 0.5); the count is a sum of
  // binomials, mean sum n_i p_i, sd sqrt(sum n_i p_i (1 - p_i)).
  std::string y = with(base_yaml(1), "vacancies: {farm: 1000, office: 1000}}", "vacancies: {farm: 0, office: 0}}");
  y = with(y, "gdp_pc_ppp: 12000, unemployment: 0.05", "gdp_pc_ppp: 12000, unemployment: 0.5");
  y = with(y, "capital: [0, 0]", "capital: [0, 0], crisis: 0.5");
  Run r(y + quiet_behaviour("return_rate: 0.02, return_unemployed_factor: 4, return_irregular_factor: 2, "
                            "return_crisis_weight: 1, long_unemployment_months: 1") +
        R"(initial_stock: {BBB: {AAA: 100000}}
initial_irregular_share: {BBB: 0.5}
)");
  const auto b = binomials_in_bbb(
      r, [](int irr, int emp) { return 0.02 * (emp ? 1.0 : 4.0) * (irr ? 2.0 : 1.0) * std::exp(-0.5); });
  REQUIRE(b.unemployed > 40000);
  // About 4,550 (sd 65); without the unemployed factor about 1,820, without the irregular
  // one about 3,030, without the crisis term about 7,500.
  CHECK(within_sd(double(r.at(0, r.L().pair_at(r.L().returns, AAA, BBB))), b.mean, std::sqrt(b.var)));
}

TEST_CASE("aspirants with no way to go give up after give_up_months") {
  Run r(base_yaml(8) + quiet_behaviour("move_rate: 1.0e-5, give_up_months: 3"));
  const auto& L = r.L();
  CHECK(r.at(0, L.gave_up + AAA) == 0);
  CHECK(r.at(2, L.gave_up + AAA) == 0);
  // Those who started in month 0 give up in month 3.
  std::int64_t started0 = r.months[0].new_movers[0] + r.months[0].new_movers[1];
  CHECK(r.at(3, L.gave_up + AAA) == started0);
}
