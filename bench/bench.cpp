// migsim-bench: the measurements behind `make bench` (bench/run_bench.py runs it, one
// process per measurement so that peak memory is per case).
//
//   migsim-bench case SCENARIO --months N --threads T   one run: JSON on stdout
//   migsim-bench stream --threads T [--mib M]           memory bandwidth (STREAM-style copy,
//                                                       and an in-place update)
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ctime>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/memory.hpp"
#include "engine/recorder.hpp"
#include "model/model.hpp"
#include "output/dataset.hpp"
#include "scenario/scenario.hpp"

using namespace migsim;
using clock_type = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

/// CLOCK_MONOTONIC in seconds: one clock for every process on the machine, so that runs
/// started together can be lined up (run_bench.py's two copies at once).
double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

long peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss * 1024L;
}

int run_case(const std::string& path, int months, int threads, const std::string& out_dir) {
  keep_freed_memory();  // as `migsim run` does (sim/cli/main.cpp)
  omp_set_num_threads(threads);
  const auto t0 = clock_type::now();
  const Scenario s = load_scenario(path);
  auto held = std::make_unique<Model>(s, s.seed);
  Model& model = *held;
  const double startup = seconds_since(t0);
  const std::int64_t initial = model.live_agents();
  Recorder rec(s);
  const int n = std::min(months, s.months());
  double agent_months = 0;
  std::int64_t most = initial;
  std::vector<double> month_end(static_cast<std::size_t>(n)), month_agents(static_cast<std::size_t>(n));
  const auto t1 = clock_type::now();
  const double cpu1 = cpu_seconds();
  const double loop_start = monotonic_seconds();
  for (int t = 0; t < n; ++t) {
    month_agents[static_cast<std::size_t>(t)] = double(model.live_agents());
    agent_months += double(model.live_agents());
    const MonthResult& r = model.step();
    rec.add(r, model.layout());
    most = std::max(most, r.agents);
    month_end[static_cast<std::size_t>(t)] = monotonic_seconds();
  }
  const double loop = seconds_since(t1);
  const double loop_cpu = cpu_seconds() - cpu1;
  const std::size_t slots = model.agents().size();
  held.reset();  // as migsim run does before writing (engine/run.cpp); not timed, as before
  const auto t2 = clock_type::now();
  const std::string out = out_dir + "/bench-" + std::to_string(getpid()) + ".h5";
  RunInfo info;
  info.seed = s.seed;
  info.threads = threads;
  output::write_netcdf(rec.take_dataset(info), out, {true, 2});
  const double write = seconds_since(t2);
  std::filesystem::remove(out);
  auto list = [](const std::vector<double>& v, const char* format) {
    std::string text;
    char buf[64];
    for (std::size_t k = 0; k < v.size(); ++k) {
      std::snprintf(buf, sizeof buf, format, v[k]);
      text += (k ? ", " : "") + std::string(buf);
    }
    return "[" + text + "]";
  };
  std::printf(
      "{\"scenario\": \"%s\", \"agents\": %lld, \"max_agents\": %lld, \"months\": %d, \"threads\": %d, "
      "\"agent_months\": %.0f, \"startup_s\": %.6f, \"loop_s\": %.6f, \"loop_cpu_s\": %.6f, \"write_s\": %.6f, "
      "\"peak_rss_bytes\": %ld, \"state_bytes_per_agent\": %zu, \"slots\": %zu, \"loop_start_monotonic_s\": %.6f, "
      "\"month_end_monotonic_s\": %s, \"month_agents\": %s}\n",
      s.name.c_str(), static_cast<long long>(initial), static_cast<long long>(most), n, threads, agent_months,
      startup, loop, loop_cpu, write, peak_rss_bytes(), Agents::kBytesPerAgent, slots, loop_start,
      list(month_end, "%.6f").c_str(), list(month_agents, "%.0f").c_str());
  return 0;
}

int run_stream(int threads, std::size_t mib) {
  omp_set_num_threads(threads);
  const std::size_t n = mib * (1u << 20) / sizeof(double);
  std::vector<double> a(n), b(n);
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = 1.0 + double(i % 7);
    b[i] = 0.0;
  }
  // Two kernels, best of 10 each. The copy is STREAM's (b = a, what the issue names). The
  // update reads and writes one array in place (a = a + 1), the way a month's pass streams
  // the agent state: its stores go to lines it has just read, where a copy's stores first
  // fetch the lines of b they overwrite (write-allocate), 24 bytes of traffic for the 16 that
  // STREAM counts. Which of the two runs faster depends on the machine (docs/performance.md).
  double best_copy = 1e30, best_update = 1e30;
  for (int rep = 0; rep < 10; ++rep) {
    const auto t0 = clock_type::now();
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < n; ++i) b[i] = a[i];
    best_copy = std::min(best_copy, seconds_since(t0));
  }
  for (int rep = 0; rep < 10; ++rep) {
    const auto t0 = clock_type::now();
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < n; ++i) a[i] += 1.0;
    best_update = std::min(best_update, seconds_since(t0));
  }
  // STREAM's convention for both: 2 x 8 bytes moved per element (read and write).
  const double bytes = 2.0 * sizeof(double) * double(n);
  std::printf("{\"threads\": %d, \"mib_per_array\": %zu, \"copy_gb_s\": %.3f, \"update_gb_s\": %.3f, "
              "\"check\": %.1f}\n",
              threads, mib, bytes / best_copy / 1e9, bytes / best_update / 1e9, b[n / 2] + a[n / 2]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"migsim benchmark measurements (see bench/run_bench.py)"};
  app.require_subcommand(1);
  std::string scenario, out_dir = ".";
  int months = 24, threads = 1;
  std::size_t mib = 512;
  auto* c = app.add_subcommand("case", "run a scenario and report times and memory as JSON");
  c->add_option("scenario", scenario)->required();
  c->add_option("--months", months);
  c->add_option("--threads", threads);
  c->add_option("--output-dir", out_dir);
  auto* st = app.add_subcommand("stream", "memory bandwidth of a STREAM-style copy and of an in-place update");
  st->add_option("--threads", threads);
  st->add_option("--mib", mib, "MiB per array (two arrays)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (*c) return run_case(scenario, months, threads, out_dir);
    return run_stream(threads, mib);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
