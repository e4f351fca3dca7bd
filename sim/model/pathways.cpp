// Mechanism 4, pathways: which pathway an aspirant from origin o in sector s would apply to
// at destination d (the open, eligible pathway with the best expected admission; ties to
// the first listed), and this month's lottery: when a pathway's pending applications
// exceed its monthly quota, the quota's worth of applicants with the smallest lottery
// tickets are admitted (a uniform random subset of exactly that size); otherwise all are.
#include <algorithm>

#include "model/tables.hpp"

namespace migsim {

namespace {

bool ticket_less(const Ticket& a, const Ticket& b) {
  if (a.pathway != b.pathway) return a.pathway < b.pathway;
  if (a.ticket != b.ticket) return a.ticket < b.ticket;
  return a.id < b.id;
}

}  // namespace

void build_pathway_tables(const TableInputs& in, MonthTables& out) {
  const Scenario& s = in.scenario;
  const int n = s.n_countries(), O = s.n_origins(), S = s.n_sectors();
  const int P = static_cast<int>(s.pathways.size());
  const std::int64_t ppa = s.people_per_agent;

  out.quota.assign(P, -1);
  out.pool.assign(P, 0);
  out.processing.assign(P, 0);
  out.fewest_processing.assign(P, 0);
  for (int p = 0; p < P; ++p) out.fewest_processing[p] = s.pathways[p].processing_months;
  for (const Event& e : s.events)
    if (e.target == Event::Target::Pathway && e.field == Event::Field::ProcessingMonths)
      out.fewest_processing[e.index] = std::min(out.fewest_processing[e.index], static_cast<std::int32_t>(e.value));
  out.pathway_open.assign(P, 0);
  out.take_up.assign(P, Chance{});
  out.presence_before.assign(P, 1 << 30);
  out.lottery.assign(P, LotteryRule{});
  out.regularisations.assign(n, {});
  for (const auto& part : in.tickets)
    for (const Ticket& t : part) ++out.pool[t.pathway];
  out.regularisation_open.assign(n, 0);

  // This month's quotas, then the lottery: for each capped pathway with more pending
  // applications than seats, the seats-th smallest (ticket, id) is the cut (nth_element on
  // that pathway's tickets only; no full sort).
  std::vector<std::int64_t> seats(P, -1);  // -1: everyone admitted
  for (int p = 0; p < P; ++p) {
    const Pathway& pw = s.pathways[p];
    const bool open = in.policy.pathway_open(s, p, in.month);
    out.pathway_open[p] = open ? 1 : 0;
    out.quota[p] = in.policy.quota_at(s, p, in.month);
    out.processing[p] = in.policy.processing_months[p];
    out.take_up[p] = Chance(pw.take_up);
    if (pw.presence_before) out.presence_before[p] = *pw.presence_before - s.start;
    if (open && pw.kind == PathwayKind::Regularisation && out.quota[p] != 0) {
      out.regularisations[pw.country].push_back(static_cast<std::uint8_t>(p));
      out.regularisation_open[pw.country] = 1;
    }
    if (out.quota[p] >= 0) {
      const std::int64_t agents = (out.quota[p] + ppa / 2) / ppa;
      if (agents < out.pool[p]) seats[p] = agents;
    }
  }
  std::vector<std::vector<Ticket>> drawn(P);
  for (int p = 0; p < P; ++p)
    if (seats[p] > 0) drawn[p].reserve(static_cast<std::size_t>(out.pool[p]));
  for (const auto& part : in.tickets)
    for (const Ticket& t : part)
      if (seats[t.pathway] > 0) drawn[t.pathway].push_back(t);
  for (int p = 0; p < P; ++p) {
    LotteryRule& rule = out.lottery[p];
    if (seats[p] < 0) {
      rule.mode = LotteryRule::All;
    } else if (seats[p] == 0) {
      rule.mode = LotteryRule::None;
    } else {
      auto& v = drawn[p];
      const auto cut = v.begin() + static_cast<std::ptrdiff_t>(seats[p] - 1);
      std::nth_element(v.begin(), cut, v.end(), ticket_less);
      rule = LotteryRule{LotteryRule::Below, cut->ticket, cut->id};
    }
  }

  // Best pathway per (destination, origin, sector), for entry from abroad and for people
  // passing through (in-country applications).
  const std::size_t cells = static_cast<std::size_t>(n) * O * S;
  out.entry_pathway.assign(cells, kNone);
  out.admission_chance.assign(cells, 0.0);
  out.stay_pathway.assign(cells, kNone);
  std::vector<double> stay_chance(cells, 0.0);
  for (int p = 0; p < P; ++p) {
    const Pathway& pw = s.pathways[p];
    if (!out.pathway_open[p] || out.quota[p] == 0 || pw.kind == PathwayKind::Regularisation) continue;
    const double pool_persons = double(out.pool[p] * ppa);
    const double chance = out.quota[p] < 0 || pool_persons <= double(out.quota[p])
                              ? 1.0
                              : double(out.quota[p]) / pool_persons;
    for (int o = 0; o < O; ++o) {
      if (!pw.origin_ok[o] || o == pw.country) continue;
      for (int sec = 0; sec < S; ++sec) {
        if (!pw.sector_ok[sec]) continue;
        const std::size_t i = out.dos(pw.country, o, sec);
        if (pw.applies_from != AppliesFrom::InCountry && chance > out.admission_chance[i]) {
          out.admission_chance[i] = chance;
          out.entry_pathway[i] = static_cast<std::uint8_t>(p);
        }
        if (pw.applies_from != AppliesFrom::Abroad && chance > stay_chance[i]) {
          stay_chance[i] = chance;
          out.stay_pathway[i] = static_cast<std::uint8_t>(p);
        }
      }
    }
  }
}

}  // namespace migsim
