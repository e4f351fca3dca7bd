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

int plane_strategy(const unsigned char* plane, std::size_t n, std::size_t period) {
  std::size_t nonzero = 0, repeated = 0;
  for (std::size_t i = 0; i < n; ++i) nonzero += plane[i] != 0;
  for (std::size_t i = period; i < n; ++i) repeated += plane[i] != 0 && plane[i] == plane[i - period];
  if (nonzero == 0) return Z_RLE;                              // all zero
  if (2 * repeated >= nonzero) return Z_DEFAULT_STRATEGY;     // repeats from row to row
  if (10 * nonzero <= 3 * n) return Z_RLE;                     // runs of zeros between values
  return Z_HUFFMAN_ONLY;                                       // varied bytes, few repeats
}

namespace {

/// Whether byte plane b of n elements of E bytes holds a non-zero byte: any[b] != 0. One
/// pass of wide ORs, so that the all-zero planes (most of the model's counts' high bytes) are
/// never gathered.
template <class Word>
void planes_in_use(const unsigned char* in, std::size_t n, unsigned char* any) {
  Word acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Word x;
    std::memcpy(&x, in + i * sizeof(Word), sizeof(Word));
    acc |= x;
  }
  std::memcpy(any, &acc, sizeof(Word));
}

void planes_in_use(const unsigned char* in, std::size_t n, std::size_t E, unsigned char* any) {
  switch (E) {
    case 8: planes_in_use<std::uint64_t>(in, n, any); return;
    case 4: planes_in_use<std::uint32_t>(in, n, any); return;
    case 2: planes_in_use<std::uint16_t>(in, n, any); return;
    default:
      std::fill(any, any + E, 0);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t b = 0; b < E; ++b) any[b] |= in[i * E + b];
  }
}

}  // namespace

/// One thread's zlib stream and buffers, reused for all the chunks it compresses.
class Deflater::Impl {
 public:
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (level_ >= 0) deflateEnd(&zs_);
  }

  /// Chunk j of `src`, filtered: a zlib stream (RFC 1950) whose deflate data zlib makes as a
  /// raw stream, between a header and an Adler-32 written here. A chunk that is not shuffled
  /// is fed to zlib as it is: the bytes compress2() makes, which HDF5's filter stores. A
  /// shuffled one is fed a byte plane at a time, each gathered into a buffer of one plane and
  /// compressed with the strategy chosen for it; the planes that are all zero are not
  /// gathered, and long runs of zeros are not fed to zlib at all (zero_run). A buffer of the
  /// whole chunk would be up to 1 MiB of fresh memory per thread, and first touches of memory
  /// are slow on some machines (docs/performance.md). zlib's output does not depend on how its
  /// input is sliced, only on where the strategy changes and the stream is flushed.
  std::vector<unsigned char> chunk(const ChunkSource& src, std::size_t j) {
    if (src.deflate <= 0 || src.deflate > 9) throw std::runtime_error("filter_chunks: deflate level must be 1..9");
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
    // zlib's header, as deflate() writes it: 32 KiB window, no dictionary, the level's flags.
    const unsigned level_flags = src.deflate < 2 ? 0 : src.deflate < 6 ? 1 : src.deflate == 6 ? 2 : 3;
    unsigned header = (0x78u << 8) | (level_flags << 6);
    header += 31 - header % 31;
    out_[0] = static_cast<unsigned char>(header >> 8);
    out_[1] = static_cast<unsigned char>(header & 0xff);
    zs_.next_out = out_.data() + 2;
    zs_.avail_out = static_cast<uInt>(out_.size() - 2);
    adler_ = adler32(0L, Z_NULL, 0);
    if (!src.shuffle || src.element <= 1) {
      use(Z_DEFAULT_STRATEGY);
      feed(in, have);
      feed_zeros(chunk_bytes - have);
    } else {
      // Byte b of element i of the shuffled chunk sits at b * n + i; elements past the data
      // (the padding of the last chunk) are zero. Zeros are counted, and coded when data
      // follows or at the end, so that neighbouring zero planes make one run.
      const std::size_t E = src.element, n = chunk_bytes / E, n_have = have / E;
      any_.resize(E);
      planes_in_use(in, n_have, E, any_.data());
      std::size_t zeros = 0;
      for (std::size_t b = 0; b < E; ++b) {
        if (any_[b] == 0) {
          zeros += n;
          continue;
        }
        zero_run(zeros);
        zeros = n - n_have;  // the padding
        plane_.resize(n_have);
        const unsigned char* from = in + b;
        for (std::size_t i = 0; i < n_have; ++i) plane_[i] = from[i * E];
        use(plane_strategy(plane_.data(), n_have, src.row_bytes / E));
        feed(plane_.data(), n_have);
      }
      zero_run(zeros);
    }
    for (;;) {
      if (zs_.avail_out == 0) grow();
      const int r = deflate(&zs_, Z_FINISH);
      if (r == Z_STREAM_END) break;
      if (r != Z_OK) throw std::runtime_error("zlib could not compress a chunk");
    }
    const std::size_t end = static_cast<std::size_t>(zs_.next_out - out_.data());
    std::vector<unsigned char> result(end + 4);
    std::memcpy(result.data(), out_.data(), end);
    for (int k = 0; k < 4; ++k) result[end + k] = static_cast<unsigned char>(adler_ >> (24 - 8 * k));
    return result;
  }

 private:
  void start(int level) {
    if (level_ == level) {
      if (deflateReset(&zs_) != Z_OK) throw std::runtime_error("zlib could not reset its stream");
      return;
    }
    if (level_ >= 0) deflateEnd(&zs_);
    zs_ = z_stream{};
    // What compress2() does (and so HDF5's deflate filter): default window and memory level;
    // a raw stream (negative window bits), its header and check written by chunk().
    if (deflateInit2(&zs_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("zlib could not start a stream");
    level_ = level;
    strategy_ = Z_DEFAULT_STRATEGY;
  }

  /// Compress what follows with `strategy`: what was fed is first compressed with the old
  /// strategy, its deflate block ended (end_block, which writes nothing at a chunk's start), as
  /// deflateParams() would do but with room to grow the output. The stream stays one ordinary
  /// deflate stream: any inflate reads it.
  void use(int strategy) {
    if (strategy == strategy_) return;
    end_block();
    if (deflateParams(&zs_, level_, strategy) != Z_OK) throw std::runtime_error("zlib could not change its strategy");
    strategy_ = strategy;
  }

  /// Compresses everything fed so far and ends the deflate block (Z_BLOCK, which called again
  /// adds nothing): afterwards no whole byte is pending in zlib, only up to 7 bits of the
  /// block's end, which a flush writes out.
  void end_block() {
    for (;;) {
      if (zs_.avail_out == 0) grow();
      const int r = deflate(&zs_, Z_BLOCK);
      if (r != Z_OK && r != Z_BUF_ERROR) throw std::runtime_error("zlib could not compress a chunk");
      if (zs_.avail_out != 0) return;  // the block and everything pending are out
    }
  }

  /// `len` zeros. Runs shorter than kZeroRun are fed to zlib (run-length coded). Longer ones
  /// are zlib's stream for kZeroRun zeros (zero_segment), copied as many times as they hold
  /// it, after the rest of the run fed to zlib: zlib's scan of the zeros, about 1 GB/s here,
  /// was 40% of the filtering of the 1M-agent benchmark's file. The stream is cut for them the
  /// way pigz joins deflate streams: zlib's block ended and its output brought to a byte
  /// boundary with its history dropped (Z_FULL_FLUSH: nothing after refers back across the
  /// copies), then the copies, each a whole block ending on a byte boundary. The Adler-32 of
  /// the zeros: A stays, B grows by len x A (RFC 1950).
  void zero_run(std::size_t len) {
    if (len == 0) return;
    const std::size_t copies = len / kZeroRun;
    use(Z_RLE);
    feed_zeros(len - copies * kZeroRun);
    if (copies == 0) return;
    end_block();
    // The empty stored block of the flush (at most 6 bytes with the bits left of the block),
    // written in one call: a second call after the output space ran out would add another.
    if (zs_.avail_out < 16) grow();
    if (deflate(&zs_, Z_FULL_FLUSH) != Z_OK || zs_.avail_out == 0)
      throw std::runtime_error("zlib could not compress a chunk");
    const std::vector<unsigned char>& seg = zero_segment();
    for (std::size_t c = 0; c < copies; ++c) {
      while (zs_.avail_out < seg.size()) grow();
      std::memcpy(zs_.next_out, seg.data(), seg.size());
      zs_.next_out += seg.size();
      zs_.avail_out -= static_cast<uInt>(seg.size());
    }
    const std::uint64_t a = adler_ & 0xffff, b = adler_ >> 16;
    adler_ = static_cast<uLong>((((b + (copies * kZeroRun) % 65521 * a) % 65521) << 16) | a);
  }

  /// zlib's raw stream for kZeroRun zeros, run-length coded, ending with a full flush: whole
  /// blocks on a byte boundary that refer to nothing before them. Made once per process.
  static const std::vector<unsigned char>& zero_segment() {
    static const std::vector<unsigned char> segment = [] {
      z_stream z{};
      if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_RLE) != Z_OK) throw std::runtime_error("zlib could not start a stream");
      std::vector<unsigned char> zeros(kZeroRun, 0), out(deflateBound(&z, kZeroRun) + 64);
      z.next_in = zeros.data();
      z.avail_in = static_cast<uInt>(zeros.size());
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      const int r = deflate(&z, Z_FULL_FLUSH);
      const bool ok = r == Z_OK && z.avail_in == 0 && z.avail_out != 0;
      out.resize(z.total_out);
      deflateEnd(&z);
      if (!ok) throw std::runtime_error("zlib could not compress a run of zeros");
      return out;
    }();
    return segment;
  }

  static constexpr std::size_t kSlice = 16 << 10;
  // The length of the run coded once. The 1M-agent benchmark's chunks with 16, 32, 64 and 128
  // KiB: +1.2%, +0.1%, -0.3% and -0.3% bytes against zlib coding every zero; the rest of each
  // run, fed to zlib, is what longer ones cost.
  static constexpr std::size_t kZeroRun = 64 << 10;
  static const unsigned char* zeros() {
    static const std::vector<unsigned char> z(kSlice, 0);
    return z.data();
  }
  void feed_zeros(std::size_t len) {
    for (std::size_t k = 0; k < len; k += kSlice) feed(zeros(), std::min(kSlice, len - k));
  }
  void feed(const unsigned char* p, std::size_t len) {
    adler_ = adler32_z(adler_, p, len);
    zs_.next_in = const_cast<unsigned char*>(p);
    zs_.avail_in = static_cast<uInt>(len);
    while (zs_.avail_in != 0) {
      if (zs_.avail_out == 0) grow();
      if (deflate(&zs_, Z_NO_FLUSH) != Z_OK) throw std::runtime_error("zlib could not compress a chunk");
    }
  }
  /// Twice the output space, keeping what was written (zlib's output does not depend on how
  /// its output space is handed out either).
  void grow() {
    const std::size_t used = static_cast<std::size_t>(zs_.next_out - out_.data());
    out_.resize(2 * out_.size());
    zs_.next_out = out_.data() + used;
    zs_.avail_out = static_cast<uInt>(out_.size() - used);
  }

  z_stream zs_{};
  uLong adler_ = 1;  // Adler-32 of the chunk so far
  int level_ = -1;
  int strategy_ = Z_DEFAULT_STRATEGY;  // the stream's strategy now (deflateReset keeps it)
  std::vector<unsigned char> any_, plane_, out_;
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
