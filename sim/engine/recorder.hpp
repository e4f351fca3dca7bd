#pragma once
/// @file recorder.hpp
/// Collects each month's results into the output's time series and builds the dataset
/// (dimensions, coordinates, CF attributes) that output/ writes. The output variables and
/// their names are defined here, in one place; docs/output.md lists them.

#include <string>

#include "model/model.hpp"
#include "output/dataset.hpp"

namespace migsim {

/// Facts about a run that go into the file's global attributes.
struct RunInfo {
  std::uint64_t seed = 0;
  int threads = 1;
  int ranks = 1;
  std::string start_time_utc;
  std::string command;
};

class Recorder {
 public:
  explicit Recorder(const Scenario& s);
  /// Appends one month.
  void add(const MonthResult& r, const CounterLayout& layout);
  int months() const { return months_; }
  /// The dataset of every month recorded so far.
  output::Dataset dataset(const RunInfo& info) const;
  /// The same, moving the series out instead of copying them (a copy of a long run's
  /// series is as large as the series, and new memory is slow to touch on some machines);
  /// the recorder is left empty.
  output::Dataset take_dataset(const RunInfo& info);

  /// Raw series, in the order and layout of dataset() (for checkpoints).
  std::vector<std::vector<std::int64_t>>& int_series() { return ints_; }
  std::vector<std::vector<double>>& float_series() { return floats_; }
  void set_months(int m) { months_ = m; }

 private:
  /// Reserves every series for the whole run, from the first month's sizes.
  void reserve(const MonthResult& r, const CounterLayout& layout);
  output::Dataset build(const RunInfo& info, std::vector<std::vector<std::int64_t>> ints,
                        std::vector<std::vector<double>> floats) const;

  const Scenario& s_;
  int months_ = 0;
  std::vector<std::vector<std::int64_t>> ints_;
  std::vector<std::vector<double>> floats_;
};

/// UTC now as "YYYY-MM-DDTHH:MM:SSZ".
std::string utc_now();

}  // namespace migsim
