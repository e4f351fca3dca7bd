#include "output/chunks.hpp"

#include <omp.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace migsim::output {

void shuffle_bytes(const unsigned char* in, std::size_t bytes, std::size_t element, unsigned char* out) {
  if (element <= 1) {
    std::memcpy(out, in, bytes);
    return;
  }
  const std::size_t n = bytes / element;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t b = 0; b < element; ++b) out[b * n + i] = in[i * element + b];
  // Bytes beyond whole elements stay where they are (HDF5 copies them last, unchanged).
  std::memcpy(out + n * element, in + n * element, bytes - n * element);
}

namespace {

/// One thread's zlib stream and buffers, reused for all the chunks it compresses.
class Deflater {
 public:
  Deflater() = default;
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  ~Deflater() {
    if (level_ >= 0) deflateEnd(&zs_);
  }

  /// Chunk j of `src`, filtered.
  std::vector<unsigned char> chunk(const ChunkSource& src, std::size_t j) {
    const std::size_t chunk_bytes = src.chunk_rows * src.row_bytes;
    const std::size_t first = j * src.chunk_rows;
    const std::size_t have = std::min(src.rows - first, src.chunk_rows) * src.row_bytes;
    const unsigned char* in = src.data + first * src.row_bytes;
    if (have < chunk_bytes) {  // the last chunk: pad with zeros
      padded_.assign(chunk_bytes, 0);
      std::memcpy(padded_.data(), in, have);
      in = padded_.data();
    }
    if (src.shuffle) {
      shuffled_.resize(chunk_bytes);
      shuffle_bytes(in, chunk_bytes, src.element, shuffled_.data());
      in = shuffled_.data();
    }
    if (src.deflate <= 0) return {in, in + chunk_bytes};
    start(src.deflate);
    out_.resize(deflateBound(&zs_, static_cast<uLong>(chunk_bytes)));
    zs_.next_in = const_cast<unsigned char*>(in);
    zs_.avail_in = static_cast<uInt>(chunk_bytes);
    zs_.next_out = out_.data();
    zs_.avail_out = static_cast<uInt>(out_.size());
    if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("zlib could not compress a chunk");
    return {out_.data(), out_.data() + zs_.total_out};
  }

 private:
  void start(int level) {
    if (level_ == level) {
      if (deflateReset(&zs_) != Z_OK) throw std::runtime_error("zlib could not reset its stream");
      return;
    }
    if (level_ >= 0) deflateEnd(&zs_);
    zs_ = z_stream{};
    // What compress2() does (and so HDF5's deflate filter): default window and memory level.
    if (deflateInit(&zs_, level) != Z_OK) throw std::runtime_error("zlib could not start a stream");
    level_ = level;
  }

  z_stream zs_{};
  int level_ = -1;
  std::vector<unsigned char> padded_, shuffled_, out_;
};

}  // namespace

std::vector<std::vector<std::vector<unsigned char>>> filter_chunks(const std::vector<ChunkSource>& sources) {
  std::vector<std::vector<std::vector<unsigned char>>> result(sources.size());
  std::vector<std::pair<std::size_t, std::size_t>> jobs;  // (source, chunk)
  for (std::size_t s = 0; s < sources.size(); ++s) {
    result[s].resize(sources[s].chunks());
    for (std::size_t j = 0; j < sources[s].chunks(); ++j) jobs.emplace_back(s, j);
  }
  // Largest chunks first, so that the threads finish together.
  std::stable_sort(jobs.begin(), jobs.end(), [&](const auto& a, const auto& b) {
    return sources[a.first].chunk_rows * sources[a.first].row_bytes >
           sources[b.first].chunk_rows * sources[b.first].row_bytes;
  });
  bool failed = false;
#pragma omp parallel
  {
    Deflater d;
#pragma omp for schedule(dynamic, 1)
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      try {
        result[jobs[k].first][jobs[k].second] = d.chunk(sources[jobs[k].first], jobs[k].second);
      } catch (const std::exception&) {
#pragma omp atomic write
        failed = true;
      }
    }
  }
  if (failed) throw std::runtime_error("zlib failed");
  return result;
}

}  // namespace migsim::output
