#pragma once
/// @file reader.hpp
/// Typed reading of a sourced YAML tree. Every getter records a problem (file, line,
/// column, key path, what was expected and what was found) in a Diagnostics instead of
/// stopping, so that one pass reports every error in a file. Used by the scenario and
/// experiment loaders.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/month.hpp"
#include "scenario/diagnostics.hpp"
#include "scenario/tree.hpp"

namespace migsim::scenario {

/// "a.b" / "a[3]" key paths.
std::string key_path(const std::string& parent, const std::string& key);
std::string index_path(const std::string& parent, std::size_t index);

class Reader {
 public:
  explicit Reader(Diagnostics& diag) : diag_(diag) {}

  /// Checks that `node` is a map and that each key is one of `known`; an unknown key is an
  /// error that suggests the nearest known key. Returns false if `node` is not a map.
  /// `also_known`: keys that are valid there but read before (`extends`, taken out when the
  /// files were merged): offered as corrections of a misspelt key, not accepted.
  bool map(const Node& node, const std::string& path, const std::vector<std::string>& known,
           const std::vector<std::string>& also_known = {});
  /// The value under `key`, or nullptr after recording "missing required key".
  const Node* required(const Node& map, const std::string& key, const std::string& path);

  std::optional<double> number(const Node& n, const std::string& path, double lo, double hi);
  std::optional<double> probability(const Node& n, const std::string& path) {
    return number(n, path, 0.0, 1.0);
  }
  std::optional<std::int64_t> integer(const Node& n, const std::string& path, std::int64_t lo,
                                      std::int64_t hi);
  std::optional<std::uint64_t> unsigned64(const Node& n, const std::string& path);
  std::optional<std::string> string(const Node& n, const std::string& path);
  std::optional<bool> boolean(const Node& n, const std::string& path);
  std::optional<Month> month(const Node& n, const std::string& path);
  /// One of `choices`; suggests the nearest when the word is not among them.
  std::optional<std::string> choice(const Node& n, const std::string& path,
                                    const std::vector<std::string>& choices);
  /// A sequence (an empty one is fine); records an error and returns nullptr otherwise.
  const Node* sequence(const Node& n, const std::string& path);

  /// Records an error at `n`.
  void error(const Node& n, const std::string& path, const std::string& message) {
    diag_.error(n.source, path, message);
  }
  Diagnostics& diagnostics() { return diag_; }

 private:
  Diagnostics& diag_;
};

}  // namespace migsim::scenario
