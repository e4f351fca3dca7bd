#pragma once
/// @file routes.hpp
/// Mechanism 5's route graph: for every (from, to) pair, the next edge of the irregular
/// route and the route's totals. Migrants take the route with the fewest travel months;
/// ties go to the lower summed risk (mortality + interception), then the lower country
/// index. Rebuilt when an event changes a route.

#include <cstdint>
#include <vector>

#include "model/policy.hpp"
#include "scenario/scenario.hpp"

namespace migsim {

struct RouteTable {
  int n = 0;                           ///< countries
  std::vector<std::int32_t> next_edge;  ///< [from * n + to]: edge index, or -1 (none / same)
  std::vector<std::uint8_t> next_node;  ///< [from * n + to]
  std::vector<double> death;  ///< probability of dying on the way
  std::vector<double> pass;   ///< probability of arriving (not dying, not intercepted)
  std::vector<double> cost;   ///< $ per person
  std::vector<std::int32_t> months;

  void build(const Scenario& s, const PolicyState& p);
  bool reachable(int from, int to) const { return next_edge[from * n + to] >= 0; }
};

}  // namespace migsim
