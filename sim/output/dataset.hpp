#pragma once
/// @file dataset.hpp
/// An in-memory description of a netCDF-4 dataset (dimensions with coordinates, variables
/// with attributes, global attributes), written by write_netcdf(). Keeps the HDF5 recipe
/// of ../shared/OUTPUT.md in one place (netcdf.cpp), away from the model.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace migsim::output {

using AttrValue = std::variant<std::string, std::int32_t, std::int64_t, std::uint64_t, double>;
using Attributes = std::vector<std::pair<std::string, AttrValue>>;

/// Variable data: one of these element types.
using Data = std::variant<std::vector<std::int64_t>, std::vector<double>, std::vector<std::int32_t>,
                          std::vector<std::int8_t>, std::vector<std::string>, std::vector<std::uint64_t>>;

struct Variable {
  std::string name;
  std::vector<std::string> dims;  ///< dimension names, slowest first
  Data data;                      ///< row-major, product of the dimensions' sizes
  Attributes attrs;               ///< long_name, units, ...
};

struct Dimension {
  std::string name;
  std::size_t size = 0;
  bool unlimited = false;
  /// The coordinate variable (a dataset named like the dimension); its dims must be {name}.
  Variable coordinate;
};

struct Dataset {
  std::vector<Dimension> dims;
  std::vector<Variable> vars;
  Attributes attrs;

  const Dimension* dim(const std::string& name) const;
  const Variable* var(const std::string& name) const;
};

/// Options for writing.
struct WriteOptions {
  bool overwrite = false;  ///< replace an existing file
  int deflate = 2;         ///< 0 (none) .. 9
};

/// Writes `ds` as a netCDF-4 compatible HDF5 file: first to a temporary file in the same
/// folder, renamed to `path` only when complete. Throws InputError if `path` exists (and
/// overwrite is off) or is a folder, RuntimeFailure on any HDF5 or file-system failure
/// (naming the file); on failure no file is left under either name.
void write_netcdf(const Dataset& ds, const std::string& path, const WriteOptions& opt = {});

/// Stops HDF5 from closing files in an exit handler. Call first thing in main(), before any
/// other HDF5 call. HDF5 1.10.8 crashes (H5F__close_cb, segfault) at exit when a file's close
/// failed on a full disk; migsim closes every file itself, so the handler has nothing to do.
void keep_hdf5_from_cleaning_up_at_exit();

/// The hidden temporary file a file is written to before it is renamed into place:
/// `.NAME.tmp.PID` in the same folder (the output's and the checkpoint's).
std::string temp_name(const std::filesystem::path& final_path);

/// Checks, before a long run, that `path` can be written: not an existing file (unless
/// overwrite), not a folder, its folder exists and is writable. Throws InputError.
void check_output_path(const std::string& path, bool overwrite);

/// Whether two paths name the same file: the same inode if both exist, else the same
/// normalised absolute path.
bool same_file(const std::string& a, const std::string& b);

/// Refuses (InputError) an output that is one of the run's input files, even with --force.
void check_not_an_input(const std::string& output, const std::vector<std::string>& inputs);

/// Reads every dimension, variable and global attribute of a file written by
/// write_netcdf() (used by `migsim merge` and tests). Throws RuntimeFailure naming the file
/// when it cannot be read.
Dataset read_netcdf(const std::string& path);

}  // namespace migsim::output
