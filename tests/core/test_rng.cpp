#include <doctest/doctest.h>

#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <cmath>
#include <set>
#include <vector>

#include "core/rng.hpp"

using namespace migsim;

TEST_CASE("a draw depends only on (seed, month, id, purpose)") {
  const auto a = random_block(42, 3, 1000, Purpose::Settled);
  CHECK(a == random_block(42, 3, 1000, Purpose::Settled));
  CHECK(a != random_block(43, 3, 1000, Purpose::Settled));
  CHECK(a != random_block(42, 4, 1000, Purpose::Settled));
  CHECK(a != random_block(42, 3, 1001, Purpose::Settled));
  CHECK(a != random_block(42, 3, 1000, Purpose::Aspire));
  // Seeds differing only in their high 32 bits give different streams.
  CHECK(random_block(1, 0, 0, Purpose::Settled) != random_block(1 + (std::uint64_t{1} << 32), 0, 0, Purpose::Settled));
}

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vector") {
  // Random123's kat_vectors: philox4x32 10 rounds, ctr = 0, key = 0.
  const Philox::ctr_type ctr = {{0, 0, 0, 0}};
  const Philox::key_type key = {{0, 0}};
  const auto out = Philox()(ctr, key);
  CHECK(out.v[0] == 0x6627e8d5u);
  CHECK(out.v[1] == 0xe169c58du);
  CHECK(out.v[2] == 0xbc57ac4cu);
  CHECK(out.v[3] == 0x9b00dbd8u);
}

TEST_CASE("the keyed stream continues block after block") {
  KeyedStream s(9, 1, 2, Purpose::Aspire);
  const auto b0 = random_block(9, 1, 2, Purpose::Aspire, 0);
  const auto b1 = random_block(9, 1, 2, Purpose::Aspire, 1);
  for (int k = 0; k < 4; ++k) CHECK(s() == b0[k]);
  for (int k = 0; k < 4; ++k) CHECK(s() == b1[k]);
}

TEST_CASE("Chance equals Boost's bernoulli_distribution on the same word") {
  struct OneWord {
    using result_type = std::uint32_t;
    std::uint32_t w;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return 0xffffffffu; }
    result_type operator()() { return w; }
  };
  const std::vector<double> ps = {0.0, 1e-12, 1e-9, 0.001, 0.25, 0.5, 0.75, 0.999999, 1.0 - 1e-12, 1.0, 2.0};
  for (double p : ps) {
    const Chance c(p);
    boost::random::bernoulli_distribution<double> b(std::min(p, 1.0));
    for (std::uint32_t k = 0; k < 20000; ++k) {
      const auto w = random_block(1, 0, k, Purpose::Settled)[0];
      OneWord eng{w};
      CAPTURE(p);
      CAPTURE(w);
      REQUIRE(c.happens(w) == b(eng));
    }
    // The edges: the largest word that passes and the smallest that does not.
    if (p > 0 && p < 1) {
      const auto edge = static_cast<std::uint32_t>(c.limit - 1);
      OneWord in{edge}, out{edge + 1};
      CHECK(c.happens(edge) == b(in));
      CHECK(c.happens(edge + 1) == b(out));
    }
  }
}

TEST_CASE("words are uniform (chi-square over 256 bins)") {
  // 2^20 words into 256 bins: chi-square with 255 degrees of freedom has mean 255 and
  // standard deviation sqrt(510) = 22.6; 255 + 6 sd = 390 fails with probability < 1e-8.
  std::vector<double> bins(256, 0.0);
  const int n = 1 << 18;
  for (int i = 0; i < n; ++i) {
    for (auto w : random_block(2024, 0, static_cast<std::uint32_t>(i), Purpose::Settled)) bins[w >> 24] += 1;
  }
  const double expected = 4.0 * n / 256;
  double chi2 = 0;
  for (double b : bins) chi2 += (b - expected) * (b - expected) / expected;
  CHECK(chi2 < 390);
  CHECK(chi2 > 140);  // 255 - 5 sd: too regular is as suspicious as too irregular
}

TEST_CASE("neighbouring ids are uncorrelated") {
  // Correlation of word 0 between agent i and i+1 over 2^16 pairs: sd = 1/sqrt(n) = 0.0039.
  const int n = 1 << 16;
  double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < n; ++i) {
    const double x = to_unit(random_block(5, 7, static_cast<std::uint32_t>(i), Purpose::Settled)[0]);
    const double y = to_unit(random_block(5, 7, static_cast<std::uint32_t>(i + 1), Purpose::Settled)[0]);
    sx += x; sy += y; sxy += x * y; sxx += x * x; syy += y * y;
  }
  const double cov = sxy / n - sx / n * sy / n;
  const double r = cov / std::sqrt((sxx / n - sx / n * sx / n) * (syy / n - sy / n * sy / n));
  CHECK(std::fabs(r) < 5.0 / std::sqrt(double(n)));
}

TEST_CASE("Boost distributions driven by the keyed stream are reproducible and right on average") {
  // Poisson(mean 50): the sample mean of 4000 draws has sd sqrt(50/4000) = 0.112.
  double sum = 0;
  for (std::uint32_t g = 0; g < 4000; ++g) {
    KeyedStream s(11, 0, g, Purpose::NewMovers);
    KeyedStream again(11, 0, g, Purpose::NewMovers);
    const auto a = boost::random::poisson_distribution<long long, double>(50.0)(s);
    CHECK(a == boost::random::poisson_distribution<long long, double>(50.0)(again));
    sum += double(a);
  }
  CHECK(std::fabs(sum / 4000 - 50.0) < 5 * 0.112);
}
