// Experiments: the file format, the designs (values, grid, Latin hypercube), key paths,
// replicate seeds, and the ensemble stacking that sweep and merge share.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/errors.hpp"
#include "engine/ensemble.hpp"
#include "engine/experiment.hpp"
#include "support/fixtures.hpp"

using namespace migsim;
using migsim::test::contains;

namespace {

const std::string kDir = std::string(MIGSIM_SOURCE_DIR) + "/configs/examples";

Experiment load(const std::string& body) {
  return load_experiment_text("experiment_format: 1\nscenario: corridor.yaml\n" + body, "exp.yaml", kDir);
}

std::vector<std::string> problems(const std::string& body) {
  try {
    load(body);
  } catch (const InputError& e) {
    return e.problems();
  }
  return {};
}

}  // namespace

TEST_CASE("a values design takes the k-th value of each list; members are point-major") {
  const Experiment e = load("replicates: 3\ndesign: values\nparameters:\n  behaviour.move_rate: [1.0e-5, 3.0e-5]\n"
                            "  behaviour.give_up_months: [6, 18]\n");
  REQUIRE(e.members() == 6);
  CHECK(e.parameters[0].type == ParamType::Float);
  CHECK(e.parameters[1].type == ParamType::Integer);
  CHECK(e.point_of(4) == 1);
  CHECK(e.replicate_of(4) == 1);
  const Scenario s = e.scenario_of(4);
  CHECK(s.behaviour.move_rate == doctest::Approx(3e-5));
  CHECK(s.behaviour.give_up_months == 18);
  CHECK(std::get<std::int64_t>(e.points[1].values[1]) == 18);
  // Other behaviour keys keep the scenario's values.
  CHECK(s.behaviour.network_weight == e.base->behaviour.network_weight);
}

TEST_CASE("a grid takes every combination, the last parameter fastest") {
  const Experiment e = load("parameters:\n  behaviour.move_rate: [1.0e-5, 2.0e-5, 4.0e-5]\n"
                            "  pathways[usa-family].quota: [5000, 20000]\n");
  REQUIRE(e.points.size() == 6);
  CHECK(std::get<double>(e.points[1].values[0]) == doctest::Approx(1e-5));
  CHECK(std::get<std::int64_t>(e.points[1].values[1]) == 20000);
  CHECK(std::get<double>(e.points[2].values[0]) == doctest::Approx(2e-5));
  const Scenario s = e.scenario_of(1);
  int fam = -1;
  for (std::size_t p = 0; p < s.pathways.size(); ++p)
    if (s.pathways[p].name == "usa-family") fam = static_cast<int>(p);
  REQUIRE(fam >= 0);
  CHECK(*s.pathways[static_cast<std::size_t>(fam)].quota == 20000);
}

TEST_CASE("key paths choose list items by index or by code, name or edge") {
  const Experiment e = load("parameters:\n  routes[COL-PAN].mortality: [0.01]\n  countries[1].deportation_rate: [0.03]\n"
                            "  initial_stock.USA.MEX: [1000]\n");
  const Scenario s = e.scenario_of(0);
  CHECK(s.routes[1].mortality == doctest::Approx(0.01));
  CHECK(s.countries[1].deportation_rate == doctest::Approx(0.03));
  bool found = false;
  for (const auto& c : s.initial_stock)
    if (s.countries[c.location].code == "USA" && s.origin_code(c.origin) == "MEX") found = c.persons == 1000;
  CHECK(found);
}

TEST_CASE("bad parameters are reported with the experiment's file, line and key") {
  auto p = problems("parameters:\n  behaviour.move_rat: [1.0e-5]\n");
  CHECK(contains(p, "exp.yaml:4:"));
  CHECK(contains(p, "behaviour.move_rat: unknown key; did you mean \"move_rate\"?"));
  p = problems("parameters:\n  pathways[nope].quota: [1]\n");
  CHECK(contains(p, "exp.yaml:4:3: parameters.pathways[nope].quota: pathways has no item whose code, name or edge is \"nope\""));
  p = problems("parameters:\n  behaviour.move_rate: [-1]\n");
  CHECK(contains(p, "exp.yaml:4:25: behaviour.move_rate"));
  CHECK(contains(p, "(member 0: behaviour.move_rate = -1)"));
  p = problems("design: values\nparameters:\n  behaviour.move_rate: [1, 2]\n  behaviour.give_up_months: [3]\n");
  CHECK(contains(p, "every list needs the same length"));
  p = problems("replicates: 0\nseeds: 3\n");
  CHECK(contains(p, "replicates: expected an integer between 1 and 100000"));
  CHECK(contains(p, "seeds: unknown key; did you mean \"seed\"?"));
  p = problems("parameters:\n  end: [2012-12]\n");
  CHECK(contains(p, "changes the months it runs"));
  CHECK(contains(problems("months: 61\n"), "months must not exceed it"));
  CHECK(contains(problems("design: latin_hypercube\nparameters:\n  behaviour.move_rate: [1]\n"),
                 "parameters.behaviour.move_rate: expected a map of keys, got a list"));
}

TEST_CASE("a Latin hypercube puts one sample in each stratum of every parameter") {
  const int n = 10;
  const Experiment e = load("design: latin_hypercube\nsamples: 10\nseed: 5\nparameters:\n"
                            "  behaviour.move_rate: {min: 1.0e-5, max: 1.0e-4, scale: log}\n"
                            "  behaviour.network_weight: {min: 0, max: 1}\n"
                            "  behaviour.give_up_months: {min: 3, max: 12, integer: true}\n");
  REQUIRE(e.points.size() == 10);
  std::set<int> strata_log, strata_lin, ints;
  for (const auto& pt : e.points) {
    const double mr = std::get<double>(pt.values[0]);
    const double nw = std::get<double>(pt.values[1]);
    CHECK(mr >= 1e-5);
    CHECK(mr <= 1e-4);
    strata_log.insert(static_cast<int>(std::log(mr / 1e-5) / std::log(10.0) * n));
    strata_lin.insert(static_cast<int>(nw * n));
    ints.insert(static_cast<int>(std::get<std::int64_t>(pt.values[2])));
  }
  CHECK(strata_log.size() == 10);
  CHECK(strata_lin.size() == 10);
  CHECK(ints == std::set<int>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  // The same experiment gives the same design; another design seed another one.
  const Experiment again = load("design: latin_hypercube\nsamples: 10\nseed: 5\nparameters:\n"
                                "  behaviour.move_rate: {min: 1.0e-5, max: 1.0e-4, scale: log}\n"
                                "  behaviour.network_weight: {min: 0, max: 1}\n"
                                "  behaviour.give_up_months: {min: 3, max: 12, integer: true}\n");
  CHECK(again.points[3].values == e.points[3].values);
  // design_seed defaults to the seed, and another one makes another design (the same
  // parameters, so that only the seed differs).
  const auto with_design_seed = [](int design_seed) {
    return load("design: latin_hypercube\nsamples: 10\nseed: 5\ndesign_seed: " + std::to_string(design_seed) +
                "\nparameters:\n"
                "  behaviour.move_rate: {min: 1.0e-5, max: 1.0e-4, scale: log}\n"
                "  behaviour.network_weight: {min: 0, max: 1}\n"
                "  behaviour.give_up_months: {min: 3, max: 12, integer: true}\n");
  };
  const Experiment same = with_design_seed(5), other = with_design_seed(6);
  for (std::size_t k = 0; k < e.points.size(); ++k) CHECK(same.points[k].values == e.points[k].values);
  int differ = 0;
  for (std::size_t k = 0; k < e.points.size(); ++k) differ += other.points[k].values != e.points[k].values;
  CHECK(differ == 10);
  // Scenario nodes made from sampled values load as the value.
  CHECK(e.scenario_of(3).behaviour.network_weight == doctest::Approx(std::get<double>(e.points[3].values[1])));
}

TEST_CASE("a Latin hypercube's integer parameter: every integer once samples >= integers, unbiased") {
  const auto counts = [](int samples, int lo, int hi, int design_seed) {
    const Experiment e = load("design: latin_hypercube\nsamples: " + std::to_string(samples) +
                              "\ndesign_seed: " + std::to_string(design_seed) + "\nparameters:\n"
                              "  behaviour.network_weight: {min: 0, max: 1}\n"
                              "  behaviour.give_up_months: {min: " + std::to_string(lo) + ", max: " + std::to_string(hi) +
                              ", integer: true}\n");
    std::map<std::int64_t, int> c;
    for (const auto& pt : e.points) ++c[std::get<std::int64_t>(pt.values[1])];
    return c;
  };
  // 20 samples of the 19 integers 6-24 (the example in docs/experiments.md): each integer
  // once or twice, for every design seed tried (a jitter of its own per sample missed some).
  for (int seed = 1; seed <= 50; ++seed) {
    const auto c = counts(20, 6, 24, seed);
    CHECK(c.size() == 19);
    for (const auto& [v, k] : c) {
      CHECK(v >= 6);
      CHECK(v <= 24);
      CHECK(k >= 1);
      CHECK(k <= 2);
    }
  }
  // Fewer samples than integers: distinct integers.
  for (const auto& [v, k] : counts(5, 1, 12, 3)) CHECK(k == 1);
  // Unbiased: with 5 samples of the 3 integers 1-3, each holds 1 or 2 of them (2 with
  // probability 2/3), 5/3 on average. Over 400 design seeds the mean count of the middle one
  // has standard deviation sqrt(2/9 / 400) = 0.0236; 5 of them: 0.118. (The strata's midpoints
  // would give it 1 every time.)
  double sum = 0;
  for (int seed = 1; seed <= 400; ++seed) {
    const auto c = counts(5, 1, 3, seed);
    CHECK(c.size() == 3);
    sum += c.count(2) ? c.at(2) : 0;
  }
  CHECK(std::fabs(sum / 400 - 5.0 / 3) < 0.118);
}

TEST_CASE("a Latin hypercube's integer parameter on a log scale is spread on the log scale") {
  // 1,200 samples of the integers 1-999 on a log scale: each integer i covers
  // log((i + 1) / i) / log(1000) of the unit interval, so 1-9 cover exactly a third, 10-99 a
  // third and 100-999 a third. The strata hold one sample each and the integers' samples are
  // evenly spaced, so each third holds 400 samples, give or take one. (Ignoring the log scale,
  // as until 2026-12-02, 1-9 held about 11 of them.)
  for (int seed : {1, 2, 3}) {
    const Experiment e = load("design: latin_hypercube\nsamples: 1200\ndesign_seed: " + std::to_string(seed) +
                              "\nparameters:\n  behaviour.give_up_months: {min: 1, max: 999, integer: true, scale: log}\n");
    int below10 = 0, below100 = 0;
    std::set<std::int64_t> seen;
    for (const auto& pt : e.points) {
      const auto v = std::get<std::int64_t>(pt.values[0]);
      CHECK(v >= 1);
      CHECK(v <= 999);
      below10 += v < 10;
      below100 += v < 100;
      seen.insert(v);
    }
    CHECK(std::abs(below10 - 400) <= 1);
    CHECK(std::abs(below100 - 800) <= 1);
    // Each of 1-9 covers at least log(10/9)/log(1000) = 1.5% of the interval: about 18 samples.
    for (int i = 1; i <= 9; ++i) CHECK(seen.count(i) == 1);
  }
  // A short range, where the top integer's share shows whether the range ends at max + 1:
  // 1,000 samples of 1-3 hold log(2)/log(4) = 500, log(3/2)/log(4) = 292.5 and
  // log(4/3)/log(4) = 207.5 of them, within one (on [1, 3) the 3 would be nearly never drawn).
  // Bounds that are not integers count from ceil(min) to floor(max) + 1: {0.5, 3.7} is {1, 3}.
  for (const char* range : {"{min: 1, max: 3", "{min: 0.5, max: 3.7"}) {
    const Experiment e = load(std::string("design: latin_hypercube\nsamples: 1000\nparameters:\n  "
                                          "behaviour.give_up_months: ") + range + ", integer: true, scale: log}\n");
    std::map<std::int64_t, int> c;
    for (const auto& pt : e.points) ++c[std::get<std::int64_t>(pt.values[0])];
    CAPTURE(range);
    CHECK(c.size() == 3);
    CHECK(std::abs(c[1] - 500.0) <= 1);
    CHECK(std::abs(c[2] - 292.5) <= 1);
    CHECK(std::abs(c[3] - 207.5) <= 1);
  }
  CHECK(contains(problems("design: latin_hypercube\nsamples: 4\nparameters:\n"
                          "  behaviour.give_up_months: {min: 1, max: 1.0e19, integer: true}\n"),
                 "within -2^53 and 2^53"));
}

TEST_CASE("replicate seeds: distinct per replicate, the same in every point, from the base seed") {
  const Experiment e = load("seed: 42\nreplicates: 50\nparameters:\n  behaviour.move_rate: [1.0e-5, 2.0e-5]\n");
  std::set<std::uint64_t> seeds;
  for (int m = 0; m < 50; ++m) {
    seeds.insert(e.seed_of(m));
    CHECK(e.seed_of(m) == e.seed_of(m + 50));  // common random numbers
    CHECK(e.seed_of(m) == member_seed(42, m));
  }
  CHECK(seeds.size() == 50);
  CHECK(member_seed(43, 0) != member_seed(42, 0));
  // The mix is a bijection of base + r * odd constant: no two replicates ever share a seed.
  CHECK(member_seed(0, 1) != member_seed(0, 0));
  // Without a seed, the scenario's is the base.
  CHECK(load("").base_seed == load("").base->seed);
}

TEST_CASE("stacking refuses missing, repeated and foreign members") {
  const Experiment e = load("replicates: 2\nmonths: 2\n");
  auto member = [&](int k) {
    BatchResult r;
    r.ok = true;
    r.data = zero_dataset(*e.base, 2, RunInfo{});
    return member_dataset(e, k, std::move(r));
  };
  EnsembleInfo info;
  const output::Dataset ens = stack_members({member(1), member(0)}, info);
  CHECK(ens.dims[0].name == "member");
  CHECK(ens.var("migrant_stock")->dims[0] == "member");
  CHECK(ens.var("country_name")->dims == std::vector<std::string>{"location"});
  CHECK(ens.var("step")->dims == std::vector<std::string>{"time"});
  try {
    stack_members({member(1), member(1)}, info);
    FAIL("expected an error");
  } catch (const InputError& err) {
    CHECK(contains(err.problems(), "member 1 is given twice"));
    CHECK(contains(err.problems(), "1 of 2 members are missing: 0"));
  }
  const Experiment other = load("replicates: 2\nmonths: 2\nseed: 9\n");
  BatchResult r;
  r.ok = true;
  r.data = zero_dataset(*other.base, 2, RunInfo{});
  try {
    stack_members({member(0), member_dataset(other, 1, std::move(r))}, info);
    FAIL("expected an error");
  } catch (const InputError& err) {
    CHECK(contains(err.problems(), "comes from another experiment"));
  }
}
