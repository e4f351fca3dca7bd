// The batched Philox (sim/core/philox_batch.cpp) against random_block, word for word. It has
// code for each instruction set: this file is compiled into unit.core with the build's own
// flags, and again for each instruction set this machine can run (tests/CMakeLists.txt), each
// copy told which code it must have run (MIGSIM_EXPECT_PHILOX).
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/philox_batch.hpp"
#include "core/rng.hpp"

using namespace migsim;

TEST_CASE("the batched Philox runs the code this build was made for") {
  MESSAGE("random_blocks: " << std::string(random_blocks_kind()));
#ifdef MIGSIM_EXPECT_PHILOX
  CHECK(std::string(random_blocks_kind()) == MIGSIM_EXPECT_PHILOX);
#elif defined(MIGSIM_MARCH_NATIVE) && (defined(__x86_64__) || defined(__i386__))
  // unit.core of a -march=native build (MIGSIM_NATIVE): the best code this CPU runs.
  const char* best = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? "avx512"
                     : __builtin_cpu_supports("avx2")                                         ? "avx2"
                                                                                              : "portable";
  CHECK(std::string(random_blocks_kind()) == best);
#elif defined(__AVX512F__) && defined(__AVX512VL__)
  // unit.core of another build: compiled with the flags of sim/, so for the instruction set
  // philox_batch.cpp was compiled for; these are the conditions under which it must pick each.
  CHECK(std::string(random_blocks_kind()) == "avx512");
#elif defined(__AVX2__)
  CHECK(std::string(random_blocks_kind()) == "avx2");
#else
  CHECK(std::string(random_blocks_kind()) == "portable");
#endif
}

TEST_CASE("the batched Philox with a purpose per id gives random_block's words, at every batch length") {
  // The pass draws one block for each busy agent of a block of agents, each of the purpose
  // its status draws first: batches of any length, rarely a whole number of vectors. Every
  // length from 0 to 40 (the vector code masks the last lanes), every purpose, and ids and
  // seeds at the ends of their ranges.
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{0x0123456789ABCDEFull}, std::uint64_t{0xFFFFFFFFFFFFFFFFull}}) {
    for (std::size_t n = 0; n <= 40; ++n) {
      std::vector<std::uint32_t> ids(n), purposes(n), out(4 * n + 8, 0xDEADBEEFu);
      for (std::size_t k = 0; k < n; ++k) {
        ids[k] = k % 3 == 0 ? 0xFFFFFFFFu - static_cast<std::uint32_t>(k) : static_cast<std::uint32_t>(k * 2654435761u);
        purposes[k] = 1 + static_cast<std::uint32_t>((k * 7 + n) % 9);  // Purpose 1..9
      }
      random_blocks(seed, static_cast<std::uint32_t>(n * 31), PurposeWords{purposes.data()}, ids.data(), n, out.data());
      for (std::size_t k = 0; k < n; ++k) {
        const auto w = random_block(seed, static_cast<std::uint32_t>(n * 31), ids[k], static_cast<Purpose>(purposes[k]));
        for (std::size_t j = 0; j < 4; ++j) {
          CAPTURE(n);
          CAPTURE(k);
          REQUIRE(out[j * n + k] == w[j]);
        }
      }
      for (std::size_t k = 4 * n; k < out.size(); ++k) REQUIRE(out[k] == 0xDEADBEEFu);  // nothing past the batch
      // The one-purpose form, at the same lengths.
      std::fill(out.begin(), out.end(), 0xDEADBEEFu);
      random_blocks(seed, 5, Purpose::Clock, ids.data(), n, out.data());
      for (std::size_t k = 0; k < n; ++k) {
        const auto w = random_block(seed, 5, ids[k], Purpose::Clock);
        for (std::size_t j = 0; j < 4; ++j) REQUIRE(out[j * n + k] == w[j]);
      }
      for (std::size_t k = 4 * n; k < out.size(); ++k) REQUIRE(out[k] == 0xDEADBEEFu);
    }
  }
}

TEST_CASE("the batched Philox gives random_block's words for every id") {
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{7}, std::uint64_t{0xFFFFFFFFFFFFFFFFull}}) {
    std::vector<std::uint32_t> ids;
    for (std::uint32_t i = 0; i < 1000; ++i) ids.push_back(i * 2654435761u);
    std::vector<std::uint32_t> out(4 * ids.size());
    random_blocks(seed, 17, Purpose::Settled, ids.data(), ids.size(), out.data());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const auto w = random_block(seed, 17, ids[k], Purpose::Settled);
      for (std::size_t j = 0; j < 4; ++j) {
        CAPTURE(k);
        REQUIRE(out[j * ids.size() + k] == w[j]);
      }
    }
  }
}

namespace {
/// `count` words ending where a page that may not be touched begins: a read or write past
/// them is a crash, not a silent success.
class FlushAgainstGuard {
 public:
  explicit FlushAgainstGuard(std::size_t count) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    bytes_ = (count * sizeof(std::uint32_t) + page_ - 1) / page_ * page_ + page_;
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    base_ = static_cast<char*>(p);
    REQUIRE(mprotect(base_ + bytes_ - page_, page_, PROT_NONE) == 0);
    words_ = reinterpret_cast<std::uint32_t*>(base_ + bytes_ - page_) - count;
  }
  FlushAgainstGuard(const FlushAgainstGuard&) = delete;
  FlushAgainstGuard& operator=(const FlushAgainstGuard&) = delete;
  ~FlushAgainstGuard() { munmap(base_, bytes_); }
  std::uint32_t* words() const { return words_; }

 private:
  char* base_ = nullptr;
  std::size_t page_ = 0, bytes_ = 0;
  std::uint32_t* words_ = nullptr;
};
}  // namespace

TEST_CASE("the batched Philox reads and writes nothing past its arrays") {
  // The vector code loads and stores whole registers with the lanes past the batch masked:
  // ids, purposes and out each end where an inaccessible page begins, at every length.
  for (std::size_t n = 0; n <= 40; ++n) {
    CAPTURE(n);
    FlushAgainstGuard ids(n), purposes(n), out(4 * n);
    for (std::size_t k = 0; k < n; ++k) {
      ids.words()[k] = static_cast<std::uint32_t>(k * 2654435761u);
      purposes.words()[k] = 1 + static_cast<std::uint32_t>(k % 9);
    }
    random_blocks(3, 4, PurposeWords{purposes.words()}, ids.words(), n, out.words());
    for (std::size_t k = 0; k < n; ++k) {
      const auto w = random_block(3, 4, ids.words()[k], static_cast<Purpose>(purposes.words()[k]));
      for (std::size_t j = 0; j < 4; ++j) REQUIRE(out.words()[j * n + k] == w[j]);
    }
    random_blocks(3, 4, Purpose::Journey, ids.words(), n, out.words());
    for (std::size_t k = 0; k < n; ++k) {
      const auto w = random_block(3, 4, ids.words()[k], Purpose::Journey);
      for (std::size_t j = 0; j < 4; ++j) REQUIRE(out.words()[j * n + k] == w[j]);
    }
  }
}
