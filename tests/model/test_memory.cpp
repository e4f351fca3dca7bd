// The model's storage helpers (agents.hpp): UninitArray keeps its block while it does not
// grow, and gives blocks of 1 MiB or more 2 MiB alignment (the huge-page hint needs it);
// AgentArray keeps its values when it grows although it does not zero new elements.
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

TEST_CASE("AgentArray: growing past its capacity keeps the values it held, in a 2 MiB aligned block") {
  // AgentAllocator default-initialises new elements instead of zeroing them, but must move
  // the old ones across a reallocation like any allocator.
  AgentArray<std::uint32_t> v;
  for (std::uint32_t k = 0; k < 1000; ++k) v.push_back(k * 2654435761u);
  const std::uint32_t* const before = v.data();
  const std::size_t n = (std::size_t{3} << 20) / sizeof(std::uint32_t);  // 3 MiB: the huge-page path
  v.resize(n);
  CHECK(v.data() != before);
  CHECK(reinterpret_cast<std::uintptr_t>(v.data()) % (std::uintptr_t{2} << 20) == 0);
  std::size_t changed = 0;
  for (std::uint32_t k = 0; k < 1000; ++k) changed += v[k] != k * 2654435761u;
  CHECK(changed == 0);
  v.resize(2 * n);  // and again, from one large block to another
  changed = 0;
  for (std::uint32_t k = 0; k < 1000; ++k) changed += v[k] != k * 2654435761u;
  CHECK(changed == 0);
}
