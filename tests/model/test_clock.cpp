// Event clocks (model/clock.hpp): settled migrants sleep between candidate months drawn
// from a bound, and candidates are thinned to the month's true hazards. These tests check
// that the monthly rates stay exact over many months, when hazards change mid-run, and
// that the waiting times are geometric.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/clock.hpp"
#include "model/woken.hpp"
#include "support/model_run.hpp"

using namespace migsim;
using namespace migsim::test;

namespace {
constexpr int AAA = 0, BBB = 1;
}

TEST_CASE("clock bounds cover every hazard of the run, events included") {
  const Scenario s = load(base_yaml(12) + quiet_behaviour("job_separation_rate: 0.02, natural_mortality: 0.001, "
                                                          "return_rate: 0.003, return_irregular_factor: 2, onward_rate: 0.004") +
                          "events:\n  - {date: 2020-06, country: BBB, set: {deportation_rate: 0.05}}\n");
  ClockBounds c;
  c.build(s);
  CHECK(c.exit[c.at(BBB, 0)] == doctest::Approx(0.001 + 0.003 + 0.004));
  CHECK(c.exit[c.at(BBB, 1)] == doctest::Approx(0.001 + 0.05 + 0.006 + 0.004));
  CHECK(c.any[c.at(BBB, 1)] == doctest::Approx(1 - 0.98 * (1 - 0.061)));
  CHECK(c.exit[c.at(AAA, 1)] == doctest::Approx(0.011));
}

TEST_CASE("clock bounds cover the onward factors: irregular status, and long unemployment on the unemployed's clocks") {
  const Scenario s = load(base_yaml(12) + quiet_behaviour("job_separation_rate: 0.02, natural_mortality: 0.001, "
                                                          "return_rate: 0.003, return_irregular_factor: 1, "
                                                          "return_unemployed_factor: 1, onward_rate: 0.004, "
                                                          "onward_irregular_factor: 3, onward_unemployed_factor: 2"));
  ClockBounds c;
  c.build(s);
  CHECK(c.exit[c.at(BBB, 0)] == doctest::Approx(0.001 + 0.003 + 0.004));
  CHECK(c.exit[c.at(BBB, 1)] == doctest::Approx(0.001 + 0.003 + 0.012));
  CHECK(c.exit_unemployed[c.at(BBB, 0)] == doctest::Approx(0.001 + 0.003 + 0.008));
  CHECK(c.exit_unemployed[c.at(BBB, 1)] == doctest::Approx(0.001 + 0.003 + 0.024));
}

TEST_CASE("clock waiting times are geometric with the class's probability") {
  const Scenario s = load(base_yaml(2) + quiet_behaviour("job_separation_rate: 0.05"));
  ClockBounds c;
  c.build(s);
  const double q = c.any[c.at(AAA, 0)];
  REQUIRE(q == doctest::Approx(0.05));
  // Mean of waits (1..) over 20000 draws: 1/q = 20, sd of the mean sqrt((1-q)/q^2/n) = 0.138.
  // P(wait > 20) = (1 - q)^20 = 0.358, sd of the share sqrt(p(1-p)/n) = 0.0034.
  double sum = 0, first = 0, late = 0;
  const int n = 20000;
  for (std::uint32_t id = 0; id < static_cast<std::uint32_t>(n); ++id) {
    KeyedStream rs(3, 5, id, Purpose::Clock);
    const int wait = c.next_wake(rs, 5, c.at(AAA, 0)) - 5;
    REQUIRE(wait >= 1);
    sum += wait;
    first += wait == 1;
    late += wait > 20;
  }
  CHECK(within_sd(sum / n, 1 / q, std::sqrt((1 - q) / (q * q) / n)));
  CHECK(within_sd(first / n, q, std::sqrt(q * (1 - q) / n)));
  const double tail = std::pow(1 - q, 20);
  CHECK(within_sd(late / n, tail, std::sqrt(tail * (1 - tail) / n)));
}

TEST_CASE("batched clock wakes equal next_wake's, bit for bit, boundaries and the cap included") {
  // WakeBatch computes the geometric wait with a logarithm of its own and asks the
  // Geometric only where its ratio is within 1e-9 of a whole number. Compared with the
  // Geometric drawing the same word from a stream (what next_wake does), for random words
  // and for the words on either side of each month's boundary, where the two logarithms are
  // most likely to disagree; q down to 1e-6 makes most waits longer than kNever months.
  std::mt19937_64 gen(5);
  std::size_t compared = 0, exact = 0;
  for (const double q : {0.9, 0.3, 0.05, 0.0123, 1e-3, 1e-6}) {
    CAPTURE(q);
    const Geometric wait(q);
    const double log_1mp = std::log(1 - wait.p());
    std::vector<std::uint32_t> words = {0, 1, 2, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu};
    for (int k = 0; k < 20000; ++k) words.push_back(static_cast<std::uint32_t>(gen()));
    // Months of waiting: the word where the wait reaches k, for k up to 400 and where the
    // cap at kNever sets in for the months below (k = kNever - t - 1).
    std::vector<int> ks;
    for (int k = 1; k <= 400; ++k) ks.push_back(k);
    const int never = kNever;
    for (const int k : {never - 32, never - 31, never - 30, never - 1, never, never + 1}) ks.push_back(k);
    for (const int k : ks) {
      const double edge = std::ldexp(1.0 - std::pow(1.0 - q, k), 32);
      if (edge > 4294967290.0) continue;
      for (int d = -3; d <= 3; ++d) words.push_back(static_cast<std::uint32_t>(std::llround(edge) + d));
    }
    for (const int t : {-1, 30}) {
      CAPTURE(t);
      WakeBatch batch(t);
      std::vector<std::int16_t> got(words.size(), 12345);
      for (std::size_t j = 0; j < words.size(); ++j) batch.add(&got[j], words[j], wait, log_1mp);
      batch.finish();
      exact += batch.exact_draws();
      for (std::size_t j = 0; j < words.size(); ++j) {
        KeyedStream rs(1, 2, 3, Purpose::Clock, {0, 0, 0, words[j]}, 3);  // next word: words[j]
        const std::int64_t want = std::min<std::int64_t>(std::int64_t{t} + 1 + wait(rs), kNever);
        CAPTURE(words[j]);
        if (got[j] != want) CHECK(got[j] == want);  // (one report per mismatch, not 10^5 checks)
        ++compared;
      }
    }
  }
  CHECK(compared > 200000);
  // The boundary words put the ratio within the tolerance: the Geometric decided those.
  CHECK(exact > 100);
}

TEST_CASE("the model's clocks are the Geometric's draws of the right words") {
  // Each wake the model stores equals next_wake drawing from the stream the model documents:
  // initial employed migrants the month before the start's Clock stream; migrants who were
  // settled at the month's start word 3 of their Settled block; others (here: labour-visa
  // arrivals) the month's Clock stream. Checked for those employed after the month, whose
  // class the test can rebuild (ClockBounds from the scenario).
  const std::string y = base_yaml(8) +
                        quiet_behaviour("move_rate: 5.0e-5, gain_weight: 0, access_weight: 0, give_up_months: 100, "
                                        "job_separation_rate: 0.05, natural_mortality: 0.001") +
                        R"(pathways:
  - {name: visa, country: CCC, kind: labour_visa, origins: [AAA], processing_months: 1}
initial_stock: {BBB: {AAA: 20000}, CCC: {AAA: 20000}}
initial_irregular_share: {BBB: 0.3}
)";
  const Scenario s = load(y);
  const std::uint64_t seed = 7;
  Model model(s, seed);
  ClockBounds c;
  c.build(s);
  auto cls = [&](const Agents& a, std::size_t i) {
    return c.at(a.location[i], a.status[i] == static_cast<std::uint8_t>(Status::Irregular) ? 1 : 0);
  };
  const Agents& a = model.agents();
  std::size_t initial = 0, mismatched = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a.flags[i] & flag::kEmployed)) continue;
    KeyedStream rs(seed, static_cast<std::uint32_t>(-1), a.id[i], Purpose::Clock);
    mismatched += a.wake[i] != c.next_wake(rs, -1, cls(a, i));
    ++initial;
  }
  CHECK(initial > 20000);
  CHECK(mismatched == 0);
  std::size_t settled = 0, arrived = 0;
  mismatched = 0;
  for (int t = 0; t < 8; ++t) {
    const std::vector<std::uint8_t> status(a.status.begin(), a.status.end());
    const std::vector<std::int16_t> wake(a.wake.begin(), a.wake.end());
    model.step();
    for (std::size_t i = 0; i < status.size(); ++i) {
      const bool was_settled = status[i] == static_cast<std::uint8_t>(Status::Regular) ||
                               status[i] == static_cast<std::uint8_t>(Status::Irregular);
      const bool is_settled = a.status[i] == static_cast<std::uint8_t>(Status::Regular) ||
                              a.status[i] == static_cast<std::uint8_t>(Status::Irregular);
      if (!is_settled || !(a.flags[i] & flag::kEmployed)) continue;
      const auto month = static_cast<std::uint32_t>(t);
      if (was_settled && wake[i] <= t) {  // visited this month: a due clock, or a first one
        KeyedStream rs(seed, month, a.id[i], Purpose::Settled, random_block(seed, month, a.id[i], Purpose::Settled), 3);
        mismatched += a.wake[i] != c.next_wake(rs, t, cls(a, i));
        ++settled;
      } else if (!was_settled && status[i] != static_cast<std::uint8_t>(Status::Exited)) {
        KeyedStream rs(seed, month, a.id[i], Purpose::Clock);
        mismatched += a.wake[i] != c.next_wake(rs, t, cls(a, i));
        ++arrived;
      }
    }
  }
  CHECK(settled > 1000);
  CHECK(arrived > 100);
  CHECK(mismatched == 0);
}

TEST_CASE("clock classes with nothing to happen, or something every month") {
  // q = 0: never; q = 1: the next month, whatever the word; queued or not, the same.
  for (const char* rates : {"job_separation_rate: 0", "job_separation_rate: 1"}) {
    CAPTURE(rates);
    const Scenario s = load(base_yaml(2) + quiet_behaviour(rates));
    ClockBounds c;
    c.build(s);
    WakeBatch batch(5);
    std::int16_t got = 0;
    c.next_wake(batch, &got, 0x12345678u, c.at(AAA, 0));
    batch.finish();
    KeyedStream rs(1, 5, 3, Purpose::Clock, {0, 0, 0, 0x12345678u}, 3);
    const std::int16_t want = c.next_wake(rs, 5, c.at(AAA, 0));
    CHECK(got == want);
    CHECK(want == (c.any[c.at(AAA, 0)] > 0 ? 6 : kNever));
  }
}

TEST_CASE("job losses stay at job_separation_rate month after month") {
  // No vacancies (nobody is hired back), no exits: employed(t) should follow
  // employed(t-1) x (1 - 0.03) month by month.
  const std::string y = with(with(base_yaml(24), "vacancies: {farm: 5000, office: 5000}", "vacancies: {farm: 0, office: 0}"),
                             "gdp_pc_ppp: 48000, unemployment: 0.05", "gdp_pc_ppp: 48000, unemployment: 0.0");
  Run r(y + quiet_behaviour("job_separation_rate: 0.03") + "initial_stock: {CCC: {AAA: 200000}}\n");
  const auto& L = r.L();
  auto employed = [&](int t) {
    return double(r.at(t, L.labour_at(2, 0, 0, 1)) + r.at(t, L.labour_at(2, 1, 0, 1)));
  };
  double before = 200000;
  for (int t = 0; t < 24; ++t) {
    const double now = employed(t);
    CAPTURE(t);
    CHECK(within_sd(before - now, 0.03 * before, std::sqrt(before * 0.03 * 0.97)));
    before = now;
  }
  CHECK(r.total(L.hires) == 0);
}

TEST_CASE("exits follow the hazard when an event changes it mid-run") {
  // Irregular employed migrants in BBB; deportation rises from 0.01 to 0.04 in month 12.
  // Clocks drawn before the change must still give the new rate from month 12 on.
  const std::string y = with(with(base_yaml(24), "vacancies: {farm: 1000, office: 1000}}",
                                  "vacancies: {farm: 0, office: 0}, deportation_rate: 0.01}"),
                             "gdp_pc_ppp: 12000, unemployment: 0.05", "gdp_pc_ppp: 12000, unemployment: 0.0");
  Run r(y + quiet_behaviour() + R"(initial_stock: {BBB: {AAA: 300000}}
initial_irregular_share: {BBB: 1.0}
events:
  - {date: 2021-01, country: BBB, set: {deportation_rate: 0.04}}
)");
  const auto& L = r.L();
  double present = 300000;
  for (int t = 0; t < 24; ++t) {
    const double rate = t < 12 ? 0.01 : 0.04;
    const double deported = double(r.at(t, L.pair_at(L.deportations, AAA, BBB)));
    CAPTURE(t);
    CHECK(within_sd(deported, rate * present, std::sqrt(present * rate * (1 - rate))));
    present -= deported;
  }
}

TEST_CASE("a migrant hired back gets a clock, and job losses keep their rate") {
  // Plenty of vacancies: the unemployed are hired at once and then lose jobs at 0.05; the
  // steady state has about 0.05 / (1 + 0.05) unemployed at a month's end... here simply
  // check that separations match 0.05 x employed at the start of each month.
  Run r(base_yaml(12) + quiet_behaviour("job_separation_rate: 0.05") + "initial_stock: {CCC: {AAA: 50000}}\n");
  const auto& L = r.L();
  Model fresh(*r.scenario, 7);
  auto employed_at = [&](const std::vector<std::int64_t>& c) {
    return double(c[L.labour_at(2, 0, 0, 1)] + c[L.labour_at(2, 1, 0, 1)]);
  };
  double employed = employed_at(fresh.counts());
  for (int t = 0; t < 12; ++t) {
    const double hires = double(r.at(t, L.hires_at(2, 0)) + r.at(t, L.hires_at(2, 1)));
    const double now = employed_at(r.months[static_cast<std::size_t>(t)].counts);
    const double lost = employed + hires - now;
    CAPTURE(t);
    CHECK(within_sd(lost, 0.05 * employed, std::sqrt(employed * 0.05 * 0.95)));
    employed = now;
  }
}

TEST_CASE("the unemployed on clocks are hired at the month's chance as vacancies rise and fall") {
  // 200000 migrants in CCC; 2000 vacancies a month per sector, tripled in month 8 (the
  // hiring bounds are exceeded and raised) and halved in month 16 (the unemployed sleep
  // through months with a bound above the chance). Each month and sector, hires should be
  // Binomial(U, h) with U the unemployed at the month's start and h = min(1, V / U); returns,
  // at return_rate for employed and unemployed alike, Binomial(present, 0.01).
  const std::string y = with(base_yaml(24), "vacancies: {farm: 5000, office: 5000}", "vacancies: {farm: 2000, office: 2000}");
  Run r(y + quiet_behaviour("job_separation_rate: 0.05, return_rate: 0.01") + R"(initial_stock: {CCC: {AAA: 200000}}
events:
  - {date: 2020-09, country: CCC, set: {vacancy_factor: 3}}
  - {date: 2021-05, country: CCC, set: {vacancy_factor: 0.5}}
)");
  const auto& L = r.L();
  const int S = r.scenario->n_sectors();
  Model fresh(*r.scenario, 7);
  std::vector<std::int64_t> start = fresh.counts();
  int slept_months = 0;
  for (int t = 0; t < 24; ++t) {
    const auto& m = r.months[static_cast<std::size_t>(t)];
    double present = 0;
    for (int s = 0; s < S; ++s) {
      const double U = double(start[L.labour_at(2, s, 0, 0)]);
      const double V = m.vacancies[static_cast<std::size_t>(2 * S + s)];
      const double h = U > 0 ? std::min(1.0, V / U) : 0.0;
      const double hires = double(r.at(t, L.hires_at(2, s)));
      CAPTURE(t);
      CAPTURE(s);
      CHECK(within_sd(hires, h * U, std::sqrt(U * h * (1 - h))));
      present += U + double(start[L.labour_at(2, s, 0, 1)]);
      slept_months += h < 0.5;
    }
    const double returned = double(r.at(t, L.pair_at(L.returns, 0, 2)));
    CHECK(within_sd(returned, 0.01 * present, std::sqrt(present * 0.01 * 0.99)));
    start = m.counts;
  }
  CHECK(slept_months > 24);  // the chances stayed low enough for the clocks to matter
}

TEST_CASE("the woken clocks' table holds each row's clock, employed and unemployed, for the month") {
  // Rows (location, sector, legal status, employment) against the two clocks they stand for:
  // ClockBounds' class for the employed, UnemployedClocks' group for the unemployed; a
  // group's raised hiring bound and a location's open regularisation keep its migrants off
  // their clocks (runs_on_clock in step.cpp). The classification relies on each kind's limits
  // never decreasing (woken.hpp): checked on every row.
  const Scenario s = load(base_yaml(2) + quiet_behaviour("job_separation_rate: 0.03, return_rate: 0.004, onward_rate: 0.002"));
  const int C = s.n_countries(), S = s.n_sectors();
  ClockBounds clock;
  clock.build(s);
  UnemployedClocks unemployed;
  std::vector<double> hire_p(static_cast<std::size_t>(C * S * 2));
  for (std::size_t g = 0; g < hire_p.size(); ++g) hire_p[g] = 0.05 + 0.01 * static_cast<double>(g % 7);
  unemployed.update(clock, hire_p, S);  // the first month: every bound set
  hire_p[unemployed.group(BBB, 1, 0, S)] = 0.9;  // the second: one group's bound raised
  unemployed.update(clock, hire_p, S);
  REQUIRE(unemployed.raised[unemployed.group(BBB, 1, 0, S)] == 1);
  REQUIRE(unemployed.raised[unemployed.group(AAA, 0, 0, S)] == 0);
  std::vector<std::uint8_t> open(static_cast<std::size_t>(C), 0);
  open[AAA] = 1;
  WokenTable table;
  table.build(clock, unemployed, open.data(), C, S);
  for (int l = 0; l < C; ++l)
    for (int sector = 0; sector < S; ++sector)
      for (int irr = 0; irr < 2; ++irr)
        for (int emp = 0; emp < 2; ++emp) {
          CAPTURE(l);
          CAPTURE(sector);
          CAPTURE(irr);
          CAPTURE(emp);
          const std::size_t q = table.row(l, sector, irr, emp), g = unemployed.group(l, sector, irr, S);
          const std::size_t cls = clock.at(l, irr);
          const Exclusive<3>& kind = emp ? clock.kind[cls] : unemployed.kind[g];
          CHECK(kind.limit[0] <= kind.limit[1]);
          CHECK(kind.limit[1] <= kind.limit[2]);
          CHECK(table.first_limit[q] == kind.limit[0]);
          CHECK(table.last_limit[q] == kind.limit[2]);
          CHECK(table.hire[q] == (emp ? std::uint64_t{1} << 32 : unemployed.hire[g].limit));
          const bool on = (irr == 0 || l != AAA) && (emp == 1 || !(l == BBB && sector == 1 && irr == 0));
          CHECK(table.on_clock[q] == (on ? 1u : 0u));
          CHECK(table.any[q] == (emp ? clock.any[cls] : unemployed.any[g]));
          CHECK(table.log_1mp[q] == (emp ? clock.log_1mp[cls] : unemployed.log_1mp[g]));
          CHECK(table.wait[q] == (emp ? &clock.wait[cls] : &unemployed.wait[g]));
        }
  CHECK(table.first_limit.size() == static_cast<std::size_t>(C * S * 4));
}
