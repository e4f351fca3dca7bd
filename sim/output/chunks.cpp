#include "output/chunks.hpp"

#include <omp.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
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

/// One thread's zlib stream and buffers, reused for all the chunks it compresses.
class Deflater::Impl {
 public:
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (level_ >= 0) deflateEnd(&zs_);
  }

  /// Chunk j of `src`, filtered. The chunk is fed to zlib in slices of a small buffer,
  /// shuffled (and padded) on the way, rather than copied whole: a chunk-sized buffer is up to
  /// 1 MiB of fresh memory per thread, and first touches of memory are slow on some machines
  /// (docs/performance.md). zlib's output does not depend on how its input is sliced.
  std::vector<unsigned char> chunk(const ChunkSource& src, std::size_t j) {
    if (src.deflate <= 0) throw std::runtime_error("filter_chunks: deflate level must be 1..9");
    if (src.element == 0 || src.row_bytes % src.element != 0)
      throw std::runtime_error("filter_chunks: rows must hold whole elements");
    const std::size_t chunk_bytes = src.chunk_rows * src.row_bytes;
    const std::size_t first = j * src.chunk_rows;
    const std::size_t have = std::min(src.rows - first, src.chunk_rows) * src.row_bytes;
    const unsigned char* in = src.data + first * src.row_bytes;
    start(src.deflate);
    // Output space grows as the stream needs it. Compressed chunks are small (the 1M-agent
    // benchmark's largest, 605 KB, compresses to about 13 KB), and a buffer of deflateBound()
    // was up to 1 MiB of fresh memory per thread: its first touches took 1.5 of the 7.5 ms
    // each thread spent filtering that benchmark's file.
    if (out_.size() < kSlice) out_.resize(kSlice);
    zs_.next_out = out_.data();
    zs_.avail_out = static_cast<uInt>(out_.size());
    if (!src.shuffle || src.element <= 1) {
      feed(in, have);
      while (zs_.total_in < chunk_bytes) feed(zeros(), std::min(kSlice, chunk_bytes - zs_.total_in));
    } else {
      // Byte b of element i of the shuffled chunk sits at b * n + i; elements past the data
      // (the padding of the last chunk) are zero.
      const std::size_t E = src.element, n = chunk_bytes / E, n_have = have / E;
      slice_.resize(kSlice);
      std::size_t p = 0;
      while (p < n * E) {
        const std::size_t len = std::min(kSlice, n * E - p);
        std::size_t b = p / n, i = p % n;
        for (std::size_t k = 0; k < len;) {
          // A run of plane b: elements i.. of the data, then zeros past it.
          const std::size_t run = std::min(len - k, n - i);
          const std::size_t data = i < n_have ? std::min(run, n_have - i) : 0;
          const unsigned char* from = in + i * E + b;
          for (std::size_t r = 0; r < data; ++r) slice_[k + r] = from[r * E];
          std::memset(slice_.data() + k + data, 0, run - data);
          k += run;
          i += run;
          if (i == n) {
            i = 0;
            ++b;
          }
        }
        feed(slice_.data(), len);
        p += len;
      }
    }
    for (;;) {
      if (zs_.avail_out == 0) grow();
      const int r = deflate(&zs_, Z_FINISH);
      if (r == Z_STREAM_END) break;
      if (r != Z_OK) throw std::runtime_error("zlib could not compress a chunk");
    }
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

  static constexpr std::size_t kSlice = 16 << 10;
  static const unsigned char* zeros() {
    static const std::vector<unsigned char> z(kSlice, 0);
    return z.data();
  }
  void feed(const unsigned char* p, std::size_t len) {
    zs_.next_in = const_cast<unsigned char*>(p);
    zs_.avail_in = static_cast<uInt>(len);
    while (zs_.avail_in != 0) {
      if (zs_.avail_out == 0) grow();
      if (deflate(&zs_, Z_NO_FLUSH) != Z_OK) throw std::runtime_error("zlib could not compress a chunk");
    }
  }
  /// Twice the output space, keeping what the stream wrote (zlib's output does not depend on
  /// how its output space is handed out either).
  void grow() {
    const std::size_t used = zs_.total_out;
    out_.resize(2 * out_.size());
    zs_.next_out = out_.data() + used;
    zs_.avail_out = static_cast<uInt>(out_.size() - used);
  }

  z_stream zs_{};
  int level_ = -1;
  std::vector<unsigned char> slice_, out_;
};

Deflater::Deflater() : impl_(std::make_unique<Impl>()) {}
Deflater::~Deflater() = default;
std::vector<unsigned char> Deflater::chunk(const ChunkSource& src, std::size_t j) { return impl_->chunk(src, j); }

struct ChunkFilter::State {
  std::vector<ChunkSource> sources;
  std::vector<std::pair<std::size_t, std::size_t>> jobs;  // (source, chunk), in source order
  std::vector<std::vector<std::vector<unsigned char>>> result;
  std::unique_ptr<std::atomic<std::size_t>[]> remaining;  // per source: chunks not yet done
  std::atomic<std::size_t> next{0};
  mutable std::mutex mutex;
  std::string failure;  // the first failure's message, if any

  /// Keeps `what` unless a failure was recorded before.
  void record(const std::string& what) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (failure.empty()) failure = what;
  }
};

ChunkFilter::ChunkFilter(const std::vector<ChunkSource>& sources) : st_(std::make_unique<State>()) {
  State& st = *st_;
  st.sources = sources;
  st.result.resize(sources.size());
  st.remaining = std::make_unique<std::atomic<std::size_t>[]>(sources.size());
  for (std::size_t s = 0; s < sources.size(); ++s) {
    st.result[s].resize(sources[s].chunks());
    st.remaining[s].store(sources[s].chunks(), std::memory_order_relaxed);
    for (std::size_t j = 0; j < sources[s].chunks(); ++j) st.jobs.emplace_back(s, j);
  }
}

ChunkFilter::~ChunkFilter() = default;

bool ChunkFilter::run_one(Deflater& work) {
  State& st = *st_;
  const std::size_t k = st.next.fetch_add(1, std::memory_order_relaxed);
  if (k >= st.jobs.size()) return false;
  const auto [s, j] = st.jobs[k];
  try {
    st.result[s][j] = work.chunk(st.sources[s], j);
  } catch (const std::exception& e) {
    fail(e.what());  // the file is lost: nobody filters the chunks not yet taken
  }
  st.remaining[s].fetch_sub(1, std::memory_order_release);  // publishes result[s][j]
  return true;
}

bool ChunkFilter::ready(std::size_t s) const { return st_->remaining[s].load(std::memory_order_acquire) == 0; }

const std::vector<std::vector<unsigned char>>& ChunkFilter::wait(std::size_t s, Deflater& work) {
  while (!ready(s)) {
    if (!run_one(work)) std::this_thread::yield();  // its last chunks are on other threads
  }
  if (const std::string f = failure(); !f.empty()) throw std::runtime_error(f);
  return st_->result[s];
}

std::string ChunkFilter::failure() const {
  const std::lock_guard<std::mutex> lock(st_->mutex);
  return st_->failure;
}

void ChunkFilter::fail(const std::string& what) {
  st_->record(what);
  cancel();
}

void ChunkFilter::cancel() {
  State& st = *st_;
  // Jobs not yet taken are dropped: each is counted done, so that nobody waits for it.
  const std::size_t taken = st.next.exchange(st.jobs.size(), std::memory_order_relaxed);
  for (std::size_t k = taken; k < st.jobs.size(); ++k) {
    st.remaining[st.jobs[k].first].fetch_sub(1, std::memory_order_release);
  }
  st.record("cancelled");
}

std::vector<std::vector<std::vector<unsigned char>>> filter_chunks(const std::vector<ChunkSource>& sources) {
  ChunkFilter filter(sources);
#pragma omp parallel
  {
    Deflater work;
    while (filter.run_one(work)) {
    }
  }
  std::vector<std::vector<std::vector<unsigned char>>> result(sources.size());
  Deflater work;  // nothing left to filter: wait() only collects
  for (std::size_t s = 0; s < sources.size(); ++s) result[s] = filter.wait(s, work);
  return result;
}

}  // namespace migsim::output
