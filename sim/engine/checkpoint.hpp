#pragma once
/// @file checkpoint.hpp
/// Checkpoint files of `migsim run` (docs/hpc.md): everything needed to continue a run to
/// an output identical, bit for bit, to an uninterrupted run's: the scenario (its resolved
/// text), the seed and run options, the series recorded so far, and the model's state.
///
/// Layout: "MIGSIMCK", format version (uint32), payload size (uint64), payload, XXH3
/// 64-bit checksum of the payload. Written to a temporary name and renamed, so a kill
/// while writing leaves the previous checkpoint intact. A damaged, truncated or foreign
/// file, or one of another scenario, seed or migsim version, is refused with a clear error.

#include <cstdint>
#include <memory>
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

/// A checkpoint's state after its header (recorder and model), read in place from the file,
/// mapped read-only until this is destroyed (a copy in memory was 530 MB more at the
/// Americas' scale, each page touched a first time); where the file system cannot map the
/// file, read into memory instead.
class CheckpointState {
 public:
  CheckpointState() = default;
  ~CheckpointState();
  CheckpointState(CheckpointState&& o) noexcept { *this = std::move(o); }
  CheckpointState& operator=(CheckpointState&& o) noexcept;
  CheckpointState(const CheckpointState&) = delete;
  CheckpointState& operator=(const CheckpointState&) = delete;
  const char* data() const { return (map_ ? static_cast<const char*>(map_) : copy_.get()) + offset_; }
  std::size_t size() const { return size_; }
  /// Whether the file is mapped (false: read into memory).
  bool mapped() const { return map_ != nullptr; }
  /// The file's bytes, mapped or read into memory.
  std::size_t file_bytes() const { return bytes_; }

 private:
  friend CheckpointHeader read_checkpoint(const std::string& path, CheckpointState* rest, bool map);
  void* map_ = nullptr;
  std::unique_ptr<char[]> copy_;  ///< the file's bytes where it is not mapped
  std::size_t bytes_ = 0, offset_ = 0, size_ = 0;  ///< the file's bytes (mapped or copied); the state's place in them
};

/// Reads a checkpoint file: its header, and the rest (recorder and model state) in `rest`
/// for restore_checkpoint(). The file is mapped; where that fails (a file system without
/// mmap) or `map` is false (tests), it is read into memory. Throws InputError naming the file
/// when it is damaged or not a checkpoint of this migsim version.
CheckpointHeader read_checkpoint(const std::string& path, CheckpointState* rest, bool map = true);

/// Whether `path` is a file that starts as a migsim checkpoint does (its first 8 bytes).
bool is_checkpoint_file(const std::string& path);

/// Restores the recorder (may be null: ranks other than 0 record nothing) and the model
/// from what read_checkpoint() returned. Throws InputError when they do not fit.
void restore_checkpoint(const std::string& path, const CheckpointState& rest, Model& model, Recorder* recorder);

/// The scenario stored in a checkpoint.
Scenario checkpoint_scenario(const CheckpointHeader& header, const std::string& path);

}  // namespace migsim
