#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "support/temp_dir.hpp"
#include "output/dataset.hpp"

using namespace migsim;
using namespace migsim::output;
namespace fs = std::filesystem;
using migsim::test::TempDir;

namespace {


Dataset sample(int months = 3) {
  Dataset ds;
  Dimension time;
  time.name = "time";
  time.size = static_cast<std::size_t>(months);
  time.unlimited = true;
  std::vector<std::int32_t> days;
  for (int t = 0; t < months; ++t) days.push_back(31 * t);
  time.coordinate.data = days;
  time.coordinate.attrs = {{"units", std::string("days since 2010-01-01 00:00:00")}, {"calendar", std::string("proleptic_gregorian")}};
  Dimension place;
  place.name = "location";
  place.size = 2;
  place.coordinate.data = std::vector<std::string>{"COL", "PAN"};
  ds.dims = {time, place};
  std::vector<std::int64_t> counts;
  std::vector<double> rates;
  for (int t = 0; t < months; ++t)
    for (int l = 0; l < 2; ++l) {
      counts.push_back(1000 * t + l - 5);
      rates.push_back(0.5 * t + l);
    }
  ds.vars.push_back(Variable{"stock", {"time", "location"}, counts, {{"long_name", std::string("people")}, {"units", std::string("persons")}}});
  ds.vars.push_back(Variable{"rate", {"time", "location"}, rates, {{"units", std::string("1")}}});
  ds.vars.push_back(Variable{"flag", {"location"}, std::vector<std::int8_t>{1, 0}, {}});
  ds.attrs = {{"Conventions", std::string("CF-1.8")}, {"seed", std::uint64_t{18446744073709551615ull}},
              {"people_per_agent", std::int64_t{10}}, {"threads", std::int32_t{4}}, {"ratio", 0.25},
              {"empty", std::string()}, {"scenario", std::string(200000, 'y')}};
  return ds;
}

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a dataset written and read back is the same") {
  TempDir dir;
  const std::string f = dir.file("a.h5");
  const Dataset ds = sample();
  write_netcdf(ds, f);
  const Dataset back = read_netcdf(f);
  REQUIRE(back.dims.size() == 2);
  CHECK(back.dims[0].name == "time");
  CHECK(back.dims[0].unlimited);
  CHECK(back.dims[0].size == 3);
  CHECK(std::get<std::vector<std::int32_t>>(back.dims[0].coordinate.data) == std::get<std::vector<std::int32_t>>(ds.dims[0].coordinate.data));
  CHECK(std::get<std::vector<std::string>>(back.dims[1].coordinate.data) == std::vector<std::string>{"COL", "PAN"});
  REQUIRE(back.vars.size() == 3);
  CHECK(back.vars[0].name == "stock");
  CHECK(back.vars[0].dims == std::vector<std::string>{"time", "location"});
  CHECK(std::get<std::vector<std::int64_t>>(back.vars[0].data) == std::get<std::vector<std::int64_t>>(ds.vars[0].data));
  CHECK(std::get<std::vector<double>>(back.vars[1].data) == std::get<std::vector<double>>(ds.vars[1].data));
  CHECK(std::get<std::vector<std::int8_t>>(back.vars[2].data) == std::vector<std::int8_t>{1, 0});
  CHECK(back.vars[0].attrs == ds.vars[0].attrs);
  CHECK(back.attrs == ds.attrs);  // including a 200 kB attribute and a uint64
  CHECK(dir.entries() == 1);      // no temporary file left behind
}

TEST_CASE("the same dataset gives the same bytes") {
  TempDir dir;
  write_netcdf(sample(), dir.file("a.h5"));
  write_netcdf(sample(), dir.file("b.h5"));
  CHECK(bytes(dir.file("a.h5")) == bytes(dir.file("b.h5")));
}

TEST_CASE("an existing output is not replaced unless asked") {
  TempDir dir;
  const std::string f = dir.file("a.h5");
  std::ofstream(f) << "earlier results";
  CHECK_THROWS_AS(write_netcdf(sample(), f), InputError);
  CHECK(bytes(f) == "earlier results");
  CHECK(dir.entries() == 1);
  write_netcdf(sample(5), f, {true, 2});
  CHECK(read_netcdf(f).dims[0].size == 5);
}

TEST_CASE("bad output paths are refused before anything is written") {
  TempDir dir;
  try {
    check_output_path(dir.path.string(), false);
    FAIL("a folder was accepted");
  } catch (const InputError& e) {
    CHECK(e.problems()[0].find("is a folder") != std::string::npos);
  }
  CHECK_THROWS_AS(check_output_path(dir.file("missing/a.h5"), false), InputError);
  CHECK_THROWS_AS(check_output_path("", false), InputError);
  if (geteuid() != 0) {  // root writes anywhere
    fs::create_directories(dir.path / "ro");
    fs::permissions(dir.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_AS(check_output_path(dir.file("ro/a.h5"), false), InputError);
    fs::permissions(dir.path / "ro", fs::perms::owner_all);
  }
}

TEST_CASE("a failure while writing leaves no file under either name") {
  TempDir dir;
  Dataset bad = sample();
  bad.vars[0].data = std::vector<std::int64_t>{1, 2, 3};  // not time x location
  try {
    write_netcdf(bad, dir.file("a.h5"));
    FAIL("expected a failure");
  } catch (const RuntimeFailure& e) {
    CHECK(std::string(e.what()).find(dir.file("a.h5")) == 0);
    CHECK(std::string(e.what()).find("has 3 values for 6 cells") != std::string::npos);
  }
  CHECK(dir.entries() == 0);
}

TEST_CASE("reading something that is not an output is a clear error") {
  TempDir dir;
  const std::string f = dir.file("junk.h5");
  std::ofstream(f) << "not hdf5 at all";
  try {
    read_netcdf(f);
    FAIL("expected a failure");
  } catch (const RuntimeFailure& e) {
    CHECK(std::string(e.what()) == f + ": cannot read it as a migsim output (not an HDF5 file, or damaged)");
  }
  CHECK_THROWS_AS(read_netcdf(dir.file("none.h5")), RuntimeFailure);
  // A truncated file.
  write_netcdf(sample(), dir.file("ok.h5"));
  const std::string whole = bytes(dir.file("ok.h5"));
  std::ofstream(dir.file("cut.h5"), std::ios::binary) << whole.substr(0, whole.size() / 2);
  CHECK_THROWS_AS(read_netcdf(dir.file("cut.h5")), RuntimeFailure);
}
