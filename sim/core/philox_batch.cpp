#include "core/philox_batch.hpp"

namespace migsim {

namespace {
// Random123's Philox4x32 constants.
constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
}  // namespace

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void random_blocks(std::uint64_t seed, std::uint32_t month, Purpose purpose, const std::uint32_t* ids,
                   std::size_t n, std::uint32_t* out) {
  const auto key0 = static_cast<std::uint32_t>(seed), key1 = static_cast<std::uint32_t>(seed >> 32);
  const auto p = static_cast<std::uint32_t>(purpose);
  std::uint32_t* __restrict o0 = out;
  std::uint32_t* __restrict o1 = out + n;
  std::uint32_t* __restrict o2 = out + 2 * n;
  std::uint32_t* __restrict o3 = out + 3 * n;
  for (std::size_t k = 0; k < n; ++k) {
    std::uint32_t c0 = ids[k], c1 = month, c2 = p, c3 = 0;
    std::uint32_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
      const std::uint64_t prod0 = std::uint64_t{kM0} * c0;
      const std::uint64_t prod1 = std::uint64_t{kM1} * c2;
      const auto hi0 = static_cast<std::uint32_t>(prod0 >> 32), lo0 = static_cast<std::uint32_t>(prod0);
      const auto hi1 = static_cast<std::uint32_t>(prod1 >> 32), lo1 = static_cast<std::uint32_t>(prod1);
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
      k0 += kW0;
      k1 += kW1;
    }
    o0[k] = c0;
    o1[k] = c1;
    o2[k] = c2;
    o3[k] = c3;
  }
}

}  // namespace migsim
