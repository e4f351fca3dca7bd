#pragma once
/// @file batch.hpp
/// Several runs on one machine: members of a sweep, replicates of a comparison. Runs go in
/// parallel, each with its share of the threads (OpenMP threads per run x runs at once =
/// the threads asked for), with one overall progress line. A run that fails is reported
/// and kept as failed (its series are zeros of the right shape); the others go on.
/// Results do not depend on how runs and threads are shared out: each run is
/// deterministic whatever its thread count (MODEL.md).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/recorder.hpp"
#include "output/dataset.hpp"
#include "scenario/scenario.hpp"

namespace migsim {

struct BatchRun {
  const Scenario* scenario = nullptr;
  std::uint64_t seed = 0;
  int months = 0;     ///< months to run (<= the scenario's)
  std::string label;  ///< "member 3 (behaviour.move_rate = 2e-05, replicate 1)", for messages
};

struct BatchResult {
  bool ok = false;
  std::string error;     ///< why it failed
  output::Dataset data;  ///< the run's dataset (zeros of the same shape when it failed)
  double seconds = 0;
};

struct BatchOptions {
  int threads = 0;   ///< threads in all; 0 = OpenMP's default (all cores, or OMP_NUM_THREADS)
  int parallel = 0;  ///< runs at once; 0 = as many as threads (each run single-threaded)
  bool quiet = false;
  std::string noun = "member";  ///< what a run is called in progress lines
  std::string command;          ///< for each run's history attribute
};

/// How the threads are shared out: `runs_at_once` x `threads_per_run` <= threads.
struct ThreadShare {
  int runs_at_once = 1;
  int threads_per_run = 1;
};
ThreadShare share_threads(int runs, const BatchOptions& opt);

/// Runs every run and returns their results, in order. Throws RuntimeFailure when
/// interrupted (SIGINT/SIGTERM): nothing is kept.
std::vector<BatchResult> run_batch(const std::vector<BatchRun>& runs, const BatchOptions& opt);

/// Runs one scenario for `months` and returns its dataset; `on_month(done)` is called after
/// each month. Throws RuntimeFailure if a stop is requested.
output::Dataset run_to_dataset(const Scenario& s, std::uint64_t seed, int months, const RunInfo& info,
                               const std::function<void(int)>& on_month = {});

/// The dataset of a run that produced nothing: every series zero, of the right shape.
output::Dataset zero_dataset(const Scenario& s, int months, const RunInfo& info);

}  // namespace migsim
