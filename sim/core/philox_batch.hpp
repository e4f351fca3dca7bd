#pragma once
/// @file philox_batch.hpp
/// Philox4x32-10 for many ids at once: the same words as random_block(seed, month, ids[k],
/// purpose, 0) in rng.hpp (tests check every word against Random123), computed for a block of
/// agents in SIMD lanes: with AVX-512 or AVX2 intrinsics where the build targets them (see
/// MIGSIM_NATIVE), otherwise a loop the compiler vectorises as it can. Integer arithmetic
/// makes the result identical on every instruction set (tests/core/test_philox_batch.cpp
/// runs on each one the machine has).

#include <cstddef>
#include <cstdint>

#include "core/rng.hpp"

namespace migsim {

/// out[j * n + k] = word j of random_block(seed, month, ids[k], purpose, 0), j = 0..3.
void random_blocks(std::uint64_t seed, std::uint32_t month, Purpose purpose, const std::uint32_t* ids,
                   std::size_t n, std::uint32_t* out);

/// A purpose for each id, as 32-bit words (static_cast<std::uint32_t>(Purpose)). A type of its
/// own, so that the purposes and the ids, both arrays of 32-bit words, cannot be passed in
/// each other's place.
struct PurposeWords {
  const std::uint32_t* words;
};

/// The same with a purpose for each id: out[j * n + k] = word j of random_block(seed, month,
/// ids[k], Purpose(purposes.words[k]), 0).
void random_blocks(std::uint64_t seed, std::uint32_t month, PurposeWords purposes, const std::uint32_t* ids,
                   std::size_t n, std::uint32_t* out);

/// Which code computes them in this build: "avx512", "avx2" (vector intrinsics, chosen by the
/// instruction set the build targets) or "portable" (a loop the compiler vectorises as it can).
const char* random_blocks_kind();

}  // namespace migsim
