// The model's state in and out of a checkpoint: everything a month's step reads that is
// not rebuilt from the scenario each month (the agents, the state counts, the pending
// lottery tickets, the policy state, ids and month). Live agents are written sorted by id,
// so a checkpoint does not depend on threads, ranks or slot order, and a run may resume
// with other thread and rank counts: each rank keeps the agents whose id falls to it.
#include <algorithm>

#include "model/checkpoint.hpp"
#include "model/model.hpp"

namespace migsim {

namespace {

/// One agent as written (AgentRecords::kRecordBytes): id, six one-byte fields, since,
/// job_since, wake. A new field of Agents must be added here (and kFormat raised in
/// engine/checkpoint.cpp).
constexpr std::size_t kAgentBytes = AgentRecords::kRecordBytes;
static_assert(Agents::kBytesPerAgent == kAgentBytes, "an agent field is missing from checkpoints");

void put_agent(char* p, const Agents& a, std::size_t i) {
  std::memcpy(p, &a.id[i], 4);
  p[4] = static_cast<char>(a.origin[i]);
  p[5] = static_cast<char>(a.location[i]);
  p[6] = static_cast<char>(a.destination[i]);
  p[7] = static_cast<char>(a.status[i]);
  p[8] = static_cast<char>(a.flags[i]);
  p[9] = static_cast<char>(a.pathway[i]);
  std::memcpy(p + 10, &a.since[i], 2);
  std::memcpy(p + 12, &a.job_since[i], 2);
  std::memcpy(p + 14, &a.wake[i], 2);
}

std::uint32_t agent_id(const char* p) {
  std::uint32_t id;
  std::memcpy(&id, p, 4);
  return id;
}

}  // namespace

void Model::save_state(ByteWriter& w, AgentRecords& agents) const {
  // Rank 0 writes. The other ranks send it their live agents' records; its own it reads
  // from its arrays as the writer streams them (AgentRecords::fill).
  constexpr auto kExited = static_cast<std::uint8_t>(Status::Exited);
  std::vector<char> mine;
  if (comm_->rank() != 0) {
    std::size_t live_here = 0;
    for (std::size_t i = 0; i < agents_.size(); ++i) live_here += agents_.status[i] != kExited;
    mine.resize(live_here * kAgentBytes);
    for (std::size_t i = 0, k = 0; i < agents_.size(); ++i)
      if (agents_.status[i] != kExited) put_agent(mine.data() + kAgentBytes * k++, agents_, i);
  }
  std::vector<char> remote;
  comm_->gather_bytes(std::move(mine), remote);
  if (comm_->rank() != 0) return;

  w.put<std::int32_t>(t_);
  w.put<std::uint64_t>(seed_);
  w.put<std::uint32_t>(next_id_);
  w.put<std::int64_t>(live_);
  w.put_vector(counts_);
  std::vector<Ticket> tickets;
  for (const auto& part : thread_tickets_) tickets.insert(tickets.end(), part.begin(), part.end());
  w.put<std::uint64_t>(tickets.size());
  std::sort(tickets.begin(), tickets.end(), [](const Ticket& a, const Ticket& b) { return a.id < b.id; });
  for (const Ticket& t : tickets) {
    w.put(t.ticket);
    w.put(t.id);
    w.put(t.pathway);
  }
  const PolicyState& p = policy_;
  w.put_vector(p.open_override);
  w.put_vector(p.quota);
  w.put_vector(p.processing_months);
  w.put_vector(p.pathway_cost);
  w.put_vector(p.mortality);
  w.put_vector(p.interception);
  w.put_vector(p.route_cost);
  w.put_vector(p.route_months);
  w.put_vector(p.crisis_override);
  w.put_vector(p.deportation_rate);
  w.put_vector(p.vacancy_factor);
  w.put(p.next_event);
  w.put_vector(unemployed_.hire_bound);

  // Where each id's record is, in a table by id (every id is below next_id_): 4 bytes an id
  // ever given, where sorting (id, position) pairs took 16 an agent and a record's copy 16 more.
  const std::size_t n_remote = remote.size() / kAgentBytes;
  if (agents_.size() + n_remote >= AgentRecords::kNone)
    throw std::length_error("checkpoint: more than 2^32 agents' records");
  auto& where = agents.where_;
  where.assign(next_id_, AgentRecords::kNone);
  std::size_t n = 0;
  auto place = [&](std::uint32_t id, std::size_t at) {
    if (id >= where.size() || where[id] != AgentRecords::kNone)
      throw std::logic_error("checkpoint: agent id " + std::to_string(id) + " out of range or given twice");
    where[id] = static_cast<std::uint32_t>(at);
    ++n;
  };
  for (std::size_t i = 0; i < agents_.size(); ++i)
    if (agents_.status[i] != kExited) place(agents_.id[i], i);
  for (std::size_t k = 0; k < n_remote; ++k) place(agent_id(remote.data() + k * kAgentBytes), agents_.size() + k);
  agents.local_ = &agents_;
  agents.local_slots_ = agents_.size();
  agents.remote_ = std::move(remote);
  agents.count_ = n;
  agents.cursor_ = 0;
  w.put<std::uint64_t>(n);
  // The n records follow, in id order: the writer appends them from here.
}

std::size_t AgentRecords::fill(char* out, std::size_t max) {
  std::size_t k = 0;
  while (k < max && cursor_ < where_.size()) {
    const std::uint32_t at = where_[cursor_++];
    if (at == kNone) continue;
    char* p = out + k++ * kAgentBytes;
    if (at < local_slots_) put_agent(p, *local_, at);
    else std::memcpy(p, remote_.data() + (at - local_slots_) * kAgentBytes, kAgentBytes);
  }
  return k;
}

void Model::load_state(ByteReader& r) {
  const Scenario& s = scenario_;
  auto mismatch = [](const std::string& what) { throw CheckpointError("does not fit the scenario: " + what); };
  t_ = r.get<std::int32_t>();
  if (t_ < 0 || t_ > s.months()) mismatch("month " + std::to_string(t_) + " is outside the run");
  const auto seed = r.get<std::uint64_t>();
  if (seed != seed_) mismatch("it was written with seed " + std::to_string(seed));
  next_id_ = r.get<std::uint32_t>();
  live_ = r.get<std::int64_t>();
  counts_ = r.get_vector<std::int64_t>();
  if (counts_.size() != layout_.state_end) mismatch("its state counts have another size");
  const auto n_tickets = r.get<std::uint64_t>();
  if (n_tickets > r.remaining() / 13) throw CheckpointError("truncated or damaged (too many tickets)");
  std::vector<Ticket> tickets;
  for (std::uint64_t k = 0; k < n_tickets; ++k) {
    Ticket t{};
    t.ticket = r.get<std::uint64_t>();
    t.id = r.get<std::uint32_t>();
    t.pathway = r.get<std::uint8_t>();
    if (t.pathway >= s.pathways.size()) mismatch("a ticket names pathway " + std::to_string(t.pathway));
    tickets.push_back(t);
  }
  PolicyState& p = policy_;
  const PolicyState fresh = PolicyState::initial(s);
  auto same_size = [&](auto& v, const auto& ref, const char* what) {
    if (v.size() != ref.size()) mismatch(std::string("its policy state has another number of ") + what);
  };
  p.open_override = r.get_vector<std::int8_t>();
  same_size(p.open_override, fresh.open_override, "pathways");
  p.quota = r.get_vector<std::int64_t>();
  same_size(p.quota, fresh.quota, "pathways");
  p.processing_months = r.get_vector<std::int32_t>();
  same_size(p.processing_months, fresh.processing_months, "pathways");
  p.pathway_cost = r.get_vector<double>();
  same_size(p.pathway_cost, fresh.pathway_cost, "pathways");
  p.mortality = r.get_vector<double>();
  same_size(p.mortality, fresh.mortality, "routes");
  p.interception = r.get_vector<double>();
  same_size(p.interception, fresh.interception, "routes");
  p.route_cost = r.get_vector<double>();
  same_size(p.route_cost, fresh.route_cost, "routes");
  p.route_months = r.get_vector<std::int32_t>();
  same_size(p.route_months, fresh.route_months, "routes");
  p.crisis_override = r.get_vector<double>();
  same_size(p.crisis_override, fresh.crisis_override, "countries");
  p.deportation_rate = r.get_vector<double>();
  same_size(p.deportation_rate, fresh.deportation_rate, "countries");
  p.vacancy_factor = r.get_vector<double>();
  same_size(p.vacancy_factor, fresh.vacancy_factor, "country sectors");
  p.next_event = r.get<std::uint32_t>();
  if (p.next_event > s.events.size()) mismatch("it has applied more events than the scenario has");
  unemployed_.hire_bound = r.get_vector<double>();
  const std::size_t groups = static_cast<std::size_t>(s.n_countries()) * s.n_sectors() * 2;
  if (!unemployed_.hire_bound.empty() && unemployed_.hire_bound.size() != groups)
    mismatch("its hiring bounds have another size");
  for (double x : unemployed_.hire_bound)
    if (!(x >= 0 && x <= 1)) throw CheckpointError("truncated or damaged (a hiring bound is not a probability)");
  routes_.build(s, policy_);

  const auto n = r.get<std::uint64_t>();
  if (n > r.remaining() / kAgentBytes || static_cast<std::int64_t>(n) != live_)
    throw CheckpointError("truncated or damaged (the agent count does not match)");
  const auto ranks = static_cast<std::uint32_t>(comm_->size()), me = static_cast<std::uint32_t>(comm_->rank());
  const int O = s.n_origins(), C = s.n_countries(), S = s.n_sectors(), P = static_cast<int>(s.pathways.size());
  const char* block = r.take(static_cast<std::size_t>(n) * kAgentBytes);
  // This rank's agents, counted first: the arrays are sized once, with the headroom that
  // create_initial_agents gives them (without it the first month's new agents moved them).
  std::size_t mine = 0;
  for (std::uint64_t k = 0; k < n; ++k) mine += agent_id(block + k * kAgentBytes) % ranks == me;
  agents_.resize(0);
  agents_.reserve(mine + mine / 50 + 4096);
  agents_.resize(mine);
  std::size_t i = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    const char* buf = block + k * kAgentBytes;
    const std::uint32_t id = agent_id(buf);
    const auto u = [&](int f) { return static_cast<std::uint8_t>(buf[f]); };
    if (id >= next_id_ || u(4) >= O || u(5) >= C || (u(6) != kNone && u(6) >= C) || u(7) >= kStatuses ||
        (u(8) & flag::kSectorMask) >= S || (u(9) != kNone && u(9) >= P))
      mismatch("agent " + std::to_string(id) + " has values outside the scenario");
    if (id % ranks != me) continue;
    agents_.id[i] = id;
    agents_.origin[i] = u(4);
    agents_.location[i] = u(5);
    agents_.destination[i] = u(6);
    agents_.status[i] = u(7);
    agents_.flags[i] = u(8);
    agents_.pathway[i] = u(9);
    std::memcpy(&agents_.since[i], buf + 10, 2);
    std::memcpy(&agents_.job_since[i], buf + 12, 2);
    std::memcpy(&agents_.wake[i], buf + 14, 2);
    // Migrants waiting to travel are visited every month after a resume, whatever `wake`
    // held in the checkpoint (older ones hold stale values there for them); exact, as
    // waiting draws no random numbers.
    if (agents_.status[i] == static_cast<std::uint8_t>(Status::Waiting)) agents_.wake[i] = kDue;
    ++i;
  }
  free_.clear();
  thread_counts_.clear();
  thread_tickets_.assign(1, std::move(tickets));  // next month's lottery reads them here
  thread_free_.clear();
}

}  // namespace migsim
