// Every kind of error message the scenario loader gives: each names the file, line, column
// and key path, says what was expected and what was found, and all are reported together.
#include <doctest/doctest.h>

#include "support/fixtures.hpp"

using namespace migsim;
using namespace migsim::test;

namespace {
/// The single problem of a scenario with `extra` appended to the base.
std::string only_problem(const std::string& extra) {
  const auto p = problems(base_yaml() + extra);
  REQUIRE_MESSAGE(p.size() == 1, "problems: " << p.size() << (p.empty() ? "" : " first: " + p[0]));
  return p[0];
}
}  // namespace

TEST_CASE("wrong types name the key path, what was expected and what was found") {
  // base_yaml has 11 lines; the next line is 12.
  CHECK(only_problem("pathways:\n  - {name: v, country: CCC, kind: labour_visa, quota: lots}\n") ==
        "test.yaml:13:55: pathways[v].quota: expected an integer between 0 and 10000000000, got \"lots\"");
  CHECK(only_problem("routes:\n  - {edge: AAA-BBB, months: 1.5}\n  - {edge: BBB-CCC}\n") ==
        "test.yaml:13:29: routes[AAA-BBB].months: expected an integer between 1 and 120, got \"1.5\"");
  CHECK(only_problem("behaviour: {move_rate: high}\n") ==
        "test.yaml:12:24: behaviour.move_rate: expected a number, got \"high\"");
  CHECK(only_problem("behaviour: {move_rate: '0.1'}\n").find("expected a number, got \"0.1\"") != std::string::npos);
  CHECK(only_problem("behaviour: [1, 2]\n") == "test.yaml:12:12: behaviour: expected a map of keys, got a list");
  CHECK(only_problem("routes: {edge: AAA-BBB}\n") == "test.yaml:12:9: routes: expected a list, got a map");
  CHECK(only_problem("pathways:\n  - {name: v, country: CCC, kind: labour_visa, open: soon}\n")
            .find("pathways[v].open: expected a month like 2010-01, got \"soon\"") != std::string::npos);
}

TEST_CASE("numbers out of range, not finite, and probabilities outside [0, 1]") {
  // An integer a double cannot hold exactly says why it is refused; a quota says its bound.
  const auto huge = problems(with(base_yaml(), "scenario_format: 1", "scenario_format: 1e16"));
  REQUIRE(huge.size() == 1);
  CHECK(huge[0].find("scenario_format: expected a positive integer of at most 9007199254740992 (2^53), got \"1e16\"") !=
        std::string::npos);
  CHECK(only_problem("pathways:\n  - {name: v, country: CCC, kind: labour_visa, quota: 2e10}\n")
            .find("pathways[v].quota: expected an integer between 0 and 10000000000, got \"2e10\"") != std::string::npos);
  CHECK(only_problem("behaviour: {return_rate: 1.5}\n") ==
        "test.yaml:12:26: behaviour.return_rate: expected a probability between 0 and 1, got 1.5");
  CHECK(only_problem("behaviour: {return_rate: -0.1}\n").find("expected a probability between 0 and 1, got -0.1") !=
        std::string::npos);
  CHECK(only_problem("behaviour: {income_weight: .inf}\n").find("expected a finite number, got \".inf\"") !=
        std::string::npos);
  CHECK(only_problem("behaviour: {income_weight: .nan}\n").find("expected a finite number") != std::string::npos);
  CHECK(only_problem("routes:\n  - {edge: AAA-BBB, cost: -5}\n  - {edge: BBB-CCC}\n").find("expected a number between 0 and 1e+09, got -5") !=
        std::string::npos);
  CHECK(only_problem("initial_stock: {BBB: {AAA: -3}}\n").find("expected an integer between 0 and 10000000000000, got \"-3\"") !=
        std::string::npos);
  CHECK(only_problem("routes:\n  - {edge: AAA-BBB, mortality: 0.6, interception: 0.6}\n  - {edge: BBB-CCC}\n")
            .find("mortality + interception is above 1") != std::string::npos);
}

TEST_CASE("unknown keys suggest the nearest valid key") {
  // `extends` is read before the other keys, but a misspelling of it is still corrected, and
  // is the only problem reported (the keys its base would give are not also reported missing).
  CHECK(only_problem("extend: other.yaml\n") == "test.yaml:12:1: extend: unknown key; did you mean \"extends\"?");
  CHECK(problems("extens: base.yaml\nname: variant\n") ==
        std::vector<std::string>{"test.yaml:1:1: extens: unknown key; did you mean \"extends\"?"});
  // A key nearer another (`exents` for `events`) does not stop the loader: the file's other
  // problems are reported too.
  const auto p = problems(with(base_yaml(), "start: 2020-01", "start: banana") + "exents: []\n");
  CHECK(p.size() == 2);
  CHECK(contains(p, "exents: unknown key; did you mean \"events\"?"));
  CHECK(only_problem("pathways:\n  - {name: v, country: CCC, kind: labour_visa, qouta: 5}\n") ==
        "test.yaml:13:48: pathways[v].qouta: unknown key; did you mean \"quota\"?");
  CHECK(only_problem("behavior: {}\n") == "test.yaml:12:1: behavior: unknown key; did you mean \"behaviour\"?");
  const std::string far = only_problem("zzzz: 1\n");
  CHECK(far.find("zzzz: unknown key; expected one of:") != std::string::npos);
  CHECK(only_problem("pathways:\n  - {name: v, country: CCC, kind: labour_vias}\n")
            .find("unknown value \"labour_vias\"; did you mean \"labour_visa\"?") != std::string::npos);
}

TEST_CASE("missing required keys") {
  auto p = problems("scenario_format: 1\nstart: 2020-01\n");
  CHECK(contains(p, "test.yaml:1:1: end: missing required key"));
  CHECK(contains(p, "sectors: missing required key"));
  CHECK(contains(p, "countries: missing required key"));
  CHECK(only_problem("pathways:\n  - {name: v, kind: labour_visa}\n") ==
        "test.yaml:13:5: pathways[v].country: missing required key");
  CHECK(only_problem("pathways:\n  - {name: r, country: BBB, kind: regularisation}\n")
            .find("pathways[r].take_up: missing required key") != std::string::npos);
}

TEST_CASE("dates out of range or in the wrong order") {
  auto p = problems("scenario_format: 1\nstart: 2020-05\nend: 2020-01\nsectors: [a]\ncountries: []\n");
  CHECK(contains(p, "test.yaml:3:6: end: the run ends (2020-01) before it starts (2020-05)"));
  CHECK(only_problem("pathways:\n  - {name: v, country: CCC, kind: labour_visa, open: 2021-01, close: 2020-06}\n")
            .find("the pathway closes (2020-06) before it opens (2021-01)") != std::string::npos);
  CHECK(only_problem("events:\n  - {date: 2019-12, country: AAA, set: {crisis: 0.5}}\n")
            .find("events[0].date: the event's month 2019-12 is before the run starts (2020-01)") !=
        std::string::npos);
  CHECK(only_problem("countries_extra: 1\n").find("unknown key") != std::string::npos);
}

TEST_CASE("references to countries, sectors, pathways and routes that do not exist") {
  CHECK(only_problem("pathways:\n  - {name: v, country: CCX, kind: labour_visa}\n") ==
        "test.yaml:13:24: pathways[v].country: unknown country \"CCX\"; did you mean \"CCC\"?");
  CHECK(only_problem("pathways:\n  - {name: v, country: CCC, kind: labour_visa, sectors: [farms]}\n")
            .find("pathways[v].sectors[0]: unknown sector \"farms\"; did you mean \"farm\"?") != std::string::npos);
  CHECK(only_problem("routes:\n  - {edge: AAA-QQQ}\n").find("unknown country \"QQQ\"") != std::string::npos);
  CHECK(only_problem("events:\n  - {date: 2020-03, pathway: nope, set: {open: false}}\n")
            .find("events[0].pathway: unknown pathway \"nope\"") != std::string::npos);
  CHECK(only_problem("routes:\n  - {edge: AAA-BBB}\n  - {edge: BBB-CCC}\nevents:\n  - {date: 2020-03, route: AAA-CCC, set: {mortality: 0.1}}\n")
            .find("unknown route \"AAA-CCC\"") != std::string::npos);
  CHECK(only_problem("initial_stock: {BBB: {ZZZ: 5}}\n").find("initial_stock.BBB.ZZZ: unknown country \"ZZZ\"") !=
        std::string::npos);
  CHECK(only_problem("initial_stock: {BBB: {BBB: 5}}\n").find("origin and location differ") != std::string::npos);
  CHECK(only_problem("routes:\n  - {edge: AAA-BBB}\n  - {edge: BBB-CCC}\nevents:\n  - {date: 2020-03, route: AAA-BBB, country: AAA, set: {crisis: 1}}\n")
            .find("exactly one of pathway, route or country") != std::string::npos);
  CHECK(only_problem("events:\n  - {date: 2020-03, country: AAA, set: {quota: 1}}\n")
            .find("events[0].set.quota: unknown key") != std::string::npos);
}

TEST_CASE("duplicated names, unreachable countries, too few countries") {
  CHECK(only_problem("pathways:\n  - {name: v, country: CCC, kind: labour_visa}\n  - {name: v, country: BBB, kind: labour_visa}\n")
            .find("pathway \"v\" is listed twice") != std::string::npos);
  CHECK(only_problem("routes:\n  - {edge: AAA-BBB}\n  - {edge: BBB-AAA}\n  - {edge: BBB-CCC}\n").find("route BBB-AAA is listed twice") !=
        std::string::npos);
  CHECK(only_problem("routes:\n  - {edge: AAA-BBB}\n") ==
        "test.yaml:12:1: routes: the route graph does not reach CCC from AAA: add a land, sea or air route so every "
        "country can be reached");
  auto p = problems("scenario_format: 1\nstart: 2020-01\nend: 2020-02\nsectors: [a, a]\ncountries:\n  - {code: AAA}\n");
  CHECK(contains(p, "sector \"a\" is listed twice"));
  CHECK(contains(p, "expected between 2 and 120 countries, got 1"));
  std::string dup = base_yaml();
  dup += "  - {code: AAA, capital: [0,0], population: 1, working_age: 1, gdp_pc_ppp: 1, unemployment: 0, sector_shares: {farm: 1}}\n";
  CHECK(contains(problems(dup), "country \"AAA\" is listed twice"));
}

TEST_CASE("all errors of a file are reported together, in file order") {
  const auto p = problems(base_yaml() + R"(behaviour: {move_rate: 2, give_up_months: 0}
routes:
  - {edge: AAA-BBB, mortality: 1.2}
  - {edge: BBB-CCC}
pathways:
  - {name: v, country: CCX, kind: labour_visa, quota: -1}
)");
  REQUIRE(p.size() == 5);
  CHECK(p[0].find("test.yaml:12:") == 0);
  CHECK(p[4].find("pathways[v].quota") != std::string::npos);
}

TEST_CASE("empty and non-map documents") {
  CHECK(problems("")[0] == "test.yaml:1:1: the file is empty (or holds only comments): a scenario is a map of keys, see docs/scenario.md");
  CHECK(problems("- 1\n- 2\n")[0].find("expected a map of keys, got a list") != std::string::npos);
  CHECK(problems("scenario_format: 2\n" + base_yaml().substr(base_yaml().find('\n') + 1))[0].find(
            "this migsim reads scenario_format 1, the file says 2") != std::string::npos);
}
