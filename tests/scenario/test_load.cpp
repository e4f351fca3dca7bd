#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "support/fixtures.hpp"

using namespace migsim;
using namespace migsim::test;

TEST_CASE("the example scenarios load") {
  const Scenario s = load_scenario(std::string(MIGSIM_SOURCE_DIR) + "/configs/examples/corridor.yaml");
  CHECK(s.n_countries() == 5);
  CHECK(s.rest_of_world);
  CHECK(s.n_origins() == 6);
  CHECK(s.months() == 60);
  CHECK(s.people_per_agent == 100);
  CHECK(s.pathways.size() == 6);
  // One pathway of each kind.
  for (int k = 0; k < kPathwayKinds; ++k) {
    bool found = false;
    for (const auto& p : s.pathways) found = found || static_cast<int>(p.kind) == k;
    CAPTURE(k);
    CHECK(found);
  }
  CHECK(s.events.size() == 4);
  CHECK(std::is_sorted(s.events.begin(), s.events.end(), [](const Event& a, const Event& b) { return a.date < b.date; }));
}

TEST_CASE("values are read into typed fields") {
  const Scenario s = load(base_yaml(24) + R"(
routes:
  - {edge: AAA-BBB, kind: land, months: 2, cost: 300, mortality: 0.01, interception: 0.1}
  - {edge: BBB-CCC, kind: sea}
pathways:
  - {name: v, country: CCC, kind: labour_visa, origins: [AAA], sectors: [farm], quota: 50, processing_months: 3, open: 2020-06, close: 2021-06}
  - {name: r, country: BBB, kind: regularisation, presence_before: 2020-03, take_up: 0.3}
initial_stock:
  BBB: {AAA: 1000, ROW: 10}
  CCC: {AAA: 5000}
initial_irregular_share: {default: 0.2, CCC: {AAA: 0.6}}
events:
  - {date: 2020-05, route: BBB-AAA, set: {mortality: 0.05}}
  - {date: 2020-02, country: CCC, sector: farm, set: {vacancy_factor: 2}}
)");
  CHECK(s.end.str() == "2021-12");
  REQUIRE(s.routes.size() == 2);
  CHECK(s.routes[0].months == 2);
  CHECK(s.routes[0].mortality == doctest::Approx(0.01));
  CHECK(s.routes[1].kind == RouteKind::Sea);
  CHECK(s.routes[1].months == 1);
  const Pathway& v = s.pathways[0];
  CHECK(v.origin_ok == std::vector<std::uint8_t>{1, 0, 0, 0});
  CHECK(v.sector_ok == std::vector<std::uint8_t>{1, 0});
  CHECK(*v.quota == 50);
  CHECK(v.close->str() == "2021-06");
  CHECK(s.pathways[1].applies_from == AppliesFrom::InCountry);
  CHECK_FALSE(s.pathways[1].quota);
  CHECK(s.rest_of_world);
  REQUIRE(s.initial_stock.size() == 3);
  CHECK(s.initial_stock[0].irregular_share == doctest::Approx(0.2));
  CHECK(s.initial_stock[2].irregular_share == doctest::Approx(0.6));
  CHECK(s.initial_persons() == 6010);
  // Events sorted by date; a route may be named in either direction.
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0].field == Event::Field::VacancyFactor);
  CHECK(s.events[0].sector == 0);
  CHECK(s.events[1].index == 0);
  // Distances from the capitals: 10 degrees of longitude at the equator = 1112 km.
  CHECK(s.distance_km[0][1] == doctest::Approx(1111.95).epsilon(0.001));
}

TEST_CASE("series interpolate linearly by month and hold outside their points") {
  const Scenario s = load(base_yaml() + "\n");
  Series x;
  x.points = {{Month::of(2010, 1), 100.0}, {Month::of(2011, 1), 220.0}};
  CHECK(x.at(Month::of(2009, 5)) == 100.0);
  CHECK(x.at(Month::of(2010, 7)) == doctest::Approx(160.0));
  CHECK(x.at(Month::of(2015, 1)) == 220.0);
  CHECK(s.countries[0].population.at(Month::of(2020, 5)) == 1.0e7);
}

TEST_CASE("sector shares are normalised when they add up to 1 within rounding") {
  std::string y = base_yaml();
  const auto at = y.find("sector_shares: {farm: 0.5, office: 0.5}");
  y.replace(at, 39, "sector_shares: {farm: 0.3334, office: 0.6667}");
  const Scenario s = load(y);
  CHECK(s.countries[0].sector_shares[0] + s.countries[0].sector_shares[1] == doctest::Approx(1.0));
}
