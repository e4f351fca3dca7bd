#include "model/drivers.hpp"

namespace migsim {

void Drivers::compute(const Scenario& s, const PolicyState& p, Month m) {
  n = s.n_countries();
  sectors = s.n_sectors();
  population.resize(n);
  working_age.resize(n);
  gdp_pc.resize(n);
  unemployment.resize(n);
  crisis.resize(n);
  wage.resize(static_cast<std::size_t>(n) * sectors);
  vacancies.resize(static_cast<std::size_t>(n) * sectors);
  for (int c = 0; c < n; ++c) {
    const Country& k = s.countries[c];
    population[c] = k.population.at(m);
    working_age[c] = k.working_age.at(m);
    gdp_pc[c] = k.gdp_pc_ppp.at(m);
    unemployment[c] = k.unemployment.at(m);
    crisis[c] = p.crisis_override[c] >= 0 ? p.crisis_override[c] : k.crisis.at(m);
    for (int sec = 0; sec < sectors; ++sec) {
      const std::size_t i = static_cast<std::size_t>(c) * sectors + sec;
      wage[i] = gdp_pc[c] / 12.0 * k.wage_ratio[sec];
      vacancies[i] = k.vacancies[sec].at(m) * p.vacancy_factor[i];
    }
  }
}

}  // namespace migsim
