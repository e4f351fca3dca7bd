// Damaged output files given to read_netcdf() (what `migsim merge` and the tests read back):
// truncated at every kind of place, bytes overwritten across the whole file, files that are
// not HDF5 at all, and HDF5 files that are not migsim outputs. Each must give RuntimeFailure
// naming the file, or (for damage in raw data, which HDF5 does not checksum) read back; never
// a crash, a hang or another exception. Run under `make test-asan` too.
#include <doctest/doctest.h>
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "core/errors.hpp"
#include "support/temp_dir.hpp"
#include "output/dataset.hpp"

using namespace migsim;
using namespace migsim::output;
namespace fs = std::filesystem;
using migsim::test::TempDir;

namespace {


Dataset sample() {
  Dataset ds;
  Dimension time;
  time.name = "time";
  time.size = 24;
  time.unlimited = true;
  std::vector<std::int32_t> days;
  for (int t = 0; t < 24; ++t) days.push_back(31 * t);
  time.coordinate.data = days;
  time.coordinate.attrs = {{"units", std::string("days since 2010-01-01 00:00:00")}};
  Dimension place;
  place.name = "location";
  place.size = 3;
  place.coordinate.data = std::vector<std::string>{"COL", "PAN", "MEX"};
  ds.dims = {time, place};
  std::vector<std::int64_t> counts;
  std::vector<double> rates;
  for (int t = 0; t < 24; ++t)
    for (int l = 0; l < 3; ++l) {
      counts.push_back(1000 * t + l);
      rates.push_back(0.5 * t + l);
    }
  ds.vars.push_back(Variable{"stock", {"time", "location"}, counts, {{"units", std::string("persons")}}});
  ds.vars.push_back(Variable{"rate", {"time", "location"}, rates, {{"units", std::string("1")}}});
  ds.attrs = {{"Conventions", std::string("CF-1.8")}, {"seed", std::uint64_t{7}}, {"scenario", std::string(5000, 'y')}};
  return ds;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// "error" when read_netcdf failed with a RuntimeFailure naming the file, "read" when it
/// read the file; fails the test on any other outcome.
std::string outcome(const std::string& path) {
  try {
    (void)read_netcdf(path);
    return "read";
  } catch (const RuntimeFailure& e) {
    const std::string what = e.what();
    CHECK_MESSAGE(what.rfind(path + ": cannot read it as a migsim output", 0) == 0, what);
    return "error";
  } catch (const std::exception& e) {
    FAIL("unexpected exception for " << path << ": " << e.what());
  }
  return "?";
}

}  // namespace

TEST_CASE("files that are not migsim outputs give a clear error") {
  TempDir dir;
  CHECK(outcome(dir.file("missing.h5")) == "error");
  CHECK(outcome(dir.path.string()) == "error");  // a folder
  write_all(dir.file("empty.h5"), "");
  CHECK(outcome(dir.file("empty.h5")) == "error");
  write_all(dir.file("text.h5"), "scenario_format: 1\n");
  CHECK(outcome(dir.file("text.h5")) == "error");
  // HDF5 signature and nothing else.
  write_all(dir.file("signature.h5"), std::string("\x89HDF\r\n\x1a\n", 8));
  CHECK(outcome(dir.file("signature.h5")) == "error");
  // A valid HDF5 file with a group: not a migsim output (read_netcdf expects datasets).
  {
    const std::string path = dir.file("group.h5");
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(f >= 0);
    const hid_t g = H5Gcreate2(f, "results", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
    CHECK(outcome(path) == "error");
  }
}

TEST_CASE("a truncated output gives a clear error, wherever it was cut") {
  TempDir dir;
  const std::string good = dir.file("good.h5");
  write_netcdf(sample(), good);
  REQUIRE(outcome(good) == "read");
  const std::string bytes = read_all(good);
  const std::string cut = dir.file("cut.h5");
  std::vector<std::size_t> lengths = {1, 7, 8, 48, 96, 200, 512, 1024, 2048, 4096};
  for (std::size_t k = 1; k < 16; ++k) lengths.push_back(bytes.size() * k / 16);
  lengths.push_back(bytes.size() - 1);
  int errors = 0;
  for (std::size_t n : lengths) {
    if (n >= bytes.size()) continue;
    CAPTURE(n);
    write_all(cut, bytes.substr(0, n));
    errors += outcome(cut) == "error";
  }
  // The end of the file holds metadata: every cut must be noticed.
  CHECK(errors == static_cast<int>(lengths.size()));
}

TEST_CASE("overwritten bytes anywhere in an output never crash the reader") {
  TempDir dir;
  const std::string good = dir.file("good.h5");
  write_netcdf(sample(), good);
  const std::string bytes = read_all(good);
  const std::string bad = dir.file("bad.h5");
  std::mt19937 rng(12345);
  int errors = 0, reads = 0;
  // Every 97th byte in turn, then random positions; each copy damaged in one place.
  std::vector<std::size_t> positions;
  for (std::size_t at = 0; at < bytes.size(); at += 97) positions.push_back(at);
  for (int k = 0; k < 200; ++k) positions.push_back(rng() % bytes.size());
  for (std::size_t at : positions) {
    CAPTURE(at);
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ static_cast<char>(1 + rng() % 255));
    write_all(bad, damaged);
    const std::string o = outcome(bad);
    errors += o == "error";
    reads += o == "read";
  }
  MESSAGE(errors << " damaged copies refused, " << reads << " read (damage in raw data or unused space)");
  CHECK(errors + reads == static_cast<int>(positions.size()));
  CHECK(errors > 0);
}
