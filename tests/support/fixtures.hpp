#pragma once
// Small scenarios for tests, as YAML text: three countries (AAA, BBB, CCC) with constant
// drivers; each test adds the sections it exercises.
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "scenario/scenario.hpp"

namespace migsim::test {

/// The required part of a scenario. `months` from 2020-01.
inline std::string base_yaml(int months = 12, int people_per_agent = 1) {
  const int end = months - 1;
  const std::string end_month = std::to_string(2020 + end / 12) + "-" + (end % 12 + 1 < 10 ? "0" : "") +
                                std::to_string(end % 12 + 1);
  return R"(scenario_format: 1
name: test
start: 2020-01
end: )" + end_month + R"(
seed: 7
people_per_agent: )" + std::to_string(people_per_agent) + R"(
sectors: [farm, office]
countries:
  - {code: AAA, language: x, regions: [SOUTH], capital: [0, 0], population: 1.0e7, working_age: 6.0e6, gdp_pc_ppp: 6000, unemployment: 0.1, sector_shares: {farm: 0.5, office: 0.5}}
  - {code: BBB, language: x, regions: [SOUTH], capital: [0, 10], population: 1.0e7, working_age: 6.0e6, gdp_pc_ppp: 12000, unemployment: 0.05, sector_shares: {farm: 0.5, office: 0.5}, vacancies: {farm: 1000, office: 1000}}
  - {code: CCC, language: y, capital: [0, 20], population: 1.0e8, working_age: 6.0e7, gdp_pc_ppp: 48000, unemployment: 0.05, sector_shares: {farm: 0.5, office: 0.5}, vacancies: {farm: 5000, office: 5000}}
)";
}

/// A behaviour block where every rate is zero, so a test switches on only what it checks;
/// `overrides` is "key: value, key: value".
inline std::string quiet_behaviour(const std::string& overrides = "") {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"move_rate", "0"},   {"onward_rate", "0"},         {"return_rate", "0"}, {"natural_mortality", "0"},
      {"job_separation_rate", "0"}, {"irregular_rate", "0"}, {"transit_stay", "0"}};
  std::size_t at = 0;
  while (at < overrides.size()) {
    std::size_t end = overrides.find(", ", at);
    if (end == std::string::npos) end = overrides.size();
    const std::string item = overrides.substr(at, end - at);
    const auto colon = item.find(": ");
    const std::string key = item.substr(0, colon), value = item.substr(colon + 2);
    bool found = false;
    for (auto& [k, v] : kv)
      if (k == key) {
        v = value;
        found = true;
      }
    if (!found) kv.emplace_back(key, value);
    at = end + 2;
  }
  std::string out = "behaviour: {";
  for (std::size_t i = 0; i < kv.size(); ++i) out += (i ? ", " : "") + kv[i].first + ": " + kv[i].second;
  return out + "}\n";
}

/// `text` with its first `from` replaced by `to` (which must be there).
inline std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("fixture text not found: " + from);
  return text.replace(at, from.size(), to);
}

inline Scenario load(const std::string& yaml) { return load_scenario_text(yaml, "test.yaml"); }

/// The problems of a scenario that must fail to load (empty if it loads).
inline std::vector<std::string> problems(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const InputError& e) {
    return e.problems();
  }
  return {};
}

inline bool contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines)
    if (l.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace migsim::test
