#pragma once
/// @file philox_batch.hpp
/// Philox4x32-10 for many ids at once, in a form the compiler vectorises: the same words as
/// random_block(seed, month, ids[k], purpose, 0) in rng.hpp (tests check every word against
/// Random123), computed for a block of agents in SIMD lanes (as wide as the build's
/// instruction set allows: see MIGSIM_NATIVE). Integer arithmetic makes the result
/// identical on every instruction set.

#include <cstddef>
#include <cstdint>

#include "core/rng.hpp"

namespace migsim {

/// out[j * n + k] = word j of random_block(seed, month, ids[k], purpose, 0), j = 0..3.
void random_blocks(std::uint64_t seed, std::uint32_t month, Purpose purpose, const std::uint32_t* ids,
                   std::size_t n, std::uint32_t* out);

/// The same with a purpose for each id: out[j * n + k] = word j of random_block(seed, month,
/// ids[k], Purpose(purposes[k]), 0).
void random_blocks(std::uint64_t seed, std::uint32_t month, const std::uint32_t* purposes, const std::uint32_t* ids,
                   std::size_t n, std::uint32_t* out);

}  // namespace migsim
