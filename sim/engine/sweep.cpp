#include "engine/sweep.hpp"

#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/errors.hpp"
#include "engine/batch.hpp"
#include "engine/ensemble.hpp"
#include "engine/recorder.hpp"
#include "output/dataset.hpp"

namespace migsim {

namespace {

std::string member_label(const Experiment& e, int member) {
  std::string s = "member " + std::to_string(member) + " (";
  const DesignPoint& pt = e.points[static_cast<std::size_t>(e.point_of(member))];
  for (std::size_t k = 0; k < e.parameters.size(); ++k) s += e.parameters[k].path + " = " + to_string(pt.values[k]) + ", ";
  return s + "replicate " + std::to_string(e.replicate_of(member)) + ")";
}

}  // namespace

void print_members(const Experiment& e) {
  std::printf("%-7s %-6s %-9s %-20s", "member", "point", "replicate", "seed");
  for (const auto& p : e.parameters) std::printf(" %s", p.path.c_str());
  std::printf("\n");
  for (int m = 0; m < e.members(); ++m) {
    std::printf("%-7d %-6d %-9d %-20llu", m, e.point_of(m), e.replicate_of(m),
                static_cast<unsigned long long>(e.seed_of(m)));
    const DesignPoint& pt = e.points[static_cast<std::size_t>(e.point_of(m))];
    for (const auto& v : pt.values) std::printf(" %s", to_string(v).c_str());
    std::printf("\n");
  }
}

SweepSummary run_sweep(const Experiment& e, const SweepOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.member && (*opt.member < 0 || *opt.member >= e.members())) {
    throw InputError({"--member: the experiment has members 0 to " + std::to_string(e.members() - 1) + ", got " +
                      std::to_string(*opt.member)});
  }
  output::check_output_path(opt.output, opt.force);
  output::check_not_an_input(opt.output, {e.file});
  output::check_not_an_input(opt.output, e.base->files);
  const int months = e.months ? *e.months : e.base->months();

  // Each design point's scenario, shared by its replicates.
  std::vector<int> wanted;
  if (opt.member) wanted.push_back(*opt.member);
  else
    for (int m = 0; m < e.members(); ++m) wanted.push_back(m);
  std::vector<std::unique_ptr<Scenario>> scenarios(e.points.size());
  std::vector<BatchRun> runs;
  for (int m : wanted) {
    auto& s = scenarios[static_cast<std::size_t>(e.point_of(m))];
    if (!s) s = std::make_unique<Scenario>(e.scenario_of(m));
    runs.push_back(BatchRun{s.get(), e.seed_of(m), months, member_label(e, m)});
  }
  BatchOptions bopt;
  bopt.threads = opt.threads;
  bopt.parallel = opt.parallel;
  bopt.quiet = opt.quiet;
  bopt.command = opt.command;
  std::vector<BatchResult> results = run_batch(runs, bopt);

  SweepSummary sum;
  sum.members = static_cast<int>(runs.size());
  std::vector<output::Dataset> members;
  for (std::size_t k = 0; k < results.size(); ++k) {
    if (!results[k].ok) ++sum.failed;
    members.push_back(member_dataset(e, wanted[k], std::move(results[k])));
  }
  if (opt.member) {
    output::write_netcdf(members.front(), opt.output, {opt.force, 2});
  } else {
    EnsembleInfo info;
    info.threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
    info.start_time_utc = utc_now();
    info.command = opt.command;
    output::write_netcdf(stack_members(std::move(members), info), opt.output, {opt.force, 2});
  }
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

void merge_files(const std::vector<std::string>& inputs, const std::string& output, bool force,
                 const std::string& command) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(in)) {
        const auto name = entry.path().filename().string();
        if (entry.is_regular_file() && entry.path().extension() == ".h5" && name[0] != '.') {
          found.push_back(entry.path().string());
        }
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) throw InputError({in + ": the folder holds no .h5 member files"});
      files.insert(files.end(), found.begin(), found.end());
    } else if (!fs::is_regular_file(in, ec)) {
      throw InputError({in + ": no such file or folder"});
    } else {
      files.push_back(in);
    }
  }
  output::check_not_an_input(output, files);
  output::check_output_path(output, force);
  EnsembleInfo info;
  info.threads = omp_get_max_threads();
  info.start_time_utc = utc_now();
  info.command = command;
  output::write_netcdf(merge_member_files(files, info), output, {force, 2});
}

}  // namespace migsim
