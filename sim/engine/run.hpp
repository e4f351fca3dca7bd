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
  /// Checkpoints (docs/hpc.md). With `checkpoint_every` > 0 a checkpoint is written every
  /// that many months; with it or `checkpoint` set, SIGTERM/SIGINT write one and stop the
  /// run (RunSummary::stopped); SIGUSR1 always does. The file is `checkpoint`, or
  /// OUTPUT.ckpt; it is removed when the run completes.
  std::string checkpoint;
  int checkpoint_every = 0;
  std::string resume;  ///< a checkpoint to continue from (the scenario must be its scenario)
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
  int resumed_from = 0;     ///< months already done in the checkpoint resumed from
  int checkpoints = 0;      ///< checkpoints written
  bool stopped = false;     ///< stopped on a signal after writing a checkpoint (no output yet)
  std::string checkpoint;   ///< the checkpoint file
};

/// The checkpoint file of a run: `opt.checkpoint`, or OUTPUT.ckpt.
std::string checkpoint_path(const RunOptions& opt);

/// Runs `s` and writes its output. Throws InputError (bad options or output path, checked
/// before the run starts), RuntimeFailure (writing, interruption).
RunSummary run_scenario(const Scenario& s, const RunOptions& opt);

/// Set by SIGINT/SIGTERM/SIGUSR1 while a run is going; the run stops at the end of the month.
void install_stop_handlers();
bool stop_requested();
int stop_signal();

}  // namespace migsim
