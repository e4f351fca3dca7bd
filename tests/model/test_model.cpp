// Whole-model properties: the counts kept up to date from each month's changes equal a
// recount of the agents; people are neither created nor lost outside the mechanisms; the
// result does not depend on the number of threads; seeds and people_per_agent behave.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/discrete_distribution.hpp>
#include <cmath>
#include <iterator>
#include <numeric>

#include "core/rng.hpp"
#include "support/model_run.hpp"

using namespace migsim;
using namespace migsim::test;

namespace {

std::string corridor_path() { return std::string(MIGSIM_SOURCE_DIR) + "/configs/examples/corridor.yaml"; }

/// Every mechanism on, no inflows (so the accounting identity is exact).
std::string busy_yaml(int months = 24) {
  return base_yaml(months) + R"(behaviour: {move_rate: 4.0e-5, onward_rate: 0.002, return_rate: 0.004, natural_mortality: 0.001, transit_stay: 0.2, give_up_months: 6}
routes:
  - {edge: AAA-BBB, months: 1, mortality: 0.01, interception: 0.05}
  - {edge: BBB-CCC, months: 2, mortality: 0.005, interception: 0.2}
pathways:
  - {name: visa, country: CCC, kind: labour_visa, origins: [AAA, BBB], sectors: [farm], quota: 100, processing_months: 2}
  - {name: free, country: BBB, kind: free_movement, origins: [AAA]}
  - {name: refuge, country: BBB, kind: humanitarian_visa, applies_from: both, quota: 50}
  - {name: amnesty, country: CCC, kind: regularisation, presence_before: 2020-06, take_up: 0.1, quota: 500, open: 2020-03, close: 2021-03}
initial_stock: {BBB: {AAA: 30000}, CCC: {AAA: 80000, BBB: 20000}}
initial_irregular_share: {default: 0.3}
events:
  - {date: 2020-09, route: BBB-CCC, set: {mortality: 0.02}}
  - {date: 2020-10, pathway: visa, set: {quota: 300}}
  - {date: 2021-01, country: AAA, set: {crisis: 0.6}}
)";
}

std::int64_t exits(const CounterLayout& L, const std::vector<std::int64_t>& c) {
  std::int64_t e = 0;
  auto sum = [&](std::size_t from, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) e += c[from + k];
  };
  const auto O = static_cast<std::size_t>(L.origins), C = static_cast<std::size_t>(L.countries),
             R = static_cast<std::size_t>(L.routes);
  sum(L.gave_up, O);
  sum(L.route_deaths, R);
  sum(L.interceptions, R);
  sum(L.natural_deaths, C);
  sum(L.deportations, O * C);
  sum(L.returns, O * C);
  return e;
}

}  // namespace

TEST_CASE("initial agents: ids in the stock's cell order; sector, status and months present from their block") {
  // What create_initial_agents documents, rebuilt one agent at a time from the scalar
  // random_block: the agent with id k belongs to the stock cell whose rounded agent counts
  // cover k; word 0 picks the sector by inversion of the shares, word 1 irregular status at
  // the cell's share, word 3 the months present (1..120).
  const Scenario s = load_scenario(corridor_path());
  const int n = s.n_countries(), S = s.n_sectors();
  const std::int64_t ppa = s.people_per_agent;
  std::vector<std::int64_t> first{0};
  for (const auto& c : s.initial_stock) first.push_back(first.back() + (c.persons + ppa / 2) / ppa);
  const int threads_before = omp_get_max_threads();
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    const std::uint64_t seed = 5;
    Model m(s, seed);
    const Agents& a = m.agents();
    REQUIRE(static_cast<std::int64_t>(a.size()) == first.back());
    std::size_t wrong_cell = 0, wrong_sector = 0, wrong_status = 0, wrong_present = 0;
    std::vector<std::size_t> per_sector(static_cast<std::size_t>(S), 0);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::uint32_t id = a.id[i];
      std::size_t cell = 0;
      while (first[cell + 1] <= static_cast<std::int64_t>(id)) ++cell;
      const StockCell& sc = s.initial_stock[cell];
      wrong_cell += a.origin[i] != sc.origin || a.location[i] != sc.location;
      const auto w = random_block(seed, 0, id, Purpose::InitialAgent);
      const auto& shares = s.countries[static_cast<std::size_t>(sc.origin < n ? sc.origin : sc.location)].sector_shares;
      double total = 0;
      for (double x : shares) total += x;
      const double u = to_unit(w[0]) * total;
      int sector = 0;
      double cum = shares[0];
      while (sector + 1 < S && !(u < cum)) cum += shares[static_cast<std::size_t>(++sector)];
      wrong_sector += (a.flags[i] & flag::kSectorMask) != sector;
      ++per_sector[static_cast<std::size_t>(a.flags[i] & flag::kSectorMask)];
      const bool irregular = Chance(sc.irregular_share).happens(w[1]);
      wrong_status += a.status[i] != static_cast<std::uint8_t>(irregular ? Status::Irregular : Status::Regular);
      wrong_present += a.since[i] != -(1 + static_cast<int>((std::uint64_t{w[3]} * 120) >> 32));
    }
    CAPTURE(threads);
    CHECK(wrong_cell == 0);
    CHECK(wrong_sector == 0);
    CHECK(wrong_status == 0);
    CHECK(wrong_present == 0);
    for (int k = 0; k < S; ++k) CHECK(per_sector[static_cast<std::size_t>(k)] > 100);  // every sector drawn
  }
  omp_set_num_threads(threads_before);
}

TEST_CASE("state counts kept from monthly changes equal a recount of the agents") {
  for (const std::string& yaml : {busy_yaml(24)}) {
    const Scenario s = load(yaml);
    Model m(s, 3);
    for (int t = 0; t < s.months(); ++t) {
      m.step();
      CAPTURE(t);
      const auto re = m.recount();
      REQUIRE(std::equal(re.begin(), re.end(), m.counts().begin()));
    }
  }
  const Scenario c = load_scenario(corridor_path());
  Model m(c, 11);
  for (int t = 0; t < c.months(); ++t) m.step();
  const auto re = m.recount();
  CHECK(std::equal(re.begin(), re.end(), m.counts().begin()));
}

TEST_CASE("people are created only as new movers and leave only through the exits") {
  Run r(busy_yaml(24));
  const auto& L = r.L();
  std::int64_t before = r.scenario->initial_agents();
  for (std::size_t t = 0; t < r.months.size(); ++t) {
    const auto& m = r.months[t];
    const std::int64_t movers = std::accumulate(m.new_movers.begin(), m.new_movers.end(), std::int64_t{0});
    CAPTURE(t);
    CHECK(m.agents == before + movers - exits(L, m.counts));
    const std::int64_t stock = std::accumulate(m.counts.begin() + static_cast<std::ptrdiff_t>(L.stock),
                                               m.counts.begin() + static_cast<std::ptrdiff_t>(L.labour), std::int64_t{0});
    CHECK(stock == m.agents);
    before = m.agents;
  }
  // Every mechanism happened at least once in this scenario.
  for (std::size_t idx : {L.applications, L.admissions, L.crossings, L.route_deaths, L.interceptions,
                          L.natural_deaths + 2, L.onward + 2, L.gave_up}) {
    CAPTURE(idx);
    CHECK(r.total(idx) > 0);
  }
  CHECK(r.total(L.admissions + 3) > 0);  // regularisation
  CHECK(r.total(L.pair_at(L.returns, 0, 2)) > 0);
}

TEST_CASE("the same scenario and seed give the same counts at 1, 2 and 4 threads") {
  const std::string yaml = busy_yaml(18);
  Run one(yaml, -1, 1), two(yaml, -1, 2), four(yaml, -1, 4);
  for (std::size_t t = 0; t < one.months.size(); ++t) {
    CAPTURE(t);
    CHECK(one.months[t].counts == two.months[t].counts);
    CHECK(one.months[t].counts == four.months[t].counts);
    CHECK(one.months[t].new_movers == four.months[t].new_movers);
  }
  // And the agents themselves, slot by slot.
  CHECK(one.model->agents().id == four.model->agents().id);
  CHECK(one.model->agents().flags == four.model->agents().flags);
  omp_set_num_threads(2);
}

TEST_CASE("a team smaller than the threads asked for (OMP_DYNAMIC) gives the same counts") {
  // With dynamic adjustment the runtime may run fewer threads than omp_get_max_threads();
  // the slots of threads left out must not be summed (they once were read past their end).
  const std::string yaml = busy_yaml(12);
  Run one(yaml, -1, 1);
  const int asked = 4 * omp_get_num_procs();
  omp_set_dynamic(1);
  int team = 0;
  omp_set_num_threads(asked);
#pragma omp parallel
  {
#pragma omp single
    team = omp_get_num_threads();
  }
  REQUIRE(team < asked);  // precondition: the runtime does shrink the team here
  Run many(yaml, -1, asked);
  omp_set_dynamic(0);
  omp_set_num_threads(2);
  for (std::size_t t = 0; t < one.months.size(); ++t) {
    CAPTURE(t);
    CHECK(one.months[t].counts == many.months[t].counts);
  }
}

TEST_CASE("seeds: the same seed repeats, another seed differs") {
  const std::string yaml = busy_yaml(6);
  Run a(yaml, -1, 0, 1), b(yaml, -1, 0, 1), c(yaml, -1, 0, 2);
  CHECK(a.months.back().counts == b.months.back().counts);
  CHECK(a.months.back().counts != c.months.back().counts);
}

TEST_CASE("people_per_agent: the initial stock is kept within rounding, and outputs are persons") {
  const Scenario s1 = load(busy_yaml(1));
  const Scenario s10 = load(with(busy_yaml(1), "people_per_agent: 1", "people_per_agent: 10"));
  CHECK(s10.initial_agents() * 10 == s1.initial_persons());
  const Scenario s7 = load(with(busy_yaml(1), "people_per_agent: 1", "people_per_agent: 7"));
  // Each stock cell rounds to the nearest agent: at most 3 persons off per cell.
  CHECK(std::llabs(s7.initial_agents() * 7 - s7.initial_persons()) <= 3 * static_cast<long long>(s7.initial_stock.size()));
}

TEST_CASE("new agents of an inflow: sector and status from their own stream, with the shares of the country they come from or go to") {
  // Three inflows whose home countries (where the sector shares come from: the origin, or
  // the destination for the rest of the world) have different shares; no movers and no
  // exits, so every settled agent after month 0 arrived by an inflow, known by its origin
  // and location. Each one's sector and status are drawn, in that order, from its NewAgent
  // stream: a discrete draw over the home's shares, then a Bernoulli at the inflow's
  // irregular share.
  const std::string yaml = R"(scenario_format: 1
name: inflows
start: 2020-01
end: 2020-03
seed: 11
people_per_agent: 1
sectors: [farm, office, care]
countries:
  - {code: AAA, language: x, capital: [0, 0], population: 1.0e7, working_age: 6.0e6, gdp_pc_ppp: 6000, unemployment: 0.1, sector_shares: {farm: 0.8, office: 0.15, care: 0.05}}
  - {code: BBB, language: x, capital: [0, 10], population: 1.0e7, working_age: 6.0e6, gdp_pc_ppp: 12000, unemployment: 0.05, sector_shares: {farm: 0.1, office: 0.3, care: 0.6}, vacancies: {farm: 1000, office: 1000, care: 1000}}
  - {code: CCC, language: y, capital: [0, 20], population: 1.0e8, working_age: 6.0e7, gdp_pc_ppp: 48000, unemployment: 0.05, sector_shares: {farm: 0.3, office: 0.6, care: 0.1}, vacancies: {farm: 5000, office: 5000, care: 5000}}
inflows:
  - {origin: ROW, destination: BBB, persons_per_year: 24000, irregular_share: 0.3}
  - {origin: AAA, destination: CCC, persons_per_year: 24000, irregular_share: 0.1}
  - {origin: ROW, destination: CCC, persons_per_year: 24000, irregular_share: 0.5}
)" + quiet_behaviour();
  const Scenario s = load(yaml);
  const int n = s.n_countries();
  const int threads_before = omp_get_max_threads();
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    const std::uint64_t seed = 11;
    Model m(s, seed);
    m.step();
    const Agents& a = m.agents();
    std::size_t checked = 0, wrong_sector = 0, wrong_status = 0, strays = 0;
    std::vector<std::size_t> per_inflow(s.inflows.size(), 0);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto st = static_cast<Status>(a.status[i]);
      if (st != Status::Regular && st != Status::Irregular) continue;
      std::size_t f = 0;
      while (f < s.inflows.size() && !(s.inflows[f].origin == a.origin[i] && s.inflows[f].destination == a.location[i]))
        ++f;
      if (f == s.inflows.size()) {
        ++strays;
        continue;
      }
      const Inflow& in = s.inflows[f];
      const auto& shares = s.countries[static_cast<std::size_t>(in.origin < n ? in.origin : in.destination)].sector_shares;
      KeyedStream rs(seed, 0, a.id[i], Purpose::NewAgent);
      const int sector = boost::random::discrete_distribution<int, double>(shares.begin(), shares.end())(rs);
      const bool irregular = boost::random::bernoulli_distribution<double>(in.irregular_share)(rs);
      wrong_sector += (a.flags[i] & flag::kSectorMask) != sector;
      wrong_status += st != (irregular ? Status::Irregular : Status::Regular);
      ++per_inflow[f];
      ++checked;
    }
    CAPTURE(threads);
    CHECK(strays == 0);
    CHECK(wrong_sector == 0);
    CHECK(wrong_status == 0);
    // Each inflow brings Poisson(2,000) agents in the month: 5 sd is about 224.
    for (std::size_t f = 0; f < per_inflow.size(); ++f) CHECK(within_sd(double(per_inflow[f]), 2000.0, std::sqrt(2000.0)));
    CHECK(checked == a.size());
  }
  omp_set_num_threads(threads_before);
}

TEST_CASE("merge_free merges two sorted lists of slots in place") {
  const auto merged = [](std::vector<std::uint32_t> free, const std::vector<std::uint32_t>& freed) {
    std::vector<std::uint32_t> expect;
    std::merge(free.begin(), free.end(), freed.begin(), freed.end(), std::back_inserter(expect));
    merge_free(free, freed);
    return free == expect;
  };
  CHECK(merged({}, {}));
  CHECK(merged({}, {3, 9}));
  CHECK(merged({4, 8}, {}));
  CHECK(merged({10, 20, 30}, {1, 2}));       // all freed below
  CHECK(merged({1, 2}, {10, 20, 30}));       // all freed above
  CHECK(merged({1, 5, 9, 13}, {0, 6, 7, 14}));  // interleaved, both ends
  std::vector<std::uint32_t> a, b;
  for (std::uint32_t k = 0; k < 5000; ++k) ((k * 2654435761u) >> 31 ? a : b).push_back(k);
  CHECK(merged(a, b));
  CHECK(merged(b, a));
}
