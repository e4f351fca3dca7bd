#include "model/woken.hpp"

#include <stdexcept>

#include "model/agents.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#define MIGSIM_WOKEN_AVX512 1
#elif defined(__AVX2__)
#include <immintrin.h>

#include <cstring>
#define MIGSIM_WOKEN_AVX2 1
#endif

namespace migsim {

void WokenTable::build(const ClockBounds& clock, const UnemployedClocks& unemployed,
                       const std::uint8_t* regularisation_open, int countries, int n_sectors) {
  sectors = n_sectors;
  const std::size_t rows = static_cast<std::size_t>(countries) * static_cast<std::size_t>(n_sectors) * 4;
  if (rows > 65536) throw std::length_error("WokenTable: more rows than a 16-bit row index holds");
  first_limit.resize(rows);
  last_limit.resize(rows);
  hire.resize(rows);
  on_clock.resize(rows);
  any.resize(rows);
  log_1mp.resize(rows);
  wait.resize(rows);
  for (int l = 0; l < countries; ++l)
    for (int sector = 0; sector < n_sectors; ++sector)
      for (int irr = 0; irr < 2; ++irr)
        for (int emp = 0; emp < 2; ++emp) {
          const std::size_t q = row(l, sector, irr, emp);
          const std::size_t g = unemployed.group(l, sector, irr, n_sectors), cls = clock.at(l, irr);
          const Exclusive<3>& kind = emp ? clock.kind[cls] : unemployed.kind[g];
          first_limit[q] = kind.limit[0];
          last_limit[q] = kind.limit[2];
          hire[q] = emp ? std::uint64_t{1} << 32 : unemployed.hire[g].limit;
          on_clock[q] = (irr == 0 || !regularisation_open[l]) && (emp || !unemployed.raised[g]) ? 1 : 0;
          any[q] = emp ? clock.any[cls] : unemployed.any[g];
          log_1mp[q] = emp ? clock.log_1mp[cls] : unemployed.log_1mp[g];
          wait[q] = emp ? &clock.wait[cls] : &unemployed.wait[g];
        }
}

namespace {

constexpr int kRegular = static_cast<int>(Status::Regular);
constexpr int kIrregular = static_cast<int>(Status::Irregular);

#ifdef MIGSIM_WOKEN_AVX512
// GCC 12 warns of an uninitialised value inside its own vector intrinsics (their
// _mm512_undefined_* operands; GCC bug 105593, fixed in GCC 13), as in philox_batch.cpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

/// Eight agents at a time in the 64-bit lanes of an AVX-512 register: their fields widened,
/// their rows computed, the row's limits gathered, and the answers as masks.
void classify_avx512(const WokenTable& table, const BusyAgents& a, std::int16_t t, std::uint8_t* quick,
                     std::uint8_t* job_change, std::uint16_t* row_after) {
  const __m512i sectors = _mm512_set1_epi64(table.sectors), regular = _mm512_set1_epi64(kRegular);
  const __m512i irregular = _mm512_set1_epi64(kIrregular), month = _mm512_set1_epi64(t);
  const __m512i none = _mm512_set1_epi64(kNone), one = _mm512_set1_epi64(1);
  const __m512i sector_mask = _mm512_set1_epi64(flag::kSectorMask);
  const auto* first = reinterpret_cast<const long long*>(table.first_limit.data());
  const auto* last = reinterpret_cast<const long long*>(table.last_limit.data());
  const auto* hire = reinterpret_cast<const long long*>(table.hire.data());
  const auto* on_clock = reinterpret_cast<const long long*>(table.on_clock.data());
  const auto bytes = [](const std::uint8_t* p) {
    return _mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  };
  for (std::size_t k = 0; k < a.n; k += 8) {
    const __mmask8 live = static_cast<__mmask8>(a.n - k >= 8 ? 0xff : (1u << (a.n - k)) - 1);
    const __m512i st = bytes(a.status + k), fl = bytes(a.flags + k), loc = bytes(a.location + k);
    const __m512i pw = bytes(a.pathway + k);
    const __m512i wk = _mm512_cvtepi16_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.wake + k)));
    const __m512i w0 = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.word0 + k)));
    const __m512i w1 = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.word1 + k)));
    const __mmask8 irr = _mm512_cmpeq_epi64_mask(st, irregular);
    const __mmask8 settled = static_cast<__mmask8>((_mm512_cmpeq_epi64_mask(st, regular) | irr) & live);
    // row = ((l * sectors + sector) * 2 + irregular) * 2 + employed, 0 for the others (a row
    // that exists: their lanes gather from it and are dropped).
    const __m512i emp = _mm512_and_si512(_mm512_srli_epi64(fl, 3), one);
    __m512i q = _mm512_add_epi64(_mm512_mul_epu32(loc, sectors), _mm512_and_si512(fl, sector_mask));
    q = _mm512_add_epi64(q, q);
    q = _mm512_mask_add_epi64(q, irr, q, one);
    q = _mm512_add_epi64(_mm512_add_epi64(q, q), emp);
    q = _mm512_maskz_mov_epi64(settled, q);
    const __m512i lo = _mm512_i64gather_epi64(q, first, 8), hi = _mm512_i64gather_epi64(q, last, 8);
    const __m512i h = _mm512_i64gather_epi64(q, hire, 8), ok = _mm512_i64gather_epi64(q, on_clock, 8);
    const __mmask8 below = _mm512_cmplt_epu64_mask(w0, lo), nothing = _mm512_cmpge_epu64_mask(w0, hi);
    const __mmask8 mine = static_cast<__mmask8>(settled & _mm512_cmpeq_epi64_mask(wk, month) &
                                                _mm512_test_epi64_mask(ok, ok) &
                                                (~irr | _mm512_cmpeq_epi64_mask(pw, none)) & (below | nothing));
    const __mmask8 change = static_cast<__mmask8>(mine & below & _mm512_cmplt_epu64_mask(w1, h));
    quick[k / 8] = mine;
    job_change[k / 8] = change;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row_after + k), _mm512_cvtepi64_epi16(_mm512_mask_xor_epi64(q, change, q, one)));
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

#ifdef MIGSIM_WOKEN_AVX2
/// Four agents at a time in the 64-bit lanes of an AVX2 register, as classify_avx512 does;
/// masks are lanes of all ones. Every value compared (words below 2^32, limits at most 2^32)
/// is positive as a signed 64-bit number, so AVX2's signed comparison serves.
void classify_avx2(const WokenTable& table, const BusyAgents& a, std::int16_t t, std::uint64_t* quick,
                   std::uint64_t* job_change, std::uint16_t* row_after) {
  const __m256i sectors = _mm256_set1_epi64x(table.sectors), regular = _mm256_set1_epi64x(kRegular);
  const __m256i irregular = _mm256_set1_epi64x(kIrregular), month = _mm256_set1_epi64x(t);
  const __m256i none = _mm256_set1_epi64x(kNone), one = _mm256_set1_epi64x(1), zero = _mm256_setzero_si256();
  const __m256i sector_mask = _mm256_set1_epi64x(flag::kSectorMask), lane = _mm256_setr_epi64x(0, 1, 2, 3);
  const auto* first = reinterpret_cast<const long long*>(table.first_limit.data());
  const auto* last = reinterpret_cast<const long long*>(table.last_limit.data());
  const auto* hire = reinterpret_cast<const long long*>(table.hire.data());
  const auto* on_clock = reinterpret_cast<const long long*>(table.on_clock.data());
  const auto bytes = [](const std::uint8_t* p) {
    int four;
    std::memcpy(&four, p, sizeof four);
    return _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(four));
  };
  for (std::size_t k = 0; k < a.n; k += 4) {
    const __m256i live = _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(a.n - k)), lane);
    const __m256i st = bytes(a.status + k), fl = bytes(a.flags + k), loc = bytes(a.location + k);
    const __m256i pw = bytes(a.pathway + k);
    const __m256i wk = _mm256_cvtepi16_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a.wake + k)));
    const __m256i w0 = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.word0 + k)));
    const __m256i w1 = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.word1 + k)));
    const __m256i irr = _mm256_cmpeq_epi64(st, irregular);
    const __m256i settled = _mm256_and_si256(_mm256_or_si256(_mm256_cmpeq_epi64(st, regular), irr), live);
    const __m256i emp = _mm256_and_si256(_mm256_srli_epi64(fl, 3), one);
    __m256i q = _mm256_add_epi64(_mm256_mul_epu32(loc, sectors), _mm256_and_si256(fl, sector_mask));
    q = _mm256_add_epi64(_mm256_add_epi64(q, q), _mm256_and_si256(irr, one));
    q = _mm256_add_epi64(_mm256_add_epi64(q, q), emp);
    q = _mm256_and_si256(q, settled);
    const __m256i lo = _mm256_i64gather_epi64(first, q, 8), hi = _mm256_i64gather_epi64(last, q, 8);
    const __m256i h = _mm256_i64gather_epi64(hire, q, 8), ok = _mm256_i64gather_epi64(on_clock, q, 8);
    const __m256i below = _mm256_cmpgt_epi64(lo, w0), before_last = _mm256_cmpgt_epi64(hi, w0);
    // settled & woke & on its clock & (regular or nothing pending) & (below or not before last)
    __m256i mine = _mm256_and_si256(settled, _mm256_cmpeq_epi64(wk, month));
    mine = _mm256_andnot_si256(_mm256_cmpeq_epi64(ok, zero), mine);
    mine = _mm256_andnot_si256(_mm256_andnot_si256(_mm256_cmpeq_epi64(pw, none), irr), mine);
    mine = _mm256_and_si256(mine, _mm256_or_si256(below, _mm256_xor_si256(before_last, _mm256_cmpeq_epi64(zero, zero))));
    const __m256i change = _mm256_and_si256(_mm256_and_si256(mine, below), _mm256_cmpgt_epi64(h, w1));
    const auto bits = [](__m256i m) {
      return static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_castsi256_pd(m)));
    };
    quick[k / 64] |= bits(mine) << (k % 64);
    job_change[k / 64] |= bits(change) << (k % 64);
    alignas(32) std::int64_t rows[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(rows), _mm256_xor_si256(q, _mm256_and_si256(change, one)));
    for (int j = 0; j < 4; ++j) row_after[k + static_cast<std::size_t>(j)] = static_cast<std::uint16_t>(rows[j]);
  }
}
#endif

/// The same, one agent at a time: those not settled, or whose clock did not wake, skipped at
/// once (a branch, cheaper here than computing their row); the rest without branches.
[[maybe_unused]] void classify_portable(const WokenTable& table, const BusyAgents& a, std::int16_t t,
                                        std::uint64_t* quick, std::uint64_t* job_change, std::uint16_t* row_after) {
  for (std::size_t k = 0; k < a.n; ++k) {
    const int st = a.status[k], fl = a.flags[k];
    if ((st != kRegular && st != kIrregular) || a.wake[k] != t) continue;
    const int irr = st == kIrregular;
    const std::size_t q = table.row(a.location[k], fl & flag::kSectorMask, irr, (fl & flag::kEmployed) ? 1 : 0);
    const std::uint64_t w0 = a.word0[k], w1 = a.word1[k];
    const int below = w0 < table.first_limit[q], nothing = w0 >= table.last_limit[q];
    const int mine = (table.on_clock[q] != 0) & ((irr ^ 1) | (a.pathway[k] == kNone)) & (below | nothing);
    const int change = mine & below & (w1 < table.hire[q]);
    quick[k / 64] |= static_cast<std::uint64_t>(mine) << (k % 64);
    job_change[k / 64] |= static_cast<std::uint64_t>(change) << (k % 64);
    row_after[k] = static_cast<std::uint16_t>(q ^ static_cast<std::size_t>(change));
  }
}

}  // namespace

void classify_woken(const WokenTable& table, const BusyAgents& agents, std::int16_t t, std::uint64_t* quick,
                    std::uint64_t* job_change, std::uint16_t* row_after) {
  const std::size_t words = (agents.n + 63) / 64;
  for (std::size_t w = 0; w < words; ++w) quick[w] = job_change[w] = 0;
#ifdef MIGSIM_WOKEN_AVX512
  // Eight bits a byte: byte k / 8 of the words is bits k - k % 8 on of word k / 64, x86
  // being little-endian.
  classify_avx512(table, agents, t, reinterpret_cast<std::uint8_t*>(quick), reinterpret_cast<std::uint8_t*>(job_change),
                  row_after);
#elif defined(MIGSIM_WOKEN_AVX2)
  classify_avx2(table, agents, t, quick, job_change, row_after);
#else
  classify_portable(table, agents, t, quick, job_change, row_after);
#endif
}

const char* classify_woken_kind() {
#if defined(MIGSIM_WOKEN_AVX512)
  return "avx512";
#elif defined(MIGSIM_WOKEN_AVX2)
  return "avx2";
#else
  return "portable";
#endif
}

}  // namespace migsim
