#pragma once
/// @file drivers.hpp
/// Mechanism 1, drivers: each country's exogenous series at one month (interpolated from
/// the scenario's points), with the policy state's overrides applied.

#include <vector>

#include "model/policy.hpp"
#include "scenario/scenario.hpp"

namespace migsim {

struct Drivers {
  int n = 0, sectors = 0;
  std::vector<double> population;    ///< persons
  std::vector<double> working_age;   ///< persons aged 15-64
  std::vector<double> gdp_pc;        ///< $ PPP per person per year
  std::vector<double> unemployment;  ///< share, 0..1
  std::vector<double> crisis;        ///< 0..1
  std::vector<double> wage;          ///< [c * sectors + s]: $ PPP per month
  std::vector<double> vacancies;     ///< [c * sectors + s]: persons per month open to migrants

  void compute(const Scenario& s, const PolicyState& p, Month m);
};

}  // namespace migsim
