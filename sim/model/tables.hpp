#pragma once
/// @file tables.hpp
/// What every agent of a group faces this month, computed once per month from the drivers,
/// the policy state and the start-of-month counts, before the agent pass: the agent pass
/// only looks values up. Each mechanism file (labour.cpp, choice.cpp, pathways.cpp,
/// exits.cpp) fills its own part.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.hpp"
#include "model/agents.hpp"
#include "model/counters.hpp"
#include "model/drivers.hpp"
#include "model/policy.hpp"
#include "model/routes.hpp"

namespace migsim {

/// Several mutually exclusive events decided by one 32-bit word: event k happens when the
/// word is below limit[k] and not below limit[k-1]; no event when it is above them all.
template <int N>
struct Exclusive {
  std::array<std::uint64_t, N> limit{};
  /// From probabilities (their sum is capped at 1).
  static Exclusive from(const std::array<double, N>& p) {
    Exclusive e;
    double cum = 0.0;
    for (int k = 0; k < N; ++k) {
      cum = std::min(1.0, cum + std::max(0.0, p[k]));
      e.limit[k] = static_cast<std::uint64_t>(cum * 4294967296.0);
    }
    return e;
  }
  /// The event index, or N for none.
  int pick(std::uint32_t word) const {
    for (int k = 0; k < N; ++k)
      if (word < limit[k]) return k;
    return N;
  }
};

/// Exits of settled migrants (mechanism 8), in this order.
enum ExitEvent : int { kExitDeath = 0, kExitDeported = 1, kExitReturn = 2, kExitOnward = 3, kNoExit = 4 };

/// Who wins a pathway's lottery this month (mechanism 4).
struct LotteryRule {
  enum Mode : std::uint8_t { All, None, Below } mode = All;
  std::uint64_t ticket = 0;  ///< with Below: admitted when (ticket, id) <= (this ticket, id)
  std::uint32_t id = 0;
};

/// A pending application's lottery ticket for the coming month.
struct Ticket {
  std::uint64_t ticket;
  std::uint32_t id;
  std::uint8_t pathway;
};

/// A lottery ticket from the month's Lottery block `w` (words 0 and 1).
inline std::uint64_t ticket_of(const std::array<std::uint32_t, 4>& w) { return (std::uint64_t{w[0]} << 32) | w[1]; }

/// The lottery ticket of agent `id` for month `month`.
inline std::uint64_t lottery_ticket(std::uint64_t seed, std::uint32_t month, std::uint32_t id) {
  return ticket_of(random_block(seed, month, id, Purpose::Lottery));
}

struct MonthTables {
  int n = 0, origins = 0, sectors = 0;

  // Mechanism 6: labour market.
  std::vector<Chance> hire;        ///< [(l * sectors + s) * 2 + irregular]
  std::vector<double> hire_p;      ///< the same as probabilities (for the unemployed's clocks)
  std::vector<Chance> separation;  ///< [l]
  std::vector<double> employment_prospect;  ///< [l * sectors + s]: steady-state employed share

  // Mechanism 3: destination choice, per group (location, origin, sector). A group's
  // cumulative weights and irregular-departure chances are computed the first time an
  // agent of the group needs them in the month (ensure_group), by whichever thread gets
  // there first: they are a pure function of the month's factors below, so the result
  // does not depend on the thread. choice_cdf and irregular are 1.3 MB each with 30
  // countries and 6 sectors. They are never zeroed (UninitArray): a group's values are
  // written before they are read, so their pages are mapped by the threads that compute the
  // groups. Zeroed whole on one thread in the first month, they took 7-10 ms of the 1M-agent
  // benchmark's 75-ms loop with 2 threads whenever the kernel had no free huge page.
  UninitArray<double> choice_cdf;       ///< [group * n + d]: cumulative choice weights (unnormalised)
  std::vector<std::uint8_t> choice_ok;  ///< [group]: at least one destination has weight
  std::vector<double> logsum;           ///< [group]: log sum of exp(utility)
  std::vector<double> home_utility;     ///< [origin * sectors + s] (countries only)
  struct ChoiceFactors {
    std::vector<double> income, income_log_max;       ///< [d * S + s], [s]
    std::vector<double> network, network_inv, network_log_max;  ///< [o * n + d], [o]
    std::vector<double> q, q_access, gain_inv;        ///< [(l * n + d) * S + s]
    /// A pathway's cost against the income at home: exp(-cost_weight x cost / y[l,s]), for
    /// each of the month's distinct positive costs, [(l * S + s) * costs + k]; a pathway's k
    /// in `pathway_cost_index` (-1 for no cost: a factor of 1).
    std::vector<double> pathway_afford;
    std::vector<int> pathway_cost_index;
    std::size_t costs = 0;
    const struct ChoiceConstants* constants = nullptr;
    double irregular_rate = 0, access_weight = 0;
  } factors;
  std::unique_ptr<std::atomic<std::uint8_t>[]> group_state;  ///< 0 to do, 1 being done, 2 ready
  std::size_t group_state_size = 0;
  void compute_group(std::size_t g);  // choice.cpp
  void ensure_group(std::size_t g) {
    auto& state = group_state[g];
    if (state.load(std::memory_order_acquire) == 2) return;
    std::uint8_t expected = 0;
    if (state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      compute_group(g);
      state.store(2, std::memory_order_release);
    } else {
      while (state.load(std::memory_order_acquire) != 2) {
      }
    }
  }

  // Mechanism 2: new movers' expected number per (origin, sector), persons.
  std::vector<double> mover_mean;  ///< [origin * sectors + s]

  // Mechanism 4: pathways.
  std::vector<std::uint8_t> entry_pathway;  ///< [(d * origins + o) * sectors + s]: pathway or kNone
  std::vector<double> admission_chance;     ///< same index: expected admission of that pathway
  std::vector<std::uint8_t> stay_pathway;   ///< same index: in-country pathway for transit stays
  std::vector<std::int64_t> quota;          ///< [p]: persons this month, -1 = no cap
  std::vector<LotteryRule> lottery;         ///< [p]
  std::vector<std::int64_t> pool;           ///< [p]: applications pending at the month's start (agents)
  std::vector<std::int32_t> processing;     ///< [p]
  /// [p]: the fewest processing months the pathway has at any time of the run (events
  /// included): an admitted migrant cannot travel sooner, and sleeps until then.
  std::vector<std::int32_t> fewest_processing;
  std::vector<std::uint8_t> pathway_open;   ///< [p]
  std::vector<std::vector<std::uint8_t>> regularisations;  ///< [l]: open regularisations there
  std::vector<std::uint8_t> regularisation_open;  ///< [l]: any open regularisation there
  std::vector<Chance> take_up;              ///< [p]
  std::vector<std::int32_t> presence_before;  ///< [p]: month index from the start

  // Mechanism 5: irregular journeys.
  UninitArray<Chance> irregular;  ///< [group * n + d]: departing irregularly this month
  std::vector<Exclusive<2>> edge_outcome;  ///< [route]: death, then interception
  Chance transit_stay;

  // Mechanism 8: exits, [((l * origins + o) * 2 + irregular) * 2 + long_unemployed].
  std::vector<Exclusive<4>> exits;
  /// Exits of an employed migrant whose clock woke for an exit candidate (clock.hpp): each
  /// exit's probability this month divided by the clock's exit bound; [(l * origins + o) * 2 + irregular].
  std::vector<Exclusive<4>> clock_exits;
  // Exits for an unemployed migrant whose clock woke: the hazards divided by the bound
  // ClockBounds::exit_unemployed, [((l * origins + o) * 2 + irregular) * 2 + long_unemployed].
  std::vector<Exclusive<4>> unemployed_clock_exits;

  std::size_t group(int l, int o, int s) const {
    return (static_cast<std::size_t>(l) * origins + o) * sectors + s;
  }
  /// Destination for a uniform draw u in [0, 1): inversion of the group's cumulative weights.
  int choose(std::size_t g, double u) const {
    const double* cdf = &choice_cdf[g * static_cast<std::size_t>(n)];
    const double x = u * cdf[n - 1];
    int d = 0;
    while (d < n - 1 && !(x < cdf[d])) ++d;
    return d;
  }
  std::size_t dos(int d, int o, int s) const {
    return (static_cast<std::size_t>(d) * origins + o) * sectors + s;
  }
};

struct ClockBounds;

/// The inputs every table builder reads.
struct TableInputs {
  const Scenario& scenario;
  const PolicyState& policy;
  const Drivers& drivers;
  const RouteTable& routes;
  const CounterLayout& layout;
  const std::vector<std::int64_t>& counts;  ///< state counts at the start of the month
  /// Pending applications' tickets for this month, in parts (one per thread of the last
  /// pass; one after a restore or a gather across ranks). Their order does not matter.
  const std::vector<std::vector<Ticket>>& tickets;
  const ClockBounds& clock;
  Month month;
  int t;  ///< months since the start
};

/// Terms of the choice utilities that do not change during a run (choice.cpp).
struct ChoiceConstants {
  int n = 0;
  std::vector<double> distance;  ///< [l * n + d]: exp(-distance_weight ln(dist / 1000 km)) / max over d
  std::vector<double> distance_log_max;  ///< [l]: the max taken out
  std::vector<double> language;  ///< [o * n + d]: exp(language_weight [common]) / max
  double language_log_max = 0;
  void build(const Scenario& s);
};

/// The lottery (pathways.cpp), in two steps that tests call too. First the pending tickets
/// counted by pathway and by their top byte, [p * kTicketBytes + (ticket >> 56)]; then each
/// pathway's rule from its seats: everyone admitted where seats[p] < 0, no one where 0, and
/// otherwise (seats[p] below its tickets) those whose (ticket, id) is at most the seats[p]-th
/// smallest of its tickets.
inline constexpr int kTicketBytes = 256;
std::vector<std::int64_t> ticket_counts(const std::vector<std::vector<Ticket>>& tickets, int pathways);
void draw_lotteries(const std::vector<std::vector<Ticket>>& tickets, const std::vector<std::int64_t>& counts,
                    const std::vector<std::int64_t>& seats, std::vector<LotteryRule>& lottery);

void build_labour_tables(const TableInputs& in, MonthTables& out);      // labour.cpp
void build_pathway_tables(const TableInputs& in, MonthTables& out);     // pathways.cpp
void build_choice_tables(const TableInputs& in, const ChoiceConstants& k, MonthTables& out);  // choice.cpp
/// x^w as std::pow computes it, without calling it when w is 1 (choice.cpp).
double access_power(double x, double w);
void build_exit_tables(const TableInputs& in, MonthTables& out);        // exits.cpp
void build_journey_tables(const TableInputs& in, MonthTables& out);     // journeys.cpp

}  // namespace migsim
