#pragma once
/// @file rng.hpp
/// Counter-based random numbers: every draw is a pure function of (seed, month, id,
/// purpose), never of a thread's history, so results do not depend on how agents are
/// split among threads or ranks. The generator is Philox4x32-10 (Salmon et al. 2011,
/// "Parallel random numbers: as easy as 1, 2, 3", SC'11) from Random123: key = the 64-bit
/// seed, counter = (id, month, purpose, block). Each block gives four 32-bit words.

#include <Random123/philox.h>

#include <array>
#include <cstdint>
#include <limits>

namespace migsim {

/// What a draw is for. Each purpose has its own counter space, so adding a draw for one
/// purpose never shifts the numbers of another.
enum class Purpose : std::uint32_t {
  InitialAgent = 1,  ///< per agent of the initial stock: sector, status, employment, months
  NewMovers = 2,     ///< per (origin, sector) group: how many start to consider moving
  NewAgent = 3,      ///< per new agent: attributes at creation
  Inflow = 4,        ///< per inflow: how many arrive
  Aspire = 5,        ///< per agent: destination choice, application, irregular departure
  Journey = 6,       ///< per agent: crossing an edge (death, interception), transit stay
  Settled = 7,       ///< per agent: labour market, regularisation, exits
  Lottery = 8,       ///< per agent: the ticket of a pending application
  Clock = 9,         ///< per agent: the month its event clock next wakes (model/clock.hpp)
};

using Philox = r123::Philox4x32;

/// Four 32-bit words for (seed, month, id, purpose, block).
inline std::array<std::uint32_t, 4> random_block(std::uint64_t seed, std::uint32_t month,
                                                 std::uint32_t id, Purpose purpose,
                                                 std::uint32_t block = 0) {
  const Philox::ctr_type ctr = {{id, month, static_cast<std::uint32_t>(purpose), block}};
  const Philox::key_type key = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  const auto out = Philox()(ctr, key);
  return {out.v[0], out.v[1], out.v[2], out.v[3]};
}

/// A uniform random bit generator (Boost.Random's engine concept) reading the stream of
/// one (seed, month, id, purpose): words of block 0, then block 1, and so on. Feed it to
/// Boost.Random distributions, whose algorithms are fixed across platforms.
class KeyedStream {
 public:
  using result_type = std::uint32_t;
  KeyedStream(std::uint64_t seed, std::uint32_t month, std::uint32_t id, Purpose purpose)
      : seed_(seed), month_(month), id_(id), purpose_(purpose) {}
  /// The same stream when its first block, `block0`, is already at hand and its first
  /// `used` words were taken directly.
  KeyedStream(std::uint64_t seed, std::uint32_t month, std::uint32_t id, Purpose purpose,
              const std::array<std::uint32_t, 4>& block0, unsigned used)
      : seed_(seed), month_(month), id_(id), purpose_(purpose), block_(1), pos_(used), words_(block0) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() {
    if (pos_ == 4) {
      words_ = random_block(seed_, month_, id_, purpose_, block_++);
      pos_ = 0;
    }
    return words_[pos_++];
  }

 private:
  std::uint64_t seed_;
  std::uint32_t month_, id_;
  Purpose purpose_;
  std::uint32_t block_ = 0;
  unsigned pos_ = 4;
  std::array<std::uint32_t, 4> words_{};
};

/// A probability turned into a limit on a 32-bit word: the event happens when the word is
/// below `limit`. `Chance(p).happens(w)` equals what boost::random::bernoulli_distribution
/// <double>(p) returns for an engine that yields `w` (it tests double(w) <= p * (2^32-1)),
/// without a floating-point multiply per draw.
struct Chance {
  std::uint64_t limit = 0;
  Chance() = default;
  explicit Chance(double p) {
    if (!(p > 0.0)) limit = 0;
    else if (p >= 1.0) limit = std::uint64_t{1} << 32;
    else limit = static_cast<std::uint64_t>(p * 4294967295.0) + 1;
  }
  bool happens(std::uint32_t word) const { return word < limit; }
};

/// Turns a 64-bit ticket into a value in [0, 1) for messages and tests.
inline double to_unit(std::uint32_t word) { return word * (1.0 / 4294967296.0); }

}  // namespace migsim
