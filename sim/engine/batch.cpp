#include "engine/batch.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <new>
#include <thread>

#include "core/errors.hpp"
#include "engine/progress.hpp"
#include "engine/run.hpp"
#include "model/model.hpp"

namespace migsim {

ThreadShare share_threads(int runs, const BatchOptions& opt) {
  const int threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
  ThreadShare sh;
  sh.runs_at_once = opt.parallel > 0 ? opt.parallel : threads;
  sh.runs_at_once = std::max(1, std::min(sh.runs_at_once, std::max(runs, 1)));
  sh.threads_per_run = std::max(1, threads / sh.runs_at_once);
  return sh;
}

output::Dataset run_to_dataset(const Scenario& s, std::uint64_t seed, int months, const RunInfo& info,
                               const std::function<void(int)>& on_month) {
  Model model(s, seed);
  Recorder rec(s);
  for (int t = 0; t < months; ++t) {
    const MonthResult& r = model.step();
    rec.add(r, model.layout());
    if (on_month) on_month(t + 1);
    if (stop_requested() && t + 1 < months) {
      throw RuntimeFailure(std::string("interrupted by ") + strsignal(stop_signal()));
    }
  }
  return rec.take_dataset(info);
}

output::Dataset zero_dataset(const Scenario& s, int months, const RunInfo& info) {
  const CounterLayout L(s.n_origins(), s.n_countries(), s.n_sectors(), static_cast<int>(s.pathways.size()),
                        static_cast<int>(s.routes.size()));
  MonthResult zero;
  zero.counts.assign(L.total, 0);
  zero.new_movers.assign(static_cast<std::size_t>(s.n_origins()) * s.n_sectors(), 0);
  zero.quota.assign(s.pathways.size(), 0);
  zero.vacancies.assign(static_cast<std::size_t>(s.n_countries()) * s.n_sectors(), 0.0);
  Recorder rec(s);
  for (int t = 0; t < months; ++t) {
    zero.month = s.start + t;
    rec.add(zero, L);
  }
  return rec.take_dataset(info);
}

namespace {

/// The overall progress of a batch: on a terminal one line redrawn, otherwise a line every
/// 10% of the work or 30 seconds.
class BatchProgress {
 public:
  BatchProgress(const BatchOptions& opt, int runs, std::int64_t total_months)
      : opt_(opt), runs_(runs), total_(total_months), tty_(isatty(fileno(stderr)) != 0),
        start_(std::chrono::steady_clock::now()), last_(start_) {}

  void show(int done, int failed, std::int64_t months_done, bool final) {
    if (opt_.quiet) return;
    const auto now = std::chrono::steady_clock::now();
    const double el = std::chrono::duration<double>(now - start_).count();
    const double frac = total_ > 0 ? double(months_done) / double(total_) : 1.0;
    const double eta = frac > 0 ? el / frac * (1 - frac) : 0.0;
    char line[256];
    std::snprintf(line, sizeof line, "%ss %d/%d done%s  %3.0f%% of the months  elapsed %s  ETA %s",
                  opt_.noun.c_str(), done, runs_, failed ? (" (" + std::to_string(failed) + " failed)").c_str() : "",
                  100 * frac, format_duration(el).c_str(), format_duration(eta).c_str());
    if (tty_) {
      std::fprintf(stderr, "\r%-100s%s", line, final ? "\n" : "");
      std::fflush(stderr);
      return;
    }
    const int decile = static_cast<int>(frac * 10);
    if ((final && done != last_done_) || decile != last_decile_ || now - last_ > std::chrono::seconds(30)) {
      last_decile_ = decile;
      last_done_ = done;
      last_ = now;
      std::fprintf(stderr, "progress: %s\n", line);
      std::fflush(stderr);
    }
  }

 private:
  const BatchOptions& opt_;
  int runs_;
  std::int64_t total_;
  bool tty_;
  int last_decile_ = -1, last_done_ = -1;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

std::vector<BatchResult> run_batch(const std::vector<BatchRun>& runs, const BatchOptions& opt) {
  const int n = static_cast<int>(runs.size());
  std::vector<BatchResult> results(runs.size());
  const ThreadShare sh = share_threads(n, opt);
  std::int64_t total_months = 0;
  for (const auto& r : runs) total_months += r.months;

  std::atomic<int> next{0}, done{0}, failed{0};
  std::atomic<std::int64_t> months_done{0};
  std::atomic<bool> interrupted{false};
  std::mutex mu;
  std::condition_variable cv;
  const std::string start_time = utc_now();

  auto worker = [&]() {
    omp_set_num_threads(sh.threads_per_run);
    for (;;) {
      const int k = next.fetch_add(1);
      if (k >= n || interrupted.load()) break;
      const BatchRun& run = runs[static_cast<std::size_t>(k)];
      BatchResult& res = results[static_cast<std::size_t>(k)];
      RunInfo info;
      info.seed = run.seed;
      info.threads = sh.threads_per_run;
      info.start_time_utc = start_time;
      info.command = opt.command;
      const auto t0 = std::chrono::steady_clock::now();
      int counted = 0;
      try {
        res.data = run_to_dataset(*run.scenario, run.seed, run.months, info, [&](int m) {
          months_done.fetch_add(m - counted);
          counted = m;
        });
        res.ok = true;
      } catch (const RuntimeFailure& e) {
        if (stop_requested()) {
          interrupted.store(true);
          break;
        }
        res.error = e.what();
      } catch (const std::bad_alloc&) {
        res.error = "out of memory";
      } catch (const std::exception& e) {
        res.error = e.what();
      }
      res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!res.ok) {
        months_done.fetch_add(run.months - counted);
        res.data = zero_dataset(*run.scenario, run.months, info);
        failed.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        std::fprintf(stderr, "%s%s failed: %s\n", isatty(fileno(stderr)) && !opt.quiet ? "\n" : "",
                     run.label.c_str(), res.error.c_str());
      }
      done.fetch_add(1);
      cv.notify_all();
    }
    cv.notify_all();
  };

  if (!opt.quiet) {
    std::fprintf(stderr, "%d %ss, %d at once with %d thread%s each\n", n, opt.noun.c_str(), sh.runs_at_once,
                 sh.threads_per_run, sh.threads_per_run == 1 ? "" : "s");
  }
  BatchProgress progress(opt, n, total_months);
  std::vector<std::thread> pool;
  for (int w = 0; w < sh.runs_at_once; ++w) pool.emplace_back(worker);
  {
    std::unique_lock<std::mutex> lock(mu);
    while (done.load() < n && !interrupted.load()) {
      cv.wait_for(lock, std::chrono::milliseconds(500));
      progress.show(done.load(), failed.load(), months_done.load(), false);
    }
  }
  for (auto& t : pool) t.join();
  if (interrupted.load() || stop_requested()) {
    throw RuntimeFailure(std::string("interrupted by ") + strsignal(stop_signal()) + " after " +
                         std::to_string(done.load()) + " of " + std::to_string(n) + " " + opt.noun +
                         "s; no output written");
  }
  progress.show(done.load(), failed.load(), months_done.load(), true);
  return results;
}

}  // namespace migsim
