// Mechanism 6, labour market: unemployed settled migrants are matched to the vacancies
// open to migrants in their sector. A regular job seeker is hired with probability
// min(1, V / (R + m I)), an irregular one with m times that (m = irregular_match < 1),
// where V is the month's vacancies and R, I the regular and irregular job seekers (persons)
// at the start of the month; employed migrants lose their job at job_separation_rate.
#include <algorithm>

#include "model/tables.hpp"

namespace migsim {

void build_labour_tables(const TableInputs& in, MonthTables& out) {
  const Scenario& s = in.scenario;
  const Behaviour& b = s.behaviour;
  const int n = s.n_countries(), S = s.n_sectors();
  const double ppa = static_cast<double>(s.people_per_agent);
  out.hire.assign(static_cast<std::size_t>(n) * S * 2, Chance{});
  out.hire_p.assign(out.hire.size(), 0.0);
  out.employment_prospect.assign(static_cast<std::size_t>(n) * S, 0.0);
  out.separation.assign(n, Chance(b.job_separation_rate));
  for (int l = 0; l < n; ++l) {
    for (int sec = 0; sec < S; ++sec) {
      const double regular = ppa * double(in.counts[in.layout.labour_at(l, sec, 0, 0)]);
      const double irregular = ppa * double(in.counts[in.layout.labour_at(l, sec, 1, 0)]);
      const double vacancies = in.drivers.vacancies[static_cast<std::size_t>(l) * S + sec];
      const double seekers = regular + b.irregular_match * irregular;
      const double h = seekers > 0 ? std::min(1.0, vacancies / seekers) : (vacancies > 0 ? 1.0 : 0.0);
      const std::size_t i = static_cast<std::size_t>(l) * S + sec;
      out.hire[i * 2 + 0] = Chance(h);
      out.hire[i * 2 + 1] = Chance(b.irregular_match * h);
      out.hire_p[i * 2 + 0] = h;
      out.hire_p[i * 2 + 1] = std::min(1.0, b.irregular_match * h);
      const double denom = h + b.job_separation_rate;
      out.employment_prospect[i] = denom > 0 ? h / denom : 0.0;
    }
  }
}

}  // namespace migsim
