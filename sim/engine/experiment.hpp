#pragma once
/// @file experiment.hpp
/// Experiments: a base scenario, parameters to vary by their key path in the scenario (a
/// list of values, a grid, or a Latin hypercube over ranges), a number of replicates and a
/// base seed, read from YAML (docs/experiments.md). An experiment expands into members:
/// one per (design point, replicate), numbered point-major (member = point * replicates +
/// replicate). Every member is a full scenario, checked before anything runs.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "scenario/scenario.hpp"
#include "scenario/tree.hpp"

namespace migsim {

/// A parameter value as it goes into the ensemble file: int64, float64 or text.
using ParamValue = std::variant<std::int64_t, double, std::string>;
enum class ParamType { Integer, Float, Text };

/// "1.5e-05", "12", "usa": how a value is printed in tables and messages.
std::string to_string(const ParamValue& v);

struct Parameter {
  std::string path;  ///< key path in the scenario, e.g. "behaviour.move_rate"
  ParamType type = ParamType::Float;
  scenario::Source source;  ///< where the experiment names it
};

/// One design point's values (one per parameter, in the order of Experiment::parameters),
/// with the YAML nodes that set them (sources point into the experiment file).
struct DesignPoint {
  std::vector<ParamValue> values;
  std::vector<scenario::Node> nodes;
};

enum class Design { Values, Grid, LatinHypercube };

struct Experiment {
  std::string name;
  std::string description;
  std::string file;           ///< the experiment file, as given
  std::string text;           ///< its full text (stored in outputs)
  std::string scenario_path;  ///< the base scenario (resolved against the experiment's folder)
  std::uint64_t base_seed = 0;
  int replicates = 1;
  std::optional<int> months;  ///< run only the first N months
  Design design = Design::Grid;
  std::vector<Parameter> parameters;
  std::vector<DesignPoint> points;

  /// The base scenario's merged tree, the files it came from, and the scenario it makes.
  scenario::Node base_tree;
  std::vector<std::string> base_files;
  std::shared_ptr<const Scenario> base;

  int members() const { return static_cast<int>(points.size()) * replicates; }
  int point_of(int member) const { return member / replicates; }
  int replicate_of(int member) const { return member % replicates; }
  /// The seed of a member: member_seed(base_seed, its replicate).
  std::uint64_t seed_of(int member) const;
  /// The member's scenario: the base tree with the point's values set. Throws InputError
  /// (naming the member and its values) when the scenario rejects them.
  Scenario scenario_of(int member) const;
};

/// The seed of replicate `r`: a bijective 64-bit mix (SplitMix64's finaliser) of
/// base_seed + r * 0x9E3779B97F4A7C15. Distinct replicates always get distinct seeds, and a
/// replicate's seed is the same in every member (common random numbers).
std::uint64_t member_seed(std::uint64_t base_seed, int replicate);

/// Reads an experiment and its base scenario, expands the design, and checks every
/// member's scenario. Throws InputError listing every problem (file:line:col: key: what).
Experiment load_experiment(const std::filesystem::path& path);
/// The same from text; `name` stands for the file and relative scenario paths resolve
/// against `dir`.
Experiment load_experiment_text(const std::string& text, const std::string& name,
                                const std::filesystem::path& dir);

/// Sets `value` at `path` ("behaviour.move_rate", "pathways[usa-family].quota",
/// "routes[1].mortality", "initial_stock.USA.MEX") in a scenario tree: list items are
/// chosen by index or by their identity key (code, name or edge); a missing last key (or
/// missing maps on the way) is created. Returns an error message, or "" on success.
std::string set_key_path(scenario::Node& root, const std::string& path, const scenario::Node& value);

}  // namespace migsim
