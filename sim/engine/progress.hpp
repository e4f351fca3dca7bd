#pragma once
/// @file progress.hpp
/// Progress of a run: on a terminal, one line redrawn in place (month, agents, elapsed,
/// ETA); otherwise (cluster logs) a plain line every 10% of the run or every 30 seconds.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace migsim {

class Progress {
 public:
  /// `out` is where lines go (stderr); `quiet` silences everything.
  Progress(std::FILE* out, bool quiet, int total_months);
  void update(int done, const std::string& month, std::int64_t agents);
  void finish();
  double elapsed_seconds() const;

 private:
  std::FILE* out_;
  bool quiet_, tty_;
  int total_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_line_;
};

/// "1.2 s", "3 min 4 s", "2 h 5 min".
std::string format_duration(double seconds);
/// 12345678 -> "12,345,678".
std::string format_count(std::int64_t n);

}  // namespace migsim
