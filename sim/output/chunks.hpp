#pragma once
/// @file chunks.hpp
/// Filtered chunks computed outside HDF5, on all threads: the bytes HDF5's shuffle and
/// deflate filters would store for each chunk of a variable chunked along its first
/// dimension only, ready for H5Dwrite_chunk. HDF5 runs its filters one chunk at a time on
/// one thread and allocates fresh buffers for each; here each thread reuses one zlib stream
/// and one buffer (see docs/performance.md).

#include <cstddef>
#include <cstdint>
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

/// The stored bytes of every chunk of every source: result[s][j] is chunk j of source s.
/// The same bytes at any thread count (each chunk is compressed alone, as HDF5 does:
/// compress2 at the source's level, default window and memory level).
std::vector<std::vector<std::vector<unsigned char>>> filter_chunks(const std::vector<ChunkSource>& sources);

/// HDF5's shuffle filter: byte b of element i goes to position b * n + i, n = bytes / element.
void shuffle_bytes(const unsigned char* in, std::size_t bytes, std::size_t element, unsigned char* out);

}  // namespace migsim::output
