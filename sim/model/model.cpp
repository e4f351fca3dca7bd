#include "model/model.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/discrete_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>

#include "core/errors.hpp"
#include "core/philox_batch.hpp"
#include "core/rng.hpp"

namespace migsim {

namespace {
/// Months an initial migrant has already lived where it is: uniform on [1, 120] (an
/// assumption; it matters only for regularisations whose presence date precedes the start).
constexpr int kInitialMaxMonthsPresent = 120;
}  // namespace

Model::Model(const Scenario& scenario, std::uint64_t seed, Comm* comm, bool create_agents)
    : scenario_(scenario),
      seed_(seed),
      comm_(comm ? comm : &serial_comm()),
      layout_(scenario.n_origins(), scenario.n_countries(), scenario.n_sectors(),
              static_cast<int>(scenario.pathways.size()), static_cast<int>(scenario.routes.size())),
      policy_(PolicyState::initial(scenario)) {
  routes_.build(scenario_, policy_);
  clock_.build(scenario_);
  choice_constants_.build(scenario_);
  if (!create_agents) return;
  create_initial_agents();
  counts_ = recount();
  comm_->sum(counts_.data(), counts_.size());
}

void Model::create_initial_agents() {
  const Scenario& s = scenario_;
  const int n = s.n_countries(), S = s.n_sectors();
  const std::int64_t ppa = s.people_per_agent;
  std::vector<std::int64_t> first(s.initial_stock.size() + 1, 0);
  for (std::size_t c = 0; c < s.initial_stock.size(); ++c)
    first[c + 1] = first[c] + (s.initial_stock[c].persons + ppa / 2) / ppa;
  const auto total = static_cast<std::size_t>(first.back());
  if (total >= (std::size_t{1} << 32) - 1) throw RuntimeFailure("more than 2^32 agents");
  // 2 % headroom: a population that stays about the same size then never reallocates
  // (a reallocation briefly holds two copies of a field).
  // This rank's agents: ids rank, rank + ranks, rank + 2 ranks, ...
  const auto ranks = static_cast<std::size_t>(comm_->size()), me = static_cast<std::size_t>(comm_->rank());
  const std::size_t mine = total > me ? (total - me + ranks - 1) / ranks : 0;
  agents_.reserve(mine + mine / 50 + 4096);
  agents_.resize(mine);

  // Cumulative sector shares of each country (origins' for their migrants; the location's
  // for the rest of the world's).
  std::vector<std::vector<double>> sector_cdf(n);
  for (int c = 0; c < n; ++c) {
    double cum = 0;
    for (double x : s.countries[c].sector_shares) sector_cdf[c].push_back(cum += x);
  }
  drivers_.compute(s, policy_, s.start);

  // One block per agent decides its sector (inversion of the shares), legal status,
  // employment and months present; a second, keyed to the month before the start, its clock.
  // Agents go in runs of kRun: the run's blocks come from the batched Philox (the same words
  // as random_block, philox_batch.hpp), and each agent's cell of the initial stock follows
  // from the previous agent's within the run (ids rise with the slot).
  constexpr std::size_t kRun = 256;
  const std::size_t runs = (mine + kRun - 1) / kRun;
#pragma omp parallel
  {
    WakeBatch wakes(-1);
    std::array<std::uint32_t, kRun> ids{};
    std::array<std::uint32_t, 4 * kRun> words{}, clock_words{};
#pragma omp for schedule(static) nowait
    for (std::size_t r = 0; r < runs; ++r) {
      const std::size_t lo = r * kRun, m = std::min(kRun, mine - lo);
      for (std::size_t k = 0; k < m; ++k) ids[k] = static_cast<std::uint32_t>(me + (lo + k) * ranks);
      random_blocks(seed_, 0, Purpose::InitialAgent, ids.data(), m, words.data());
      random_blocks(seed_, static_cast<std::uint32_t>(-1), Purpose::Clock, ids.data(), m, clock_words.data());
      // The run's first cell by a search; the next agents' cells by walking on (ids rise).
      auto cell = static_cast<std::size_t>(
          std::upper_bound(first.begin(), first.end(), static_cast<std::int64_t>(ids[0])) - first.begin() - 1);
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t i = lo + k;
        const std::uint32_t id = ids[k];
        while (first[cell + 1] <= static_cast<std::int64_t>(id)) ++cell;
        const StockCell& sc = s.initial_stock[cell];
        const std::uint32_t w0 = words[k], w1 = words[m + k], w2 = words[2 * m + k], w3 = words[3 * m + k];
        const auto& cdf = sector_cdf[sc.origin < n ? sc.origin : sc.location];
        const double u = to_unit(w0) * cdf.back();
        // The first sector whose cumulative share exceeds u (the shares are not negative, so
        // the cumulative shares never fall: counting those at or below u finds it, without a
        // branch per sector).
        int sector = 0;
        for (int k2 = 0; k2 + 1 < S; ++k2) sector += !(u < cdf[static_cast<std::size_t>(k2)]);
        const bool irregular = Chance(sc.irregular_share).happens(w1);
        const bool employed = Chance(1.0 - drivers_.unemployment[sc.location]).happens(w2);
        const int present = 1 + static_cast<int>((std::uint64_t{w3} * kInitialMaxMonthsPresent) >> 32);
        agents_.id[i] = id;
        agents_.origin[i] = static_cast<std::uint8_t>(sc.origin);
        agents_.location[i] = static_cast<std::uint8_t>(sc.location);
        agents_.destination[i] = kNone;
        agents_.status[i] = static_cast<std::uint8_t>(irregular ? Status::Irregular : Status::Regular);
        agents_.flags[i] = static_cast<std::uint8_t>(sector | (employed ? flag::kEmployed : 0) |
                                                     (irregular ? flag::kIrregular : 0));
        agents_.pathway[i] = kNone;
        agents_.since[i] = static_cast<std::int16_t>(-present);
        agents_.job_since[i] = static_cast<std::int16_t>(-present);
        // Employed migrants get an event clock, as if drawn in the month before the start: the
        // first word of that month's Clock stream (clock.hpp, WakeBatch).
        if (employed) {
          clock_.next_wake(wakes, &agents_.wake[i], clock_words[k], clock_.at(sc.location, irregular));
        } else {
          agents_.wake[i] = kDue;  // the unemployed take the first month's draws, then a clock
        }
      }
    }
    wakes.finish();
  }
  next_id_ = static_cast<std::uint32_t>(total);
  live_ = static_cast<std::int64_t>(total);
}

std::vector<std::int64_t> Model::recount() const {
  std::vector<std::int64_t> c(layout_.state_end, 0);
  const std::size_t N = agents_.size();
  // Each thread counts its share; integer sums, so the same at any thread count.
#pragma omp parallel
  {
    std::vector<std::int64_t> mine(layout_.state_end, 0);
#pragma omp for schedule(static) nowait
    for (std::size_t i = 0; i < N; ++i) {
      const auto st = static_cast<Status>(agents_.status[i]);
      if (st == Status::Exited) continue;
      const int o = agents_.origin[i], l = agents_.location[i], fl = agents_.flags[i];
      ++mine[layout_.stock_at(o, l, static_cast<int>(st))];
      if (st == Status::Regular || st == Status::Irregular) {
        ++mine[layout_.labour_at(l, fl & flag::kSectorMask, st == Status::Irregular ? 1 : 0,
                                 (fl & flag::kEmployed) ? 1 : 0)];
      }
    }
#pragma omp critical(migsim_recount)
    for (std::size_t k = 0; k < c.size(); ++k) c[k] += mine[k];
  }
  return c;
}

void Model::build_tables() {
  const Month m = current_month();
  const TableInputs in{scenario_, policy_, drivers_, routes_, layout_, counts_, thread_tickets_, clock_, m, t_};
  tables_.n = scenario_.n_countries();
  tables_.origins = scenario_.n_origins();
  tables_.sectors = scenario_.n_sectors();
  build_labour_tables(in, tables_);
  build_pathway_tables(in, tables_);
  build_choice_tables(in, choice_constants_, tables_);  // after labour and pathways: it uses both
  build_journey_tables(in, tables_);
  build_exit_tables(in, tables_);
}

void merge_free(std::vector<std::uint32_t>& free, const std::vector<std::uint32_t>& freed) {
  std::size_t i = free.size(), j = freed.size(), k = free.size() + freed.size();
  free.resize(k);
  // From the back: each step moves the larger of the two last elements into the last open
  // place; once `freed` is used up, what is left of `free` is already in place.
  while (j > 0) free[--k] = (i > 0 && free[i - 1] > freed[j - 1]) ? free[--i] : freed[--j];
}

std::size_t Model::take_slot(std::size_t k, std::size_t old_size) const {
  return k < free_.size() ? free_[k] : old_size + (k - free_.size());
}

void Model::add_new_agents() {
  const Scenario& s = scenario_;
  const int n = s.n_countries(), S = s.n_sectors();
  const auto ppa = static_cast<double>(s.people_per_agent);
  const auto t = static_cast<std::uint32_t>(t_);

  // How many: per (origin, sector) group, then per inflow, each a Poisson draw keyed by the
  // group's index. New agents take ids in this order.
  struct Batch {
    int origin, location, sector;  // sector < 0: inflow (drawn per agent)
    std::int64_t count;
    double irregular_share;
  };
  std::vector<Batch> batches;
  result_.new_movers.assign(static_cast<std::size_t>(s.n_origins()) * S, 0);
  for (int o = 0; o < n; ++o) {
    for (int sec = 0; sec < S; ++sec) {
      const std::size_t os = static_cast<std::size_t>(o) * S + sec;
      const double mean = tables_.mover_mean[os] / ppa;
      if (!(mean > 0)) continue;
      KeyedStream rs(seed_, t, static_cast<std::uint32_t>(os), Purpose::NewMovers);
      const std::int64_t k = boost::random::poisson_distribution<std::int64_t, double>(mean)(rs);
      result_.new_movers[os] = k;
      if (k > 0) batches.push_back({o, o, sec, k, 0.0});
    }
  }
  for (std::size_t f = 0; f < s.inflows.size(); ++f) {
    const Inflow& in = s.inflows[f];
    const double mean = in.persons_per_year.at(current_month()) / 12.0 / ppa;
    if (!(mean > 0)) continue;
    KeyedStream rs(seed_, t, static_cast<std::uint32_t>(f), Purpose::Inflow);
    const std::int64_t k = boost::random::poisson_distribution<std::int64_t, double>(mean)(rs);
    if (k > 0) batches.push_back({in.origin, in.destination, -1, k, in.irregular_share});
  }
  std::int64_t total = 0;
  for (const auto& b : batches) total += b.count;
  if (total == 0) return;
  if (double(next_id_) + double(total) >= 4294967295.0) throw RuntimeFailure("agent ids exhausted (2^32)");

  // This rank creates the new agents whose ids fall to it (id modulo the ranks): the k-th new
  // agent (id next_id_ + k) for k = first_k, first_k + ranks, ...
  const std::int64_t ranks = comm_->size();
  const std::int64_t first_k = ((comm_->rank() - static_cast<std::int64_t>(next_id_ % ranks)) % ranks + ranks) % ranks;
  const std::int64_t mine = total > first_k ? (total - first_k + ranks - 1) / ranks : 0;
  const std::size_t old_size = agents_.size();
  const std::size_t reuse = std::min(free_.size(), static_cast<std::size_t>(mine));
  agents_.resize(old_size + static_cast<std::size_t>(mine) - reuse);
  std::vector<std::int64_t> first(batches.size() + 1, 0);
  for (std::size_t b = 0; b < batches.size(); ++b) first[b + 1] = first[b] + batches[b].count;
  // New agents enter the state counts at the month's end, with the pass's changes (step()).
  std::vector<std::int64_t>& flows = inflow_arrivals_;
  // An inflow's agents draw their sector from the shares of the country they come from or
  // go to: one distribution per inflow, built here (it is a pure function of the shares and
  // keeps no state between draws), not one per agent as before.
  std::vector<boost::random::discrete_distribution<int, double>> sector_of(batches.size());
  for (std::size_t b = 0; b < batches.size(); ++b) {
    if (batches[b].sector >= 0) continue;
    const int home = batches[b].origin < n ? batches[b].origin : batches[b].location;
    const auto& shares = s.countries[home].sector_shares;
    sector_of[b] = boost::random::discrete_distribution<int, double>(shares.begin(), shares.end());
  }
  // Each new agent's flags, kept in order for the count below (reading them back from the
  // scattered slots cost a cache miss per agent).
  new_flags_.resize(static_cast<std::size_t>(mine));

  // The slots 32 agents ahead are fetched while this one is written: a reused slot lies
  // anywhere in the arrays, and writing its ten fields one miss after another took about 210
  // ns an agent at 10M agents (docs/performance.md, tenth session).
  constexpr std::int64_t kAhead = 32;
#pragma omp parallel for schedule(static)
  for (std::int64_t j = 0; j < mine; ++j) {
    if (j + kAhead < mine) agents_.prefetch(take_slot(static_cast<std::size_t>(j + kAhead), old_size));
    const std::int64_t k = first_k + j * ranks;
    const auto b = static_cast<std::size_t>(std::upper_bound(first.begin(), first.end(), k) - first.begin() - 1);
    const Batch& batch = batches[b];
    const std::size_t i = take_slot(static_cast<std::size_t>(j), old_size);
    const std::uint32_t id = next_id_ + static_cast<std::uint32_t>(k);
    agents_.id[i] = id;
    agents_.origin[i] = static_cast<std::uint8_t>(batch.origin);
    agents_.location[i] = static_cast<std::uint8_t>(batch.location);
    agents_.destination[i] = kNone;
    agents_.pathway[i] = kNone;
    agents_.since[i] = static_cast<std::int16_t>(t_);
    agents_.job_since[i] = static_cast<std::int16_t>(t_);
    agents_.wake[i] = kDue;  // nobody starts employed here; settled ones take this month's draws
    std::uint8_t fl = 0;
    if (batch.sector >= 0) {
      agents_.status[i] = static_cast<std::uint8_t>(Status::Aspiring);
      fl = static_cast<std::uint8_t>(batch.sector);
    } else {
      KeyedStream rs(seed_, t, id, Purpose::NewAgent);
      const int sector = sector_of[b](rs);
      const bool irregular = boost::random::bernoulli_distribution<double>(batch.irregular_share)(rs);
      agents_.status[i] = static_cast<std::uint8_t>(irregular ? Status::Irregular : Status::Regular);
      fl = static_cast<std::uint8_t>(sector | (irregular ? flag::kIrregular : 0));
    }
    agents_.flags[i] = fl;
    new_flags_[static_cast<std::size_t>(j)] = fl;
  }
  // Count them in (sequentially, in batch order). New movers all start aspiring at home; an
  // inflow's agents settle where they arrive, regular or not as their flags say.
  std::size_t b = 0;
  for (std::int64_t j = 0; j < mine; ++j) {
    const std::int64_t k = first_k + j * ranks;
    while (first[b + 1] <= k) ++b;
    if (batches[b].sector >= 0) {
      ++flows[layout_.stock_at(batches[b].origin, batches[b].origin, static_cast<int>(Status::Aspiring))];
      continue;
    }
    const int o = batches[b].origin, l = batches[b].location, fl = new_flags_[static_cast<std::size_t>(j)];
    const int irr = (fl & flag::kIrregular) ? 1 : 0;
    ++flows[layout_.stock_at(o, l, static_cast<int>(irr ? Status::Irregular : Status::Regular))];
    ++flows[layout_.labour_at(l, fl & flag::kSectorMask, irr, 0)];
    ++inflow_arrivals_[layout_.arrivals_at(o, l, irr ? kArrivalIrregular : kArrivalOther)];
  }
  free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(reuse));
  next_id_ += static_cast<std::uint32_t>(total);
  live_ += total;
}

const MonthResult& Model::step() {
  const Scenario& s = scenario_;
  const Month m = current_month();
  if (policy_.apply_events(s, m)) routes_.build(s, policy_);
  drivers_.compute(s, policy_, m);
  build_tables();
  unemployed_.update(clock_, tables_.hire_p, s.n_sectors());
  inflow_arrivals_.assign(layout_.total, 0);
  add_new_agents();
  agent_pass();

  // Sum the threads' counters (and the new agents'), then the ranks': state changes into the
  // state counts, flows into the result; the last element counts the agents that exited.
  result_.month = m;
  std::vector<std::int64_t>& sum = inflow_arrivals_;
  sum.push_back(0);
  // Free slots in increasing order: each thread's list is (the pass hands each thread its
  // blocks in increasing order, schedule monotonic); they are merged one after the other
  // with those still free, from the back (merge_free), without the buffer that
  // inplace_merge took fresh each month and whose first touches cost more than the merge.
  // The threads' tickets stay where the pass put them: next month's lottery reads them there
  // (copying them into one list cost 9-19 ms of the 10M-agent benchmark's 24 months, most of
  // it first touches of the growing list).
  for (std::size_t th = 0; th < thread_counts_.size(); ++th) {
    const auto& c = thread_counts_[th];
    for (std::size_t k = 0; k < layout_.total; ++k) sum[k] += c[k];
    auto& freed = thread_free_[th];
    if (!std::is_sorted(freed.begin(), freed.end())) std::sort(freed.begin(), freed.end());
    merge_free(free_, freed);
    sum[layout_.total] += static_cast<std::int64_t>(freed.size());
  }
  comm_->sum(sum.data(), sum.size());
  comm_->all_tickets(thread_tickets_);
  for (std::size_t k = 0; k < layout_.state_end; ++k) counts_[k] += sum[k];
  result_.counts.assign(layout_.total, 0);
  for (std::size_t k = layout_.state_end; k < layout_.total; ++k) result_.counts[k] = sum[k];
  live_ -= sum[layout_.total];
  std::copy(counts_.begin(), counts_.begin() + static_cast<std::ptrdiff_t>(layout_.state_end), result_.counts.begin());
  result_.quota = tables_.quota;
  result_.vacancies = drivers_.vacancies;
  result_.agents = live_;
  ++t_;
  return result_;
}

}  // namespace migsim
