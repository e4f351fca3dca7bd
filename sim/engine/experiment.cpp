#include "engine/experiment.hpp"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "core/errors.hpp"
#include "scenario/reader.hpp"

namespace migsim {

using scenario::Diagnostics;
using scenario::key_path;
using scenario::Node;
using scenario::Reader;
using scenario::Source;

std::string to_string(const ParamValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6g", *d);
    return buf;
  }
  return std::get<std::string>(v);
}

std::uint64_t member_seed(std::uint64_t base_seed, int replicate) {
  std::uint64_t z = base_seed + static_cast<std::uint64_t>(replicate) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t Experiment::seed_of(int member) const { return member_seed(base_seed, replicate_of(member)); }

namespace {

/// One segment of a key path: a map key, optionally followed by a list selector.
struct Segment {
  std::string key;
  std::optional<std::string> select;  ///< "[3]" or "[usa-family]"
};

std::optional<std::vector<Segment>> split_path(const std::string& path) {
  std::vector<Segment> out;
  std::size_t i = 0;
  while (i < path.size()) {
    Segment seg;
    while (i < path.size() && path[i] != '.' && path[i] != '[') seg.key += path[i++];
    if (seg.key.empty()) return std::nullopt;
    if (i < path.size() && path[i] == '[') {
      const auto close = path.find(']', i);
      if (close == std::string::npos || close == i + 1) return std::nullopt;
      seg.select = path.substr(i + 1, close - i - 1);
      i = close + 1;
    }
    out.push_back(std::move(seg));
    if (i < path.size()) {
      if (path[i] != '.' || i + 1 == path.size()) return std::nullopt;
      ++i;
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::string set_key_path(Node& root, const std::string& path, const Node& value) {
  const auto segments = split_path(path);
  if (!segments) return "not a key path (expected keys joined by dots, such as behaviour.move_rate)";
  Node* at = &root;
  std::string where;
  for (std::size_t k = 0; k < segments->size(); ++k) {
    const Segment& seg = (*segments)[k];
    const bool last = k + 1 == segments->size() && !seg.select;
    if (at->is_null()) {
      at->kind = Node::Kind::Map;
      at->source = value.source;
    }
    if (!at->is_map()) return (where.empty() ? "the scenario" : where) + " is not a map of keys";
    Node* next = at->find(seg.key);
    if (!next) {
      if (seg.select) return key_path(where, seg.key) + " is not in the scenario, so no item can be chosen from it";
      Node fresh;
      fresh.kind = last ? Node::Kind::Scalar : Node::Kind::Map;
      fresh.source = value.source;
      fresh.key_source = value.key_source.file ? value.key_source : value.source;
      at->entries.emplace_back(seg.key, std::move(fresh));
      next = &at->entries.back().second;
    }
    where = key_path(where, seg.key);
    if (seg.select) {
      if (!next->is_sequence()) return where + " is not a list, so [" + *seg.select + "] cannot choose an item";
      Node* item = nullptr;
      if (all_digits(*seg.select)) {
        // More than 18 digits is past the end of any list (and past what stoull takes).
        const auto index = seg.select->size() > 18 ? std::numeric_limits<std::size_t>::max() : std::stoull(*seg.select);
        if (index >= next->items.size()) {
          return where + " has " + std::to_string(next->items.size()) + " items; [" + *seg.select + "] is past the end";
        }
        item = &next->items[index];
      } else {
        for (auto& it : next->items) {
          if (!it.is_map()) continue;
          for (const char* id : {"code", "name", "edge"}) {
            const Node* v = it.find(id);
            if (v && v->is_scalar() && v->scalar == *seg.select) item = &it;
          }
          if (item) break;
        }
        if (!item) return where + " has no item whose code, name or edge is \"" + *seg.select + "\"";
      }
      where += "[" + *seg.select + "]";
      next = item;
      if (k + 1 == segments->size()) {
        const Source key_src = next->key_source.file ? next->key_source : value.key_source;
        *next = value;
        next->key_source = key_src;
        return "";
      }
    }
    if (k + 1 == segments->size()) {
      const Source key_src = next->key_source.file ? next->key_source : value.key_source;
      *next = value;
      next->key_source = key_src;
      return "";
    }
    at = next;
  }
  return "";
}

namespace {


const std::vector<std::string> kExperimentKeys = {"experiment_format", "name",   "description", "scenario",
                                                  "seed",              "replicates", "months", "design",
                                                  "samples",           "design_seed", "parameters"};

/// A scalar's type as a parameter value: integer, number or text.
ParamType scalar_type(const Node& n) {
  if (n.quoted) return ParamType::Text;
  std::string s;
  for (char c : n.scalar)
    if (c != '_') s += c;
  if (s.empty()) return ParamType::Text;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i < s.size() && all_digits(s.substr(i)) && s.size() - i <= 18) return ParamType::Integer;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end && *end == '\0' && std::isfinite(v)) {
    for (char c : s)
      if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return ParamType::Text;
    return ParamType::Float;
  }
  return ParamType::Text;
}

ParamValue value_of(const Node& n, ParamType type) {
  std::string s;
  for (char c : n.scalar)
    if (c != '_') s += c;
  switch (type) {
    case ParamType::Integer: return static_cast<std::int64_t>(std::stoll(s));
    case ParamType::Float: return std::strtod(s.c_str(), nullptr);
    case ParamType::Text: break;
  }
  return n.scalar;
}

Node scalar_node(const std::string& text, const Source& source) {
  Node n;
  n.kind = Node::Kind::Scalar;
  n.scalar = text;
  n.source = source;
  return n;
}

std::string format_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

class ExperimentReader {
 public:
  ExperimentReader(Diagnostics& d, Experiment& e) : r_(d), e_(e) {}

  /// Reads the header and the parameters' values or ranges.
  void read(const Node& root, const std::filesystem::path& dir) {
    if (!r_.map(root, "", kExperimentKeys)) return;
    if (const Node* f = r_.required(root, "experiment_format", "")) {
      if (auto v = r_.integer(*f, "experiment_format", 1, 1'000'000); v && *v != 1)
        r_.error(*f, "experiment_format", "this migsim reads experiment_format 1, the file says " + std::to_string(*v));
    }
    if (const Node* n = root.find("name")) {
      if (auto v = r_.string(*n, "name")) e_.name = *v;
    }
    if (const Node* n = root.find("description")) {
      if (auto v = r_.string(*n, "description")) e_.description = *v;
    }
    if (const Node* n = r_.required(root, "scenario", "")) {
      if (auto v = r_.string(*n, "scenario")) {
        std::filesystem::path p = *v;
        if (p.is_relative()) p = dir / p;
        e_.scenario_path = p.lexically_normal().string();
        scenario_node_ = n;
      }
    }
    if (const Node* n = root.find("seed")) {
      if (auto v = r_.unsigned64(*n, "seed")) seed_ = *v;
    }
    if (const Node* n = root.find("replicates")) {
      if (auto v = r_.integer(*n, "replicates", 1, 100'000)) e_.replicates = static_cast<int>(*v);
    }
    if (const Node* n = root.find("months")) {
      if (auto v = r_.integer(*n, "months", 1, 12'000)) e_.months = static_cast<int>(*v);
      months_node_ = n;
    }
    std::string design = "grid";
    if (const Node* n = root.find("design")) {
      if (auto v = r_.choice(*n, "design", {"values", "grid", "latin_hypercube"})) design = *v;
    }
    e_.design = design == "values" ? Design::Values : design == "grid" ? Design::Grid : Design::LatinHypercube;
    const Node* samples = root.find("samples");
    if (e_.design == Design::LatinHypercube) {
      if (const Node* n = r_.required(root, "samples", "")) {
        if (auto v = r_.integer(*n, "samples", 1, 1'000'000)) samples_ = static_cast<int>(*v);
      }
    } else if (samples) {
      r_.error(*samples, "samples", "only a latin_hypercube design takes a number of samples");
    }
    if (const Node* n = root.find("design_seed")) {
      if (e_.design != Design::LatinHypercube) r_.error(*n, "design_seed", "only a latin_hypercube design is random");
      else if (auto v = r_.unsigned64(*n, "design_seed")) design_seed_ = *v;
    }
    const Node* params = root.find("parameters");
    if (params && !params->is_null()) {
      if (!params->is_map()) {
        r_.error(*params, "parameters", "expected a map {key.path: values}, got " + params->describe());
      } else {
        for (const auto& [key, value] : params->entries) read_parameter(key, value);
      }
    }
  }

  /// Loads the base scenario (errors there are the scenario's own).
  void load_base() {
    if (e_.scenario_path.empty()) return;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(e_.scenario_path, ec)) {
      r_.error(*scenario_node_, "scenario", "no such scenario file \"" + e_.scenario_path + "\"");
      return;
    }
    e_.base_tree = scenario::load_with_extends(e_.scenario_path, &e_.base_files);
    e_.base = std::make_shared<const Scenario>(load_scenario_tree(e_.base_tree, e_.base_files));
    e_.base_seed = seed_ ? *seed_ : e_.base->seed;
    if (e_.months && *e_.months > e_.base->months()) {
      r_.error(*months_node_, "months",
               "the scenario runs " + std::to_string(e_.base->months()) + " months; months must not exceed it");
    }
  }

  void expand() {
    const std::size_t P = e_.parameters.size();
    if (P == 0) {
      e_.points.push_back({});
      return;
    }
    if (e_.design == Design::Values) {
      const std::size_t n = lists_[0].size();
      for (std::size_t k = 1; k < P; ++k) {
        if (lists_[k].size() != n) {
          r_.error(*list_nodes_[k], "parameters." + e_.parameters[k].path,
                   "a values design takes the k-th value of every parameter for member k, so every list needs "
                   "the same length: " + std::to_string(lists_[k].size()) + " values here, " + std::to_string(n) +
                       " for " + e_.parameters[0].path + " (use design: grid for every combination)");
          return;
        }
      }
      for (std::size_t i = 0; i < n; ++i) {
        DesignPoint pt;
        for (std::size_t k = 0; k < P; ++k) add(pt, k, lists_[k][i]);
        e_.points.push_back(std::move(pt));
      }
    } else if (e_.design == Design::Grid) {
      std::size_t total = 1;
      for (const auto& l : lists_) total *= std::max<std::size_t>(l.size(), 1);
      if (total > 1'000'000) {
        r_.error(*list_nodes_[0], "parameters", "the grid has " + std::to_string(total) + " points (at most 1,000,000)");
        return;
      }
      for (std::size_t i = 0; i < total; ++i) {
        DesignPoint pt;
        std::size_t rest = i;
        std::vector<std::size_t> idx(P);
        for (std::size_t k = P; k-- > 0;) {  // the last parameter varies fastest
          idx[k] = rest % lists_[k].size();
          rest /= lists_[k].size();
        }
        for (std::size_t k = 0; k < P; ++k) add(pt, k, lists_[k][idx[k]]);
        e_.points.push_back(std::move(pt));
      }
    } else {
      latin_hypercube();
    }
  }

 private:
  struct Range {
    double lo = 0, hi = 1;
    bool log = false;
  };

  void add(DesignPoint& pt, std::size_t k, const Node& n) {
    pt.values.push_back(value_of(n, e_.parameters[k].type));
    pt.nodes.push_back(n);
  }

  void read_parameter(const std::string& key, const Node& value) {
    const std::string path = "parameters." + key;
    Parameter p;
    p.path = key;
    p.source = value.key_source.file ? value.key_source : value.source;
    if (!split_path(key)) {
      r_.error(value, path, "not a key path (expected keys joined by dots, such as behaviour.move_rate)");
      return;
    }
    for (const auto& q : e_.parameters) {
      if (q.path == key) r_.error(value, path, "the parameter is listed twice");
    }
    if (key == "seed") {
      r_.error(value, path,
               "the seed cannot be a parameter: each member's seed comes from the experiment's seed and its "
               "replicate (set `seed:` and `replicates:` at the top of the experiment)");
      return;
    }
    if (e_.design == Design::LatinHypercube) {
      if (!r_.map(value, path, {"min", "max", "scale", "integer"})) return;
      Range rg;
      const Node* lo = r_.required(value, "min", path);
      const Node* hi = r_.required(value, "max", path);
      double vlo = 0, vhi = 0;
      bool have = lo && hi;
      const double lowest = std::numeric_limits<double>::lowest(), highest = std::numeric_limits<double>::max();
      if (lo) {
        if (auto v = r_.number(*lo, key_path(path, "min"), lowest, highest)) vlo = *v;
        else have = false;
      }
      if (hi) {
        if (auto v = r_.number(*hi, key_path(path, "max"), lowest, highest)) vhi = *v;
        else have = false;
      }
      bool integer = false;
      if (const Node* n = value.find("integer")) {
        if (auto b = r_.boolean(*n, key_path(path, "integer"))) integer = *b;
      }
      if (const Node* n = value.find("scale")) {
        if (auto s = r_.choice(*n, key_path(path, "scale"), {"linear", "log"})) rg.log = *s == "log";
      }
      if (!have) return;
      if (vhi < vlo) {
        r_.error(*hi, key_path(path, "max"), "max is below min");
        return;
      }
      if (rg.log && vlo <= 0) {
        r_.error(*lo, key_path(path, "min"), "a log scale needs min > 0");
        return;
      }
      // Integers are drawn as 64-bit integers through doubles: bounds beyond 2^53 would not
      // be exact (or fit).
      constexpr double kExact = 9007199254740992.0;  // 2^53
      if (integer && (std::fabs(vlo) > kExact || std::fabs(vhi) > kExact)) {
        r_.error(value, path, "an integer parameter's min and max must lie within -2^53 and 2^53");
        return;
      }
      if (integer && std::floor(vhi) < std::ceil(vlo)) {
        r_.error(value, path, "no integer lies between min and max");
        return;
      }
      rg.lo = vlo;
      rg.hi = vhi;
      p.type = integer ? ParamType::Integer : ParamType::Float;
      ranges_.push_back(rg);
      range_nodes_.push_back(&value);
      e_.parameters.push_back(p);
      return;
    }
    const Node* list = r_.sequence(value, path);
    if (!list) return;
    if (list->items.empty()) {
      r_.error(value, path, "the list of values is empty");
      return;
    }
    std::vector<Node> items;
    bool any_text = false, any_float = false;
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      const Node& it = list->items[i];
      if (!it.is_scalar()) {
        r_.error(it, scenario::index_path(path, i), "expected a single value (a number or a word), got " + it.describe());
        return;
      }
      const ParamType t = scalar_type(it);
      any_text = any_text || t == ParamType::Text;
      any_float = any_float || t == ParamType::Float;
      items.push_back(it);
    }
    p.type = any_text ? ParamType::Text : any_float ? ParamType::Float : ParamType::Integer;
    lists_.push_back(std::move(items));
    list_nodes_.push_back(&value);
    e_.parameters.push_back(p);
  }

  void latin_hypercube() {
    const int n = samples_;
    const std::size_t P = ranges_.size();
    if (n <= 0) return;
    // Fixed algorithms (Mersenne Twister, Boost.Random distributions, Fisher-Yates), so the
    // design is the same on every platform.
    boost::random::mt19937_64 gen(design_seed_ ? *design_seed_ : e_.base_seed);
    std::vector<std::vector<double>> u(P, std::vector<double>(static_cast<std::size_t>(n)));
    for (std::size_t k = 0; k < P; ++k) {
      std::vector<int> perm(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
      for (int i = n - 1; i > 0; --i) {
        const int j = boost::random::uniform_int_distribution<int>(0, i)(gen);
        std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)]);
      }
      // A number sits at a uniform random place inside its stratum. An integer's samples all
      // sit at the same place in theirs (the first draw, the others drawn all the same, so
      // that the other parameters' designs do not depend on which are integers): n evenly
      // spaced points, so each of the range's m integers, which covers 1/m of the unit
      // interval, holds floor(n/m) or ceil(n/m) of them (every integer appears once n >= m),
      // and, the offset being uniform, each is expected to hold exactly n/m.
      const bool integer = e_.parameters[k].type == ParamType::Integer;
      double offset = 0;
      for (int i = 0; i < n; ++i) {
        const double jitter = boost::random::uniform_01<double>()(gen);
        if (i == 0) offset = jitter;
        u[k][static_cast<std::size_t>(i)] = (perm[static_cast<std::size_t>(i)] + (integer ? offset : jitter)) / n;
      }
    }
    for (int i = 0; i < n; ++i) {
      DesignPoint pt;
      for (std::size_t k = 0; k < P; ++k) {
        const Range& rg = ranges_[k];
        const double x = u[k][static_cast<std::size_t>(i)];
        double v = rg.log ? std::exp(std::log(rg.lo) + x * (std::log(rg.hi) - std::log(rg.lo)))
                          : rg.lo + x * (rg.hi - rg.lo);
        v = std::min(std::max(v, rg.lo), rg.hi);
        const Source src = range_nodes_[k]->source;
        if (e_.parameters[k].type == ParamType::Integer) {
          // Integers: the x-quantile of the integers in [min, max]. On a linear scale each is
          // equally likely (covers 1/k of the unit interval); on a log scale the x-quantile
          // of a log-uniform variable on [lo, hi + 1), rounded down, so that integer i covers
          // log((i + 1) / i) / log((hi + 1) / lo) of it (lo >= 1: a log scale needs min > 0).
          const auto lo = static_cast<std::int64_t>(std::ceil(rg.lo));
          const auto hi = static_cast<std::int64_t>(std::floor(rg.hi));
          const double at =
              rg.log ? std::floor(std::exp(std::log(double(lo)) + x * (std::log(double(hi + 1)) - std::log(double(lo)))))
                     : double(lo) + std::floor(x * double(hi - lo + 1));
          const auto clamped = std::clamp<std::int64_t>(static_cast<std::int64_t>(at), lo, hi);
          pt.values.push_back(clamped);
          pt.nodes.push_back(scalar_node(std::to_string(clamped), src));
        } else {
          pt.values.push_back(v);
          pt.nodes.push_back(scalar_node(format_double(v), src));
        }
      }
      e_.points.push_back(std::move(pt));
    }
  }

  Reader r_;
  Experiment& e_;
  const Node* scenario_node_ = nullptr;
  const Node* months_node_ = nullptr;
  std::optional<std::uint64_t> seed_, design_seed_;
  int samples_ = 0;
  std::vector<std::vector<Node>> lists_;
  std::vector<const Node*> list_nodes_;
  std::vector<Range> ranges_;
  std::vector<const Node*> range_nodes_;
};

Experiment finish(const std::string& text, const std::string& name, const std::filesystem::path& dir) {
  Experiment e;
  e.file = name;
  e.text = text;
  const Node root = scenario::parse_text(text, name);
  Diagnostics diag;
  ExperimentReader reader(diag, e);
  reader.read(root, dir);
  diag.throw_if_any();
  reader.load_base();
  diag.throw_if_any();
  reader.expand();
  diag.throw_if_any();
  if (e.name.empty()) e.name = std::filesystem::path(name).stem().string();
  // Every member's scenario must load, and all must have the same shape of output. The
  // replicates of a point share its scenario: check each point once.
  std::vector<std::string> problems;
  for (std::size_t pt = 0; pt < e.points.size(); ++pt) {
    try {
      const Scenario s = e.scenario_of(static_cast<int>(pt) * e.replicates);
      const Scenario& b = *e.base;
      std::string what;
      if (s.start != b.start || s.months() < (e.months ? *e.months : b.months()) ||
          (!e.months && s.months() != b.months()))
        what = "the months it runs";
      else if (s.n_origins() != b.n_origins()) what = "the origins";
      else if (s.n_sectors() != b.n_sectors()) what = "the sectors";
      else if (s.pathways.size() != b.pathways.size()) what = "the pathways";
      else if (s.routes.size() != b.routes.size()) what = "the route edges";
      for (int c = 0; what.empty() && c < s.n_countries(); ++c)
        if (s.countries[c].code != b.countries[c].code || s.countries[c].regions != b.countries[c].regions)
          what = "the countries";
      if (!what.empty()) {
        std::string vals;
        for (std::size_t k = 0; k < e.parameters.size(); ++k)
          vals += (k ? ", " : "") + e.parameters[k].path + " = " + to_string(e.points[pt].values[k]);
        // Point at the parameter that most likely did it: one that sets the run's dates,
        // else the first.
        std::size_t culprit = 0;
        for (std::size_t k = 0; k < e.parameters.size(); ++k)
          if (e.parameters[k].path == "start" || e.parameters[k].path == "end") culprit = k;
        problems.push_back(e.parameters[culprit].source.str() + ": " + e.parameters[culprit].path +
                           ": design point " + std::to_string(pt) + " (" + vals + ") changes " + what +
                           "; every member of an ensemble must have the same dimensions of output");
      }
    } catch (const InputError& err) {
      for (const auto& p : err.problems()) problems.push_back(p);
    }
    if (problems.size() > 50) break;
  }
  // The same problem met by several members is reported once (its first member named).
  std::vector<std::string> once;
  std::set<std::string> seen;
  for (const auto& p : problems) {
    const auto suffix = p.rfind(" (member ");
    if (seen.insert(suffix == std::string::npos ? p : p.substr(0, suffix)).second) once.push_back(p);
  }
  if (!once.empty()) throw InputError(once);
  return e;
}

}  // namespace

Scenario Experiment::scenario_of(int member) const {
  const DesignPoint& pt = points[static_cast<std::size_t>(point_of(member))];
  Node tree = base_tree;
  std::vector<std::string> problems;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    Node value = pt.nodes[k];
    value.key_source = parameters[k].source;  // a key the scenario lacks is reported where the experiment names it
    const std::string err = set_key_path(tree, parameters[k].path, value);
    if (!err.empty()) problems.push_back(parameters[k].source.str() + ": parameters." + parameters[k].path + ": " + err);
  }
  if (!problems.empty()) throw InputError(problems);
  try {
    std::vector<std::string> files = base_files;
    return load_scenario_tree(tree, files);
  } catch (const InputError& err) {
    std::string vals;
    for (std::size_t k = 0; k < parameters.size(); ++k)
      vals += (k ? ", " : "") + parameters[k].path + " = " + to_string(pt.values[k]);
    std::vector<std::string> out;
    for (const auto& p : err.problems())
      out.push_back(p + " (member " + std::to_string(member) + ": " + vals + ")");
    throw InputError(out);
  }
}

Experiment load_experiment(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError({name + ": is a directory, not an experiment file"});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({name + ": cannot open the file (does it exist and is it readable?)"});
  std::ostringstream buf;
  buf << in.rdbuf();
  return finish(buf.str(), name, path.parent_path());
}

Experiment load_experiment_text(const std::string& text, const std::string& name, const std::filesystem::path& dir) {
  return finish(text, name, dir);
}

}  // namespace migsim
