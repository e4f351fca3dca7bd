#pragma once
/// @file compare.hpp
/// `migsim compare BASE POLICY --replicates N`: both scenarios run N times with common
/// random numbers (replicate r has the same seed in both, member_seed(base seed, r)), into
/// one file whose series gain leading `scenario` (base first) and `replicate` dimensions,
/// and a table of the main differences with 95% intervals across replicates.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "output/dataset.hpp"

namespace migsim {

struct CompareOptions {
  std::string output;
  int replicates = 10;
  std::optional<std::uint64_t> seed;  ///< base seed (default: the base scenario's)
  std::optional<int> months;
  int threads = 0;
  int parallel = 0;
  bool force = false;
  bool quiet = false;
  std::string command;
};

/// One row of the differences table: policy minus base, paired by replicate.
struct Difference {
  std::string indicator;
  double base_mean = 0, policy_mean = 0;
  double mean = 0;        ///< mean of policy - base over replicates
  double low = 0, high = 0;  ///< 95% t interval of the mean difference (equal to mean if n = 1)
  int n = 0;
};

/// The indicators compared, from a comparison dataset (scenario, replicate, ...).
std::vector<Difference> differences(const output::Dataset& ds);
/// The table as text.
std::string format_differences(const std::vector<Difference>& rows, const std::string& base,
                               const std::string& policy);

/// Runs the comparison, writes the file and returns the table's rows. Throws InputError
/// (scenarios, options, output path), RuntimeFailure (a run failed, interruption, writing).
std::vector<Difference> run_compare(const std::string& base_path, const std::string& policy_path,
                                    const CompareOptions& opt, std::string* base_name, std::string* policy_name);

/// Two-sided 95% Student t quantile for `df` degrees of freedom.
double t_quantile_95(int df);

}  // namespace migsim
