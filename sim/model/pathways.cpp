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

std::vector<std::int64_t> ticket_counts(const std::vector<std::vector<Ticket>>& tickets, int pathways) {
  std::vector<std::int64_t> count(static_cast<std::size_t>(pathways) * kTicketBytes, 0);
  for (const auto& part : tickets)
    for (const Ticket& t : part) ++count[static_cast<std::size_t>(t.pathway) * kTicketBytes + (t.ticket >> 56)];
  return count;
}

// Without copying every ticket: the counts find the top byte of a pathway's cut and the cut's
// rank among the pathway's tickets with that byte (about 1/256 of them, tickets being uniform
// 64-bit words); only those are copied and partly sorted. The pathway's tickets with a
// smaller top byte are all smaller, those with a larger one all larger: the same cut as
// nth_element over all of them. Copying every ticket of the lotteries' pathways and selecting
// among them made the pathway tables 13-18 ms of a 24-month run at 10M agents (2 threads),
// against 4-5 now (docs/performance.md, eighteenth session).
void draw_lotteries(const std::vector<std::vector<Ticket>>& tickets, const std::vector<std::int64_t>& counts,
                    const std::vector<std::int64_t>& seats, std::vector<LotteryRule>& lottery) {
  const std::size_t P = seats.size();
  lottery.assign(P, LotteryRule{});
  std::vector<int> cut_byte(P, -1);  // -1 (no byte) where there is no lottery
  std::vector<std::int64_t> cut_rank(P, 0);
  std::vector<std::vector<Ticket>> near(P);
  bool any = false;
  for (std::size_t p = 0; p < P; ++p) {
    if (seats[p] < 0) {
      lottery[p].mode = LotteryRule::All;
    } else if (seats[p] == 0) {
      lottery[p].mode = LotteryRule::None;
    } else {
      const std::int64_t* row = &counts[p * kTicketBytes];
      std::int64_t rank = seats[p] - 1;  // from 0, below the row's sum
      int byte = 0;
      while (rank >= row[byte]) rank -= row[byte++];
      cut_byte[p] = byte;
      cut_rank[p] = rank;
      near[p].reserve(static_cast<std::size_t>(row[byte]));
      any = true;
    }
  }
  if (!any) return;
  // One test a ticket, true about once in 256 (testing first whether its pathway has a
  // lottery, a coin toss to the branch predictor, took 5-5.6 ms of those 24 months).
  for (const auto& part : tickets)
    for (const Ticket& t : part)
      if (static_cast<int>(t.ticket >> 56) == cut_byte[t.pathway]) near[t.pathway].push_back(t);
  for (std::size_t p = 0; p < P; ++p) {
    if (seats[p] <= 0) continue;
    auto& v = near[p];
    const auto cut = v.begin() + static_cast<std::ptrdiff_t>(cut_rank[p]);
    std::nth_element(v.begin(), cut, v.end(), ticket_less);
    lottery[p] = LotteryRule{LotteryRule::Below, cut->ticket, cut->id};
  }
}

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
  out.regularisations.assign(n, {});
  const std::vector<std::int64_t> count = ticket_counts(in.tickets, P);
  for (int p = 0; p < P; ++p)
    for (int byte = 0; byte < kTicketBytes; ++byte) out.pool[p] += count[static_cast<std::size_t>(p) * kTicketBytes + byte];
  out.regularisation_open.assign(n, 0);

  // This month's quotas, then the lottery: for each capped pathway with more pending
  // applications than seats, the seats-th smallest (ticket, id) of its tickets is the cut.
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
  draw_lotteries(in.tickets, count, seats, out.lottery);

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
