#include "scenario/reader.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace migsim::scenario {

std::string key_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

namespace {

std::string fmt_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// Parses a YAML number: decimal or scientific notation, optional sign, `_` separators,
/// and YAML's .inf / .nan spellings (reported as not finite).
std::optional<double> parse_number(const std::string& text, bool* not_finite) {
  *not_finite = false;
  std::string s;
  for (char c : text)
    if (c != '_') s += c;
  if (s.empty()) return std::nullopt;
  for (const char* inf : {".inf", ".Inf", ".INF", "+.inf", "-.inf", "+.Inf", "-.Inf", ".nan",
                          ".NaN", ".NAN", "inf", "nan", "-inf", "+inf", "Infinity", "-Infinity"}) {
    if (s == inf) {
      *not_finite = true;
      return std::nullopt;
    }
  }
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  if (end == begin || *end != '\0') return std::nullopt;
  if (errno == ERANGE || !std::isfinite(v)) {
    *not_finite = true;
    return std::nullopt;
  }
  // strtod accepts hex floats and "infinity"; YAML numbers are decimal.
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return std::nullopt;
  return v;
}

}  // namespace

bool Reader::map(const Node& node, const std::string& path, const std::vector<std::string>& known,
                 const std::vector<std::string>& also_known) {
  if (!node.is_map()) {
    diag_.error(node.source, path, "expected a map of keys, got " + node.describe());
    return false;
  }
  for (const auto& [key, value] : node.entries) {
    bool ok = false;
    for (const auto& k : known) ok = ok || k == key;
    if (ok) continue;
    std::string msg = "unknown key";
    std::vector<std::string> candidates = known;
    candidates.insert(candidates.end(), also_known.begin(), also_known.end());
    const std::string near = nearest(key, candidates);
    if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
    else {
      msg += "; expected one of:";
      for (const auto& k : known) msg += " " + k;
    }
    diag_.error(value.key_source.file ? value.key_source : value.source, key_path(path, key), msg);
  }
  return true;
}

const Node* Reader::required(const Node& map, const std::string& key, const std::string& path) {
  if (!map.is_map()) return nullptr;
  const Node* v = map.find(key);
  if (!v) diag_.error(map.source, key_path(path, key), "missing required key");
  return v;
}

std::optional<double> Reader::number(const Node& n, const std::string& path, double lo, double hi) {
  if (!n.is_scalar() || n.quoted) {
    diag_.error(n.source, path, "expected a number, got " + n.describe());
    return std::nullopt;
  }
  bool not_finite = false;
  auto v = parse_number(n.scalar, &not_finite);
  if (not_finite) {
    diag_.error(n.source, path, "expected a finite number, got " + n.describe());
    return std::nullopt;
  }
  if (!v) {
    diag_.error(n.source, path, "expected a number, got " + n.describe());
    return std::nullopt;
  }
  if (*v < lo || *v > hi) {
    std::string range;
    if (lo == 0.0 && hi == 1.0) {
      diag_.error(n.source, path, "expected a probability between 0 and 1, got " + fmt_number(*v));
      return std::nullopt;
    }
    if (hi == std::numeric_limits<double>::max()) range = "at least " + fmt_number(lo);
    else if (lo == std::numeric_limits<double>::lowest()) range = "at most " + fmt_number(hi);
    else range = "between " + fmt_number(lo) + " and " + fmt_number(hi);
    diag_.error(n.source, path, "expected a number " + range + ", got " + fmt_number(*v));
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> Reader::integer(const Node& n, const std::string& path, std::int64_t lo,
                                            std::int64_t hi) {
  const std::string what = lo == 0 && hi == std::numeric_limits<std::int64_t>::max()
                               ? "a non-negative integer"
                           : lo == 1 && hi == std::numeric_limits<std::int64_t>::max()
                               ? "a positive integer"
                               : "an integer between " + std::to_string(lo) + " and " +
                                     std::to_string(hi);
  bool not_finite = false;
  std::optional<double> v;
  if (n.is_scalar() && !n.quoted) v = parse_number(n.scalar, &not_finite);
  if (!v || *v != std::floor(*v) || std::fabs(*v) > 9.007199254740992e15 || *v < double(lo) ||
      *v > double(hi)) {
    // An integer too large for a double to hold exactly: say so, as "a non-negative integer"
    // alone would not tell why 1e16 was refused.
    const bool too_big = v && *v == std::floor(*v) && *v > 9.007199254740992e15 &&
                         hi > 9007199254740992LL;
    diag_.error(n.source, path,
                "expected " + what + (too_big ? " of at most 9007199254740992 (2^53)" : "") + ", got " + n.describe());
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*v);
}

std::optional<std::uint64_t> Reader::unsigned64(const Node& n, const std::string& path) {
  if (n.is_scalar() && !n.quoted && !n.scalar.empty() && n.scalar.size() <= 20) {
    bool digits = true;
    for (char c : n.scalar) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) {
      errno = 0;
      char* end = nullptr;
      const unsigned long long v = std::strtoull(n.scalar.c_str(), &end, 10);
      if (errno == 0 && *end == '\0') return static_cast<std::uint64_t>(v);
    }
  }
  diag_.error(n.source, path,
              "expected a non-negative integer below 2^64, got " + n.describe());
  return std::nullopt;
}

std::optional<std::string> Reader::string(const Node& n, const std::string& path) {
  if (!n.is_scalar()) {
    diag_.error(n.source, path, "expected text, got " + n.describe());
    return std::nullopt;
  }
  return n.scalar;
}

std::optional<bool> Reader::boolean(const Node& n, const std::string& path) {
  if (n.is_scalar() && !n.quoted) {
    const std::string& s = n.scalar;
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") return false;
  }
  diag_.error(n.source, path, "expected true or false, got " + n.describe());
  return std::nullopt;
}

std::optional<Month> Reader::month(const Node& n, const std::string& path) {
  if (n.is_scalar()) {
    if (auto m = Month::parse(n.scalar)) return m;
  }
  diag_.error(n.source, path, "expected a month like 2010-01, got " + n.describe());
  return std::nullopt;
}

std::optional<std::string> Reader::choice(const Node& n, const std::string& path,
                                          const std::vector<std::string>& choices) {
  auto s = string(n, path);
  if (!s) return std::nullopt;
  for (const auto& c : choices)
    if (c == *s) return s;
  std::string msg = "unknown value " + n.describe();
  const std::string near = nearest(*s, choices);
  if (!near.empty()) msg += "; did you mean \"" + near + "\"?";
  msg += " (one of:";
  for (const auto& c : choices) msg += " " + c;
  msg += ")";
  diag_.error(n.source, path, msg);
  return std::nullopt;
}

const Node* Reader::sequence(const Node& n, const std::string& path) {
  if (n.is_sequence()) return &n;
  diag_.error(n.source, path, "expected a list, got " + n.describe());
  return nullptr;
}

}  // namespace migsim::scenario
