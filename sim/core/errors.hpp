#pragma once
/// @file errors.hpp
/// The typed errors of migsim. Library code throws; only `main` turns them into a message
/// and an exit code (see docs/errors.md).

#include <stdexcept>
#include <string>
#include <vector>

namespace migsim {

/// Exit codes of the command line.
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,  ///< the input was fine but the run failed (I/O, memory, interruption)
  kExitInput = 2,    ///< bad input: command line, scenario, experiment, output path, checkpoint
  kExitCheckpointed = 3,  ///< stopped on a signal after writing a checkpoint: resume with --resume
};

/// Bad input from the user (scenario, experiment, command-line values, output path). Holds
/// every problem found, each already formatted "FILE:LINE:COL: KEY.PATH: what is wrong".
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/// A failure while running (output file, checkpoint, memory). Names the file involved.
class RuntimeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace migsim
