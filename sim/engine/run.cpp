#include "engine/run.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/errors.hpp"
#include "core/version.hpp"
#include "engine/checkpoint.hpp"
#include "engine/memory.hpp"
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
  // The first signal asks the run to stop at the end of the month; a second one (Ctrl-C
  // pressed again) stops at once, which still leaves no file under the output's name.
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
}
bool stop_requested() { return g_stop_signal.load() != 0; }
int stop_signal() { return g_stop_signal.load(); }

std::string checkpoint_path(const RunOptions& opt) {
  return opt.checkpoint.empty() ? opt.output + ".ckpt" : opt.checkpoint;
}

namespace {

/// The checkpoint's path must not be the output or an input, and whatever is already there
/// is this run's to replace only if it is the checkpoint being resumed, or another run's
/// checkpoint with --force: a checkpoint is written over, and removed when the run ends.
void check_checkpoint_path(const std::string& ckpt, const RunOptions& opt, const Scenario& s) {
  const std::string flag = opt.checkpoint.empty() ? "the checkpoint " + ckpt + " (the output's name + .ckpt)"
                                                  : "--checkpoint " + ckpt;
  if (output::same_file(ckpt, opt.output)) throw InputError({flag + ": the checkpoint and the output must be different files"});
  for (const auto& f : s.files)
    if (output::same_file(ckpt, f)) throw InputError({flag + ": is the scenario file " + f});
  std::error_code ec;
  if (!std::filesystem::exists(ckpt, ec)) return;
  if (!opt.resume.empty() && output::same_file(ckpt, opt.resume)) return;
  if (!is_checkpoint_file(ckpt)) {
    throw InputError({flag + ": a file that is not a migsim checkpoint is there; choose another path"});
  }
  if (!opt.force) {
    throw InputError({flag + ": another run's checkpoint is there; resume it with --resume " + ckpt +
                      ", or pass --force to replace it"});
  }
}

/// check_memory() on every rank, which all stop together if any cannot hold the run: a rank
/// that stopped alone would leave the others waiting for it. Each rank measures its own
/// machine (ranks on other nodes may have less). Rank 0 reports every refusal, by rank.
void check_memory_on_every_rank(Comm& comm, const Scenario& s, const MemoryEstimate& e, std::uint64_t available,
                                const std::string& source) {
  std::vector<std::string> mine;
  try {
    check_memory(s, e, available, source);
  } catch (const InputError& err) {
    mine = err.problems();
  }
  if (comm.size() == 1) {
    if (!mine.empty()) throw InputError(mine);
    return;
  }
  if (!comm.any(!mine.empty())) return;
  std::string text;  // this rank's problems, each ended by '\0'
  for (const auto& m : mine) text += "rank " + std::to_string(comm.rank()) + ": " + m + '\0';
  std::vector<char> all;
  comm.gather_bytes(std::vector<char>(text.begin(), text.end()), all);
  std::vector<std::string> problems;  // rank 0's: every rank's; elsewhere none (rank 0 reports)
  for (std::size_t a = 0, b; a < all.size(); a = b + 1) {
    b = static_cast<std::size_t>(std::find(all.begin() + static_cast<std::ptrdiff_t>(a), all.end(), '\0') - all.begin());
    problems.emplace_back(all.data() + a, b - a);
  }
  if (problems.empty()) problems.push_back("another rank cannot hold the run in memory");
  throw InputError(problems);
}

}  // namespace

RunSummary run_scenario(const Scenario& s, const RunOptions& opt) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  if (opt.months && (*opt.months < 1 || *opt.months > s.months())) {
    throw InputError({"--months: expected between 1 and " + std::to_string(s.months()) +
                      " (the scenario's length), got " + std::to_string(*opt.months)});
  }
  if (opt.checkpoint_every < 0) throw InputError({"--checkpoint-every: expected a positive number of months"});
  output::check_output_path(opt.output, opt.force);
  output::check_not_an_input(opt.output, s.files);
  if (!opt.resume.empty()) output::check_not_an_input(opt.output, {opt.resume});
  if (opt.threads > 0) omp_set_num_threads(opt.threads);
  const int months = opt.months ? *opt.months : s.months();
  Comm& comm = opt.comm ? *opt.comm : serial_comm();
  const bool writer = comm.rank() == 0;  // every rank has the month's results; rank 0 records and writes
  const std::string ckpt = checkpoint_path(opt);
  // A checkpoint may be asked for at any month (SIGUSR1, SIGTERM), so its path is checked
  // too: its folder, and its temporary file's name, five characters longer than the output's
  // by default. It may exist (a resumed run's own).
  output::check_output_path(ckpt, true);
  check_checkpoint_path(ckpt, opt, s);
  const bool checkpointing = opt.checkpoint_every > 0 || !opt.checkpoint.empty() || !opt.resume.empty();
  // Refuse a run the machine cannot hold before allocating anything for it.
  std::string mem_source;
  const std::uint64_t available = available_memory(&mem_source);
  MemoryEstimate need = estimate_memory(s, months, omp_get_max_threads());
  need.resume_file = opt.resume;
  check_memory_on_every_rank(comm, s, need, available, mem_source);

  RunInfo info;
  info.seed = opt.seed ? *opt.seed : s.seed;
  info.threads = omp_get_max_threads();
  info.ranks = comm.size();
  info.start_time_utc = utc_now();
  info.command = opt.command;

  // A resumed run continues the checkpoint's: same scenario, seed and length.
  CheckpointState rest;
  CheckpointHeader header;
  if (!opt.resume.empty()) {
    header = read_checkpoint(opt.resume, &rest);
    std::vector<std::string> problems;
    const std::string pre = opt.resume + ": cannot resume from this checkpoint: ";
    if (header.scenario_yaml != s.resolved_yaml)
      problems.push_back(pre + "it was written for another scenario (" +
                         (header.scenario_files.empty() ? std::string("?") : header.scenario_files.back()) +
                         ", whose text differs from this one's)");
    if (header.seed != info.seed)
      problems.push_back(pre + "it was written with seed " + std::to_string(header.seed) + ", not " +
                         std::to_string(info.seed));
    if (header.months != months)
      problems.push_back(pre + "its run goes to " + std::to_string(header.months) + " months, not " +
                         std::to_string(months));
    if (!problems.empty()) throw InputError(problems);
    // Read into memory where its file system cannot map files, the copy is held until the
    // model is restored, and the run must fit beside it; so must the mapping, where ulimit -v
    // is the limit. (On every rank, whatever it holds: the check is collective.) `available`
    // was measured before the file was read.
    need.held_mapped = rest.mapped();
    need.held_bytes = !rest.mapped() || mem_source == kAddressSpaceLimit ? rest.file_bytes() : 0;
    check_memory_on_every_rank(comm, s, need, available, mem_source);
    info.command = header.command + " (resumed: " + opt.command + ")";
  }
  header.migsim_version = version();
  header.scenario_yaml = s.resolved_yaml;
  header.scenario_files = s.files;
  header.seed = info.seed;
  header.months = months;
  header.output = opt.output;
  header.force = opt.force;
  header.checkpoint_every = opt.checkpoint_every;
  if (opt.resume.empty()) header.command = opt.command;

  auto held = std::make_unique<Model>(s, info.seed, &comm, opt.resume.empty());
  Model& model = *held;
  Recorder rec(s);
  if (!opt.resume.empty()) restore_checkpoint(opt.resume, rest, model, writer ? &rec : nullptr);
  rest = CheckpointState();  // unmapped
  const int first = model.months_done();
  RunSummary sum;
  sum.resumed_from = first;
  sum.checkpoint = ckpt;
  Progress progress(stderr, opt.quiet || !writer, months - first);
  sum.initial_agents = model.live_agents();
  sum.threads = info.threads;
  auto save = [&]() {
    header.months_done = model.months_done();
    write_checkpoint(ckpt, header, model, writer ? &rec : nullptr);
    ++sum.checkpoints;
  };
  const auto loop0 = clock::now();
  for (int t = first; t < months; ++t) {
    const MonthResult& r = model.step();
    if (writer) rec.add(r, model.layout());
    progress.update(t + 1 - first, r.month.str(), r.agents);
    // Ranks stop together: a signal seen by any rank stops all at the same month.
    if (comm.any(stop_requested()) && t + 1 < months) {
      progress.finish();
      const bool usr1 = comm.any(stop_signal() == SIGUSR1);
      const char* sig = strsignal(stop_signal() ? stop_signal() : SIGTERM);
      if (checkpointing || usr1) {
        save();
        sum.stopped = true;
        sum.months = t + 1;
        sum.final_agents = model.live_agents();
        sum.output = opt.output;
        sum.seconds = std::chrono::duration<double>(clock::now() - t0).count();
        return sum;
      }
      throw RuntimeFailure(std::string("interrupted by ") + sig + " after month " + r.month.str() +
                           "; no output written (" + opt.output + " is untouched)");
    }
    if (opt.checkpoint_every > 0 && (t + 1) % opt.checkpoint_every == 0 && t + 1 < months) save();
  }
  progress.finish();
  const auto loop1 = clock::now();
  sum.final_agents = model.live_agents();
  // The model is not needed any more. Its memory goes back before the file is written, so
  // that the writer's allocations (HDF5's, zlib's) take pages this run has already touched
  // instead of new ones: about 290 fewer page faults and 2-3 ms less for a 1M run's file on
  // the benchmark guest, where a page's first touch costs 10-20 us (docs/performance.md).
  held.reset();
  const auto write0 = clock::now();
  if (writer) {
    try {
      output::write_netcdf(rec.take_dataset(info), opt.output, {opt.force, 2});
    } catch (const InputError& e) {
      // The path was checked before the run; what changed since (the folder removed, a file
      // created under the name) is a failure of this run, not of its input.
      throw RuntimeFailure(e.problems().front() + " (it was fine when the run started; " +
                           (checkpointing ? "the checkpoint " + ckpt + " is kept" : std::string("this run's results are lost")) +
                           ")");
    }
  }
  // The run is complete: nothing to resume. Only a checkpoint this run wrote, or the one it
  // resumed from, is removed (check_checkpoint_path made sure nothing else is at the path).
  if (writer && (sum.checkpoints > 0 || (!opt.resume.empty() && output::same_file(ckpt, opt.resume)))) {
    std::error_code ec;
    std::filesystem::remove(ckpt, ec);
  }
  const auto t1 = clock::now();
  sum.months = months;
  sum.loop_seconds = std::chrono::duration<double>(loop1 - loop0).count();
  sum.write_seconds = std::chrono::duration<double>(t1 - write0).count();
  sum.seconds = std::chrono::duration<double>(t1 - t0).count();
  sum.output = opt.output;
  return sum;
}

}  // namespace migsim
