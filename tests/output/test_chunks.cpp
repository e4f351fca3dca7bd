// Chunks filtered outside HDF5 (output/chunks.hpp): stored raw with H5Dwrite_chunk in a
// dataset with HDF5's shuffle and deflate filters, HDF5 must read them back as the data.
// Chunks that are not shuffled must be the very bytes HDF5's own deflate filter stores
// (written by HDF5 through its filter pipeline, then read back raw with H5Dread_chunk);
// shuffled ones differ from those bytes only in how zlib compressed each byte plane.
#include <doctest/doctest.h>
#include <hdf5.h>
#include <omp.h>

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <vector>

#include "output/chunks.hpp"
#include "support/temp_dir.hpp"

using namespace migsim::output;
using migsim::test::TempDir;

namespace {

/// A new file at `path` holding one dataset "x" of rows x cols of `type`, in chunks of
/// chunk_rows x cols, with HDF5's shuffle (if asked) then deflate at `level`; both closed at
/// the end of its scope.
struct FilteredDataset {
  hid_t file = -1, did = -1;
  FilteredDataset(const std::string& path, hid_t type, hsize_t rows, hsize_t cols, hsize_t chunk_rows, bool shuffle,
                  int level) {
    file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(file >= 0);
    const hsize_t dims[2] = {rows, cols}, maxdims[2] = {H5S_UNLIMITED, cols}, chunk[2] = {chunk_rows, cols};
    hid_t space = H5Screate_simple(2, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    if (shuffle) H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, static_cast<unsigned>(level));
    did = H5Dcreate2(file, "x", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    REQUIRE(did >= 0);
  }
  ~FilteredDataset() {
    H5Dclose(did);
    H5Fclose(file);
  }
  FilteredDataset(const FilteredDataset&) = delete;
  FilteredDataset& operator=(const FilteredDataset&) = delete;
};

/// The stored chunks of a dataset that HDF5 wrote with its filters (FilteredDataset).
template <class T>
std::vector<std::vector<unsigned char>> hdf5_chunks(const std::string& path, const std::vector<T>& data,
                                                    hid_t type, hsize_t rows, hsize_t cols, hsize_t chunk_rows,
                                                    bool shuffle, int level) {
  const FilteredDataset x(path, type, rows, cols, chunk_rows, shuffle, level);
  REQUIRE(H5Dwrite(x.did, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) >= 0);
  std::vector<std::vector<unsigned char>> out;
  for (hsize_t r = 0; r < rows; r += chunk_rows) {
    const hsize_t offset[2] = {r, 0};
    hsize_t size = 0;
    REQUIRE(H5Dget_chunk_storage_size(x.did, offset, &size) >= 0);
    std::vector<unsigned char> bytes(size);
    std::uint32_t mask = 0;
    REQUIRE(H5Dread_chunk(x.did, H5P_DEFAULT, offset, &mask, bytes.data()) >= 0);
    CHECK(mask == 0);  // every filter applied
    out.push_back(std::move(bytes));
  }
  return out;
}

/// The data HDF5 reads, through its own filters, from `chunks` stored raw (H5Dwrite_chunk)
/// in a FilteredDataset.
template <class T>
std::vector<T> hdf5_read_back(const std::string& path, const std::vector<std::vector<unsigned char>>& chunks,
                              hid_t type, hsize_t rows, hsize_t cols, hsize_t chunk_rows, bool shuffle, int level) {
  {
    const FilteredDataset x(path, type, rows, cols, chunk_rows, shuffle, level);
    for (std::size_t j = 0; j < chunks.size(); ++j) {
      const hsize_t offset[2] = {j * chunk_rows, 0};
      REQUIRE(H5Dwrite_chunk(x.did, H5P_DEFAULT, 0, offset, chunks[j].size(), chunks[j].data()) >= 0);
    }
  }
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  hid_t did = H5Dopen2(file, "x", H5P_DEFAULT);
  std::vector<T> out(rows * cols);
  REQUIRE(H5Dread(did, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
  H5Dclose(did);
  H5Fclose(file);
  return out;
}

/// A chunk decoded by zlib alone (uncompress(), which checks the stream's Adler-32), then
/// unshuffled: `chunk_bytes` bytes of elements of `element` bytes.
std::vector<unsigned char> inflate_chunk(const std::vector<unsigned char>& stored, std::size_t chunk_bytes,
                                         std::size_t element) {
  std::vector<unsigned char> shuffled(chunk_bytes);
  uLongf size = chunk_bytes;
  REQUIRE(uncompress(shuffled.data(), &size, stored.data(), stored.size()) == Z_OK);
  REQUIRE(size == chunk_bytes);
  std::vector<unsigned char> out(chunk_bytes);
  const std::size_t n = chunk_bytes / element;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t b = 0; b < element; ++b) out[i * element + b] = shuffled[b * n + i];
  return out;
}

std::size_t total_bytes(const std::vector<std::vector<unsigned char>>& chunks) {
  std::size_t n = 0;
  for (const auto& c : chunks) n += c.size();
  return n;
}

}  // namespace

TEST_CASE("shuffle_bytes puts byte b of element i at b * n + i") {
  const unsigned char in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  unsigned char out[8];
  shuffle_bytes(in, 8, 4, out);
  const unsigned char want[8] = {1, 5, 2, 6, 3, 7, 4, 8};
  for (int k = 0; k < 8; ++k) CHECK(out[k] == want[k]);
  shuffle_bytes(in, 8, 1, out);
  for (int k = 0; k < 8; ++k) CHECK(out[k] == in[k]);
}

TEST_CASE("filtered chunks read back through HDF5's filters as the data, the same bytes at any thread count") {
  TempDir dir;
  const int threads_before = omp_get_max_threads();
  // Counts like the model's: mostly small, some zeros, a few large; 25 rows in chunks of 12,
  // so that the last chunk reaches past the data and is padded.
  std::mt19937_64 gen(7);
  const hsize_t rows = 25, cols = 37, chunk_rows = 12;
  std::vector<std::int64_t> counts(rows * cols);
  for (auto& c : counts) c = gen() % 3 == 0 ? 0 : static_cast<std::int64_t>(gen() % 5000) * (gen() % 50 == 0 ? 100000 : 1);
  std::vector<double> rates(rows * cols);
  for (auto& r : rates) r = static_cast<double>(gen() % 1000) / 7.0;
  std::vector<std::int32_t> days(rows);
  for (hsize_t t = 0; t < rows; ++t) days[t] = static_cast<std::int32_t>(31 * t);

  const std::string path = (dir.path / "ref.h5").string();
  for (const int level : {1, 2, 6}) {
    CAPTURE(level);
    const auto want_counts = hdf5_chunks(path, counts, H5T_NATIVE_INT64, rows, cols, chunk_rows, true, level);
    const auto want_rates = hdf5_chunks(path, rates, H5T_NATIVE_DOUBLE, rows, cols, chunk_rows, false, level);
    const auto want_days = hdf5_chunks(path, days, H5T_NATIVE_INT32, rows, 1, chunk_rows, true, level);
    REQUIRE(want_counts.size() == 3);

    std::vector<ChunkSource> sources(3);
    sources[0] = {reinterpret_cast<const unsigned char*>(counts.data()), rows, cols * 8, chunk_rows, 8, true, level};
    sources[1] = {reinterpret_cast<const unsigned char*>(rates.data()), rows, cols * 8, chunk_rows, 8, false, level};
    sources[2] = {reinterpret_cast<const unsigned char*>(days.data()), rows, 4, chunk_rows, 4, true, level};
    std::vector<std::vector<std::vector<unsigned char>>> first;
    for (const int threads : {1, 2, 3}) {
      CAPTURE(threads);
      omp_set_num_threads(threads);
      const auto got = filter_chunks(sources);
      REQUIRE(got.size() == 3);
      if (first.empty()) first = got;
      CHECK(got == first);
      // Not shuffled: HDF5's own bytes, even after a Deflater's shuffled chunks.
      CHECK(got[1] == want_rates);
      CHECK(got[0].size() == want_counts.size());
      CHECK(got[2].size() == want_days.size());
    }
    CHECK(hdf5_read_back<std::int64_t>(path, first[0], H5T_NATIVE_INT64, rows, cols, chunk_rows, true, level) == counts);
    CHECK(hdf5_read_back<double>(path, first[1], H5T_NATIVE_DOUBLE, rows, cols, chunk_rows, false, level) == rates);
    CHECK(hdf5_read_back<std::int32_t>(path, first[2], H5T_NATIVE_INT32, rows, 1, chunk_rows, true, level) == days);
  }
  omp_set_num_threads(threads_before);
}

TEST_CASE("filtered chunks read back as the data across zlib slices: large planes, bytes and a padded end") {
  TempDir dir;
  const int threads_before = omp_get_max_threads();
  std::mt19937_64 gen(11);
  // int64 rows of 700 values (5,600 bytes): chunks of 12 rows are 67,200 bytes, 4.1 slices, so
  // shuffle planes (8,400 bytes each) cross slice boundaries; 29 rows leave a last chunk of 5
  // rows padded over several slices. int8 rows of 5,000 bytes (shuffle is a no-op for them).
  const hsize_t rows = 29, cols = 700, byte_cols = 5000, chunk_rows = 12;
  std::vector<std::int64_t> counts(rows * cols);
  for (auto& c : counts) c = gen() % 4 == 0 ? 0 : static_cast<std::int64_t>(gen() % 100000);
  std::vector<std::int8_t> bytes(rows * byte_cols);
  for (auto& b : bytes) b = static_cast<std::int8_t>(gen() % 7 == 0 ? static_cast<int>(gen() % 256) - 128 : 0);
  // Random 64-bit words do not compress: each chunk's stream (about 150 KB) outgrows the
  // Deflater's first output space (16 KiB) several times over.
  const hsize_t noise_cols = 1600;
  std::vector<std::uint64_t> noise(rows * noise_cols);
  for (auto& x : noise) x = gen();
  const std::string path = (dir.path / "ref.h5").string();
  const auto want_counts = hdf5_chunks(path, counts, H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2);
  const auto want_bytes = hdf5_chunks(path, bytes, H5T_NATIVE_INT8, rows, byte_cols, chunk_rows, true, 2);
  const auto want_noise = hdf5_chunks(path, noise, H5T_NATIVE_UINT64, rows, noise_cols, chunk_rows, true, 2);
  REQUIRE(want_counts.size() == 3);
  REQUIRE(want_noise[0].size() > 8 * 16384);
  std::vector<ChunkSource> sources(3);
  sources[0] = {reinterpret_cast<const unsigned char*>(counts.data()), rows, cols * 8, chunk_rows, 8, true, 2};
  sources[1] = {reinterpret_cast<const unsigned char*>(bytes.data()), rows, byte_cols, chunk_rows, 1, true, 2};
  sources[2] = {reinterpret_cast<const unsigned char*>(noise.data()), rows, noise_cols * 8, chunk_rows, 8, true, 2};
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    omp_set_num_threads(threads);
    const auto got = filter_chunks(sources);
    CHECK(got[1] == want_bytes);  // one byte per element: the shuffle is a no-op, HDF5's bytes
    CHECK(hdf5_read_back<std::int64_t>(path, got[0], H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2) == counts);
    CHECK(hdf5_read_back<std::uint64_t>(path, got[2], H5T_NATIVE_UINT64, rows, noise_cols, chunk_rows, true, 2) ==
          noise);
    // Random bytes: Huffman coding alone, no larger than HDF5's deflate, whose matches find nothing.
    CHECK(total_bytes(got[2]) <= total_bytes(want_noise));
    CHECK(total_bytes(got[2]) > 8 * 16384);  // outgrew the first output space
  }
  omp_set_num_threads(threads_before);
}

TEST_CASE("plane_strategy: zero planes and sparse ones run-length coded, repeats LZ77, varied bytes Huffman") {
  const std::size_t period = 100, n = 12 * period;
  std::vector<unsigned char> plane(n, 0);
  CHECK(plane_strategy(plane.data(), n, period) == Z_RLE);
  std::mt19937 gen(3);
  // Each row the same as the one before (a stock's high byte): LZ77.
  for (std::size_t i = 0; i < n; ++i) plane[i] = i < period ? static_cast<unsigned char>(1 + gen() % 200) : plane[i - period];
  CHECK(plane_strategy(plane.data(), n, period) == Z_DEFAULT_STRATEGY);
  // Varied, dense, not repeated (a count's low byte): Huffman alone.
  for (auto& x : plane) x = static_cast<unsigned char>(1 + gen() % 255);
  CHECK(plane_strategy(plane.data(), n, period) == Z_HUFFMAN_ONLY);
  // A few values among zeros (flows): run-length.
  for (auto& x : plane) x = gen() % 10 == 0 ? static_cast<unsigned char>(1 + gen() % 255) : 0;
  CHECK(plane_strategy(plane.data(), n, period) == Z_RLE);
  // The thresholds: half the non-zero bytes repeated, 30% non-zero.
  std::fill(plane.begin(), plane.end(), 0);
  for (std::size_t i = 0; i < period; ++i) plane[i] = static_cast<unsigned char>(1 + i);  // 100 non-zero
  for (std::size_t i = 0; i < 100; ++i) plane[period + i] = plane[i];                     // 100 repeated of 200
  CHECK(plane_strategy(plane.data(), n, period) == Z_DEFAULT_STRATEGY);
  plane[period] = 0;  // 99 of 199
  CHECK(plane_strategy(plane.data(), n, period) == Z_RLE);
  for (std::size_t i = 0; i < 3 * n / 10; ++i) plane[i] = static_cast<unsigned char>(1 + i % 97 + i / period);
  CHECK(plane_strategy(plane.data(), n, period) == Z_RLE);  // 30% non-zero, few repeats
  plane[3 * n / 10] = 7;
  CHECK(plane_strategy(plane.data(), n, period) == Z_HUFFMAN_ONLY);
}

TEST_CASE("on series like the model's, the planes' strategies store less than HDF5's own filter") {
  TempDir dir;
  std::mt19937_64 gen(5);
  // 24 months of 900 cells: stocks that drift a little each month (40% of cells empty), and
  // flows, mostly zero, drawn afresh each month.
  const hsize_t rows = 24, cols = 900, chunk_rows = 12;
  std::vector<std::int64_t> stocks(rows * cols), flows(rows * cols);
  for (hsize_t c = 0; c < cols; ++c) stocks[c] = gen() % 10 < 4 ? 0 : static_cast<std::int64_t>(gen() % 60000);
  for (hsize_t t = 1; t < rows; ++t)
    for (hsize_t c = 0; c < cols; ++c) {
      const std::int64_t before = stocks[(t - 1) * cols + c];
      stocks[t * cols + c] = before == 0 ? 0 : before + static_cast<std::int64_t>(gen() % 201) - 100;
    }
  for (auto& f : flows) f = gen() % 20 == 0 ? static_cast<std::int64_t>(1 + gen() % 300) : 0;
  const std::string path = (dir.path / "ref.h5").string();
  const auto hdf5_stocks = hdf5_chunks(path, stocks, H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2);
  const auto hdf5_flows = hdf5_chunks(path, flows, H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2);
  const std::vector<ChunkSource> sources = {
      {reinterpret_cast<const unsigned char*>(stocks.data()), rows, cols * 8, chunk_rows, 8, true, 2},
      {reinterpret_cast<const unsigned char*>(flows.data()), rows, cols * 8, chunk_rows, 8, true, 2}};
  const auto got = filter_chunks(sources);
  CHECK(total_bytes(got[0]) < total_bytes(hdf5_stocks));
  CHECK(total_bytes(got[1]) < total_bytes(hdf5_flows));
  CHECK(hdf5_read_back<std::int64_t>(path, got[0], H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2) == stocks);
  CHECK(hdf5_read_back<std::int64_t>(path, got[1], H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2) == flows);
}

TEST_CASE("filter_chunks refuses sources HDF5's filters could not have made") {
  std::vector<std::int64_t> x(24, 1);
  std::vector<ChunkSource> no_level = {{reinterpret_cast<const unsigned char*>(x.data()), 3, 64, 2, 8, true, 0}};
  CHECK_THROWS(filter_chunks(no_level));
  std::vector<ChunkSource> split = {{reinterpret_cast<const unsigned char*>(x.data()), 3, 60, 2, 8, true, 2}};
  CHECK_THROWS(filter_chunks(split));
}

TEST_CASE("ChunkFilter: wait() filters what it needs; after cancel() nothing more is filtered and waits end") {
  std::vector<std::int64_t> x(48, 3);
  const auto* data = reinterpret_cast<const unsigned char*>(x.data());
  // Two sources of 3 chunks each (rows of 16 bytes, 2 rows a chunk).
  const std::vector<ChunkSource> sources = {{data, 6, 16, 2, 8, true, 2}, {data + 96, 6, 16, 2, 8, true, 2}};
  {
    ChunkFilter f(sources);
    Deflater work;
    const auto& second = f.wait(1, work);  // on one thread: filters source 0's chunks on the way
    CHECK(second.size() == 3);
    CHECK(f.ready(0));
    CHECK_FALSE(f.run_one(work));
    CHECK(f.wait(0, work) == filter_chunks({sources[0]})[0]);
  }
  {
    ChunkFilter f(sources);
    Deflater work;
    CHECK(f.run_one(work));  // chunk 0 of source 0
    f.cancel();
    CHECK_FALSE(f.run_one(work));
    CHECK(f.ready(0));  // the dropped chunks count as done: nobody waits for ever
    CHECK(f.ready(1));
    CHECK_THROWS_AS(f.wait(1, work), std::runtime_error);
    CHECK(f.failure() == "cancelled");
  }
  {
    ChunkFilter f(sources);
    Deflater work;
    f.fail("out of memory");
    CHECK_FALSE(f.run_one(work));
    CHECK(f.failure() == "out of memory");  // the first failure is kept, not "cancelled"
  }
  {
    // A chunk that cannot be filtered (no deflate level) stops the rest: the file is lost, so
    // nobody filters the chunks not yet taken, and nobody waits for them.
    std::vector<ChunkSource> bad = sources;
    bad[0].deflate = 0;
    ChunkFilter f(bad);
    Deflater work;
    CHECK(f.run_one(work));  // chunk 0 of source 0: fails
    CHECK_FALSE(f.run_one(work));
    CHECK(f.ready(0));
    CHECK(f.ready(1));
    CHECK(f.failure() == "filter_chunks: deflate level must be 1..9");
    CHECK_THROWS_AS(f.wait(1, work), std::runtime_error);
  }
}

TEST_CASE("long runs of zeros (copies of one coded run) decode, with data on both sides and at a chunk's ends") {
  TempDir dir;
  const std::string path = (dir.path / "ref.h5").string();
  const auto bytes_of = [](const auto& v) { return reinterpret_cast<const unsigned char*>(v.data()); };
  // int64 rows of 6,000 values, chunks of 12 rows: planes of 72,000 bytes, so every run of
  // zero planes is longer than the 64 KiB run the filter copies. 30 rows: the last chunk is
  // half padding.
  const hsize_t rows = 30, cols = 6000, chunk_rows = 12;
  std::mt19937_64 gen(13);
  // Bytes 0 and 2 carry data, byte 1 and 3-7 are zero: zero runs between two data planes and
  // after the last. Byte 2 repeats byte 0 and each row repeats the row before, so that a
  // match reaching back across the zeros would be found, and wrong, if the stream did not
  // drop its history before them.
  std::vector<std::int64_t> split(rows * cols);
  for (hsize_t c = 0; c < cols; ++c) {
    const std::int64_t b0 = static_cast<std::int64_t>(1 + gen() % 255);
    for (hsize_t t = 0; t < rows; ++t) split[t * cols + c] = b0 | (b0 << 16);
  }
  // Small counts: planes 1-7 zero, one run of 7 planes (and the padding after plane 0).
  std::vector<std::int64_t> small(rows * cols);
  for (auto& x : small) x = static_cast<std::int64_t>(gen() % 200);
  // Nothing but zeros: the whole chunk one run; and int64 chunks of 16 rows of 512 values, whose
  // 65,536 bytes are exactly one copy with no rest.
  const std::vector<std::int64_t> none(rows * cols, 0);
  const hsize_t exact_rows = 32, exact_cols = 512, exact_chunk = 16;
  const std::vector<std::int64_t> exact(exact_rows * exact_cols, 0);
  const std::vector<ChunkSource> sources = {{bytes_of(split), rows, cols * 8, chunk_rows, 8, true, 2},
                                            {bytes_of(small), rows, cols * 8, chunk_rows, 8, true, 2},
                                            {bytes_of(none), rows, cols * 8, chunk_rows, 8, true, 2},
                                            {bytes_of(exact), exact_rows, exact_cols * 8, exact_chunk, 8, true, 6}};
  const int threads_before = omp_get_max_threads();
  std::vector<std::vector<std::vector<unsigned char>>> first;
  for (const int threads : {1, 2}) {
    omp_set_num_threads(threads);
    const auto got = filter_chunks(sources);
    if (first.empty()) first = got;
    CHECK(got == first);
  }
  omp_set_num_threads(threads_before);
  // zlib alone, chunk by chunk (its Adler-32 checked), then HDF5's filters.
  for (std::size_t s = 0; s < sources.size(); ++s) {
    CAPTURE(s);
    const ChunkSource& src = sources[s];
    for (std::size_t j = 0; j < src.chunks(); ++j) {
      CAPTURE(j);
      const std::size_t chunk_bytes = src.chunk_rows * src.row_bytes;
      const auto decoded = inflate_chunk(first[s][j], chunk_bytes, 8);
      std::vector<unsigned char> want(chunk_bytes, 0);
      const std::size_t have = std::min(src.rows - j * src.chunk_rows, src.chunk_rows) * src.row_bytes;
      std::copy(src.data + j * src.chunk_rows * src.row_bytes, src.data + j * src.chunk_rows * src.row_bytes + have,
                want.begin());
      CHECK(decoded == want);
    }
  }
  CHECK(hdf5_read_back<std::int64_t>(path, first[0], H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2) == split);
  CHECK(hdf5_read_back<std::int64_t>(path, first[1], H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2) == small);
  CHECK(hdf5_read_back<std::int64_t>(path, first[2], H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2) == none);
  CHECK(hdf5_read_back<std::int64_t>(path, first[3], H5T_NATIVE_INT64, exact_rows, exact_cols, exact_chunk, true, 6) ==
        exact);
  // The zeros cost about what zlib's own coding of them does: HDF5's filter stores these
  // chunks in no fewer bytes than 97% of ours.
  const auto hdf5_small = hdf5_chunks(path, small, H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2);
  const auto hdf5_none = hdf5_chunks(path, none, H5T_NATIVE_INT64, rows, cols, chunk_rows, true, 2);
  CHECK(total_bytes(first[1]) <= total_bytes(hdf5_small));
  CHECK(100 * total_bytes(hdf5_none) >= 97 * total_bytes(first[2]));
}
