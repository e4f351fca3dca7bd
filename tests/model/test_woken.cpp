// The classification of woken clocks (sim/model/woken.cpp) against the rules it stands for:
// a settled migrant whose clock woke, on its clock, with what Exclusive<3>::pick draws from
// word 0 being a job change candidate (0) or nothing (3), and its job changing where word 1
// is below the hiring limit. It has code for AVX-512, for AVX2 and a portable loop: this file is
// compiled into unit.model with the build's own flags, and again for each instruction set
// this machine can run (tests/CMakeLists.txt), each copy told which code it must have run
// (MIGSIM_EXPECT_WOKEN). The table's rows built from the month's clocks are tested in
// test_clock.cpp.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/agents.hpp"
#include "model/tables.hpp"
#include "model/woken.hpp"

using namespace migsim;

TEST_CASE("classify_woken runs the code this build was made for") {
  MESSAGE("classify_woken: " << std::string(classify_woken_kind()));
#ifdef MIGSIM_EXPECT_WOKEN
  CHECK(std::string(classify_woken_kind()) == MIGSIM_EXPECT_WOKEN);
#elif defined(__AVX512F__)
  CHECK(std::string(classify_woken_kind()) == "avx512");
#elif defined(__AVX2__)
  CHECK(std::string(classify_woken_kind()) == "avx2");
#else
  CHECK(std::string(classify_woken_kind()) == "portable");
#endif
}

namespace {

constexpr std::uint64_t kAll = std::uint64_t{1} << 32;

/// A table of `countries` x `sectors` rows of random limits, with the ends of their ranges
/// (0, 2^32) often; `middle` is a limit between the two that the table does not keep (the
/// kind's second), for the reference's Exclusive<3>.
struct RandomTable {
  WokenTable table;
  std::vector<std::uint64_t> middle;
  RandomTable(int countries, int sectors, std::mt19937_64& rng) {
    table.sectors = sectors;
    const std::size_t rows = static_cast<std::size_t>(countries) * static_cast<std::size_t>(sectors) * 4;
    const auto limit = [&]() -> std::uint64_t {
      switch (rng() % 5) {
        case 0: return 0;
        case 1: return kAll;
        default: return rng() % (kAll + 1);
      }
    };
    for (std::size_t q = 0; q < rows; ++q) {
      std::uint64_t a = limit(), b = limit(), c = limit();
      if (a > b) std::swap(a, b);
      if (b > c) std::swap(b, c);
      if (a > b) std::swap(a, b);
      table.first_limit.push_back(a);
      middle.push_back(b);
      table.last_limit.push_back(c);
      table.hire.push_back(limit());
      table.on_clock.push_back(rng() % 4 != 0 ? 1 : 0);
      table.any.push_back(0.5);
      table.log_1mp.push_back(-0.69);
      table.wait.push_back(nullptr);
    }
    // Row 0 (the first location and sector, regular, unemployed): on its clock, and a word
    // of 2^32 - 1 draws nothing there, so that an agent of that row whose clock woke is one of
    // the quick ones. The batches are padded with such agents.
    table.first_limit[0] = 0x1000;
    middle[0] = 0x2000;
    table.last_limit[0] = 0x3000;
    table.on_clock[0] = 1;
  }
};

struct Expected {
  bool quick = false, change = false;
  std::size_t row_after = 0;
};

/// What the pass's rules say for one agent (step.cpp's runs_on_clock and wake_up).
Expected expected(const RandomTable& r, int status, int flags, int location, int pathway, int wake, std::uint32_t w0,
                  std::uint32_t w1, int t) {
  Expected e;
  const bool settled = status == static_cast<int>(Status::Regular) || status == static_cast<int>(Status::Irregular);
  if (!settled || wake != t) return e;
  const int irregular = status == static_cast<int>(Status::Irregular) ? 1 : 0;
  const int employed = (flags & flag::kEmployed) ? 1 : 0;
  const std::size_t q = r.table.row(location, flags & flag::kSectorMask, irregular, employed);
  if (!r.table.on_clock[q] || (irregular && pathway != kNone)) return e;
  Exclusive<3> kind;
  kind.limit = {r.table.first_limit[q], r.middle[q], r.table.last_limit[q]};
  Chance hire;
  hire.limit = r.table.hire[q];
  const int what = kind.pick(w0);
  e.quick = what == 0 || what == 3;
  e.change = what == 0 && hire.happens(w1);
  e.row_after = e.change ? r.table.row(location, flags & flag::kSectorMask, irregular, 1 - employed) : q;
  return e;
}

}  // namespace

TEST_CASE("classify_woken gives the clocks' rules for every agent, at every batch length") {
  // Busy agents of every status, settled ones in every row, their words at and around the
  // row's limits; every length from 0 to 70 (the vector code works on groups of eight, and on
  // words of 64 bits) and the largest block, 256. Past the batch the input arrays hold agents
  // that would be quick ones, which the code must ignore; past its bits, nothing may be
  // written.
  std::mt19937_64 rng(20261201);
  const int countries = 5, sectors = 3, t = 17;
  const RandomTable r(countries, sectors, rng);
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 70; ++n) lengths.push_back(n);
  lengths.push_back(255);
  lengths.push_back(256);
  int quick_seen = 0, change_seen = 0, slow_seen = 0;
  for (int round = 0; round < 20; ++round)
    for (const std::size_t n : lengths) {
      const std::size_t padded = (n + 7) / 8 * 8 + 8;
      std::vector<std::uint8_t> status(padded, static_cast<std::uint8_t>(Status::Regular)), flags(padded, 0),
          location(padded, 0), pathway(padded, kNone);
      std::vector<std::int16_t> wake(padded, static_cast<std::int16_t>(t));
      std::vector<std::uint32_t> word0(padded, 0xFFFFFFFFu), word1(padded, 0);
      REQUIRE(expected(r, status[0], flags[0], location[0], pathway[0], wake[0], word0[0], word1[0], t).quick);
      for (std::size_t k = 0; k < n; ++k) {
        status[k] = static_cast<std::uint8_t>(rng() % 3 != 0 ? 4 + rng() % 2 : rng() % 7);
        const int sector = static_cast<int>(rng() % sectors);
        flags[k] = static_cast<std::uint8_t>(sector | (rng() % 2 ? flag::kEmployed : 0) | (rng() % 2 ? flag::kIrregular : 0) |
                                             (rng() % 2 ? flag::kRejected : 0));
        location[k] = static_cast<std::uint8_t>(rng() % countries);
        pathway[k] = static_cast<std::uint8_t>(rng() % 3 == 0 ? rng() % 4 : kNone);
        wake[k] = static_cast<std::int16_t>(rng() % 4 != 0 ? t : t - 1 + static_cast<int>(rng() % 3) * 2);
        const std::size_t q = r.table.row(location[k], sector, status[k] == 5 ? 1 : 0, (flags[k] & flag::kEmployed) ? 1 : 0);
        const auto near = [&](std::uint64_t limit) {
          const std::uint64_t x = limit + (rng() % 3) - 1;  // limit - 1, limit or limit + 1
          return static_cast<std::uint32_t>(x > 0xFFFFFFFFu ? (rng() % 2 ? 0xFFFFFFFFu : 0u) : x);
        };
        switch (rng() % 4) {
          case 0: word0[k] = near(r.table.first_limit[q]); break;
          case 1: word0[k] = near(r.middle[q]); break;
          case 2: word0[k] = near(r.table.last_limit[q]); break;
          default: word0[k] = static_cast<std::uint32_t>(rng()); break;
        }
        word1[k] = rng() % 2 ? near(r.table.hire[q]) : static_cast<std::uint32_t>(rng());
      }
      const std::size_t words = (n + 63) / 64;
      std::vector<std::uint64_t> quick(words + 1, 0x1234), change(words + 1, 0x1234);
      std::vector<std::uint16_t> row_after(padded + 8, 0xFFFF);
      classify_woken(r.table,
                     BusyAgents{status.data(), flags.data(), location.data(), pathway.data(), wake.data(), word0.data(),
                                word1.data(), n},
                     static_cast<std::int16_t>(t), quick.data(), change.data(), row_after.data());
      for (std::size_t k = 0; k < n; ++k) {
        const Expected e = expected(r, status[k], flags[k], location[k], pathway[k], wake[k], word0[k], word1[k], t);
        const bool q = (quick[k / 64] >> (k % 64)) & 1, c = (change[k / 64] >> (k % 64)) & 1;
        INFO("n = " << n << ", agent " << k << ", status " << int(status[k]) << ", flags " << int(flags[k]));
        REQUIRE(q == e.quick);
        REQUIRE(c == e.change);
        if (e.quick) REQUIRE(row_after[k] == e.row_after);
        quick_seen += e.quick;
        change_seen += e.change;
        slow_seen += !e.quick;
      }
      for (std::size_t k = n; k < words * 64; ++k) {
        REQUIRE(((quick[k / 64] >> (k % 64)) & 1) == 0);
        REQUIRE(((change[k / 64] >> (k % 64)) & 1) == 0);
      }
      REQUIRE(quick[words] == 0x1234);  // nothing past its words
      REQUIRE(change[words] == 0x1234);
      for (std::size_t k = (n + 7) / 8 * 8; k < row_after.size(); ++k) REQUIRE(row_after[k] == 0xFFFF);
    }
  // Every answer occurs often enough that a mistake in any would show.
  CHECK(quick_seen > 5000);
  CHECK(change_seen > 500);
  CHECK(slow_seen > 5000);
}
