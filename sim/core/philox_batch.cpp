#include "core/philox_batch.hpp"

namespace migsim {

namespace {
// Random123's Philox4x32 constants.
constexpr std::uint64_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr std::uint64_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
}  // namespace

void random_blocks(std::uint64_t seed, std::uint32_t month, Purpose purpose, const std::uint32_t* __restrict ids,
                   std::size_t n, std::uint32_t* out) {
  const auto key0 = static_cast<std::uint32_t>(seed), key1 = static_cast<std::uint32_t>(seed >> 32);
  const auto p = static_cast<std::uint32_t>(purpose);
  std::uint32_t* __restrict o0 = out;
  std::uint32_t* __restrict o1 = out + n;
  std::uint32_t* __restrict o2 = out + 2 * n;
  std::uint32_t* __restrict o3 = out + 3 * n;
  // The state lives in 64-bit lanes holding 32-bit values, so that each 32 x 32 -> 64-bit
  // product is one vector multiply with no repacking of lanes.
  constexpr std::uint64_t kLow = 0xFFFFFFFFu;
  for (std::size_t k = 0; k < n; ++k) {
    std::uint64_t c0 = ids[k], c1 = month, c2 = p, c3 = 0;
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

}  // namespace migsim
