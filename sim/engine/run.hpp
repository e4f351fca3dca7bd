#pragma once
/// @file run.hpp
/// Running a scenario: the options of a run (a plain struct, separate from the command
/// line) and the loop that steps the model, reports progress, records the series and
/// writes the output file.

#include <cstdint>
#include <optional>
#include <string>

#include "scenario/scenario.hpp"

namespace migsim {

class Comm;

struct RunOptions {
  std::string output;                 ///< output file (.h5)
  std::optional<std::uint64_t> seed;  ///< overrides the scenario's seed
  int threads = 0;                    ///< OpenMP threads; 0 = OpenMP's default
  std::optional<int> months;          ///< run only the first N months
  bool force = false;                 ///< replace an existing output
  bool quiet = false;                 ///< no progress lines
  std::string command;                ///< the command line, for the file's history
  Comm* comm = nullptr;               ///< MPI ranks of the run (nullptr: one process)
};

struct RunSummary {
  int months = 0;
  int threads = 1;
  std::int64_t initial_agents = 0;
  std::int64_t final_agents = 0;
  double seconds = 0;
  double loop_seconds = 0;   ///< the monthly loop only
  double write_seconds = 0;  ///< writing the output file
  std::string output;
};

/// Runs `s` and writes its output. Throws InputError (bad options or output path, checked
/// before the run starts), RuntimeFailure (writing, interruption).
RunSummary run_scenario(const Scenario& s, const RunOptions& opt);

/// Set by SIGINT/SIGTERM while a run is going; the run stops at the end of the month.
void install_stop_handlers();
bool stop_requested();
int stop_signal();

}  // namespace migsim
