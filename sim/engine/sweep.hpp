#pragma once
/// @file sweep.hpp
/// `migsim sweep`: every member of an experiment on this machine into one ensemble file,
/// or one member into its own file (for job arrays; `migsim merge` joins them).

#include <optional>
#include <string>
#include <vector>

#include "engine/experiment.hpp"

namespace migsim {

struct SweepOptions {
  std::string output;          ///< ensemble file, or with `member` the member's file
  bool force = false;          ///< replace an existing output
  bool quiet = false;
  int threads = 0;             ///< threads in all; 0 = OpenMP's default
  int parallel = 0;            ///< members at once; 0 = as many as threads
  std::optional<int> member;   ///< run only this member
  std::string command;         ///< the command line, for the file's history
};

struct SweepSummary {
  int members = 0;
  int failed = 0;
  double seconds = 0;
};

/// Runs every member (or `opt.member`) and writes the output. A member that fails is
/// reported and recorded (member_ok = 0); the others finish. Throws InputError (bad
/// options, output path) before running, RuntimeFailure (interruption, writing).
SweepSummary run_sweep(const Experiment& e, const SweepOptions& opt);

/// Prints the members: index, design point, replicate, seed and parameter values.
void print_members(const Experiment& e);

/// `migsim merge`: member files into the ensemble file.
void merge_files(const std::vector<std::string>& inputs, const std::string& output, bool force,
                 const std::string& command);

}  // namespace migsim
