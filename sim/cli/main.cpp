// The migsim command line: parses arguments (CLI11), runs the command, and turns typed
// errors into one clear message and an exit code (docs/errors.md). Nothing below main()
// exits the process.
#include <CLI/CLI.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <iostream>

#include "core/errors.hpp"
#include "core/version.hpp"
#include "engine/memory.hpp"
#include "engine/progress.hpp"
#include "engine/checkpoint.hpp"
#include "engine/compare.hpp"
#include "engine/experiment.hpp"
#include "engine/run.hpp"
#include "engine/sweep.hpp"
#include "model/agents.hpp"
#include "model/comm.hpp"
#ifdef MIGSIM_HAVE_MPI
#include "model/comm_mpi.hpp"
#endif
#include "output/dataset.hpp"
#include "scenario/scenario.hpp"

namespace {

/// A seed given on the command line: a decimal integer 0..2^64-1, as the scenario's `seed:`
/// key takes (CLI11 alone wrapped -1 to 2^64-1 and read 0x10 as 16).
std::uint64_t parse_seed(const std::string& text, const char* flag) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v, 10);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw migsim::InputError({std::string(flag) + ": expected an integer between 0 and 18446744073709551615, got \"" +
                              text + "\""});
  }
  return v;
}

/// OMP_NUM_THREADS, when set and no --threads overrides it, must be a thread count the
/// options would take (1..4096): libgomp crashed trying to start 100000 threads, and a huge
/// count made the memory check blame the scenario.
void check_omp_num_threads(bool threads_given) {
  const char* env = std::getenv("OMP_NUM_THREADS");
  if (threads_given || !env) return;
  const std::string text(env);
  const std::string first = text.substr(0, text.find(','));  // a list sets nested levels
  int v = 0;
  const char* end = first.data() + first.size();
  const auto [ptr, ec] = std::from_chars(first.data(), end, v, 10);
  if (first.empty() || ec != std::errc() || ptr != end || v < 1 || v > 4096) {
    throw migsim::InputError({"OMP_NUM_THREADS: expected a number of threads between 1 and 4096, got \"" + text +
                              "\" (unset it, or pass --threads)"});
  }
}

using namespace migsim;

std::string joined_args(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

void print_scenario_summary(const Scenario& s) {
  std::printf("scenario   %s (%s)\n", s.name.c_str(), s.files.empty() ? "" : s.files.back().c_str());
  std::printf("months     %s to %s (%d)\n", s.start.str().c_str(), s.end.str().c_str(), s.months());
  std::printf("countries  %d, sectors %d, pathways %zu, route edges %zu, events %zu\n", s.n_countries(),
              s.n_sectors(), s.pathways.size(), s.routes.size(), s.events.size());
  const auto agents = s.initial_agents();
  std::printf("initial    %s persons as %s agents (people_per_agent %lld), %s of agent state\n",
              format_count(s.initial_persons()).c_str(), format_count(agents).c_str(),
              static_cast<long long>(s.people_per_agent),
              (format_count(static_cast<std::int64_t>(agents * Agents::kBytesPerAgent / (1 << 20))) + " MiB").c_str());
}

int command_run(const std::string& scenario_path, RunOptions opt, bool seed_given, bool every_given) {
  keep_freed_memory();  // one run: its writer reuses the model's pages (engine/memory.hpp)
  std::optional<Scenario> loaded;
  if (!opt.resume.empty()) {
    // The run's settings come from the checkpoint unless given again.
    std::error_code ec;
    if (std::filesystem::is_directory(opt.resume, ec)) {
      throw InputError({opt.resume + ": cannot resume from this checkpoint: it is a folder, not a file"});
    }
    const CheckpointHeader h = read_checkpoint(opt.resume, nullptr);
    loaded.emplace(scenario_path.empty() ? checkpoint_scenario(h, opt.resume) : load_scenario(scenario_path));
    if (opt.output.empty()) opt.output = h.output;
    if (!opt.months) opt.months = h.months;
    if (!seed_given) opt.seed = h.seed;
    if (!every_given) opt.checkpoint_every = h.checkpoint_every;
    if (opt.checkpoint.empty()) opt.checkpoint = opt.resume;
    opt.force = opt.force || h.force;
  } else {
    if (scenario_path.empty()) throw InputError({"run: give a SCENARIO file, or --resume CHECKPOINT"});
    loaded.emplace(load_scenario(scenario_path));
  }
  const Scenario& s = *loaded;
  if (opt.output.empty()) opt.output = std::filesystem::path(scenario_path).stem().string() + ".h5";
  install_stop_handlers();
  if (opt.comm && opt.comm->rank() != 0) opt.quiet = true;  // rank 0 speaks for the run
  if (!opt.quiet) {
    std::fprintf(stderr, "migsim %s: %s %s (%s to %s) into %s\n", version(), opt.resume.empty() ? "running" : "resuming",
                 s.name.c_str(), s.start.str().c_str(),
                 (s.start + ((opt.months ? *opt.months : s.months()) - 1)).str().c_str(), opt.output.c_str());
  }
  const RunSummary r = run_scenario(s, opt);
  if (r.stopped) {
    if (!opt.comm || opt.comm->rank() == 0) {
      std::fprintf(stderr, "stopped after month %s (%d of %d): checkpoint written to %s; continue with: migsim run --resume %s\n",
                   (s.start + (r.months - 1)).str().c_str(), r.months, opt.months ? *opt.months : s.months(),
                   r.checkpoint.c_str(), r.checkpoint.c_str());
    }
    return kExitCheckpointed;
  }
  if (!opt.quiet) {
    if (r.resumed_from > 0) std::fprintf(stderr, "resumed after month %d of %d\n", r.resumed_from, r.months);
    std::fprintf(stderr, "done: %d months, %s agents at the start and %s at the end, %d threads, %s (loop %s, writing %s)\n",
                 r.months, format_count(r.initial_agents).c_str(), format_count(r.final_agents).c_str(), r.threads,
                 format_duration(r.seconds).c_str(), format_duration(r.loop_seconds).c_str(),
                 format_duration(r.write_seconds).c_str());
    if (r.checkpoints > 0) std::fprintf(stderr, "wrote %d checkpoint%s (removed: the run is complete)\n", r.checkpoints, r.checkpoints == 1 ? "" : "s");
    std::fprintf(stderr, "wrote %s\n", r.output.c_str());
  }
  return kExitOk;
}

int command_validate(const std::string& scenario_path) {
  const Scenario s = load_scenario(scenario_path);
  print_scenario_summary(s);
  // The machine a run goes to may have more memory than this one: a warning, not an error.
  std::string source;
  const std::uint64_t available = available_memory(&source);
  const MemoryEstimate mem = estimate_memory(s, s.months(), 1);
  check_memory(s, mem, 0, "");  // the agent count limit holds on every machine
  std::printf("memory     about %s needed; %s available here\n", format_bytes(mem.total()).c_str(),
              available ? format_bytes(available).c_str() : "unknown");
  try {
    check_memory(s, mem, available, source);
  } catch (const InputError& e) {
    for (const auto& p : e.problems()) std::fprintf(stderr, "warning: %s\n", p.c_str());
  }
  std::printf("ok: %s is a valid scenario\n", scenario_path.c_str());
  return kExitOk;
}

int command_sweep(const std::string& experiment_path, SweepOptions opt, bool list, bool count) {
  const Experiment e = load_experiment(experiment_path);
  if (count) {
    std::printf("%d\n", e.members());
    return kExitOk;
  }
  if (list) {
    print_members(e);
    return kExitOk;
  }
  if (opt.output.empty()) {
    const std::string stem = std::filesystem::path(experiment_path).stem().string();
    opt.output = opt.member ? stem + "-member-" + std::to_string(*opt.member) + ".h5" : stem + ".h5";
  }
  install_stop_handlers();
  if (!opt.quiet) {
    std::fprintf(stderr, "migsim %s: experiment %s: %zu design point%s x %d replicate%s = %d members of %s; %s into %s\n",
                 version(), e.name.c_str(), e.points.size(), e.points.size() == 1 ? "" : "s", e.replicates,
                 e.replicates == 1 ? "" : "s", e.members(), e.base->name.c_str(),
                 opt.member ? ("member " + std::to_string(*opt.member)).c_str() : "every member", opt.output.c_str());
  }
  const SweepSummary r = run_sweep(e, opt);
  if (!opt.quiet) {
    std::fprintf(stderr, "done: %d member%s (%d failed) in %s\nwrote %s\n", r.members, r.members == 1 ? "" : "s",
                 r.failed, format_duration(r.seconds).c_str(), opt.output.c_str());
  } else if (r.failed > 0) {
    std::fprintf(stderr, "%d of %d members failed (recorded in %s)\n", r.failed, r.members, opt.output.c_str());
  }
  // A single member that failed is a failed command (the job array shows it); a sweep
  // with some failed members did its job: they are recorded in the file.
  return opt.member && r.failed > 0 ? kExitRuntime : kExitOk;
}

int command_compare(const std::string& base, const std::string& policy, CompareOptions opt) {
  if (opt.output.empty()) {
    opt.output = std::filesystem::path(policy).stem().string() + "-vs-" + std::filesystem::path(base).stem().string() + ".h5";
  }
  install_stop_handlers();
  if (!opt.quiet) {
    std::fprintf(stderr, "migsim %s: comparing %s with %s, %d replicates each, into %s\n", version(), policy.c_str(),
                 base.c_str(), opt.replicates, opt.output.c_str());
  }
  std::string bname, pname;
  const auto rows = run_compare(base, policy, opt, &bname, &pname);
  std::printf("%s", format_differences(rows, bname, pname).c_str());
  if (!opt.quiet) std::fprintf(stderr, "wrote %s\n", opt.output.c_str());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) then makes writes fail with EFBIG, reported like a full
  // disk, instead of killing the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  output::keep_hdf5_from_cleaning_up_at_exit();
  // Under an MPI launcher (mpirun, srun --mpi=...), `migsim run` spreads one run over the
  // ranks; MPI is not initialised otherwise.
#ifdef MIGSIM_HAVE_MPI
  std::unique_ptr<MpiSession> mpi;
  if (launched_by_mpi()) {
    try {
      mpi = std::make_unique<MpiSession>(&argc, &argv);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitRuntime;
    }
  }
  Comm* comm = mpi ? &mpi->comm() : nullptr;
#else
  Comm* comm = nullptr;
#endif
  const bool rank0 = !comm || comm->rank() == 0;
  const bool many_ranks = comm && comm->size() > 1;
  CLI::App app{"migsim: an agent-based simulation of regional labour migration.\n"
               "Reads a YAML scenario, writes netCDF-4/HDF5 time series."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("migsim ") + migsim::version());

  std::string scenario_path;
  RunOptions opt;
  std::string seed;
  auto* run = app.add_subcommand("run", "run a scenario and write its output");
  run->add_option("scenario", scenario_path, "scenario file (YAML); optional with --resume");
  auto* run_out = run->add_option("-o,--output", opt.output, "output file (default: SCENARIO's name with .h5, here)");
  auto* seed_opt = run->add_option("--seed", seed, "random seed (overrides the scenario's)");
  run->add_option("--threads", opt.threads, "OpenMP threads (default: all cores, or OMP_NUM_THREADS)")
      ->check(CLI::Range(1, 4096));
  run->add_option("--months", opt.months, "run only the first N months")->check(CLI::Range(1, 12000));
  run->add_flag("--force", opt.force, "replace the output file if it exists");
  run->add_flag("--quiet", opt.quiet, "print nothing but errors");
  auto* every_opt = run->add_option("--checkpoint-every", opt.checkpoint_every,
                                    "write a checkpoint every N months (SIGTERM/SIGINT then also write one and stop)")
                        ->check(CLI::Range(1, 12000));
  run->add_option("--checkpoint", opt.checkpoint,
                  "checkpoint file (default: OUTPUT.ckpt); SIGTERM/SIGINT write it and stop; SIGUSR1 always does");
  run->add_option("--resume", opt.resume, "continue the run saved in this checkpoint");

  auto* validate = app.add_subcommand("validate", "check a scenario as a run would, without running it");
  validate->add_option("scenario", scenario_path, "scenario file (YAML)")->required();

  std::string experiment_path;
  SweepOptions sweep_opt;
  bool sweep_list = false, sweep_count = false;
  auto* sweep = app.add_subcommand("sweep", "run every member of an experiment into one ensemble file "
                                            "(or one member into its own file)");
  sweep->add_option("experiment", experiment_path, "experiment file (YAML, docs/experiments.md)")->required();
  auto* sweep_out = sweep->add_option("-o,--output", sweep_opt.output,
                    "output file (default: EXPERIMENT's name with .h5, here; with --member NAME-member-K.h5)");
  sweep->add_option("--member", sweep_opt.member, "run only member K (0-based) into its own file, for job arrays")
      ->check(CLI::NonNegativeNumber);
  sweep->add_option("--threads", sweep_opt.threads, "threads in all (default: all cores, or OMP_NUM_THREADS)")
      ->check(CLI::Range(1, 4096));
  sweep->add_option("--parallel", sweep_opt.parallel,
                    "members run at once (default: as many as threads, each single-threaded)")
      ->check(CLI::Range(1, 4096));
  sweep->add_flag("--force", sweep_opt.force, "replace the output file if it exists");
  sweep->add_flag("--quiet", sweep_opt.quiet, "print nothing but errors");
  sweep->add_flag("--list", sweep_list, "print the members (seed, parameter values) and exit");
  sweep->add_flag("--count", sweep_count, "print the number of members and exit");

  std::vector<std::string> merge_inputs;
  std::string merge_output;
  bool merge_force = false;
  auto* merge = app.add_subcommand("merge", "join member files of `migsim sweep --member` into the ensemble file");
  merge->add_option("inputs", merge_inputs, "member files, or folders of them")->required();
  merge->add_option("-o,--output", merge_output, "ensemble file")->required();
  merge->add_flag("--force", merge_force, "replace the output file if it exists");

  std::string compare_base, compare_policy;
  CompareOptions cmp_opt;
  std::string cmp_seed;
  auto* compare = app.add_subcommand("compare", "run a base and a policy scenario with common random numbers and "
                                                "print their main differences with intervals");
  compare->add_option("base", compare_base, "base scenario (YAML)")->required();
  compare->add_option("policy", compare_policy, "policy scenario (YAML)")->required();
  compare->add_option("--replicates", cmp_opt.replicates, "replicates of each scenario (default 10)")
      ->check(CLI::Range(1, 100000));
  auto* cmp_out = compare->add_option("-o,--output", cmp_opt.output, "output file (default: POLICY-vs-BASE.h5, here)");
  auto* cmp_seed_opt = compare->add_option("--seed", cmp_seed, "base seed (default: the base scenario's)");
  compare->add_option("--months", cmp_opt.months, "run only the first N months")->check(CLI::Range(1, 12000));
  compare->add_option("--threads", cmp_opt.threads, "threads in all (default: all cores, or OMP_NUM_THREADS)")
      ->check(CLI::Range(1, 4096));
  compare->add_option("--parallel", cmp_opt.parallel, "runs at once (default: as many as threads)")
      ->check(CLI::Range(1, 4096));
  compare->add_flag("--force", cmp_opt.force, "replace the output file if it exists");
  compare->add_flag("--quiet", cmp_opt.quiet, "print only the table and errors");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line in the format of every other error, then where to look.
    std::fprintf(stderr, "error: %s\nrun `migsim --help` (or `migsim COMMAND --help`) for the options\n", e.what());
    return kExitInput;
  }
  opt.command = joined_args(argc, argv);

  try {
    // -o "" would silently mean the default name.
    for (const auto* o : {run_out, sweep_out, cmp_out})
      if (o->count() > 0 && o->as<std::string>().empty()) throw InputError({"-o: the output path is empty"});
    if (*seed_opt) opt.seed = parse_seed(seed, "--seed");
    if (*cmp_seed_opt) cmp_opt.seed = parse_seed(cmp_seed, "--seed");
    if (*run) check_omp_num_threads(opt.threads > 0);
    if (*sweep) check_omp_num_threads(sweep_opt.threads > 0);
    if (*compare) check_omp_num_threads(cmp_opt.threads > 0);
    if (many_ranks && !*run) {
      throw InputError({"only `migsim run` uses MPI ranks; run the members of a sweep as a job array "
                        "(docs/hpc.md) or as one process"});
    }
    opt.comm = comm;
    if (*run) return command_run(scenario_path, opt, seed_opt->count() > 0, every_opt->count() > 0);
    if (*validate) return command_validate(scenario_path);
    if (*sweep) {
      sweep_opt.command = opt.command;
      return command_sweep(experiment_path, sweep_opt, sweep_list, sweep_count);
    }
    if (*compare) {
      cmp_opt.command = opt.command;
      return command_compare(compare_base, compare_policy, cmp_opt);
    }
    if (*merge) {
      merge_files(merge_inputs, merge_output, merge_force, opt.command);
      std::fprintf(stderr, "wrote %s\n", merge_output.c_str());
      return kExitOk;
    }
  } catch (const InputError& e) {
    // Every rank reads the same input and finds the same problems: rank 0 reports them.
    if (rank0) {
      for (const auto& p : e.problems()) std::fprintf(stderr, "error: %s\n", p.c_str());
      if (e.problems().size() > 1) std::fprintf(stderr, "%zu errors\n", e.problems().size());
    }
    return kExitInput;
  } catch (const std::exception& e) {
    const bool interrupted = dynamic_cast<const RuntimeFailure*>(&e) && stop_requested();
    if (rank0 || !interrupted) {
      if (dynamic_cast<const RuntimeFailure*>(&e)) std::fprintf(stderr, "error: %s\n", e.what());
      else if (dynamic_cast<const std::bad_alloc*>(&e)) std::fprintf(stderr, "error: out of memory\n");
      else std::fprintf(stderr, "error: internal error: %s\n", e.what());
    }
#ifdef MIGSIM_HAVE_MPI
    // A failure on one rank may leave the others waiting for it: end them all. (A stop
    // on a signal happens on every rank at the same month, so it ends normally.)
    if (many_ranks && !interrupted) mpi->abort(kExitRuntime);
#endif
    return kExitRuntime;
  }
  return kExitInput;
}
