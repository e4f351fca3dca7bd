#include "engine/run.hpp"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>

#include "core/errors.hpp"
#include "engine/progress.hpp"
#include "engine/recorder.hpp"
#include "model/model.hpp"
#include "output/dataset.hpp"

namespace migsim {

namespace {
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop(int sig) { g_stop_signal.store(sig); }
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}
bool stop_requested() { return g_stop_signal.load() != 0; }
int stop_signal() { return g_stop_signal.load(); }

RunSummary run_scenario(const Scenario& s, const RunOptions& opt) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  if (opt.months && (*opt.months < 1 || *opt.months > s.months())) {
    throw InputError({"--months: expected between 1 and " + std::to_string(s.months()) +
                      " (the scenario's length), got " + std::to_string(*opt.months)});
  }
  output::check_output_path(opt.output, opt.force);
  if (opt.threads > 0) omp_set_num_threads(opt.threads);
  const int months = opt.months ? *opt.months : s.months();
  Comm& comm = opt.comm ? *opt.comm : serial_comm();
  const bool writer = comm.rank() == 0;  // every rank has the month's results; rank 0 records and writes

  RunInfo info;
  info.seed = opt.seed ? *opt.seed : s.seed;
  info.threads = omp_get_max_threads();
  info.ranks = comm.size();
  info.start_time_utc = utc_now();
  info.command = opt.command;

  Model model(s, info.seed, &comm);
  Recorder rec(s);
  Progress progress(stderr, opt.quiet || !writer, months);
  RunSummary sum;
  sum.initial_agents = model.live_agents();
  sum.threads = info.threads;
  const auto loop0 = clock::now();
  for (int t = 0; t < months; ++t) {
    const MonthResult& r = model.step();
    if (writer) rec.add(r, model.layout());
    progress.update(t + 1, r.month.str(), r.agents);
    // Ranks stop together: a signal seen by any rank stops all at the same month.
    if (comm.any(stop_requested()) && t + 1 < months) {
      progress.finish();
      throw RuntimeFailure(std::string("interrupted by ") + strsignal(stop_signal() ? stop_signal() : SIGTERM) + " after month " +
                           r.month.str() + "; no output written (" + opt.output + " is untouched)");
    }
  }
  progress.finish();
  const auto loop1 = clock::now();
  if (writer) output::write_netcdf(rec.dataset(info), opt.output, {opt.force, 2});
  const auto t1 = clock::now();
  sum.months = months;
  sum.final_agents = model.live_agents();
  sum.loop_seconds = std::chrono::duration<double>(loop1 - loop0).count();
  sum.write_seconds = std::chrono::duration<double>(t1 - loop1).count();
  sum.seconds = std::chrono::duration<double>(t1 - t0).count();
  sum.output = opt.output;
  return sum;
}

}  // namespace migsim
