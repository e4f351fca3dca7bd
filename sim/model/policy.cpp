#include "model/policy.hpp"

#include <cmath>

namespace migsim {

PolicyState PolicyState::initial(const Scenario& s) {
  PolicyState p;
  for (const auto& pw : s.pathways) {
    p.open_override.push_back(-1);
    p.quota.push_back(pw.quota ? *pw.quota : -1);
    p.processing_months.push_back(pw.processing_months);
    p.pathway_cost.push_back(pw.cost);
  }
  for (const auto& r : s.routes) {
    p.mortality.push_back(r.mortality);
    p.interception.push_back(r.interception);
    p.route_cost.push_back(r.cost);
    p.route_months.push_back(r.months);
  }
  for (const auto& c : s.countries) {
    p.crisis_override.push_back(-1.0);
    p.deportation_rate.push_back(c.deportation_rate);
  }
  p.vacancy_factor.assign(s.countries.size() * s.sectors.size(), 1.0);
  return p;
}

bool PolicyState::apply_events(const Scenario& s, Month m) {
  bool routes_changed = false;
  while (next_event < s.events.size() && s.events[next_event].date <= m) {
    const Event& e = s.events[next_event++];
    const auto i = static_cast<std::size_t>(e.index);
    switch (e.field) {
      case Event::Field::Open: open_override[i] = e.value > 0 ? 1 : 0; break;
      case Event::Field::Quota: quota[i] = e.value < 0 ? -1 : std::llround(e.value); break;
      case Event::Field::ProcessingMonths: processing_months[i] = static_cast<std::int32_t>(e.value); break;
      case Event::Field::Cost:
        if (e.target == Event::Target::Pathway) pathway_cost[i] = e.value;
        else {
          route_cost[i] = e.value;
          routes_changed = true;
        }
        break;
      case Event::Field::Mortality: mortality[i] = e.value; routes_changed = true; break;
      case Event::Field::Interception: interception[i] = e.value; routes_changed = true; break;
      case Event::Field::Months: route_months[i] = static_cast<std::int32_t>(e.value); routes_changed = true; break;
      case Event::Field::Crisis: crisis_override[i] = e.value; break;
      case Event::Field::DeportationRate: deportation_rate[i] = e.value; break;
      case Event::Field::VacancyFactor: {
        const std::size_t S = s.sectors.size();
        for (std::size_t k = 0; k < S; ++k)
          if (e.sector < 0 || static_cast<std::size_t>(e.sector) == k) vacancy_factor[i * S + k] = e.value;
        break;
      }
    }
  }
  return routes_changed;
}

bool PolicyState::pathway_open(const Scenario& s, int p, Month m) const {
  const auto i = static_cast<std::size_t>(p);
  if (open_override[i] >= 0) return open_override[i] == 1;
  const Pathway& pw = s.pathways[i];
  return m >= pw.open && (!pw.close || m <= *pw.close);
}

std::int64_t PolicyState::quota_at(const Scenario& s, int p, Month m) const {
  if (!pathway_open(s, p, m)) return 0;
  return quota[static_cast<std::size_t>(p)];
}

}  // namespace migsim
