#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/version.hpp"
#include "engine/checkpoint.hpp"
#include "engine/progress.hpp"
#include "engine/recorder.hpp"
#include "engine/run.hpp"
#include "output/dataset.hpp"
#include "support/model_run.hpp"
#include "support/temp_dir.hpp"

using namespace migsim;
using namespace migsim::test;

namespace {
const std::string kScenario = base_yaml(6, 10) + R"(behaviour: {move_rate: 4.0e-5}
routes:
  - {edge: AAA-BBB}
  - {edge: BBB-CCC, mortality: 0.01}
pathways:
  - {name: visa, country: CCC, kind: labour_visa, origins: [AAA], quota: 200}
  - {name: free, country: BBB, kind: free_movement, origins: [AAA]}
initial_stock: {BBB: {AAA: 30000}, CCC: {AAA: 80000, ROW: 1234}}
)";

template <typename T>
const std::vector<T>& values(const output::Dataset& ds, const std::string& name) {
  const output::Variable* v = ds.var(name);
  REQUIRE_MESSAGE(v, name);
  return std::get<std::vector<T>>(v->data);
}
}  // namespace

TEST_CASE("the recorder lays out every series with named dimensions, in persons") {
  const Scenario s = load(kScenario);
  Model m(s, 5);
  Recorder rec(s);
  std::vector<MonthResult> results;
  for (int t = 0; t < s.months(); ++t) {
    results.push_back(m.step());
    rec.add(results.back(), m.layout());
  }
  RunInfo info;
  info.seed = 5;
  const output::Dataset ds = rec.dataset(info);
  CHECK(ds.dim("time")->size == 6);
  CHECK(ds.dim("origin")->size == 4);  // three countries and the rest of the world
  CHECK(std::get<std::vector<std::string>>(ds.dim("origin")->coordinate.data).back() == "ROW");
  CHECK(ds.dim("location")->size == 3);
  CHECK(ds.dim("status")->size == 6);
  CHECK(std::get<std::vector<std::string>>(ds.dim("edge")->coordinate.data) == std::vector<std::string>{"AAA-BBB", "BBB-CCC"});
  CHECK(std::get<std::vector<std::int32_t>>(ds.dim("time")->coordinate.data) == std::vector<std::int32_t>{0, 31, 60, 91, 121, 152});
  const auto& stock = values<std::int64_t>(ds, "migrant_stock");
  REQUIRE(stock.size() == 6u * 4 * 3 * 6);
  const auto& L = m.layout();
  // Month 3, origin AAA, location CCC, settled_regular: persons = agents x 10.
  const std::size_t cell = ((3u * 4 + 0) * 3 + 2) * 6 + 4;
  CHECK(stock[cell] == 10 * results[3].counts[L.stock_at(0, 2, 4)]);
  const auto& quota = values<std::int64_t>(ds, "quota");
  const auto& unused = values<std::int64_t>(ds, "unused_quota");
  const auto& admitted = values<std::int64_t>(ds, "admissions");
  for (int t = 0; t < 6; ++t) {
    CHECK(quota[t * 2 + 0] == 200);
    CHECK(quota[t * 2 + 1] == -1);
    CHECK(unused[t * 2 + 0] == 200 - admitted[t * 2 + 0]);
    CHECK(unused[t * 2 + 1] == 0);
  }
  CHECK(std::get<std::uint64_t>(std::find_if(ds.attrs.begin(), ds.attrs.end(), [](auto& a) { return a.first == "seed"; })->second) == 5);
  // Every variable's size matches its dimensions.
  for (const auto& v : ds.vars) {
    std::size_t cells = 1;
    for (const auto& d : v.dims) cells *= ds.dim(d)->size;
    CAPTURE(v.name);
    CHECK(std::visit([](const auto& x) { return x.size(); }, v.data) == cells);
  }
}

TEST_CASE("run_scenario checks its options before running and writes the file") {
  const Scenario s = load(kScenario);
  const test::TempDir tmp;
  const std::string dir = tmp.path.string();
  RunOptions opt;
  opt.output = dir + "/out.h5";
  opt.quiet = true;
  opt.months = 99;
  CHECK_THROWS_AS(run_scenario(s, opt), InputError);
  opt.months = 4;
  const RunSummary sum = run_scenario(s, opt);
  CHECK(sum.months == 4);
  CHECK(output::read_netcdf(opt.output).dim("time")->size == 4);
  CHECK_THROWS_AS(run_scenario(s, opt), InputError);  // exists
  opt.force = true;
  opt.months.reset();
  CHECK(run_scenario(s, opt).months == 6);
  // A name whose temporary file (.NAME.tmp.PID) just fits the folder's limit on names, while
  // the checkpoint's (.NAME.ckpt.tmp.PID), which a signal may ask for at any month, does not.
  const long name_max = pathconf(dir.c_str(), _PC_NAME_MAX);
  REQUIRE(name_max > 20);
  const std::size_t fits = static_cast<std::size_t>(name_max) - 6 - std::to_string(getpid()).size();
  opt.output = dir + "/" + std::string(fits - 3, 'n') + ".h5";
  try {
    run_scenario(s, opt);
    FAIL("a checkpoint name too long for the folder was accepted");
  } catch (const InputError& e) {
    CHECK(e.problems()[0].find(opt.output + ".ckpt: the file name is too long") == 0);
  }
  opt.checkpoint = dir + "/short.ckpt";
  CHECK(run_scenario(s, opt).months == 6);
}

TEST_CASE("a checkpoint read into memory, where it cannot be mapped, restores the same state") {
  const Scenario s = load(kScenario);
  const test::TempDir tmp;
  const std::string path = (tmp.path / "run.ckpt").string();
  Model m(s, 5);
  Recorder rec(s);
  for (int t = 0; t < 3; ++t) rec.add(m.step(), m.layout());
  CheckpointHeader h;
  h.migsim_version = version();
  h.scenario_yaml = s.resolved_yaml;
  h.seed = 5;
  h.months = s.months();
  h.months_done = m.months_done();
  write_checkpoint(path, h, m, &rec);
  CheckpointState mapped, read;
  const CheckpointHeader hm = read_checkpoint(path, &mapped);
  const CheckpointHeader hr = read_checkpoint(path, &read, false);  // as where mmap fails
  CHECK(mapped.mapped());
  CHECK_FALSE(read.mapped());
  CHECK(hr.months_done == 3);
  CHECK(hm.months_done == hr.months_done);
  REQUIRE(read.size() == mapped.size());
  REQUIRE(read.size() > 0);
  CHECK(std::memcmp(read.data(), mapped.data(), read.size()) == 0);
  // Moved, the copy keeps its bytes (the state is handed on from read_checkpoint this way).
  CheckpointState moved = std::move(read);
  CHECK(std::memcmp(moved.data(), mapped.data(), moved.size()) == 0);
  // Both restore the model the run had: the next month is the same.
  Model a(s, 5, nullptr, false), b(s, 5, nullptr, false);
  Recorder ra(s), rb(s);
  restore_checkpoint(path, mapped, a, &ra);
  restore_checkpoint(path, moved, b, &rb);
  const MonthResult next = m.step();
  CHECK(a.step().counts == next.counts);
  CHECK(b.step().counts == next.counts);
  // Damaged or short files are refused the same way when read.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 5);
  CHECK_THROWS_WITH_AS(read_checkpoint(path, &read, false), doctest::Contains("truncated"), InputError);
  CHECK_THROWS_WITH_AS(read_checkpoint(path, &read), doctest::Contains("truncated"), InputError);
}

TEST_CASE("progress figures are readable") {
  CHECK(format_count(0) == "0");
  CHECK(format_count(999) == "999");
  CHECK(format_count(1000) == "1,000");
  CHECK(format_count(12345678) == "12,345,678");
  CHECK(format_count(-4500) == "-4,500");
  CHECK(format_duration(3.25) == "3.2 s");
  CHECK(format_duration(125) == "2 min 05 s");
  CHECK(format_duration(7500) == "2 h 05 min");
}
