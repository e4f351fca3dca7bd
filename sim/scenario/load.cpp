#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <set>

#include "core/errors.hpp"
#include "scenario/reader.hpp"
#include "scenario/scenario.hpp"

namespace migsim {

using scenario::Diagnostics;
using scenario::index_path;
using scenario::key_path;
using scenario::Node;
using scenario::Reader;

double Series::at(Month m) const {
  if (points.empty()) return 0.0;
  if (m <= points.front().first) return points.front().second;
  if (m >= points.back().first) return points.back().second;
  auto hi = std::upper_bound(points.begin(), points.end(), m,
                             [](Month x, const auto& p) { return x < p.first; });
  auto lo = hi - 1;
  const double f = double(m - lo->first) / double(hi->first - lo->first);
  return lo->second + f * (hi->second - lo->second);
}

const char* to_string(PathwayKind k) {
  switch (k) {
    case PathwayKind::LabourVisa: return "labour_visa";
    case PathwayKind::HumanitarianVisa: return "humanitarian_visa";
    case PathwayKind::PrivateSponsorship: return "private_sponsorship";
    case PathwayKind::FamilyReunification: return "family_reunification";
    case PathwayKind::FreeMovement: return "free_movement";
    case PathwayKind::Regularisation: return "regularisation";
  }
  return "?";
}

const char* to_string(RouteKind k) {
  switch (k) {
    case RouteKind::Land: return "land";
    case RouteKind::Sea: return "sea";
    case RouteKind::Air: return "air";
  }
  return "?";
}

const char* to_string(Event::Field f) {
  switch (f) {
    case Event::Field::Open: return "open";
    case Event::Field::Quota: return "quota";
    case Event::Field::ProcessingMonths: return "processing_months";
    case Event::Field::Cost: return "cost";
    case Event::Field::Mortality: return "mortality";
    case Event::Field::Interception: return "interception";
    case Event::Field::Months: return "months";
    case Event::Field::Crisis: return "crisis";
    case Event::Field::DeportationRate: return "deportation_rate";
    case Event::Field::VacancyFactor: return "vacancy_factor";
  }
  return "?";
}

std::string Scenario::origin_code(int origin) const {
  return origin < n_countries() ? countries[origin].code : std::string("ROW");
}

int Scenario::country_index(std::string_view code) const {
  for (int i = 0; i < n_countries(); ++i)
    if (countries[i].code == code) return i;
  return -1;
}

std::int64_t Scenario::initial_persons() const {
  std::int64_t total = 0;
  for (const auto& c : initial_stock) total += c.persons;
  return total;
}

std::int64_t Scenario::initial_agents() const {
  std::int64_t total = 0;
  for (const auto& c : initial_stock) total += (c.persons + people_per_agent / 2) / people_per_agent;
  return total;
}

namespace {

constexpr std::int64_t kBigInt = std::numeric_limits<std::int64_t>::max();
// Upper bounds far beyond any real value that keep the model's arithmetic finite and its
// integer sums from overflowing: persons (a country, a stock cell) at most 1e13, a thousand
// times the world's population; flows of persons at most 1e10 per year or month; money
// (GDP per capita, costs) at most 1e9 $. Larger values are typos or unit mistakes.
constexpr double kMaxPersons = 1e13;
constexpr double kMaxFlow = 1e10;
// A quota is a number of persons a month: held to the same bound as flows.
constexpr std::int64_t kMaxQuota = static_cast<std::int64_t>(kMaxFlow);
constexpr double kMaxMoney = 1e9;

const std::vector<std::string> kTopKeys = {
    "scenario_format", "name",    "description", "start",  "end",
    "seed",            "people_per_agent",       "sectors", "countries",
    "routes",          "pathways", "initial_stock", "initial_irregular_share",
    "inflows",         "behaviour", "events",     "distances"};
const std::vector<std::string> kCountryKeys = {
    "code",         "name",          "language",     "regions",        "capital",
    "population",   "working_age",   "gdp_pc_ppp",   "unemployment",   "crisis",
    "sector_shares", "wage_ratio",   "vacancies",    "deportation_rate"};
const std::vector<std::string> kRouteKeys = {"edge", "kind", "months", "cost", "mortality",
                                             "interception", "remove"};
const std::vector<std::string> kPathwayKeys = {
    "name",  "country", "kind",  "origins",      "sectors",         "quota",   "processing_months",
    "cost",  "open",    "close", "applies_from", "presence_before", "take_up", "remove"};
const std::vector<std::string> kPathwayKinds = {"labour_visa",          "humanitarian_visa",
                                                "private_sponsorship",  "family_reunification",
                                                "free_movement",        "regularisation"};
const std::vector<std::string> kBehaviourKeys = {
    "move_rate",       "gain_weight",        "crisis_weight",   "unemployment_weight",
    "income_weight",   "network_weight",     "distance_weight", "language_weight",
    "access_weight",   "risk_weight",        "cost_weight",     "irregular_rate",
    "give_up_months",  "irregular_match",    "job_separation_rate", "long_unemployment_months",
    "return_rate",     "return_unemployed_factor", "return_irregular_factor",
    "return_crisis_weight", "onward_rate",   "onward_unemployed_factor", "onward_irregular_factor",
    "natural_mortality", "transit_stay"};

class Builder {
 public:
  explicit Builder(Diagnostics& d) : diag_(d), r_(d) {}

  /// `remove: true` deletes an item of the base when a file extends another (scenario::merge
  /// consumes it); one left in the merged tree was written in a file that extends nothing.
  void check_no_removals(const Node& root) {
    for (const auto& [key, list] : root.entries) {
      if (!list.is_sequence()) continue;
      for (std::size_t i = 0; i < list.items.size(); ++i)
        if (const Node* r = list.items[i].is_map() ? list.items[i].find("remove") : nullptr) {
          r_.error(*r, key_path(scenario::item_path(key, i, list.items[i]), "remove"),
                   "only a file that extends another (`extends:`) can remove an item of its base");
        }
    }
  }

  /// `extended`: the tree merges files (the top file's `extends` was read and taken out).
  Scenario build(const Node& root, bool extended) {
    Scenario s;
    if (root.is_null()) {
      r_.error(root, "", "the file is empty (or holds only comments): a scenario is a map of keys, see docs/scenario.md");
      return s;
    }
    // `extends` is offered as a correction only where the file extends nothing.
    const std::vector<std::string> also = extended ? std::vector<std::string>{} : std::vector<std::string>{"extends"};
    if (!r_.map(root, "", kTopKeys, also)) return s;
    // A misspelt `extends` (reported above with the correction) leaves the file without its
    // base: the required keys it lacks would follow from that one mistake, so stop here. Only
    // a key whose nearest valid key is `extends` counts (not `exents`, nearer `events`).
    if (!extended) {
      std::vector<std::string> keys = kTopKeys;
      keys.push_back("extends");
      for (const auto& [key, value] : root.entries)
        if (std::find(kTopKeys.begin(), kTopKeys.end(), key) == kTopKeys.end() &&
            scenario::nearest(key, keys) == "extends")
          return s;
    }
    check_no_removals(root);
    read_header(root, s);
    read_sectors(root, s);
    read_countries(root, s);
    bool tables_ok = !s.sectors.empty() && s.countries.size() >= 2;
    for (const auto& c : s.countries) tables_ok = tables_ok && c.code.size() == 3;
    if (tables_ok) {
      // References below need the country and sector tables to be sound.
      read_routes(root, s);
      read_pathways(root, s);
      read_stock(root, s);
      read_inflows(root, s);
      read_behaviour(root, s);
      read_events(root, s);
      read_distances(root, s);
      // Only when the rest is sound: a country with a broken code or a route with an unknown
      // country would otherwise also show up as "not reached".
      if (diag_.empty()) check_routes_connected(root, s);
    }
    return s;
  }

 private:
  Diagnostics& diag_;
  Reader r_;

  // ---- small helpers ---------------------------------------------------------------
  template <typename T, typename F>
  void optional(const Node& map, const std::string& key, const std::string& path, T& out, F read) {
    if (const Node* v = map.find(key)) {
      if (auto x = read(*v, key_path(path, key))) out = static_cast<T>(*x);
    }
  }

  int country_ref(const Node& n, const std::string& path, const Scenario& s, bool allow_row) {
    auto code = r_.string(n, path);
    if (!code) return -1;
    const int i = s.country_index(*code);
    if (i >= 0) return i;
    if (allow_row && *code == "ROW") return s.n_countries();
    std::vector<std::string> codes;
    for (const auto& c : s.countries) codes.push_back(c.code);
    if (allow_row) codes.push_back("ROW");
    std::string msg = "unknown country \"" + *code + "\"";
    const std::string near = scenario::nearest(*code, codes);
    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
    else msg += " (not among the scenario's countries)";
    r_.error(n, path, msg);
    return -1;
  }

  int sector_ref(const Node& n, const std::string& path, const Scenario& s) {
    auto name = r_.string(n, path);
    if (!name) return -1;
    for (int i = 0; i < s.n_sectors(); ++i)
      if (s.sectors[i].name == *name) return i;
    std::vector<std::string> names;
    for (const auto& x : s.sectors) names.push_back(x.name);
    std::string msg = "unknown sector \"" + *name + "\"";
    const std::string near = scenario::nearest(*name, names);
    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
    r_.error(n, path, msg);
    return -1;
  }

  /// A series: one number (constant) or a map {YYYY or YYYY-MM: value}.
  Series series(const Node& n, const std::string& path, double lo, double hi) {
    Series out;
    if (n.is_scalar()) {
      if (auto v = r_.number(n, path, lo, hi)) out.points.push_back({Month::of(2000, 1), *v});
      return out;
    }
    if (!n.is_map()) {
      r_.error(n, path, "expected a number or a map of {year or YYYY-MM: value}, got " + n.describe());
      return out;
    }
    if (n.entries.empty()) {
      r_.error(n, path, "a series needs at least one {year: value} entry");
      return out;
    }
    for (const auto& [key, value] : n.entries) {
      auto m = Month::parse(key);
      const std::string p = key_path(path, key);
      if (!m) {
        r_.error(value, p, "a series key must be a year (2010) or a month (2010-06)");
        continue;
      }
      if (auto v = r_.number(value, p, lo, hi)) out.points.push_back({*m, *v});
    }
    std::sort(out.points.begin(), out.points.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 1; i < out.points.size(); ++i) {
      if (out.points[i].first == out.points[i - 1].first) {
        r_.error(n, path, "month " + out.points[i].first.str() + " is given twice");
      }
    }
    return out;
  }

  /// A per-sector map {sector: value}; missing sectors keep `fill`.
  template <typename F>
  void per_sector(const Node& n, const std::string& path, const Scenario& s, F read_one) {
    std::vector<std::string> names;
    for (const auto& x : s.sectors) names.push_back(x.name);
    if (!r_.map(n, path, names)) return;
    for (const auto& [key, value] : n.entries) {
      for (int i = 0; i < s.n_sectors(); ++i)
        if (s.sectors[i].name == key) read_one(i, value, key_path(path, key));
    }
  }

  // ---- sections --------------------------------------------------------------------
  void read_header(const Node& root, Scenario& s) {
    if (const Node* f = r_.required(root, "scenario_format", "")) {
      if (auto v = r_.integer(*f, "scenario_format", 1, kBigInt); v && *v != 1) {
        r_.error(*f, "scenario_format",
                 "this migsim reads scenario_format 1, the file says " + std::to_string(*v));
      }
    }
    optional(root, "name", "", s.name, [&](const Node& n, const std::string& p) { return r_.string(n, p); });
    optional(root, "description", "", s.description,
             [&](const Node& n, const std::string& p) { return r_.string(n, p); });
    std::optional<Month> start, end;
    if (const Node* n = r_.required(root, "start", "")) start = r_.month(*n, "start");
    if (const Node* n = r_.required(root, "end", "")) end = r_.month(*n, "end");
    if (start && (start->year() < 1900 || start->year() > 2200)) {
      r_.error(*root.find("start"), "start", "expected a year between 1900 and 2200");
      start.reset();
    }
    if (start && end) {
      if (*end < *start) {
        r_.error(*root.find("end"), "end",
                 "the run ends (" + end->str() + ") before it starts (" + start->str() + ")");
      } else if (*end - *start >= 12 * 1000) {
        r_.error(*root.find("end"), "end", "a run is limited to 1000 years");
      } else {
        s.start = *start;
        s.end = *end;
      }
    }
    if (const Node* n = root.find("seed")) {
      if (auto v = r_.unsigned64(*n, "seed")) s.seed = *v;
    }
    // Where a message about the run's size (memory, agent count) should point.
    if (const Node* n = root.find("people_per_agent")) s.size_source = n->source.str();
    else if (const Node* st = root.find("initial_stock")) s.size_source = (st->key_source.file ? st->key_source : st->source).str();
    else s.size_source = root.source.str();
    s.size_key = root.find("people_per_agent") ? "people_per_agent" : "initial_stock";
    optional(root, "people_per_agent", "", s.people_per_agent,
             [&](const Node& n, const std::string& p) { return r_.integer(n, p, 1, 1'000'000'000); });
  }

  void read_sectors(const Node& root, Scenario& s) {
    const Node* list = r_.required(root, "sectors", "");
    if (!list || !r_.sequence(*list, "sectors")) return;
    if (list->items.empty() || list->items.size() > kMaxSectors) {
      r_.error(*list, "sectors", "expected between 1 and " + std::to_string(kMaxSectors) + " sectors");
      return;
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      const Node& item = list->items[i];
      const std::string path = index_path("sectors", i);
      Sector sec;
      if (item.is_scalar()) {
        sec.name = item.scalar;
      } else {
        if (!r_.map(item, path, {"name", "wage_ratio"})) continue;
        if (const Node* n = r_.required(item, "name", path)) {
          if (auto v = r_.string(*n, key_path(path, "name"))) sec.name = *v;
        }
        optional(item, "wage_ratio", path, sec.wage_ratio,
                 [&](const Node& n, const std::string& p) { return r_.number(n, p, 0.0, 1000.0); });
      }
      if (!seen.insert(sec.name).second) {
        r_.error(item, path, "sector \"" + sec.name + "\" is listed twice");
        continue;  // kept once, so that shares and references are read against one "farm"
      }
      s.sectors.push_back(sec);
    }
  }

  void read_countries(const Node& root, Scenario& s) {
    const Node* list = r_.required(root, "countries", "");
    if (!list || !r_.sequence(*list, "countries")) return;
    if (list->items.size() < 2 || list->items.size() > kMaxCountries) {
      r_.error(*list, "countries",
               "expected between 2 and " + std::to_string(kMaxCountries) + " countries, got " +
                   std::to_string(list->items.size()));
      return;
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      const Node& item = list->items[i];
      const std::string path = scenario::item_path("countries", i, item);
      Country c;
      if (!r_.map(item, path, kCountryKeys)) {
        s.countries.push_back(c);
        continue;
      }
      if (const Node* n = r_.required(item, "code", path)) {
        if (auto v = r_.string(*n, key_path(path, "code"))) {
          c.code = *v;
          const bool ok = c.code.size() == 3 && std::all_of(c.code.begin(), c.code.end(), [](char ch) {
                            return ch >= 'A' && ch <= 'Z';
                          });
          if (!ok) r_.error(*n, key_path(path, "code"), "expected a three-letter ISO code in capitals, got " + n->describe());
          else if (c.code == "ROW") r_.error(*n, key_path(path, "code"), "\"ROW\" is reserved for the rest of the world");
          else if (!seen.insert(c.code).second) r_.error(*n, key_path(path, "code"), "country \"" + c.code + "\" is listed twice");
        }
      }
      c.name = c.code;
      optional(item, "name", path, c.name, [&](const Node& n, const std::string& p) { return r_.string(n, p); });
      optional(item, "language", path, c.language, [&](const Node& n, const std::string& p) { return r_.string(n, p); });
      if (const Node* n = item.find("regions")) {
        const std::string p = key_path(path, "regions");
        if (r_.sequence(*n, p)) {
          for (std::size_t k = 0; k < n->items.size(); ++k)
            if (auto v = r_.string(n->items[k], index_path(p, k))) c.regions.push_back(*v);
        }
      }
      if (const Node* n = r_.required(item, "capital", path)) {
        const std::string p = key_path(path, "capital");
        if (!n->is_sequence() || n->items.size() != 2) {
          r_.error(*n, p, "expected [latitude, longitude] in degrees, got " + n->describe());
        } else {
          if (auto v = r_.number(n->items[0], index_path(p, 0), -90, 90)) c.capital_lat = *v;
          if (auto v = r_.number(n->items[1], index_path(p, 1), -180, 180)) c.capital_lon = *v;
        }
      }
      auto req_series = [&](const char* key, Series& out, double lo, double hi) {
        if (const Node* n = r_.required(item, key, path)) out = series(*n, key_path(path, key), lo, hi);
      };
      req_series("population", c.population, 0, kMaxPersons);
      req_series("working_age", c.working_age, 0, kMaxPersons);
      req_series("gdp_pc_ppp", c.gdp_pc_ppp, 1e-9, kMaxMoney);
      req_series("unemployment", c.unemployment, 0, 1);
      c.crisis.points.push_back({Month::of(2000, 1), 0.0});
      if (const Node* n = item.find("crisis")) c.crisis = series(*n, key_path(path, "crisis"), 0, 1);
      c.sector_shares.assign(s.sectors.size(), 0.0);
      c.wage_ratio.resize(s.sectors.size());
      for (std::size_t k = 0; k < s.sectors.size(); ++k) c.wage_ratio[k] = s.sectors[k].wage_ratio;
      c.vacancies.assign(s.sectors.size(), Series{{{Month::of(2000, 1), 0.0}}});
      if (const Node* n = r_.required(item, "sector_shares", path)) {
        const std::string p = key_path(path, "sector_shares");
        per_sector(*n, p, s, [&](int k, const Node& v, const std::string& vp) {
          if (auto x = r_.probability(v, vp)) c.sector_shares[k] = *x;
        });
        double sum = 0;
        for (double x : c.sector_shares) sum += x;
        if (n->is_map() && std::fabs(sum - 1.0) > 1e-3) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.6g", sum);
          r_.error(*n, p, std::string("the shares must add up to 1, they add up to ") + buf);
        } else if (sum > 0) {
          for (double& x : c.sector_shares) x /= sum;
        }
      }
      if (const Node* n = item.find("wage_ratio")) {
        per_sector(*n, key_path(path, "wage_ratio"), s, [&](int k, const Node& v, const std::string& vp) {
          if (auto x = r_.number(v, vp, 0, 1000)) c.wage_ratio[k] = *x;
        });
      }
      if (const Node* n = item.find("vacancies")) {
        per_sector(*n, key_path(path, "vacancies"), s, [&](int k, const Node& v, const std::string& vp) {
          c.vacancies[k] = series(v, vp, 0, kMaxFlow);
        });
      }
      optional(item, "deportation_rate", path, c.deportation_rate,
               [&](const Node& n, const std::string& p) { return r_.probability(n, p); });
      s.countries.push_back(std::move(c));
    }
  }

  void read_routes(const Node& root, Scenario& s) {
    const Node* list = root.find("routes");
    if (!list || !r_.sequence(*list, "routes")) return;
    std::set<std::pair<int, int>> seen;
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      const Node& item = list->items[i];
      const std::string path = scenario::item_path("routes", i, item);
      if (!r_.map(item, path, kRouteKeys)) continue;
      Route rt;
      bool ok = true;
      if (const Node* n = r_.required(item, "edge", path)) {
        const std::string p = key_path(path, "edge");
        auto label = r_.string(*n, p);
        const auto dash = label ? label->find('-') : std::string::npos;
        if (!label || dash == std::string::npos) {
          if (label) r_.error(*n, p, "expected two country codes joined by '-', like \"COL-PAN\", got " + n->describe());
          ok = false;
        } else {
          Node a = *n, b = *n;
          a.scalar = label->substr(0, dash);
          b.scalar = label->substr(dash + 1);
          rt.a = country_ref(a, p, s, false);
          rt.b = country_ref(b, p, s, false);
          rt.label = *label;
          ok = rt.a >= 0 && rt.b >= 0;
          if (ok && rt.a == rt.b) {
            r_.error(*n, p, "a route joins two different countries");
            ok = false;
          }
          if (ok && !seen.insert({std::min(rt.a, rt.b), std::max(rt.a, rt.b)}).second) {
            r_.error(*n, p, "route " + rt.label + " is listed twice");
          }
        }
      } else {
        ok = false;
      }
      if (const Node* n = item.find("kind")) {
        if (auto k = r_.choice(*n, key_path(path, "kind"), {"land", "sea", "air"}))
          rt.kind = *k == "land" ? RouteKind::Land : *k == "sea" ? RouteKind::Sea : RouteKind::Air;
      }
      optional(item, "months", path, rt.months, [&](const Node& n, const std::string& p) { return r_.integer(n, p, 1, 120); });
      optional(item, "cost", path, rt.cost, [&](const Node& n, const std::string& p) { return r_.number(n, p, 0, kMaxMoney); });
      optional(item, "mortality", path, rt.mortality, [&](const Node& n, const std::string& p) { return r_.probability(n, p); });
      optional(item, "interception", path, rt.interception, [&](const Node& n, const std::string& p) { return r_.probability(n, p); });
      if (rt.mortality + rt.interception > 1.0) {
        const Node* at = item.find("mortality") ? item.find("mortality") : item.find("interception");
        char buf[96];
        std::snprintf(buf, sizeof buf, "mortality + interception is above 1 (%g + %g)", rt.mortality, rt.interception);
        r_.error(at ? *at : item, key_path(path, at == item.find("mortality") ? "mortality" : "interception"), buf);
      }
      if (ok) s.routes.push_back(rt);
    }
  }

  std::vector<std::uint8_t> origin_list(const Node* n, const std::string& path, Scenario& s) {
    std::vector<std::uint8_t> ok(s.n_countries() + 1, 1);
    if (!n || (n->is_scalar() && n->scalar == "all")) return ok;
    if (!n->is_sequence()) {
      r_.error(*n, path, "expected a list of country codes or \"all\", got " + n->describe());
      return ok;
    }
    std::fill(ok.begin(), ok.end(), 0);
    for (std::size_t k = 0; k < n->items.size(); ++k) {
      const int c = country_ref(n->items[k], index_path(path, k), s, true);
      if (c >= 0) ok[c] = 1;
    }
    return ok;
  }

  void read_pathways(const Node& root, Scenario& s) {
    const Node* list = root.find("pathways");
    if (!list || !r_.sequence(*list, "pathways")) return;
    if (list->items.size() > kMaxPathways) {
      r_.error(*list, "pathways", "at most " + std::to_string(kMaxPathways) + " pathways");
      return;
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      const Node& item = list->items[i];
      const std::string path = scenario::item_path("pathways", i, item);
      if (!r_.map(item, path, kPathwayKeys)) continue;
      Pathway p;
      p.open = s.start;
      bool ok = true;
      if (const Node* n = r_.required(item, "name", path)) {
        if (auto v = r_.string(*n, key_path(path, "name"))) {
          p.name = *v;
          if (!seen.insert(p.name).second) r_.error(*n, key_path(path, "name"), "pathway \"" + p.name + "\" is listed twice");
        }
      }
      if (const Node* n = r_.required(item, "country", path)) {
        p.country = country_ref(*n, key_path(path, "country"), s, false);
        ok = ok && p.country >= 0;
      } else {
        ok = false;
      }
      if (const Node* n = r_.required(item, "kind", path)) {
        if (auto k = r_.choice(*n, key_path(path, "kind"), kPathwayKinds)) {
          p.kind = static_cast<PathwayKind>(std::find(kPathwayKinds.begin(), kPathwayKinds.end(), *k) -
                                            kPathwayKinds.begin());
        }
      }
      p.origin_ok = origin_list(item.find("origins"), key_path(path, "origins"), s);
      p.sector_ok.assign(s.sectors.size(), 1);
      if (const Node* n = item.find("sectors"); n && !(n->is_scalar() && n->scalar == "all")) {
        const std::string sp = key_path(path, "sectors");
        if (r_.sequence(*n, sp)) {
          std::fill(p.sector_ok.begin(), p.sector_ok.end(), 0);
          for (std::size_t k = 0; k < n->items.size(); ++k) {
            const int sec = sector_ref(n->items[k], index_path(sp, k), s);
            if (sec >= 0) p.sector_ok[sec] = 1;
          }
        }
      }
      if (const Node* n = item.find("quota")) {
        if (!(n->is_scalar() && n->scalar == "none")) {
          if (auto v = r_.integer(*n, key_path(path, "quota"), 0, kMaxQuota)) p.quota = *v;
        }
      }
      optional(item, "processing_months", path, p.processing_months,
               [&](const Node& n, const std::string& q) { return r_.integer(n, q, 0, 120); });
      optional(item, "cost", path, p.cost, [&](const Node& n, const std::string& q) { return r_.number(n, q, 0, kMaxMoney); });
      if (const Node* n = item.find("open")) {
        if (auto m = r_.month(*n, key_path(path, "open"))) p.open = *m;
      }
      if (const Node* n = item.find("close")) {
        if (auto m = r_.month(*n, key_path(path, "close"))) {
          if (*m < p.open) {
            r_.error(*n, key_path(path, "close"), "the pathway closes (" + m->str() + ") before it opens (" + p.open.str() + ")");
          }
          p.close = *m;
        }
      }
      const bool regularisation = p.kind == PathwayKind::Regularisation;
      if (regularisation) p.applies_from = AppliesFrom::InCountry;
      // Admitted applicants become regular in the month of the decision (docs/ODD.md 7.7):
      // a processing time would be silently ignored.
      if (const Node* n = item.find("processing_months"); n && regularisation) {
        r_.error(*n, key_path(path, "processing_months"),
                 "a regularisation has no processing months: admitted applicants become regular in the month of the "
                 "decision (remove the key)");
      }
      if (const Node* n = item.find("applies_from")) {
        const std::string q = key_path(path, "applies_from");
        if (auto v = r_.choice(*n, q, {"abroad", "in_country", "both"})) {
          p.applies_from = *v == "abroad" ? AppliesFrom::Abroad : *v == "in_country" ? AppliesFrom::InCountry : AppliesFrom::Both;
          if (regularisation && p.applies_from != AppliesFrom::InCountry) {
            r_.error(*n, q, "a regularisation is for people already in the country: applies_from must be in_country");
          }
        }
      }
      if (const Node* n = item.find("presence_before")) {
        const std::string q = key_path(path, "presence_before");
        if (!regularisation) r_.error(*n, q, "only a regularisation has presence_before");
        else if (auto m = r_.month(*n, q)) p.presence_before = *m;
      }
      if (const Node* n = item.find("take_up")) {
        const std::string q = key_path(path, "take_up");
        if (!regularisation) r_.error(*n, q, "only a regularisation has take_up");
        else if (auto v = r_.probability(*n, q)) p.take_up = *v;
      } else if (regularisation) {
        r_.error(item, key_path(path, "take_up"),
                 "missing required key (a regularisation needs the monthly share of eligible migrants who apply)");
      }
      if (ok) s.pathways.push_back(std::move(p));
    }
  }

  void read_stock(const Node& root, Scenario& s) {
    const Node* stock = root.find("initial_stock");
    std::map<std::pair<int, int>, std::size_t> cell_of;
    if (stock && r_.map(*stock, "initial_stock", location_keys(s))) {
      for (const auto& [loc_code, origins] : stock->entries) {
        const std::string lp = key_path("initial_stock", loc_code);
        const int loc = s.country_index(loc_code);
        if (loc < 0) continue;  // reported as an unknown key
        if (!origins.is_map()) {
          r_.error(origins, lp, "expected a map {origin code: persons}, got " + origins.describe());
          continue;
        }
        for (const auto& [orig_code, value] : origins.entries) {
          const std::string op = key_path(lp, orig_code);
          Node key = value;
          key.scalar = orig_code;
          key.kind = Node::Kind::Scalar;
          key.source = value.key_source;
          const int orig = country_ref(key, op, s, true);
          if (orig < 0) continue;
          if (orig == loc) {
            r_.error(key, op, "a migrant's origin and location differ; remove this entry");
            continue;
          }
          if (orig == s.n_countries()) s.rest_of_world = true;
          if (auto v = r_.integer(value, op, 0, static_cast<std::int64_t>(kMaxPersons))) {
            cell_of[{loc, orig}] = s.initial_stock.size();
            s.initial_stock.push_back(StockCell{orig, loc, *v, 0.0});
          }
        }
      }
    }
    const Node* share = root.find("initial_irregular_share");
    if (!share) return;
    std::vector<std::string> keys = location_keys(s);
    keys.push_back("default");
    if (!r_.map(*share, "initial_irregular_share", keys)) return;
    double dflt = 0;
    if (const Node* d = share->find("default")) {
      if (auto v = r_.probability(*d, "initial_irregular_share.default")) dflt = *v;
    }
    for (auto& c : s.initial_stock) c.irregular_share = dflt;
    for (const auto& [loc_code, value] : share->entries) {
      if (loc_code == "default") continue;
      const int loc = s.country_index(loc_code);
      const std::string lp = key_path("initial_irregular_share", loc_code);
      if (loc < 0) continue;
      if (value.is_map()) {
        std::vector<std::string> okeys = {"default", "ROW"};
        for (const auto& c : s.countries) okeys.push_back(c.code);
        if (!r_.map(value, lp, okeys)) continue;
        double loc_default = dflt;
        if (const Node* d = value.find("default")) {
          if (auto v = r_.probability(*d, key_path(lp, "default"))) loc_default = *v;
        }
        for (auto& c : s.initial_stock)
          if (c.location == loc) c.irregular_share = loc_default;
        for (const auto& [orig_code, v] : value.entries) {
          if (orig_code == "default") continue;
          const int orig = orig_code == "ROW" ? s.n_countries() : s.country_index(orig_code);
          auto p = r_.probability(v, key_path(lp, orig_code));
          auto it = cell_of.find({loc, orig});
          if (p && it != cell_of.end()) s.initial_stock[it->second].irregular_share = *p;
          else if (p) r_.error(v, key_path(lp, orig_code), "there is no initial_stock entry for " + orig_code + " in " + loc_code);
        }
      } else if (auto p = r_.probability(value, lp)) {
        for (auto& c : s.initial_stock)
          if (c.location == loc) c.irregular_share = *p;
      }
    }
  }

  std::vector<std::string> location_keys(const Scenario& s) {
    std::vector<std::string> keys;
    for (const auto& c : s.countries) keys.push_back(c.code);
    return keys;
  }

  void read_inflows(const Node& root, Scenario& s) {
    const Node* list = root.find("inflows");
    if (!list || !r_.sequence(*list, "inflows")) return;
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      const Node& item = list->items[i];
      const std::string path = index_path("inflows", i);
      if (!r_.map(item, path, {"origin", "destination", "persons_per_year", "irregular_share"})) continue;
      Inflow f;
      bool ok = true;
      if (const Node* n = r_.required(item, "origin", path)) f.origin = country_ref(*n, key_path(path, "origin"), s, true);
      if (const Node* n = r_.required(item, "destination", path)) f.destination = country_ref(*n, key_path(path, "destination"), s, false);
      ok = f.origin >= 0 && f.destination >= 0 && item.find("origin") && item.find("destination");
      if (ok && f.origin == f.destination) {
        r_.error(item, path, "origin and destination are the same country");
        ok = false;
      }
      if (const Node* n = r_.required(item, "persons_per_year", path)) f.persons_per_year = series(*n, key_path(path, "persons_per_year"), 0, kMaxFlow);
      else ok = false;
      optional(item, "irregular_share", path, f.irregular_share, [&](const Node& n, const std::string& p) { return r_.probability(n, p); });
      if (ok) {
        if (f.origin == s.n_countries()) s.rest_of_world = true;
        s.inflows.push_back(std::move(f));
      }
    }
  }

  void read_behaviour(const Node& root, Scenario& s) {
    const Node* b = root.find("behaviour");
    if (!b || !r_.map(*b, "behaviour", kBehaviourKeys)) return;
    Behaviour& x = s.behaviour;
    auto num = [&](const char* key, double& out, double lo, double hi) {
      optional(*b, key, "behaviour", out, [&](const Node& n, const std::string& p) { return r_.number(n, p, lo, hi); });
    };
    auto prob = [&](const char* key, double& out) {
      optional(*b, key, "behaviour", out, [&](const Node& n, const std::string& p) { return r_.probability(n, p); });
    };
    auto months = [&](const char* key, int& out) {
      optional(*b, key, "behaviour", out, [&](const Node& n, const std::string& p) { return r_.integer(n, p, 1, 1200); });
    };
    prob("move_rate", x.move_rate);
    num("gain_weight", x.gain_weight, 0, 100);
    num("crisis_weight", x.crisis_weight, 0, 100);
    num("unemployment_weight", x.unemployment_weight, 0, 100);
    num("income_weight", x.income_weight, 0, 100);
    num("network_weight", x.network_weight, 0, 100);
    num("distance_weight", x.distance_weight, 0, 100);
    num("language_weight", x.language_weight, -100, 100);
    num("access_weight", x.access_weight, 0, 100);
    num("risk_weight", x.risk_weight, 0, 10000);
    num("cost_weight", x.cost_weight, 0, 100);
    prob("irregular_rate", x.irregular_rate);
    months("give_up_months", x.give_up_months);
    prob("irregular_match", x.irregular_match);
    prob("job_separation_rate", x.job_separation_rate);
    months("long_unemployment_months", x.long_unemployment_months);
    prob("return_rate", x.return_rate);
    num("return_unemployed_factor", x.return_unemployed_factor, 0, 1000);
    num("return_irregular_factor", x.return_irregular_factor, 0, 1000);
    num("return_crisis_weight", x.return_crisis_weight, 0, 100);
    prob("onward_rate", x.onward_rate);
    num("onward_unemployed_factor", x.onward_unemployed_factor, 0, 1000);
    num("onward_irregular_factor", x.onward_irregular_factor, 0, 1000);
    prob("natural_mortality", x.natural_mortality);
    prob("transit_stay", x.transit_stay);
  }

  void read_events(const Node& root, Scenario& s) {
    const Node* list = root.find("events");
    if (!list || !r_.sequence(*list, "events")) return;
    std::vector<std::pair<const Node*, std::string>> event_value;  // each event's value node and key path
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      const Node& item = list->items[i];
      const std::string path = scenario::item_path("events", i, item);
      if (!r_.map(item, path, {"date", "name", "pathway", "route", "country", "sector", "set", "note"})) continue;
      Event base;
      bool ok = true;
      if (const Node* n = r_.required(item, "date", path)) {
        if (auto m = r_.month(*n, key_path(path, "date"))) {
          base.date = *m;
          // After the end is allowed (a variant may shorten the run; `validate` notes it);
          // before the start could never take effect.
          if (*m < s.start) {
            r_.error(*n, key_path(path, "date"),
                     "the event's month " + m->str() + " is before the run starts (" + s.start.str() + ")");
            ok = false;
          }
        } else {
          ok = false;
        }
      } else {
        ok = false;
      }
      int targets = 0;
      std::vector<std::string> fields;
      if (const Node* n = item.find("pathway")) {
        ++targets;
        base.target = Event::Target::Pathway;
        fields = {"open", "quota", "processing_months", "cost"};
        auto name = r_.string(*n, key_path(path, "pathway"));
        base.index = -1;
        for (std::size_t k = 0; name && k < s.pathways.size(); ++k)
          if (s.pathways[k].name == *name) base.index = static_cast<int>(k);
        if (name && base.index < 0) {
          std::vector<std::string> names;
          for (const auto& p : s.pathways) names.push_back(p.name);
          std::string msg = "unknown pathway \"" + *name + "\"";
          const std::string near = scenario::nearest(*name, names);
          if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
          r_.error(*n, key_path(path, "pathway"), msg);
        }
        ok = ok && base.index >= 0;
      }
      if (const Node* n = item.find("route")) {
        ++targets;
        base.target = Event::Target::Route;
        fields = {"mortality", "interception", "cost", "months"};
        auto label = r_.string(*n, key_path(path, "route"));
        base.index = -1;
        for (std::size_t k = 0; label && k < s.routes.size(); ++k) {
          const auto& rt = s.routes[k];
          if (rt.label == *label || s.countries[rt.b].code + "-" + s.countries[rt.a].code == *label)
            base.index = static_cast<int>(k);
        }
        if (label && base.index < 0) {
          std::vector<std::string> labels;
          for (const auto& rt : s.routes) labels.push_back(rt.label);
          std::string msg = "unknown route \"" + *label + "\"";
          const std::string near = scenario::nearest(*label, labels);
          if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
          r_.error(*n, key_path(path, "route"), msg);
        }
        ok = ok && base.index >= 0;
      }
      if (const Node* n = item.find("country")) {
        ++targets;
        base.target = Event::Target::Country;
        fields = {"crisis", "deportation_rate", "vacancy_factor"};
        base.index = country_ref(*n, key_path(path, "country"), s, false);
        ok = ok && base.index >= 0;
      }
      if (targets != 1) {
        r_.error(item, path, "an event names exactly one of pathway, route or country");
        continue;
      }
      if (const Node* n = item.find("sector")) {
        if (base.target != Event::Target::Country) r_.error(*n, key_path(path, "sector"), "only a country event takes a sector");
        else base.sector = sector_ref(*n, key_path(path, "sector"), s);
      }
      const Node* set = r_.required(item, "set", path);
      const std::string sp = key_path(path, "set");
      if (!set || !r_.map(*set, sp, fields)) continue;
      if (set->entries.empty()) r_.error(*set, sp, "nothing to set");
      for (const auto& [key, value] : set->entries) {
        Event e = base;
        const std::string vp = key_path(sp, key);
        std::optional<double> v;
        if (key == "open") {
          e.field = Event::Field::Open;
          if (auto b = r_.boolean(value, vp)) v = *b ? 1.0 : 0.0;
        } else if (key == "quota") {
          e.field = Event::Field::Quota;
          if (value.is_scalar() && value.scalar == "none") v = -1.0;
          else if (auto q = r_.integer(value, vp, 0, kMaxQuota)) v = double(*q);
        } else if (key == "processing_months") {
          e.field = Event::Field::ProcessingMonths;
          if (base.index >= 0 && s.pathways[static_cast<std::size_t>(base.index)].kind == PathwayKind::Regularisation) {
            r_.error(value, vp, "pathway \"" + s.pathways[static_cast<std::size_t>(base.index)].name +
                                    "\" is a regularisation, which has no processing months");
          } else if (auto q = r_.integer(value, vp, 0, 120)) {
            v = double(*q);
          }
        } else if (key == "months") {
          e.field = Event::Field::Months;
          if (auto q = r_.integer(value, vp, 1, 120)) v = double(*q);
        } else if (key == "cost") {
          e.field = Event::Field::Cost;
          v = r_.number(value, vp, 0, kMaxMoney);
        } else if (key == "mortality") {
          e.field = Event::Field::Mortality;
          v = r_.probability(value, vp);
        } else if (key == "interception") {
          e.field = Event::Field::Interception;
          v = r_.probability(value, vp);
        } else if (key == "crisis") {
          e.field = Event::Field::Crisis;
          v = r_.probability(value, vp);
        } else if (key == "deportation_rate") {
          e.field = Event::Field::DeportationRate;
          v = r_.probability(value, vp);
        } else if (key == "vacancy_factor") {
          e.field = Event::Field::VacancyFactor;
          v = r_.number(value, vp, 0, 1e6);
        } else {
          continue;  // reported by map()
        }
        if (v && ok) {
          e.value = *v;
          s.events.push_back(e);
          event_value.emplace_back(&value, vp);
        }
      }
    }
    check_route_events(s, event_value);
    std::stable_sort(s.events.begin(), s.events.end(), [](const Event& a, const Event& b) { return a.date < b.date; });
  }

  /// A route's mortality + interception may not pass 1 after any event, applied as the model
  /// applies them (by month, then in file order), as `routes:` checks it for the start.
  void check_route_events(const Scenario& s, const std::vector<std::pair<const Node*, std::string>>& where) {
    std::vector<std::size_t> order(s.events.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return s.events[a].date < s.events[b].date; });
    std::vector<double> mortality, interception;
    for (const auto& r : s.routes) {
      mortality.push_back(r.mortality);
      interception.push_back(r.interception);
    }
    for (std::size_t k : order) {
      const Event& e = s.events[k];
      if (e.target != Event::Target::Route || e.index < 0) continue;
      const auto i = static_cast<std::size_t>(e.index);
      if (e.field == Event::Field::Mortality) mortality[i] = e.value;
      else if (e.field == Event::Field::Interception) interception[i] = e.value;
      else continue;
      if (mortality[i] + interception[i] > 1.0) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "mortality + interception of route %s would be above 1 from %s (%g + %g)",
                      s.routes[i].label.c_str(), e.date.str().c_str(), mortality[i], interception[i]);
        r_.error(*where[k].first, where[k].second, buf);
      }
    }
  }

  void read_distances(const Node& root, Scenario& s) {
    const int n = s.n_countries();
    s.distance_km.assign(n, std::vector<double>(n, 0.0));
    constexpr double kEarthRadiusKm = 6371.0;
    const double rad = std::numbers::pi / 180.0;
    for (int a = 0; a < n; ++a) {
      for (int b = 0; b < n; ++b) {
        const auto& ca = s.countries[a];
        const auto& cb = s.countries[b];
        const double dlat = (cb.capital_lat - ca.capital_lat) * rad;
        const double dlon = (cb.capital_lon - ca.capital_lon) * rad;
        const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                         std::cos(ca.capital_lat * rad) * std::cos(cb.capital_lat * rad) *
                             std::sin(dlon / 2) * std::sin(dlon / 2);
        s.distance_km[a][b] = 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
      }
    }
    const Node* d = root.find("distances");
    if (!d || !d->is_map()) {
      if (d) r_.error(*d, "distances", "expected a map {\"AAA-BBB\": km}, got " + d->describe());
      return;
    }
    std::vector<std::pair<int, int>> seen;
    for (const auto& [label, value] : d->entries) {
      const std::string p = key_path("distances", label);
      const auto dash = label.find('-');
      const int a = dash == std::string::npos ? -1 : s.country_index(label.substr(0, dash));
      const int b = dash == std::string::npos ? -1 : s.country_index(label.substr(dash + 1));
      if (a < 0 || b < 0 || a == b) {
        r_.error(value, p, "expected two different country codes of the scenario joined by '-'");
        continue;
      }
      const std::pair<int, int> pair{std::min(a, b), std::max(a, b)};
      if (std::find(seen.begin(), seen.end(), pair) != seen.end()) {
        r_.error(value, p, "the pair " + label + " is listed twice (in either order)");
        continue;
      }
      seen.push_back(pair);
      if (auto km = r_.number(value, p, 1e-3, 50000)) s.distance_km[a][b] = s.distance_km[b][a] = *km;
    }
  }

  void check_routes_connected(const Node& root, const Scenario& s) {
    if (s.routes.empty()) return;
    const int n = s.n_countries();
    std::vector<int> seen(n, 0);
    std::vector<int> stack = {0};
    seen[0] = 1;
    while (!stack.empty()) {
      const int c = stack.back();
      stack.pop_back();
      for (const auto& rt : s.routes) {
        const int other = rt.a == c ? rt.b : rt.b == c ? rt.a : -1;
        if (other >= 0 && !seen[other]) {
          seen[other] = 1;
          stack.push_back(other);
        }
      }
    }
    std::string cut;
    for (int c = 0; c < n; ++c)
      if (!seen[c]) cut += (cut.empty() ? "" : ", ") + s.countries[c].code;
    if (!cut.empty()) {
      const Node& routes = *root.find("routes");
      Node at = routes;
      if (routes.key_source.file) at.source = routes.key_source;
      r_.error(at, "routes",
               "the route graph does not reach " + cut + " from " + s.countries[0].code +
                   ": add a land, sea or air route so every country can be reached");
    }
  }
};

Scenario finish(const Node& root, std::vector<std::string> files) {
  Diagnostics diag;
  Builder b(diag);
  Scenario s = b.build(root, files.size() > 1);
  diag.throw_if_any();
  s.files = std::move(files);
  s.resolved_yaml = scenario::to_yaml(root);
  if (s.name.empty() && !s.files.empty()) s.name = std::filesystem::path(s.files.back()).stem().string();
  return s;
}

}  // namespace

Scenario load_scenario(const std::filesystem::path& path) {
  std::vector<std::string> files;
  Node root = scenario::load_with_extends(path, &files);
  return finish(root, std::move(files));
}

Scenario load_scenario_tree(const scenario::Node& root, std::vector<std::string> files) {
  return finish(root, std::move(files));
}

Scenario load_scenario_text(const std::string& text, const std::string& name) {
  Node root = scenario::parse_text(text, name);
  if (root.is_map() && root.find("extends")) {
    throw InputError({root.find("extends")->source.str() + ": extends: only scenario files (not text) can extend another"});
  }
  return finish(root, {name});
}

}  // namespace migsim
