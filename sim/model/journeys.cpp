// Mechanism 5, irregular journeys: the outcome of crossing each route edge this month
// (death, interception, or arrival on the other side) and the chance that a migrant
// passing through a country with an in-country pathway stays there to apply. The monthly
// chance of departing irregularly is part of the choice tables (choice.cpp), because it
// shares the choice's utilities.
#include "model/tables.hpp"

namespace migsim {

void build_journey_tables(const TableInputs& in, MonthTables& out) {
  const auto R = in.scenario.routes.size();
  out.edge_outcome.resize(R);
  for (std::size_t e = 0; e < R; ++e) {
    out.edge_outcome[e] = Exclusive<2>::from({in.policy.mortality[e], in.policy.interception[e]});
  }
  out.transit_stay = Chance(in.scenario.behaviour.transit_stay);
}

}  // namespace migsim
