#include "core/philox_batch.hpp"

#if defined(__AVX512F__) && defined(__AVX512VL__)
#include <immintrin.h>
#define MIGSIM_PHILOX_AVX512 1
#endif

namespace migsim {

namespace {
// Random123's Philox4x32 constants.
constexpr std::uint64_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr std::uint64_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

#ifdef MIGSIM_PHILOX_AVX512
// GCC 12 warns of an uninitialised value inside its own AVX-512 intrinsics (their
// _mm512_undefined_* operands; GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
/// Eight ids at a time in the 64-bit lanes of AVX-512 registers, the last group masked (no
/// scalar remainder). Each lane keeps its 32-bit value in its low half: vpmuludq multiplies
/// the low halves into the full 64-bit product, whose halves are the round's hi and lo, and
/// the high halves left by the other steps are never read (the multiplies ignore them, the
/// stores keep the low halves). The compiler's own vectorisation of the portable loop below
/// multiplied with vpmullq (a full 64 x 64-bit product) and ended each call, where the busy
/// agents of a block rarely fill the last vector, with up to seven ids one at a time.
template <class PurposeOf>
inline void philox_lanes(std::uint64_t seed, std::uint32_t month, PurposeOf purpose_of,
                         const std::uint32_t* __restrict ids, std::size_t n, std::uint32_t* out) {
  __m512i key0[10], key1[10];
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    key0[r] = _mm512_set1_epi64(k0);
    key1[r] = _mm512_set1_epi64(k1);
    k0 += static_cast<std::uint32_t>(kW0);
    k1 += static_cast<std::uint32_t>(kW1);
  }
  const __m512i m0 = _mm512_set1_epi64(static_cast<long long>(kM0));
  const __m512i m1 = _mm512_set1_epi64(static_cast<long long>(kM1));
  const __m512i c1_start = _mm512_set1_epi64(month);
  for (std::size_t k = 0; k < n; k += 8) {
    const __mmask8 lanes = n - k >= 8 ? __mmask8(0xFF) : static_cast<__mmask8>((1u << (n - k)) - 1);
    __m512i c0 = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(lanes, ids + k));
    __m512i c1 = c1_start;
    __m512i c2 = purpose_of(k, lanes);
    __m512i c3 = _mm512_setzero_si512();
    for (int r = 0; r < 10; ++r) {
      const __m512i prod0 = _mm512_mul_epu32(c0, m0);
      const __m512i prod1 = _mm512_mul_epu32(c2, m1);
      // 0x96: a ^ b ^ c.
      c0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(prod1, 32), c1, key0[r], 0x96);
      c2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(prod0, 32), c3, key1[r], 0x96);
      c1 = prod1;
      c3 = prod0;
    }
    _mm512_mask_cvtepi64_storeu_epi32(out + k, lanes, c0);
    _mm512_mask_cvtepi64_storeu_epi32(out + n + k, lanes, c1);
    _mm512_mask_cvtepi64_storeu_epi32(out + 2 * n + k, lanes, c2);
    _mm512_mask_cvtepi64_storeu_epi32(out + 3 * n + k, lanes, c3);
  }
}
#pragma GCC diagnostic pop
#else
/// The loop of both random_blocks: lane k's purpose is purpose_of(k).
template <class PurposeOf>
inline void philox_lanes(std::uint64_t seed, std::uint32_t month, PurposeOf purpose_of,
                         const std::uint32_t* __restrict ids, std::size_t n, std::uint32_t* out) {
  const auto key0 = static_cast<std::uint32_t>(seed), key1 = static_cast<std::uint32_t>(seed >> 32);
  std::uint32_t* __restrict o0 = out;
  std::uint32_t* __restrict o1 = out + n;
  std::uint32_t* __restrict o2 = out + 2 * n;
  std::uint32_t* __restrict o3 = out + 3 * n;
  // The state lives in 64-bit lanes holding 32-bit values, so that each 32 x 32 -> 64-bit
  // product is one vector multiply with no repacking of lanes.
  constexpr std::uint64_t kLow = 0xFFFFFFFFu;
  for (std::size_t k = 0; k < n; ++k) {
    std::uint64_t c0 = ids[k], c1 = month, c2 = purpose_of(k), c3 = 0;
    std::uint64_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
      const std::uint64_t prod0 = kM0 * c0;
      const std::uint64_t prod1 = kM1 * c2;
      c0 = ((prod1 >> 32) ^ c1 ^ k0) & kLow;
      c1 = prod1 & kLow;
      c2 = ((prod0 >> 32) ^ c3 ^ k1) & kLow;
      c3 = prod0 & kLow;
      k0 = (k0 + kW0) & kLow;
      k1 = (k1 + kW1) & kLow;
    }
    o0[k] = static_cast<std::uint32_t>(c0);
    o1[k] = static_cast<std::uint32_t>(c1);
    o2[k] = static_cast<std::uint32_t>(c2);
    o3[k] = static_cast<std::uint32_t>(c3);
  }
}
#endif

}  // namespace

void random_blocks(std::uint64_t seed, std::uint32_t month, Purpose purpose, const std::uint32_t* ids, std::size_t n,
                   std::uint32_t* out) {
  const auto p = static_cast<std::uint32_t>(purpose);
#ifdef MIGSIM_PHILOX_AVX512
  const __m512i all = _mm512_set1_epi64(p);
  philox_lanes(seed, month, [all](std::size_t, __mmask8) { return all; }, ids, n, out);
#else
  philox_lanes(seed, month, [p](std::size_t) { return std::uint64_t{p}; }, ids, n, out);
#endif
}

void random_blocks(std::uint64_t seed, std::uint32_t month, const std::uint32_t* __restrict purposes,
                   const std::uint32_t* ids, std::size_t n, std::uint32_t* out) {
#ifdef MIGSIM_PHILOX_AVX512
  philox_lanes(seed, month,
               [purposes](std::size_t k, __mmask8 lanes) {
                 return _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(lanes, purposes + k));
               },
               ids, n, out);
#else
  philox_lanes(seed, month, [purposes](std::size_t k) { return std::uint64_t{purposes[k]}; }, ids, n, out);
#endif
}

}  // namespace migsim
