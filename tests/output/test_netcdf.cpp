#include <doctest/doctest.h>
#include <hdf5.h>
#include <fcntl.h>
#include <hdf5_hl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
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
  // A name the folder takes, but whose temporary file's name (.NAME.tmp.PID) it does not:
  // refused now, not when the run is over and its results are lost.
  try {
    check_output_path(dir.file(std::string(250, 'a')), false);
    FAIL("a name too long for the temporary file was accepted");
  } catch (const InputError& e) {
    CHECK(e.problems()[0].find("the file name is too long") != std::string::npos);
  }
  check_output_path(dir.file(std::string(200, 'a')), false);
  if (geteuid() != 0) {  // root writes anywhere
    fs::create_directories(dir.path / "ro");
    fs::permissions(dir.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_AS(check_output_path(dir.file("ro/a.h5"), false), InputError);
    fs::permissions(dir.path / "ro", fs::perms::owner_all);
  }
}

TEST_CASE("checking the output path makes no named file, so a kill -9 then leaves nothing") {
  // The check makes a file in the output's folder to learn that files can be made there. A
  // named probe, created and removed, was left behind by a kill -9 that fell between the two
  // (the reliability test's kills, CI 2026-12-01). inotify sees every name made in the folder.
  TempDir dir;
  const int probe = open(dir.path.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (probe < 0) {
    MESSAGE("this file system makes no unnamed files; the check falls back to a named probe");
    return;
  }
  close(probe);
  const int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  REQUIRE(in >= 0);
  REQUIRE(inotify_add_watch(in, dir.path.c_str(), IN_CREATE) >= 0);
  check_output_path(dir.file("a.h5"), false);
  alignas(inotify_event) char events[4096];
  const ssize_t got = read(in, events, sizeof events);
  std::string names;
  for (ssize_t at = 0; at < got;) {
    const auto* e = reinterpret_cast<const inotify_event*>(events + at);
    names += std::string(e->len ? e->name : "") + " ";
    at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
  }
  CHECK_MESSAGE(got < 0, "names made in the folder: " << names);
  CHECK(errno == EAGAIN);  // nothing to read, not a failed read
  // The watch works: a file made in the folder is seen.
  std::ofstream(dir.file("b.h5")) << "x";
  CHECK(read(in, events, sizeof events) > 0);
  close(in);
  CHECK(dir.entries() == 1);
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

namespace {

std::string ref_name(hid_t file, hobj_ref_t ref) {
  char name[256] = {};
  H5Rget_name(file, H5R_OBJECT, &ref, name, sizeof name);
  return name;
}

/// The dimension-scale links of every dataset in the file's root, decoded to names: for a
/// variable, "DIMENSION_LIST k: scale,...", for a scale, "REFERENCE_LIST: var/k,..." in the
/// order stored.
std::map<std::string, std::vector<std::string>> scale_links(const std::string& path) {
  std::map<std::string, std::vector<std::string>> out;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  H5G_info_t info;
  H5Gget_info(file, &info);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    char buf[256] = {};
    H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf, sizeof buf, H5P_DEFAULT);
    const std::string name = buf;
    const hid_t did = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    auto& lines = out[name];
    if (H5Aexists(did, "DIMENSION_LIST") > 0) {
      const hid_t a = H5Aopen(did, "DIMENSION_LIST", H5P_DEFAULT);
      const hid_t space = H5Aget_space(a);
      const hid_t type = H5Tvlen_create(H5T_STD_REF_OBJ);
      std::vector<hvl_t> vl(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
      H5Aread(a, type, vl.data());
      for (std::size_t k = 0; k < vl.size(); ++k) {
        std::string line = "DIMENSION_LIST " + std::to_string(k) + ":";
        for (std::size_t j = 0; j < vl[k].len; ++j) line += " " + ref_name(file, static_cast<hobj_ref_t*>(vl[k].p)[j]);
        lines.push_back(line);
      }
      H5Dvlen_reclaim(type, space, H5P_DEFAULT, vl.data());
      H5Tclose(type);
      H5Sclose(space);
      H5Aclose(a);
    }
    if (H5Aexists(did, "REFERENCE_LIST") > 0) {
      struct Entry {
        hobj_ref_t ref;
        int dim;
      };
      const hid_t a = H5Aopen(did, "REFERENCE_LIST", H5P_DEFAULT);
      const hid_t space = H5Aget_space(a);
      const hid_t type = H5Tcreate(H5T_COMPOUND, sizeof(Entry));
      H5Tinsert(type, "dataset", HOFFSET(Entry, ref), H5T_STD_REF_OBJ);
      H5Tinsert(type, "dimension", HOFFSET(Entry, dim), H5T_NATIVE_INT);
      std::vector<Entry> e(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
      H5Aread(a, type, e.data());
      std::string line = "REFERENCE_LIST:";
      for (const auto& x : e) line += " " + ref_name(file, x.ref) + "/" + std::to_string(x.dim);
      lines.push_back(line);
      H5Tclose(type);
      H5Sclose(space);
      H5Aclose(a);
    }
    H5Dclose(did);
  }
  H5Fclose(file);
  return out;
}

}  // namespace

TEST_CASE("dimension scales are linked as H5DSattach_scale links them") {
  // The writer stores DIMENSION_LIST and REFERENCE_LIST itself, once each (docs/performance.md);
  // the same links made by HDF5's own H5DSattach_scale, in the same order, on datasets of the
  // same names and shapes, must decode to the same lists.
  TempDir dir;
  Dataset ds = sample(4);
  ds.vars.push_back(Variable{"between", {"location", "location"}, std::vector<std::int32_t>{1, 2, 3, 4}, {}});
  ds.vars.push_back(Variable{"total", {}, std::vector<std::int64_t>{7}, {}});
  write_netcdf(ds, dir.file("ours.h5"));

  const hid_t file = H5Fcreate(dir.file("theirs.h5").c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(file >= 0);
  auto make = [&](const std::string& name, const std::vector<std::string>& dims) {
    std::vector<hsize_t> shape;
    for (const auto& d : dims) shape.push_back(ds.dim(d)->size);
    const hid_t space = shape.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr);
    const hid_t did = H5Dcreate2(file, name.c_str(), H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(space);
    return did;
  };
  std::map<std::string, hid_t> scales;
  for (const auto& d : ds.dims) {
    scales[d.name] = make(d.name, {d.name});
    REQUIRE(H5DSset_scale(scales[d.name], d.name.c_str()) >= 0);
  }
  for (const auto& v : ds.vars) {
    const hid_t did = make(v.name, v.dims);
    for (std::size_t k = 0; k < v.dims.size(); ++k)
      REQUIRE(H5DSattach_scale(did, scales[v.dims[k]], static_cast<unsigned>(k)) >= 0);
    H5Dclose(did);
  }
  for (auto& [name, did] : scales) H5Dclose(did);
  H5Fclose(file);

  const auto ours = scale_links(dir.file("ours.h5"));
  const auto theirs = scale_links(dir.file("theirs.h5"));
  CHECK(ours == theirs);
  // Stored with the same types and shapes, not only decoding to the same names.
  const hid_t fo = H5Fopen(dir.file("ours.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ft = H5Fopen(dir.file("theirs.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  int compared = 0;
  for (const auto& [object, attr] : std::vector<std::pair<std::string, std::string>>{
           {"stock", "DIMENSION_LIST"}, {"between", "DIMENSION_LIST"}, {"location", "REFERENCE_LIST"},
           {"time", "REFERENCE_LIST"}}) {
    CAPTURE(object);
    const hid_t ao = H5Aopen_by_name(fo, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    const hid_t at = H5Aopen_by_name(ft, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(ao >= 0);
    REQUIRE(at >= 0);
    const hid_t to = H5Aget_type(ao), tt = H5Aget_type(at), so = H5Aget_space(ao), st = H5Aget_space(at);
    CHECK(H5Tequal(to, tt) > 0);
    CHECK(H5Tget_size(to) == H5Tget_size(tt));
    CHECK(H5Sget_simple_extent_npoints(so) == H5Sget_simple_extent_npoints(st));
    for (const hid_t id : {to, tt}) H5Tclose(id);
    for (const hid_t id : {so, st}) H5Sclose(id);
    H5Aclose(ao);
    H5Aclose(at);
    ++compared;
  }
  CHECK(compared == 4);
  H5Fclose(fo);
  H5Fclose(ft);
  REQUIRE(ours.count("between"));
  CHECK(ours.at("between") == std::vector<std::string>{"DIMENSION_LIST 0: /location", "DIMENSION_LIST 1: /location"});
  CHECK(ours.at("location") ==
        std::vector<std::string>{"REFERENCE_LIST: /stock/1 /rate/1 /flag/0 /between/0 /between/1"});
  CHECK(ours.at("total").empty());

  // And HDF5's own reader agrees.
  const hid_t f = H5Fopen(dir.file("ours.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t stock = H5Dopen2(f, "stock", H5P_DEFAULT), time = H5Dopen2(f, "time", H5P_DEFAULT),
              place = H5Dopen2(f, "location", H5P_DEFAULT);
  CHECK(H5DSis_attached(stock, time, 0) == 1);
  CHECK(H5DSis_attached(stock, place, 1) == 1);
  CHECK(H5DSis_attached(stock, place, 0) == 0);
  CHECK(H5DSget_num_scales(stock, 0) == 1);
  for (const hid_t id : {stock, time, place}) H5Dclose(id);
  H5Fclose(f);
}
