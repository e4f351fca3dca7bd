#include <doctest/doctest.h>

#include "model/drivers.hpp"
#include "model/policy.hpp"
#include "model/routes.hpp"
#include "support/fixtures.hpp"

using namespace migsim;
using namespace migsim::test;

TEST_CASE("pathways open and close by their dates, and events override them") {
  const Scenario s = load(base_yaml(24) + R"(
pathways:
  - {name: v, country: CCC, kind: labour_visa, quota: 100, open: 2020-03, close: 2020-08}
events:
  - {date: 2020-06, pathway: v, set: {quota: 40}}
  - {date: 2021-02, pathway: v, set: {open: true, quota: none}}
  - {date: 2021-06, pathway: v, set: {open: false}}
)");
  PolicyState p = PolicyState::initial(s);
  auto quota_at = [&](int y, int m) {
    p.apply_events(s, Month::of(y, m));
    return p.quota_at(s, 0, Month::of(y, m));
  };
  CHECK(quota_at(2020, 1) == 0);  // not open yet
  CHECK(quota_at(2020, 3) == 100);
  CHECK(quota_at(2020, 6) == 40);
  CHECK(quota_at(2020, 8) == 40);
  CHECK(quota_at(2020, 9) == 0);  // closed by date
  CHECK(quota_at(2021, 2) == -1);  // reopened, no cap
  CHECK(quota_at(2021, 5) == -1);
  CHECK(quota_at(2021, 6) == 0);
  CHECK(p.next_event == 4);  // the 2021-02 event sets two fields
}

TEST_CASE("route, country and sector events change what they name, from their month on") {
  const Scenario s = load(base_yaml() + R"(
routes:
  - {edge: AAA-BBB, mortality: 0.01}
  - {edge: BBB-CCC}
events:
  - {date: 2020-04, route: AAA-BBB, set: {mortality: 0.05, months: 3}}
  - {date: 2020-04, country: BBB, set: {crisis: 0.7, deportation_rate: 0.01}}
  - {date: 2020-05, country: CCC, sector: office, set: {vacancy_factor: 3}}
)");
  PolicyState p = PolicyState::initial(s);
  CHECK_FALSE(p.apply_events(s, Month::of(2020, 3)));
  CHECK(p.mortality[0] == doctest::Approx(0.01));
  CHECK(p.apply_events(s, Month::of(2020, 4)));  // a route changed
  CHECK(p.mortality[0] == doctest::Approx(0.05));
  CHECK(p.route_months[0] == 3);
  Drivers d;
  d.compute(s, p, Month::of(2020, 4));
  CHECK(d.crisis[1] == doctest::Approx(0.7));
  CHECK(d.vacancies[2 * 2 + 1] == doctest::Approx(5000));
  p.apply_events(s, Month::of(2020, 5));
  d.compute(s, p, Month::of(2020, 5));
  CHECK(d.vacancies[2 * 2 + 1] == doctest::Approx(15000));
  CHECK(d.vacancies[2 * 2 + 0] == doctest::Approx(5000));
  CHECK(d.wage[2 * 2 + 0] == doctest::Approx(48000.0 / 12));
}

TEST_CASE("routes take the fewest months, then the lower risk; totals multiply along the way") {
  // AAA-BBB-CCC (1 + 1 months) against AAA-CCC directly by sea (3 months).
  const Scenario s = load(base_yaml() + R"(
routes:
  - {edge: AAA-BBB, months: 1, cost: 100, mortality: 0.1, interception: 0.1}
  - {edge: BBB-CCC, months: 1, cost: 200, mortality: 0.2, interception: 0.0}
  - {edge: AAA-CCC, kind: sea, months: 3, cost: 50, mortality: 0.0}
)");
  PolicyState p = PolicyState::initial(s);
  RouteTable r;
  r.build(s, p);
  const int n = 3;
  CHECK(r.next_node[0 * n + 2] == 1);
  CHECK(r.next_edge[0 * n + 2] == 0);
  CHECK(r.months[0 * n + 2] == 2);
  CHECK(r.cost[0 * n + 2] == doctest::Approx(300));
  CHECK(r.death[0 * n + 2] == doctest::Approx(1 - 0.9 * 0.8));
  CHECK(r.pass[0 * n + 2] == doctest::Approx(0.8 * 0.8));
  CHECK(r.next_node[2 * n + 0] == 1);  // and back the same way
  CHECK_FALSE(r.reachable(1, 1));
  // Make the land route slower: the sea route wins.
  p.route_months[1] = 5;
  r.build(s, p);
  CHECK(r.next_node[0 * n + 2] == 2);
  CHECK(r.next_edge[0 * n + 2] == 2);
  CHECK(r.death[0 * n + 2] == doctest::Approx(0.0));
  // Equal months: the lower summed risk wins.
  p.route_months[1] = 2;
  r.build(s, p);
  CHECK(r.next_edge[0 * n + 2] == 2);
}
