#pragma once
/// @file chunks.hpp
/// Filtered chunks computed outside HDF5, on all threads: for each chunk of a variable
/// chunked along its first dimension only, bytes that HDF5's shuffle and deflate filters
/// read back as the chunk, ready for H5Dwrite_chunk. HDF5 runs its filters one chunk at a
/// time on one thread and allocates fresh buffers for each; here each thread reuses one zlib
/// stream and one buffer, a shuffled chunk's byte planes are each compressed with the zlib
/// strategy that suits them (plane_strategy), and long runs of zeros are copies of one run
/// zlib coded once (see Deflater::Impl::zero_run and docs/performance.md).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace migsim::output {

/// A row-major array of `rows` rows of `row_bytes` bytes each, cut into chunks of
/// `chunk_rows` rows (the last one padded with zero bytes to a full chunk, as HDF5 stores
/// chunks that reach past the dataset's extent).
struct ChunkSource {
  const unsigned char* data = nullptr;
  std::size_t rows = 0;
  std::size_t row_bytes = 0;
  std::size_t chunk_rows = 1;
  std::size_t element = 1;  ///< bytes per element, for the shuffle
  bool shuffle = false;     ///< HDF5's shuffle filter first (it comes before deflate)
  int deflate = 0;          ///< zlib level, 1..9

  std::size_t chunks() const { return chunk_rows == 0 ? 0 : (rows + chunk_rows - 1) / chunk_rows; }
};

class Deflater;

/// The chunks of a list of sources as a queue of jobs that any thread may take, in source
/// order, so that one thread can store a source's chunks (wait()) while the others are
/// still filtering the later ones: the writer overlaps HDF5's per-dataset work, which runs
/// on one thread, with the filtering.
class ChunkFilter {
 public:
  explicit ChunkFilter(const std::vector<ChunkSource>& sources);
  ~ChunkFilter();
  ChunkFilter(const ChunkFilter&) = delete;
  ChunkFilter& operator=(const ChunkFilter&) = delete;
  /// Filters the next chunk nobody has taken, with the calling thread's `work` (one per
  /// thread, reused); false when none is left. A failure is kept for failure() and cancels
  /// the chunks nobody has taken yet (cancel()).
  bool run_one(Deflater& work);
  /// Every chunk of source s is filtered (or failed).
  bool ready(std::size_t s) const;
  /// Waits for source s, filtering other chunks meanwhile, and returns its chunks; throws
  /// std::runtime_error if any chunk failed.
  const std::vector<std::vector<unsigned char>>& wait(std::size_t s, Deflater& work);
  /// The first failure's message, or empty.
  std::string failure() const;
  /// Records a failure met outside run_one (its first failure is kept), and cancels.
  void fail(const std::string& what);
  /// No chunk not yet taken will be filtered: run_one returns false from now on, and wait()
  /// throws for sources left incomplete.
  void cancel();

 private:
  struct State;
  std::unique_ptr<State> st_;
};

/// One thread's zlib stream and buffers for ChunkFilter::run_one.
class Deflater {
 public:
  Deflater();
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  /// Chunk j of `src`, filtered.
  std::vector<unsigned char> chunk(const ChunkSource& src, std::size_t j);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// The stored bytes of every chunk of every source: result[s][j] is chunk j of source s.
/// The same bytes at any thread count: each chunk is compressed alone, as HDF5 does, in one
/// zlib stream at the source's level with the default window and memory level. A chunk
/// that is not shuffled is the bytes HDF5's deflate filter stores (compress2). A shuffled
/// one differs from them in how each byte plane is compressed (plane_strategy) and in its
/// long runs of zeros: the same zlib format, which HDF5's filter, h5py and netCDF read as
/// they read its own.
std::vector<std::vector<std::vector<unsigned char>>> filter_chunks(const std::vector<ChunkSource>& sources);

/// The zlib strategy for one byte plane of a shuffled chunk (byte b of each of its n
/// elements), from two counts over it, `period` being the elements in one row (one month):
/// - all zero: Z_RLE (coded as fast as by the default strategy, and smaller; the filter
///   itself codes only what is left of such runs past the last whole 64 KiB);
/// - at least half of its non-zero bytes equal to the byte one row earlier:
///   Z_DEFAULT_STRATEGY (LZ77 finds those repeats);
/// - else, at most 30% non-zero: Z_RLE (runs of zeros between a few values);
/// - else Z_HUFFMAN_ONLY (varied bytes, such as the low bytes of counts, on which LZ77's
///   search costs most and finds least).
/// The thresholds come from the planes of the 1M-agent benchmark's and the Americas' files
/// (docs/performance.md): an assumption about the model's series, not a law. Any choice
/// gives a valid stream; a poor one only a larger or slower one.
int plane_strategy(const unsigned char* plane, std::size_t n, std::size_t period);

/// HDF5's shuffle filter: byte b of element i goes to position b * n + i, n = bytes / element.
void shuffle_bytes(const unsigned char* in, std::size_t bytes, std::size_t element, unsigned char* out);

}  // namespace migsim::output
