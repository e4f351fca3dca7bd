// netCDF-4 compatible HDF5 through the HDF5 C API, following ../shared/OUTPUT.md: V18 lower
// library bound, creation order tracked and indexed, no object times (identical runs give
// identical files), dimension scales with _Netcdf4Dimid, CF attributes, chunked and
// compressed counts, fixed-length ASCII string attributes, variable-length string
// coordinates (netCDF's NC_STRING).
#include <fcntl.h>
#include <sys/wait.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <csignal>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>

#include "core/errors.hpp"
#include "output/chunks.hpp"
#include "output/dataset.hpp"

namespace migsim::output {

const Dimension* Dataset::dim(const std::string& name) const {
  for (const auto& d : dims)
    if (d.name == name) return &d;
  return nullptr;
}

const Variable* Dataset::var(const std::string& name) const {
  for (const auto& v : vars)
    if (v.name == name) return &v;
  for (const auto& d : dims)
    if (d.coordinate.name == name) return &d.coordinate;
  return nullptr;
}

namespace {

/// Owns an HDF5 identifier and closes it with the matching function.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*closer)(hid_t)) : id_(id), close_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = H5I_INVALID_HID;
    return *this;
  }
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }
  /// Closes now and reports failure (closing a file flushes it: a full disk shows here).
  bool close() {
    const bool ok = id_ < 0 || close_(id_) >= 0;
    id_ = H5I_INVALID_HID;
    return ok;
  }

 private:
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

struct Writer {
  std::string file;  // the final name, for messages

  [[noreturn]] void fail(const std::string& what) const {
    // HDF5 does not say why a write failed; the system's errno does, for the usual causes.
    const int err = errno;
    std::string why;
    if (err == ENOSPC || err == EDQUOT || err == EFBIG || err == EIO || err == EROFS || err == EACCES ||
        err == ENOENT || err == ENOTDIR)
      why = ": " + std::string(std::strerror(err));
    throw RuntimeFailure(file + ": cannot write the output (" + what + why +
                         "); nothing was written under this name");
  }
  hid_t check(hid_t id, const std::string& what) const {
    if (id < 0) fail(what);
    return id;
  }
  void ok(herr_t rc, const char* what) const {
    if (rc < 0) fail(what);
  }

  Handle string_type(std::size_t size) const {
    Handle t(check(H5Tcopy(H5T_C_S1), "string type"), H5Tclose);
    ok(H5Tset_size(t, std::max<std::size_t>(size, 1)), "string size");
    ok(H5Tset_strpad(t, H5T_STR_NULLTERM), "string padding");
    ok(H5Tset_cset(t, H5T_CSET_ASCII), "string charset");
    return t;
  }

  void attribute(hid_t obj, const std::string& name, const AttrValue& value) const {
    Handle space(check(H5Screate(H5S_SCALAR), "attribute space"), H5Sclose);
    const std::string what = "attribute " + name;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          hid_t file_type, mem_type;
          Handle str;
          const void* buf = &v;
          if constexpr (std::is_same_v<T, std::string>) {
            str = string_type(v.size());
            file_type = mem_type = str;
            buf = v.empty() ? "" : v.c_str();
          } else if constexpr (std::is_same_v<T, std::int32_t>) {
            file_type = H5T_STD_I32LE;
            mem_type = H5T_NATIVE_INT32;
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            file_type = H5T_STD_I64LE;
            mem_type = H5T_NATIVE_INT64;
          } else if constexpr (std::is_same_v<T, std::uint64_t>) {
            file_type = H5T_STD_U64LE;
            mem_type = H5T_NATIVE_UINT64;
          } else {
            file_type = H5T_IEEE_F64LE;
            mem_type = H5T_NATIVE_DOUBLE;
          }
          Handle a(check(H5Acreate2(obj, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), what),
                   H5Aclose);
          ok(H5Awrite(a, mem_type, buf), what.c_str());
        },
        value);
  }

  Handle creation_list(bool chunked, const std::vector<hsize_t>& chunk, bool integer, int deflate) const {
    Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "dataset properties"), H5Pclose);
    ok(H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "attribute order");
    ok(H5Pset_obj_track_times(dcpl, 0), "object times");
    if (chunked) {
      ok(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "chunks");
      if (deflate > 0) {
        if (integer) ok(H5Pset_shuffle(dcpl), "shuffle");
        ok(H5Pset_deflate(dcpl, static_cast<unsigned>(deflate)), "deflate");
      }
    }
    return dcpl;
  }

  /// Chunks of about `target` bytes along the first (time) dimension, at most 1 MiB.
  static std::vector<hsize_t> chunks(const std::vector<hsize_t>& shape, std::size_t elem) {
    std::vector<hsize_t> c = shape;
    for (auto& x : c) x = std::max<hsize_t>(x, 1);
    std::size_t row = elem;
    for (std::size_t k = 1; k < c.size(); ++k) row *= c[k];
    // Shrink inner dimensions if one row alone is above 1 MiB.
    for (std::size_t k = 1; k < c.size() && row > (1u << 20); ++k) {
      while (c[k] > 1 && row > (1u << 20)) {
        row = row / c[k] * ((c[k] + 1) / 2);
        c[k] = (c[k] + 1) / 2;
      }
    }
    const hsize_t rows = std::max<hsize_t>(1, std::min<hsize_t>(12, (1u << 20) / std::max<std::size_t>(row, 1)));
    c[0] = std::min<hsize_t>(std::max<hsize_t>(shape[0], 1), rows);
    return c;
  }

  /// How a variable is stored: its shape, element, and chunks.
  struct Layout {
    std::vector<hsize_t> shape, maxshape, chunk;
    std::size_t count = 1, elem = 8;
    bool is_string = false, is_integer = false, chunked = false;
  };

  Layout layout(const Variable& v, const Dataset& ds) const {
    Layout L;
    bool unlimited = false;
    for (const auto& dn : v.dims) {
      const Dimension* d = ds.dim(dn);
      if (!d) fail("variable " + v.name + " uses unknown dimension " + dn);
      L.shape.push_back(d->size);
      L.maxshape.push_back(d->unlimited ? H5S_UNLIMITED : d->size);
      unlimited = unlimited || d->unlimited;
    }
    for (auto x : L.shape) L.count *= x;
    const std::size_t have = std::visit([](const auto& x) { return x.size(); }, v.data);
    if (have != L.count) {
      fail("variable " + v.name + " has " + std::to_string(have) + " values for " + std::to_string(L.count) +
           " cells");
    }
    L.is_string = std::holds_alternative<std::vector<std::string>>(v.data);
    L.is_integer = !L.is_string && !std::holds_alternative<std::vector<double>>(v.data);
    if (std::holds_alternative<std::vector<std::int32_t>>(v.data)) L.elem = 4;
    if (std::holds_alternative<std::vector<std::int8_t>>(v.data)) L.elem = 1;
    L.chunked = unlimited || (!L.is_string && L.count * L.elem > (64u << 10));
    if (L.chunked) L.chunk = chunks(L.shape, L.elem);
    return L;
  }

  /// The variable as a source of chunks filtered outside HDF5 (chunks.hpp), if it is stored
  /// compressed in chunks that span all but its first dimension.
  static bool chunk_source(const Variable& v, const Layout& L, int deflate, ChunkSource& src) {
    if (!L.chunked || L.is_string || deflate <= 0 || L.count == 0) return false;
    std::size_t row = 1;
    for (std::size_t k = 1; k < L.shape.size(); ++k) {
      if (L.chunk[k] != L.shape[k]) return false;
      row *= L.shape[k];
    }
    src.data = std::visit(
        [](const auto& x) -> const unsigned char* {
          using T = typename std::decay_t<decltype(x)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) return nullptr;
          else return reinterpret_cast<const unsigned char*>(x.data());
        },
        v.data);
    src.rows = L.shape[0];
    src.row_bytes = row * L.elem;
    src.chunk_rows = L.chunk[0];
    src.element = L.elem;
    src.shuffle = L.is_integer;
    src.deflate = deflate;
    return src.data != nullptr;
  }

  /// Creates variable v with its attributes, and writes its data unless `filtered_later`:
  /// then its chunks, filtered outside HDF5 (chunk_source() and ChunkFilter), are stored by
  /// store_chunks().
  Handle variable(hid_t file_id, const Variable& v, const Dataset& ds, int deflate, bool filtered_later) const {
    const Layout L = layout(v, ds);
    const auto& shape = L.shape;
    const std::size_t count = L.count;
    const bool is_string = L.is_string;
    Handle space(check(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), L.maxshape.data()),
                       "dataspace of " + v.name),
                 H5Sclose);
    Handle dcpl = creation_list(L.chunked, L.chunk, L.is_integer, is_string ? 0 : deflate);
    Handle type;
    hid_t file_type = H5T_STD_I64LE, mem_type = H5T_NATIVE_INT64;
    std::vector<const char*> ptrs;
    const void* buf = nullptr;
    std::visit(
        [&](const auto& x) {
          using T = typename std::decay_t<decltype(x)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) {
            type = Handle(check(H5Tcopy(H5T_C_S1), "string type"), H5Tclose);
            ok(H5Tset_size(type, H5T_VARIABLE), "string size");
            ok(H5Tset_cset(type, H5T_CSET_UTF8), "string charset");
            file_type = mem_type = type;
            for (const auto& s : x) ptrs.push_back(s.c_str());
            buf = ptrs.data();
          } else {
            buf = x.data();
            if constexpr (std::is_same_v<T, double>) {
              file_type = H5T_IEEE_F64LE;
              mem_type = H5T_NATIVE_DOUBLE;
            } else if constexpr (std::is_same_v<T, std::int32_t>) {
              file_type = H5T_STD_I32LE;
              mem_type = H5T_NATIVE_INT32;
            } else if constexpr (std::is_same_v<T, std::int8_t>) {
              file_type = H5T_STD_I8LE;
              mem_type = H5T_NATIVE_INT8;
            } else if constexpr (std::is_same_v<T, std::uint64_t>) {
              file_type = H5T_STD_U64LE;
              mem_type = H5T_NATIVE_UINT64;
            }
          }
        },
        v.data);
    Handle did(check(H5Dcreate2(file_id, v.name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                     "dataset " + v.name),
               H5Dclose);
    if (!filtered_later && count > 0) {
      // Strings are converted on the way to the file, through a buffer that HDF5 allocates
      // and zeroes on every write: 1 MiB by default, which made up most of the time of writing
      // a small file (38 of 62 ms for the 1M-agent benchmark). Sized to the data instead.
      Handle xfer(check(H5Pcreate(H5P_DATASET_XFER), "transfer properties"), H5Pclose);
      if (is_string) ok(H5Pset_buffer(xfer, std::max<std::size_t>(count * 16, 1024), nullptr, nullptr), "buffer");
      ok(H5Dwrite(did, mem_type, H5S_ALL, H5S_ALL, xfer, buf), ("data of " + v.name).c_str());
    }
    for (const auto& [k, a] : v.attrs) attribute(did, k, a);
    return did;
  }

  /// Stores variable v's chunks, filtered outside HDF5 (ChunkFilter), as they are.
  void store_chunks(hid_t did, const Variable& v, const Dataset& ds,
                    const std::vector<std::vector<unsigned char>>& filtered) const {
    const Layout L = layout(v, ds);
    std::vector<hsize_t> offset(L.shape.size(), 0);
    for (std::size_t j = 0; j < filtered.size(); ++j) {
      offset[0] = j * L.chunk[0];
      const auto& bytes = filtered[j];
      ok(H5Dwrite_chunk(did, H5P_DEFAULT, 0, offset.data(), bytes.size(), bytes.data()),
         ("data of " + v.name).c_str());
    }
  }
};

/// Flushes the finished temporary file to the disk before it is renamed into place, so that
/// after a power cut the final name never holds a file whose blocks were not written.
void sync_file(const std::string& path, const std::string& tmp) {
  const int fd = open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) close(fd);
    throw RuntimeFailure(path + ": cannot write the output (flushing " + tmp + ": " + std::strerror(err) +
                         "); nothing was written under this name");
  }
  close(fd);
}

/// Makes a rename in `dir` durable (best effort: some file systems refuse fsync on folders).
void sync_folder(const std::filesystem::path& dir) {
  const int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

}  // namespace

std::string temp_name(const std::filesystem::path& final_path) {
  return (final_path.parent_path() / ("." + final_path.filename().string() + ".tmp." + std::to_string(getpid())))
      .string();
}

void keep_hdf5_from_cleaning_up_at_exit() { H5dont_atexit(); }

bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  const fs::path ca = fs::weakly_canonical(a, ec);
  if (ec) return false;
  const fs::path cb = fs::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

void check_not_an_input(const std::string& output, const std::vector<std::string>& inputs) {
  for (const auto& in : inputs)
    if (same_file(output, in)) {
      throw InputError({output + ": the output is also one of the inputs (" + in + "); choose another name"});
    }
}

void check_output_path(const std::string& path, bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (path.empty()) throw InputError({"output: the output path is empty"});
  if (fs::is_directory(p, ec)) {
    throw InputError({path + ": is a folder; give the output a file name, such as " + (p / "run.h5").string()});
  }
  if (fs::exists(p, ec) && !overwrite) {
    throw InputError({path + ": already exists; choose another name or pass --force to replace it"});
  }
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (!fs::is_directory(dir, ec)) {
    if (fs::exists(dir, ec)) {
      throw InputError({path + ": " + dir.string() + " is a file, not a folder; give the output a path in a folder"});
    }
    throw InputError({path + ": the folder " + dir.string() + " does not exist"});
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    throw InputError({path + ": the folder " + dir.string() + " is not writable (" + std::strerror(errno) + ")"});
  }
  // access() says yes to root everywhere but on read-only mounts, and knows nothing of
  // folders such as /proc where no file can be made: make a file there now, rather than
  // learn it when the run is over. The file has no name (O_TMPFILE), so a kill -9 at this
  // moment leaves nothing behind; where the file system cannot make unnamed files (/proc
  // among them) the probe takes the temporary file's name, the one file a killed writer is
  // documented to leave. An unnamed file says nothing of names, so the temporary file's
  // name, the longest the writer makes, is checked against the folder's limit first.
  const std::string probe = temp_name(p);
  const long name_max = pathconf(dir.c_str(), _PC_NAME_MAX);
  const std::size_t probe_len = fs::path(probe).filename().string().size();
  if (name_max > 0 && probe_len > static_cast<std::size_t>(name_max)) {
    const long extra = static_cast<long>(probe_len - p.filename().string().size());
    throw InputError({path + ": the file name is too long for the folder " + dir.string() + " (at most " +
                      std::to_string(name_max - extra) + " characters here, for the temporary file's name)"});
  }
  const auto cannot_create = [&](int err) {
    return InputError({path + ": cannot create a file in the folder " + dir.string() + " (" + std::strerror(err) + ")"});
  };
  int fd = open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
    return;
  }
  // EOPNOTSUPP: the file system makes no unnamed files; EISDIR: a kernel before 3.11; any
  // other failure (no space, no permission, ...) is the folder's answer.
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) throw cannot_create(errno);
  fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno != EEXIST) throw cannot_create(errno);
  } else {
    close(fd);
    unlink(probe.c_str());
  }
}

namespace {

/// Dimension scales attached the way H5DSattach_scale() attaches them, with the same two
/// attributes (HDF5's Dimension Scale specification, which netCDF-4, h5py and R read): on
/// each variable, DIMENSION_LIST, one variable-length list of object references per
/// dimension, here each holding its one scale; on each scale, REFERENCE_LIST, a compound of
/// {dataset: the variable's reference, dimension: which of its dimensions}, one entry per
/// attachment in the order made. H5DSattach_scale() writes both once per attachment, reading
/// the scale's list back, deleting it and writing it again one entry longer; here each is
/// written once, the variable's when it is created, the scales' at the end.
class DimensionLinks {
 public:
  /// `scales`: the coordinate variables of `dims`, in order, made scales.
  DimensionLinks(const Writer& w, const std::vector<Dimension>& dims, const std::vector<Handle>& scales)
      : w_(w), dims_(dims), scales_(scales), lists_(scales.size()) {}

  /// Variable `did` (named `name`, for messages): its dimension k is the scale scale_of[k].
  void attach(hid_t did, const std::vector<std::size_t>& scale_of, const std::string& name) {
    if (scale_of.empty()) return;
    hobj_ref_t self;
    w_.ok(H5Rcreate(&self, did, ".", H5R_OBJECT, -1), ("reference to " + name).c_str());
    std::vector<hobj_ref_t> refs(scale_of.size());
    std::vector<hvl_t> vl(scale_of.size());
    for (std::size_t k = 0; k < scale_of.size(); ++k) {
      w_.ok(H5Rcreate(&refs[k], scales_[scale_of[k]], ".", H5R_OBJECT, -1), ("reference to a scale of " + name).c_str());
      vl[k].len = 1;
      vl[k].p = &refs[k];
      Entry e;
      std::memset(&e, 0, sizeof e);  // the padding too: identical runs give identical files
      e.ref = self;
      e.dim = static_cast<int>(k);
      lists_[scale_of[k]].push_back(e);
    }
    const hsize_t n = vl.size();
    Handle space(w_.check(H5Screate_simple(1, &n, nullptr), "dimension list space"), H5Sclose);
    Handle type(w_.check(H5Tvlen_create(H5T_STD_REF_OBJ), "dimension list type"), H5Tclose);
    Handle a(w_.check(H5Acreate2(did, DIMENSION_LIST, type, space, H5P_DEFAULT, H5P_DEFAULT), "dimension list of " + name),
             H5Aclose);
    w_.ok(H5Awrite(a, type, vl.data()), ("dimension list of " + name).c_str());
  }

  /// Writes each scale's REFERENCE_LIST.
  void finish() {
    Handle type(w_.check(H5Tcreate(H5T_COMPOUND, sizeof(Entry)), "reference list type"), H5Tclose);
    w_.ok(H5Tinsert(type, "dataset", HOFFSET(Entry, ref), H5T_STD_REF_OBJ), "reference list type");
    w_.ok(H5Tinsert(type, "dimension", HOFFSET(Entry, dim), H5T_NATIVE_INT), "reference list type");
    for (std::size_t d = 0; d < scales_.size(); ++d) {
      if (lists_[d].empty()) continue;
      const hsize_t n = lists_[d].size();
      const std::string what = "reference list of " + dims_[d].name;
      Handle space(w_.check(H5Screate_simple(1, &n, nullptr), what), H5Sclose);
      Handle a(w_.check(H5Acreate2(scales_[d], REFERENCE_LIST, type, space, H5P_DEFAULT, H5P_DEFAULT), what),
               H5Aclose);
      w_.ok(H5Awrite(a, type, lists_[d].data()), what.c_str());
    }
  }

 private:
  struct Entry {  // HDF5's ds_list_t: {hobj_ref_t ref; unsigned dim_idx}, stored as a signed int
    hobj_ref_t ref;
    int dim;
  };
  static_assert(sizeof(Entry) == 16 && offsetof(Entry, dim) == 8, "REFERENCE_LIST entries as HDF5 lays them out");
  const Writer& w_;
  const std::vector<Dimension>& dims_;
  const std::vector<Handle>& scales_;
  std::vector<std::vector<Entry>> lists_;
};

/// Creates the datasets, attributes and dimension scales of `ds` in the open file, stores
/// the filtered chunks last, then flushes, closes and syncs it. Variable k (k counts the
/// dimensions' coordinates first) is `all[k]`; if source_of[k] >= 0, its chunks are
/// filtered outside HDF5 and chunks_of(k) waits for them. Storing them after everything else gives
/// the other threads the time of HDF5's work on the whole file to filter them; stored as each
/// dataset was made, this thread waited for them and filtered some itself (1M-agent
/// benchmark, 2 threads: the write 2.5 ms shorter, of 24.5, in 12 of 12 paired runs;
/// docs/performance.md).
template <class ChunksOf>
void store(const Writer& w, const Dataset& ds, const std::vector<const Variable*>& all,
           const std::vector<int>& source_of, Handle& file, const std::string& tmp, const std::string& path,
           const WriteOptions& opt, ChunksOf chunks_of) {
  // Open until their chunks are stored: the coordinates (kept for the links as well), and
  // the variables with chunks to store (var_ids[n] is ds.vars[n]'s).
  std::vector<Handle> dim_ids, var_ids(ds.vars.size());
  const auto filtered = [&](std::size_t k) { return source_of[k] >= 0; };
  for (std::size_t k = 0; k < ds.dims.size(); ++k) {
    const Dimension& d = ds.dims[k];
    Handle did = w.variable(file, *all[k], ds, opt.deflate, filtered(k));
    w.ok(H5DSset_scale(did, d.name.c_str()), "dimension scale");
    w.attribute(did, "_Netcdf4Dimid", static_cast<std::int32_t>(k));
    dim_ids.push_back(std::move(did));
  }
  DimensionLinks links(w, ds.dims, dim_ids);
  for (std::size_t n = 0; n < ds.vars.size(); ++n) {
    const std::size_t k = ds.dims.size() + n;
    const Variable& v = *all[k];
    Handle did = w.variable(file, v, ds, opt.deflate, filtered(k));
    std::vector<std::size_t> scale_of;  // layout() has checked that each dimension exists
    for (const auto& name : v.dims) scale_of.push_back(static_cast<std::size_t>(ds.dim(name) - ds.dims.data()));
    links.attach(did, scale_of, v.name);
    if (filtered(k)) var_ids[n] = std::move(did);
  }
  links.finish();
  for (const auto& [k, a] : ds.attrs) w.attribute(file, k, a);
  for (std::size_t k = 0; k < all.size(); ++k) {
    if (!filtered(k)) continue;
    const Handle& did = k < ds.dims.size() ? dim_ids[k] : var_ids[k - ds.dims.size()];
    w.store_chunks(did, *all[k], ds, chunks_of(k));
  }
  var_ids.clear();
  dim_ids.clear();
  // A full disk shows here at the latest. After a failed close HDF5 keeps a broken file
  // object that crashed its exit handler (see keep_hdf5_from_cleaning_up_at_exit).
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) w.fail("flushing " + tmp);
  if (!file.close()) w.fail("closing " + tmp);
  sync_file(path, tmp);
}

}  // namespace

void write_netcdf(const Dataset& ds, const std::string& path, const WriteOptions& opt) {
  namespace fs = std::filesystem;
  check_output_path(path, opt.overwrite);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stderr noise
  Writer w{path};
  const std::string tmp = temp_name(fs::path(path));
  std::error_code ec;
  fs::remove(tmp, ec);
  errno = 0;
  try {
    // Coordinates, then variables; the compressed ones' chunks are filtered outside HDF5 on
    // all threads (below).
    std::vector<Variable> coords;
    for (const Dimension& d : ds.dims) {
      Variable coord = d.coordinate;
      coord.name = d.name;
      coord.dims = {d.name};
      coords.push_back(std::move(coord));
    }
    std::vector<const Variable*> all;
    for (const auto& c : coords) all.push_back(&c);
    for (const auto& v : ds.vars) all.push_back(&v);
    std::vector<ChunkSource> sources;
    std::vector<int> source_of(all.size(), -1);
    for (std::size_t k = 0; k < all.size(); ++k) {
      ChunkSource src;
      if (Writer::chunk_source(*all[k], w.layout(*all[k], ds), opt.deflate, src)) {
        source_of[k] = static_cast<int>(sources.size());
        sources.push_back(src);
      }
    }
    // HDF5's work (one thread: this one) overlaps the filtering: the other threads start
    // filtering the chunks at once, in the order they will be stored, while this thread makes
    // the file and every dataset; it stores the chunks last (store()), and when it reaches a
    // variable whose chunks are not all done, filters the next ones itself while it waits.
    ChunkFilter filter(sources);
    std::exception_ptr error;
#pragma omp parallel
    {
      // Nothing may leave the parallel region by an exception: thread 0 keeps its own
      // failure, and a filtering thread's (only bad_alloc here) stops the others' work too.
      try {
        Deflater work;
        if (omp_get_thread_num() == 0) {
          try {
            // The file is made here, not before the region: the other threads filter meanwhile.
            Handle fapl(w.check(H5Pcreate(H5P_FILE_ACCESS), "file access properties"), H5Pclose);
            w.ok(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST), "library version bounds");
            Handle fcpl(w.check(H5Pcreate(H5P_FILE_CREATE), "file creation properties"), H5Pclose);
            w.ok(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "link order");
            w.ok(H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "attribute order");
            w.ok(H5Pset_obj_track_times(fcpl, 0), "object times");
            Handle file(w.check(H5Fcreate(tmp.c_str(), H5F_ACC_EXCL, fcpl, fapl), "create " + tmp), H5Fclose);
            store(w, ds, all, source_of, file, tmp, path, opt,
                  [&](std::size_t k) -> const std::vector<std::vector<unsigned char>>& {
                    try {
                      return filter.wait(static_cast<std::size_t>(source_of[k]), work);
                    } catch (const std::runtime_error& e) {
                      errno = 0;  // not a system error: fail() must not name a stale one
                      w.fail(e.what());
                    }
                  });
          } catch (...) {
            error = std::current_exception();
            filter.cancel();  // the file is lost: the other threads stop filtering
          }
        }
        while (filter.run_one(work)) {
        }
      } catch (const std::exception& e) {
        filter.fail(e.what());
      }
    }
    if (error) std::rethrow_exception(error);
    if (const std::string f = filter.failure(); !f.empty()) {
      errno = 0;  // as above
      w.fail(f);
    }
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  // Publish under the final name: atomically, and without replacing a file that appeared
  // meanwhile unless asked to.
  if (!opt.overwrite) {
    if (link(tmp.c_str(), path.c_str()) == 0) {
      fs::remove(tmp, ec);
      sync_folder(fs::path(path).parent_path());
      return;
    }
    const int err = errno;
    if (err == EEXIST) {
      fs::remove(tmp, ec);
      throw InputError({path + ": already exists; choose another name or pass --force to replace it"});
    }
    // Hard links unsupported here (some network file systems): fall back to rename.
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw RuntimeFailure(path + ": cannot move the finished output into place (" + ec.message() + ")");
  }
  sync_folder(fs::path(path).parent_path());
}

// ---------------------------------------------------------------------------------------
// Reading.

namespace {

struct Reader {
  std::string file;
  [[noreturn]] void fail(const std::string& what) const {
    throw RuntimeFailure(file + ": cannot read it as a migsim output (" + what + ")");
  }
  hid_t check(hid_t id, const std::string& what) const {
    if (id < 0) fail(what);
    return id;
  }

  AttrValue attribute(hid_t attr, const std::string& name) const {
    Handle type(check(H5Aget_type(attr), "type of attribute " + name), H5Tclose);
    const H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_STRING) {
      if (H5Tis_variable_str(type) > 0) {
        char* s = nullptr;
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem, H5T_VARIABLE);
        const bool read_ok = H5Aread(attr, mem, &s) >= 0;
        std::string out = s ? s : "";
        if (s) H5free_memory(s);
        if (!read_ok) fail("attribute " + name);
        return out;
      }
      const std::size_t size = H5Tget_size(type);
      std::string out(size, '\0');
      if (H5Aread(attr, type, out.data()) < 0) fail("attribute " + name);
      out.resize(std::strlen(out.c_str()));
      return out;
    }
    if (cls == H5T_INTEGER) {
      const bool is_unsigned = H5Tget_sign(type) == H5T_SGN_NONE;
      if (H5Tget_size(type) == 8 && is_unsigned) {
        std::uint64_t v = 0;
        if (H5Aread(attr, H5T_NATIVE_UINT64, &v) < 0) fail("attribute " + name);
        return v;
      }
      if (H5Tget_size(type) == 8) {
        std::int64_t v = 0;
        if (H5Aread(attr, H5T_NATIVE_INT64, &v) < 0) fail("attribute " + name);
        return v;
      }
      std::int32_t v = 0;
      if (H5Aread(attr, H5T_NATIVE_INT32, &v) < 0) fail("attribute " + name);
      return v;
    }
    if (cls == H5T_FLOAT) {
      double v = 0;
      if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) fail("attribute " + name);
      return v;
    }
    fail("attribute " + name + " has an unsupported type");
  }

  Attributes attributes(hid_t obj) const {
    Attributes out;
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) fail("object info");
    for (hsize_t k = 0; k < info.num_attrs; ++k) {
      Handle a(H5Aopen_by_idx(obj, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, k, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
      if (a.get() < 0) {
        // Files without creation order: fall back to name order.
        a = Handle(check(H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, k, H5P_DEFAULT, H5P_DEFAULT),
                         "attribute"),
                   H5Aclose);
      }
      char name[256] = {0};
      H5Aget_name(a, sizeof name, name);
      const std::string n = name;
      if (n == "CLASS" || n == "NAME" || n == "REFERENCE_LIST" || n == "DIMENSION_LIST" || n == "_Netcdf4Dimid" ||
          n == "_Netcdf4Coordinates" || n == "_NCProperties")
        continue;
      out.emplace_back(n, attribute(a, n));
    }
    return out;
  }

  Data data(hid_t did, const std::string& name, std::size_t count) const {
    Handle type(check(H5Dget_type(did), "type of " + name), H5Tclose);
    const H5T_class_t cls = H5Tget_class(type);
    auto read = [&](auto& vec, hid_t mem) {
      vec.resize(count);
      if (count > 0 && H5Dread(did, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, vec.data()) < 0) fail("data of " + name);
    };
    if (cls == H5T_STRING) {
      std::vector<std::string> out(count);
      if (H5Tis_variable_str(type) > 0) {
        std::vector<char*> ptrs(count, nullptr);
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem, H5T_VARIABLE);
        H5Tset_cset(mem, H5Tget_cset(type));
        const bool read_ok = count == 0 || H5Dread(did, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) >= 0;
        for (std::size_t k = 0; k < count; ++k) out[k] = ptrs[k] ? ptrs[k] : "";
        Handle space(H5Dget_space(did), H5Sclose);
        // Also after a failed read (a damaged file): the strings read before it are ours.
        if (count > 0) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
        if (!read_ok) fail("data of " + name);
      } else {
        const std::size_t size = H5Tget_size(type);
        std::vector<char> raw(size * count + 1, '\0');
        if (count > 0 && H5Dread(did, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0) fail("data of " + name);
        for (std::size_t k = 0; k < count; ++k) out[k] = std::string(raw.data() + k * size, strnlen(raw.data() + k * size, size));
      }
      return out;
    }
    if (cls == H5T_FLOAT) {
      std::vector<double> v;
      read(v, H5T_NATIVE_DOUBLE);
      return v;
    }
    if (cls == H5T_INTEGER) {
      const std::size_t size = H5Tget_size(type);
      if (size == 1) {
        std::vector<std::int8_t> v;
        read(v, H5T_NATIVE_INT8);
        return v;
      }
      if (size <= 4) {
        std::vector<std::int32_t> v;
        read(v, H5T_NATIVE_INT32);
        return v;
      }
      if (H5Tget_sign(type) == H5T_SGN_NONE) {
        std::vector<std::uint64_t> v;
        read(v, H5T_NATIVE_UINT64);
        return v;
      }
      std::vector<std::int64_t> v;
      read(v, H5T_NATIVE_INT64);
      return v;
    }
    fail("variable " + name + " has an unsupported type");
  }
};

herr_t scale_name(hid_t, unsigned, hid_t scale, void* out) {
  char name[256] = {0};
  H5Iget_name(scale, name, sizeof name);
  *static_cast<std::string*>(out) = name[0] == '/' ? name + 1 : name;
  return 1;
}

}  // namespace

namespace {
Dataset read_unchecked(const std::string& path, Reader& r);
}  // namespace

Dataset read_netcdf(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Reader r{path};
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) r.fail("no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0) r.fail("not an HDF5 file, or damaged");
  // HDF5 checksums the metadata of the files migsim writes, but not its global heap (where
  // variable-length strings live) nor raw data, and HDF5 1.10 crashes (out-of-bounds memcpy
  // in H5HG_read) on some damage there. The file is read once in a child process first, so
  // that such damage gives an error here instead of killing the program.
  const pid_t pid = fork();
  if (pid == 0) {
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) std::signal(sig, SIG_DFL);
    try {
      Reader child{path};
      (void)read_unchecked(path, child);
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  if (pid > 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
      r.fail(std::string("the file is damaged: reading it crashed the HDF5 library (") + strsignal(WTERMSIG(status)) +
             ")");
    }
  }
  return read_unchecked(path, r);
}

namespace {

Dataset read_unchecked(const std::string& path, Reader& r) {
  Handle file(r.check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open"), H5Fclose);
  Dataset ds;
  H5G_info_t ginfo;
  if (H5Gget_info(file, &ginfo) < 0) r.fail("root group");
  struct Pending {
    std::string name;
    Handle did;
  };
  std::vector<Pending> datasets;
  for (hsize_t k = 0; k < ginfo.nlinks; ++k) {
    char name[256] = {0};
    if (H5Lget_name_by_idx(file, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT) < 0 &&
        H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT) < 0)
      r.fail("link names");
    Handle did(r.check(H5Dopen2(file, name, H5P_DEFAULT), std::string("dataset ") + name), H5Dclose);
    datasets.push_back({name, std::move(did)});
  }
  // Dimensions first, in _Netcdf4Dimid order.
  std::vector<std::pair<int, std::size_t>> dim_order;
  for (std::size_t k = 0; k < datasets.size(); ++k) {
    if (H5DSis_scale(datasets[k].did) <= 0) continue;
    int dimid = static_cast<int>(k);
    if (H5Aexists(datasets[k].did, "_Netcdf4Dimid") > 0) {
      Handle a(H5Aopen(datasets[k].did, "_Netcdf4Dimid", H5P_DEFAULT), H5Aclose);
      H5Aread(a, H5T_NATIVE_INT, &dimid);
    }
    dim_order.push_back({dimid, k});
  }
  std::sort(dim_order.begin(), dim_order.end());
  for (auto [dimid, k] : dim_order) {
    (void)dimid;
    Dimension d;
    d.name = datasets[k].name;
    Handle space(r.check(H5Dget_space(datasets[k].did), "space of " + d.name), H5Sclose);
    hsize_t size = 0, maxsize = 0;
    if (H5Sget_simple_extent_ndims(space) != 1) r.fail("dimension " + d.name + " is not one-dimensional");
    H5Sget_simple_extent_dims(space, &size, &maxsize);
    d.size = size;
    d.unlimited = maxsize == H5S_UNLIMITED;
    d.coordinate.name = d.name;
    d.coordinate.dims = {d.name};
    d.coordinate.data = r.data(datasets[k].did, d.name, size);
    d.coordinate.attrs = r.attributes(datasets[k].did);
    ds.dims.push_back(std::move(d));
  }
  for (auto& pd : datasets) {
    if (H5DSis_scale(pd.did) > 0) continue;
    Variable v;
    v.name = pd.name;
    Handle space(r.check(H5Dget_space(pd.did), "space of " + v.name), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) r.fail("space of " + v.name);
    std::vector<hsize_t> shape(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, shape.data(), nullptr);
    std::size_t count = 1;
    for (int k = 0; k < rank; ++k) {
      std::string dn;
      if (H5DSiterate_scales(pd.did, static_cast<unsigned>(k), nullptr, scale_name, &dn) < 0 || dn.empty())
        r.fail("variable " + v.name + " has a dimension without a name");
      v.dims.push_back(dn);
      count *= shape[static_cast<std::size_t>(k)];
    }
    v.data = r.data(pd.did, v.name, count);
    v.attrs = r.attributes(pd.did);
    ds.vars.push_back(std::move(v));
  }
  ds.attrs = r.attributes(file);
  return ds;
}

}  // namespace

}  // namespace migsim::output
