#pragma once
/// @file model.hpp
/// The model's state and its monthly step. A step runs MODEL.md's mechanisms in order:
/// policy events and drivers (1, 9), the month's tables (what each group of agents faces),
/// new movers (2), then one parallel pass over the agents in which each agent goes through
/// destination choice (3), pathways (4), irregular journeys (5), the labour market (6),
/// regularisation (7) and exits (8) as its status calls for. Counts are integers summed
/// across threads (and MPI ranks, comm.hpp); every random draw is keyed by (seed, month,
/// agent id, purpose); new agents get ids in a fixed order. The output therefore does not
/// depend on thread or rank count.

#include <cstdint>
#include <vector>

#include "model/agents.hpp"
#include "model/clock.hpp"
#include "model/comm.hpp"
#include "model/counters.hpp"
#include "model/drivers.hpp"
#include "model/policy.hpp"
#include "model/routes.hpp"
#include "model/tables.hpp"
#include "model/woken.hpp"
#include "scenario/scenario.hpp"

namespace migsim {

class ByteWriter;
class ByteReader;
struct AgentRecords;

/// What one month produced (for the output), besides the state counts.
struct MonthResult {
  Month month;
  std::vector<std::int64_t> counts;      ///< state after the month, then the month's flows (CounterLayout)
  std::vector<std::int64_t> new_movers;  ///< [origin * sectors + s] agents
  std::vector<std::int64_t> quota;       ///< [pathway] persons, -1 = no cap
  std::vector<double> vacancies;         ///< [location * sectors + s] persons
  std::int64_t agents = 0;               ///< live agents at the month's end
};

/// Merges `freed` into `free`, both sorted in increasing order, in place: from the back,
/// so that only the elements of `free` above freed's smallest move, and no buffer is taken.
void merge_free(std::vector<std::uint32_t>& free, const std::vector<std::uint32_t>& freed);

class Model {
 public:
  /// Builds the initial agents from the scenario's initial stock. `seed` overrides the
  /// scenario's seed. With `comm` (MPI ranks), this process holds only its share of the
  /// agents (id modulo the ranks); counts, tickets and results are the whole run's.
  /// `create_agents` false leaves the model empty, for load_state().
  Model(const Scenario& scenario, std::uint64_t seed, Comm* comm = nullptr, bool create_agents = true);

  /// Runs one month and returns what it produced.
  const MonthResult& step();

  int months_done() const { return t_; }
  Month current_month() const { return scenario_.start + t_; }
  const Scenario& scenario() const { return scenario_; }
  const CounterLayout& layout() const { return layout_; }
  const Agents& agents() const { return agents_; }
  std::int64_t live_agents() const { return live_; }  ///< on every rank
  Comm& comm() const { return *comm_; }
  std::uint64_t seed() const { return seed_; }
  /// State counts kept up to date from each month's changes ([0, layout().state_end)).
  const std::vector<std::int64_t>& counts() const { return counts_; }
  /// The same counts recomputed from this rank's agents (tests check they agree).
  std::vector<std::int64_t> recount() const;

  /// Checkpoints (checkpoint.cpp). save_state() writes the state after months_done()
  /// months (collective under MPI: every rank calls it, rank 0 gets the bytes); it does not
  /// depend on threads, ranks or slot order. The live agents' records, which end the state,
  /// go to `agents` (in id order there), for the writer to append. load_state() restores it,
  /// keeping this rank's share of the agents; it throws CheckpointError when the bytes are
  /// damaged or do not fit the scenario and seed.
  void save_state(ByteWriter& out, AgentRecords& agents) const;
  void load_state(ByteReader& in);

 private:
  void create_initial_agents();
  void build_tables();
  void add_new_agents();
  void agent_pass();
  std::size_t take_slot(std::size_t k, std::size_t old_size) const;

  const Scenario& scenario_;
  std::uint64_t seed_;
  Comm* comm_;
  CounterLayout layout_;
  PolicyState policy_;
  RouteTable routes_;
  ClockBounds clock_;
  UnemployedClocks unemployed_;
  WokenTable woken_;  ///< the month's clocks by row, for the pass (woken.hpp)
  ChoiceConstants choice_constants_;
  Drivers drivers_;
  MonthTables tables_;
  Agents agents_;
  std::uint32_t next_id_ = 0;
  std::int64_t live_ = 0;
  std::vector<std::int64_t> counts_;   ///< state counts (and scratch for flows)
  std::vector<std::uint32_t> free_;    ///< exited slots, reused by new agents
  std::vector<std::uint8_t> new_flags_;  ///< scratch: this month's new agents' flags, in id order
  std::vector<std::int64_t> inflow_arrivals_;  ///< new agents' state counts and flows, counted outside the pass
  std::vector<std::vector<std::int64_t>> thread_counts_;
  /// Pending applications' lottery tickets, for next month's lottery: each thread's of the
  /// last pass (one list after a restore, or after pooling the ranks' tickets).
  std::vector<std::vector<Ticket>> thread_tickets_;
  std::vector<std::vector<std::uint32_t>> thread_free_;
  MonthResult result_;
  int t_ = 0;
};

}  // namespace migsim
