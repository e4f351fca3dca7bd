// The model's storage helpers (agents.hpp): UninitArray keeps its block while it does not
// grow, and gives blocks of 1 MiB or more 2 MiB alignment (the huge-page hint needs it).
#include <doctest/doctest.h>

#include <cstdint>

#include "model/agents.hpp"

using namespace migsim;

TEST_CASE("UninitArray keeps its block and values while it does not grow") {
  UninitArray<double> a;
  CHECK(a.size() == 0);
  a.resize(1000);
  CHECK(a.size() == 1000);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = double(i) * 0.5;
  double* const first = a.data();
  a.resize(10);  // smaller: same block, first values kept
  CHECK(a.size() == 10);
  CHECK(a.data() == first);
  a.resize(1000);  // back within the capacity
  CHECK(a.data() == first);
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == double(i) * 0.5);
}

TEST_CASE("UninitArray: large blocks are 2 MiB aligned; growing gives a block of the new size") {
  UninitArray<std::uint64_t> a;
  const std::size_t n = (std::size_t{3} << 20) / sizeof(std::uint64_t);  // 3 MiB
  a.resize(n);
  CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % (std::uintptr_t{2} << 20) == 0);
  a[n - 1] = 7;  // the whole block is usable
  a.resize(2 * n);
  CHECK(a.size() == 2 * n);
  a[2 * n - 1] = 9;
  CHECK(a[2 * n - 1] == 9);
}
