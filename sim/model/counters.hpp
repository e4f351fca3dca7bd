#pragma once
/// @file counters.hpp
/// Integer counters of one month: the changes to the state counts (so the stock is kept
/// up to date without recounting every agent) and the month's flows. Each thread fills its
/// own Counters; they are summed afterwards, and integer sums do not depend on the order.

#include <cstdint>
#include <vector>

namespace migsim {

inline constexpr int kArrivalKinds = 7;  ///< the six pathway kinds but regularisation, irregular, other
inline constexpr int kArrivalIrregular = 5;
inline constexpr int kArrivalOther = 6;
const char* arrival_kind_name(int k);

/// Offsets of each counter array in one contiguous block.
struct CounterLayout {
  int origins = 0, countries = 0, sectors = 0, pathways = 0, routes = 0;
  std::size_t stock = 0;         ///< [origin][location][status] agents (state)
  std::size_t labour = 0;        ///< [location][sector][irregular][employed] settled agents (state)
  std::size_t applications = 0;  ///< [pathway]
  std::size_t admissions = 0;    ///< [pathway]
  std::size_t arrivals = 0;      ///< [origin][location][arrival kind]
  std::size_t crossings = 0;     ///< [route]
  std::size_t route_deaths = 0;  ///< [route]
  std::size_t interceptions = 0; ///< [route]
  std::size_t hires = 0;         ///< [location][sector]
  std::size_t returns = 0;       ///< [origin][location]
  std::size_t deportations = 0;  ///< [origin][location]
  std::size_t natural_deaths = 0;  ///< [location]
  std::size_t onward = 0;        ///< [location]
  std::size_t gave_up = 0;       ///< [origin]
  std::size_t state_end = 0;     ///< stock and labour come first: [0, state_end) is state
  std::size_t total = 0;

  CounterLayout() = default;
  CounterLayout(int origins, int countries, int sectors, int pathways, int routes);

  std::size_t stock_at(int o, int l, int st) const {
    return stock + (static_cast<std::size_t>(o) * countries + l) * 6 + st;
  }
  std::size_t labour_at(int l, int s, int irregular, int employed) const {
    return labour + ((static_cast<std::size_t>(l) * sectors + s) * 2 + irregular) * 2 + employed;
  }
  std::size_t arrivals_at(int o, int l, int kind) const {
    return arrivals + (static_cast<std::size_t>(o) * countries + l) * kArrivalKinds + kind;
  }
  std::size_t hires_at(int l, int s) const { return hires + static_cast<std::size_t>(l) * sectors + s; }
  std::size_t pair_at(std::size_t base, int o, int l) const {
    return base + static_cast<std::size_t>(o) * countries + l;
  }
};

}  // namespace migsim
