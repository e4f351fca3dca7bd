#pragma once
/// @file checkpoint.hpp
/// Checkpoint files of `migsim run` (docs/hpc.md): everything needed to continue a run to
/// an output identical, bit for bit, to an uninterrupted run's: the scenario (its resolved
/// text), the seed and run options, the series recorded so far, and the model's state.
///
/// Layout: "MIGSIMCK", format version (uint32), payload size (uint64), payload, FNV-1a
/// 64-bit checksum of the payload. Written to a temporary name and renamed, so a kill
/// while writing leaves the previous checkpoint intact. A damaged, truncated or foreign
/// file, or one of another scenario, seed or migsim version, is refused with a clear error.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/recorder.hpp"
#include "model/model.hpp"

namespace migsim {

/// What a checkpoint says about the run, besides the state.
struct CheckpointHeader {
  std::string migsim_version;
  std::string scenario_yaml;                ///< Scenario::resolved_yaml
  std::vector<std::string> scenario_files;  ///< Scenario::files
  std::uint64_t seed = 0;
  int months = 0;       ///< months the run is to reach
  int months_done = 0;  ///< months done when written
  std::string output;   ///< the run's output file
  bool force = false;
  int checkpoint_every = 0;
  std::string command;  ///< the original command line
};

/// Writes a checkpoint (collective under MPI: every rank calls it; rank 0 writes `path`).
/// Throws RuntimeFailure naming the file when it cannot be written.
void write_checkpoint(const std::string& path, const CheckpointHeader& header, const Model& model,
                      const Recorder* recorder);

/// Reads a checkpoint file: its header, and the rest (recorder and model state) in `rest`
/// for restore_checkpoint(). Throws InputError naming the file when it is damaged or not a
/// checkpoint of this migsim version.
CheckpointHeader read_checkpoint(const std::string& path, std::vector<char>* rest);

/// Whether `path` is a file that starts as a migsim checkpoint does (its first 8 bytes).
bool is_checkpoint_file(const std::string& path);

/// Restores the recorder (may be null: ranks other than 0 record nothing) and the model
/// from what read_checkpoint() returned. Throws InputError when they do not fit.
void restore_checkpoint(const std::string& path, const std::vector<char>& rest, Model& model, Recorder* recorder);

/// The scenario stored in a checkpoint.
Scenario checkpoint_scenario(const CheckpointHeader& header, const std::string& path);

}  // namespace migsim
