#pragma once
/// @file policy.hpp
/// Mechanism 9, policy events: the parameters a scenario can change at any month (open,
/// close or resize a pathway; a route's risk, enforcement, cost or duration; a country's
/// crisis index, deportation rate or sector labour demand). Events dated month t take effect
/// at the start of month t, before the month's other mechanisms.

#include <cstdint>
#include <vector>

#include "scenario/scenario.hpp"

namespace migsim {

struct PolicyState {
  // Pathways.
  std::vector<std::int8_t> open_override;  ///< -1: follow open/close dates; 0 closed; 1 open
  std::vector<std::int64_t> quota;         ///< persons per month; -1 = no cap
  std::vector<std::int32_t> processing_months;
  std::vector<double> pathway_cost;
  // Routes.
  std::vector<double> mortality, interception, route_cost;
  std::vector<std::int32_t> route_months;
  // Countries.
  std::vector<double> crisis_override;  ///< < 0: follow the crisis series
  std::vector<double> deportation_rate;
  std::vector<double> vacancy_factor;  ///< [country * sectors + sector]
  std::uint32_t next_event = 0;        ///< index of the first event not yet applied

  static PolicyState initial(const Scenario& s);
  /// Applies every event dated up to `m` not yet applied, in file order. Returns true if
  /// a route changed (the route table must be rebuilt).
  bool apply_events(const Scenario& s, Month m);
  bool pathway_open(const Scenario& s, int p, Month m) const;
  /// The pathway's monthly quota at month m: -1 (no cap), or persons; 0 when closed.
  std::int64_t quota_at(const Scenario& s, int p, Month m) const;
};

}  // namespace migsim
