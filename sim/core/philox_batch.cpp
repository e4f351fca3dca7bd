#include "core/philox_batch.hpp"

#if defined(__AVX512F__) && defined(__AVX512VL__)
#include <immintrin.h>
#define MIGSIM_PHILOX_AVX512 1
#elif defined(__AVX2__)
#include <immintrin.h>
#define MIGSIM_PHILOX_AVX2 1
#endif

namespace migsim {

namespace {
// Random123's Philox4x32 constants.
constexpr std::uint64_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr std::uint64_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

#if defined(MIGSIM_PHILOX_AVX512) || defined(MIGSIM_PHILOX_AVX2)
// GCC 12 warns of an uninitialised value inside its own vector intrinsics (their
// _mm512_undefined_* operands; GCC bug 105593, fixed in GCC 13). Clang has no such warning.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#ifdef MIGSIM_PHILOX_AVX512
/// Eight ids in the 64-bit lanes of an AVX-512 register; the last ones of a call in masked
/// lanes.
struct Lanes {
  using V = __m512i;
  using Mask = __mmask8;
  static constexpr std::size_t kWidth = 8;
  static Mask first(std::size_t count) {
    return count >= kWidth ? Mask(0xFF) : static_cast<Mask>((1u << count) - 1);
  }
  static V all(std::uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
  /// The 32-bit values at p, one per lane, zero-extended; lanes outside `m` read nothing.
  static V load(const std::uint32_t* p, Mask m) { return _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(m, p)); }
  /// The low half of each lane to p; lanes outside `m` write nothing.
  static void store(std::uint32_t* p, Mask m, V v) { _mm512_mask_cvtepi64_storeu_epi32(p, m, v); }
  static V mul(V a, V b) { return _mm512_mul_epu32(a, b); }
  static V high(V a) { return _mm512_srli_epi64(a, 32); }
  static V xor3(V a, V b, V c) { return _mm512_ternarylogic_epi64(a, b, c, 0x96); }
};
#else
/// Four ids in the 64-bit lanes of an AVX2 register; the last ones of a call in masked lanes
/// (a mask of whole 32-bit lanes: AVX2 has no mask registers).
struct Lanes {
  using V = __m256i;
  using Mask = __m128i;
  static constexpr std::size_t kWidth = 4;
  static Mask first(std::size_t count) {
    const int c = count >= kWidth ? 4 : static_cast<int>(count);
    return _mm_cmpgt_epi32(_mm_set1_epi32(c), _mm_setr_epi32(0, 1, 2, 3));
  }
  static V all(std::uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
  static V load(const std::uint32_t* p, Mask m) {
    return _mm256_cvtepu32_epi64(_mm_maskload_epi32(reinterpret_cast<const int*>(p), m));
  }
  static void store(std::uint32_t* p, Mask m, V v) {
    // The low halves (32-bit lanes 0, 2, 4, 6) gathered into the low 128 bits; a plain store
    // where all four lanes count (masked stores are slow on some AMD cores).
    const __m128i low =
        _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
    if (_mm_movemask_epi8(m) == 0xFFFF) _mm_storeu_si128(reinterpret_cast<__m128i*>(p), low);
    else _mm_maskstore_epi32(reinterpret_cast<int*>(p), m, low);
  }
  static V mul(V a, V b) { return _mm256_mul_epu32(a, b); }
  static V high(V a) { return _mm256_srli_epi64(a, 32); }
  static V xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
};
#endif

/// Lanes::kWidth ids at a time in the 64-bit lanes of vector registers, the last ones of a
/// call masked (no scalar remainder). Each lane keeps its 32-bit value in its low half:
/// vpmuludq multiplies the low halves into the full 64-bit product, whose halves are the
/// round's hi and lo, and the high halves left by the other steps are never read (the
/// multiplies ignore them, the stores keep the low halves). The compiler's own vectorisation
/// of the portable loop below multiplied with vpmullq (AVX-512: a full 64 x 64-bit product)
/// or three vpmuludq (AVX2: the same product from 32-bit pieces), and ended each call, where
/// the busy agents of a block rarely fill the last vector, with the last ids one at a time
/// (docs/performance.md, fourteenth session).
template <class PurposeOf>
inline void philox_lanes(std::uint64_t seed, std::uint32_t month, PurposeOf purpose_of,
                         const std::uint32_t* __restrict ids, std::size_t n, std::uint32_t* out) {
  using V = Lanes::V;
  V key0[10], key1[10];
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    key0[r] = Lanes::all(k0);
    key1[r] = Lanes::all(k1);
    k0 += static_cast<std::uint32_t>(kW0);
    k1 += static_cast<std::uint32_t>(kW1);
  }
  const V m0 = Lanes::all(kM0), m1 = Lanes::all(kM1), c1_start = Lanes::all(month);
  for (std::size_t k = 0; k < n; k += Lanes::kWidth) {
    const Lanes::Mask lanes = Lanes::first(n - k);
    V c0 = Lanes::load(ids + k, lanes);
    V c1 = c1_start;
    V c2 = purpose_of(k, lanes);
    V c3 = Lanes::all(0);
    for (int r = 0; r < 10; ++r) {
      const V prod0 = Lanes::mul(c0, m0);
      const V prod1 = Lanes::mul(c2, m1);
      c0 = Lanes::xor3(Lanes::high(prod1), c1, key0[r]);
      c2 = Lanes::xor3(Lanes::high(prod0), c3, key1[r]);
      c1 = prod1;
      c3 = prod0;
    }
    Lanes::store(out + k, lanes, c0);
    Lanes::store(out + n + k, lanes, c1);
    Lanes::store(out + 2 * n + k, lanes, c2);
    Lanes::store(out + 3 * n + k, lanes, c3);
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#define MIGSIM_PHILOX_VECTOR 1
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
#ifdef MIGSIM_PHILOX_VECTOR
  const Lanes::V all = Lanes::all(p);
  philox_lanes(seed, month, [all](std::size_t, Lanes::Mask) { return all; }, ids, n, out);
#else
  philox_lanes(seed, month, [p](std::size_t) { return std::uint64_t{p}; }, ids, n, out);
#endif
}

void random_blocks(std::uint64_t seed, std::uint32_t month, PurposeWords purposes, const std::uint32_t* ids,
                   std::size_t n, std::uint32_t* out) {
  const std::uint32_t* __restrict words = purposes.words;
#ifdef MIGSIM_PHILOX_VECTOR
  philox_lanes(seed, month, [words](std::size_t k, Lanes::Mask lanes) { return Lanes::load(words + k, lanes); }, ids,
               n, out);
#else
  philox_lanes(seed, month, [words](std::size_t k) { return std::uint64_t{words[k]}; }, ids, n, out);
#endif
}

const char* random_blocks_kind() {
#if defined(MIGSIM_PHILOX_AVX512)
  return "avx512";
#elif defined(MIGSIM_PHILOX_AVX2)
  return "avx2";
#else
  return "portable";
#endif
}

}  // namespace migsim
