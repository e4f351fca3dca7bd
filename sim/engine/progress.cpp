#include "engine/progress.hpp"

#include <unistd.h>

#include <cmath>

namespace migsim {

Progress::Progress(std::FILE* out, bool quiet, int total_months)
    : out_(out), quiet_(quiet), tty_(isatty(fileno(out)) != 0), total_(total_months),
      start_(std::chrono::steady_clock::now()), last_line_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string format_duration(double s) {
  char buf[64];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%d min %02d s", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%d h %02d min", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

std::string format_count(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

void Progress::update(int done, const std::string& month, std::int64_t agents) {
  if (quiet_) return;
  const double el = elapsed_seconds();
  const double eta = done > 0 ? el / done * (total_ - done) : 0.0;
  char line[256];
  std::snprintf(line, sizeof line, "month %s (%d/%d)  agents %s  elapsed %s  ETA %s", month.c_str(), done, total_,
                format_count(agents).c_str(), format_duration(el).c_str(), format_duration(eta).c_str());
  if (tty_) {
    std::fprintf(out_, "\r%-100s", line);
    std::fflush(out_);
    return;
  }
  const int decile = total_ > 0 ? done * 10 / total_ : 10;
  const auto now = std::chrono::steady_clock::now();
  if (decile != last_decile_ || now - last_line_ > std::chrono::seconds(30) || done == total_) {
    last_decile_ = decile;
    last_line_ = now;
    std::fprintf(out_, "progress: %s\n", line);
    std::fflush(out_);
  }
}

void Progress::finish() {
  if (!quiet_ && tty_) {
    std::fprintf(out_, "\n");
    std::fflush(out_);
  }
}

}  // namespace migsim
