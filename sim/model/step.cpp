// The monthly pass over the agents: each agent goes through the mechanisms its status
// calls for, in MODEL.md's order, looking its rates up in the month's tables. Each thread
// counts into its own counters; a slot's state changes are counted by comparing the agent
// before and after.
#include <omp.h>

#include <array>
#include <bit>
#include <cstring>

#include "core/philox_batch.hpp"
#include "core/rng.hpp"
#include "model/model.hpp"
#include "model/woken.hpp"

// The compaction's vector code (compact_busy); other machines take its scalar loop.
#if defined(__AVX512VBMI2__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#endif

namespace migsim {

namespace {

constexpr int kAspiring = static_cast<int>(Status::Aspiring);
constexpr int kApplied = static_cast<int>(Status::Applied);
constexpr int kWaiting = static_cast<int>(Status::Waiting);
constexpr int kInTransit = static_cast<int>(Status::InTransit);
constexpr int kRegular = static_cast<int>(Status::Regular);
constexpr int kIrregular = static_cast<int>(Status::Irregular);
constexpr int kExited = static_cast<int>(Status::Exited);

bool settled(int st) { return st == kRegular || st == kIrregular; }

/// busy[k] = 0 for the agents that have nothing to do this month: waiting to travel before
/// the earliest month they could (`wake`, set on admission); settled, employed or
/// unemployed, clock asleep, nothing pending, and, if irregular, not in a country with an open
/// regularisation (one of the kListed locations in `open`, padded with kNone, or anywhere if
/// `open_everywhere`); but the unemployed in a location of `raised` (padded with kNone, or
/// anywhere if `raised_everywhere`), where some group's hiring bound was raised this month,
/// are kept for a closer look; and for empty slots. Written without branches so that the
/// compiler vectorises it.
constexpr int kListed = 4;
void screen(const std::uint8_t* __restrict st, const std::uint8_t* __restrict fl, const std::uint8_t* __restrict pw,
            const std::int16_t* __restrict wk, const std::uint8_t* __restrict loc, std::size_t n, std::int16_t t,
            const std::uint8_t* open, bool open_everywhere, const std::uint8_t* raised, bool raised_everywhere,
            std::uint8_t* __restrict busy) {
  const std::uint8_t o0 = open[0], o1 = open[1], o2 = open[2], o3 = open[3];
  const std::uint8_t r0 = raised[0], r1 = raised[1], r2 = raised[2], r3 = raised[3];
  const std::uint8_t all_open = open_everywhere ? 1 : 0;
  const std::uint8_t all_raised = raised_everywhere ? 1 : 0;
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint8_t s = st[k];
    const std::uint8_t l = loc[k];
    // Employed, or unemployed where no hiring bound was raised.
    const std::uint8_t raised_here = static_cast<std::uint8_t>((l == r0) | (l == r1) | (l == r2) | (l == r3) | all_raised);
    const std::uint8_t on_clock = static_cast<std::uint8_t>(((fl[k] >> 3) & 1) | (raised_here ^ 1));
    const std::uint8_t sleeping = static_cast<std::uint8_t>(wk[k] > t);
    const std::uint8_t nothing_pending = static_cast<std::uint8_t>(pw[k] == kNone);
    const std::uint8_t reg_here = static_cast<std::uint8_t>((l == o0) | (l == o1) | (l == o2) | (l == o3) | all_open);
    const std::uint8_t may_sleep = static_cast<std::uint8_t>((s == kRegular) | ((s == kIrregular) & (reg_here ^ 1)));
    // Settled on a clock with nothing pending, or admitted and waiting to travel.
    const std::uint8_t asleep =
        static_cast<std::uint8_t>(sleeping & ((on_clock & nothing_pending & may_sleep) | (s == kWaiting)));
    busy[k] = static_cast<std::uint8_t>((asleep ^ 1) & (s != kExited));
  }
}

/// Up to kListed locations where `flagged(l)` holds, padded with kNone, into `list`; false
/// if there are more (the caller then treats every location as flagged).
template <class F>
bool list_locations(int n, F flagged, std::uint8_t* list) {
  int count = 0;
  for (int k = 0; k < kListed; ++k) list[k] = kNone;
  for (int l = 0; l < n; ++l)
    if (flagged(l)) {
      if (count < kListed) list[count] = static_cast<std::uint8_t>(l);
      ++count;
    }
  return count <= kListed;
}

/// The indices k < n with busy[k] != 0, in increasing order, into `index`; returns how many.
/// With AVX-512 VBMI2, 32 agents at a time (a mask and a compressing store); otherwise one
/// store and one add per agent.
std::size_t compact_busy(const std::uint8_t* __restrict busy, std::size_t n, std::uint16_t* __restrict index) {
  std::size_t m = 0, k = 0;
#if defined(__AVX512VBMI2__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  const __m512i step = _mm512_set1_epi16(32);
  __m512i idx = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
                                 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  for (; k + 32 <= n; k += 32) {
    const __mmask32 mask = _mm256_test_epi8_mask(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(busy + k)),
                                                 _mm256_set1_epi8(-1));
    _mm512_mask_compressstoreu_epi16(index + m, mask, idx);
    m += static_cast<std::size_t>(__builtin_popcount(mask));
    idx = _mm512_add_epi16(idx, step);
  }
#endif
  for (; k < n; ++k) {
    index[m] = static_cast<std::uint16_t>(k);
    m += busy[k] != 0;
  }
  return m;
}

/// Whether a migrant runs on its event clock this month (sleeps until its `wake`): settled;
/// if irregular, with no application pending and no regularisation open where it is; and
/// employed, or unemployed in a group whose hiring bound was not raised this month. The
/// agent's month and the pass's filter both ask this; screen() computes a conservative
/// version of it without branches, and WokenTable::build (woken.cpp) the same rule for each of
/// its rows, but for the pending application, which classify_woken checks.
bool runs_on_clock(int st, int fl, int p, int l, const std::uint8_t* reg_open, const UnemployedClocks& unemployed,
                   int sectors) {
  const int irregular = st == kIrregular ? 1 : 0;
  return (st == kRegular || st == kIrregular) && (st == kRegular || (!reg_open[l] && p == kNone)) &&
         ((fl & flag::kEmployed) || !unemployed.raised[unemployed.group(l, fl & flag::kSectorMask, irregular, sectors)]);
}

/// One agent's month. Works on a copy of the agent's fields and writes back what changed.
struct AgentMonth {
  const Scenario& s;
  MonthTables& tab;
  const ClockBounds& clock;
  const UnemployedClocks& unemployed;
  const RouteTable& routes;
  const PolicyState& policy;
  const CounterLayout& L;
  std::int64_t* c;  // this thread's counters
  std::vector<Ticket>& tickets;
  std::vector<std::uint32_t>& freed;
  WakeBatch& wakes;
  std::uint64_t seed;
  int t, n, S, long_months, give_up_months;

  // The agent.
  std::uint32_t id;
  int o, l, d, st, fl, p, since, job_since, wake;
  std::array<std::uint32_t, 4> words{};  ///< this month's Settled block, when drawn
  bool have_words = false;
  /// Block 0 of this month's stream `pre_purpose`, computed by the pass's batched Philox
  /// (kFirstDraw), if given: the first the agent draws, as a rule.
  std::array<std::uint32_t, 4> pre{};
  Purpose pre_purpose = Purpose::Settled;
  bool have_pre = false;

  /// Block 0 of this month's stream of `purpose`: the pass's, when it drew that one.
  std::array<std::uint32_t, 4> draw(Purpose purpose) const {
    return have_pre && pre_purpose == purpose ? pre : random_block(seed, static_cast<std::uint32_t>(t), id, purpose);
  }

  /// The Settled block of the month: words 0-2 decide the month's events, word 3 redraws the
  /// event clock.
  const std::array<std::uint32_t, 4>& settled_words() {
    if (!have_words) words = draw(Purpose::Settled);
    have_words = true;
    return words;
  }

  /// A fresh clock for the migrant, stored at `out` now or queued in `wakes` (the thread's
  /// queue, computed every WakeBatch::kMax clocks and after the thread's last block). Its
  /// draw is the next word of the Settled block's stream (word 3), or the first of this
  /// month's Clock stream: a geometric wait takes one word. The employed's clock is
  /// ClockBounds' class (l, irregular), the unemployed's UnemployedClocks' group; both tables
  /// are read the same way, and which one is chosen without a branch (whether a woken migrant
  /// is employed is a coin toss to the predictor).
  void redraw_clock(std::int16_t* out) const {
    const int irregular = st == kIrregular ? 1 : 0;
    const std::uint32_t w =
        have_words ? words[3] : draw(Purpose::Clock)[0];
    const bool employed = (fl & flag::kEmployed) != 0;
    const std::size_t k = employed ? clock.at(l, irregular) : unemployed_group(irregular);
    const double* any = employed ? clock.any.data() : unemployed.any.data();
    const Geometric* wait = employed ? clock.wait.data() : unemployed.wait.data();
    const double* log_1mp = employed ? clock.log_1mp.data() : unemployed.log_1mp.data();
    queue_wake(any[k], wait[k], log_1mp[k], wakes, out, w);
  }

  std::size_t unemployed_group(int irregular) const {
    return unemployed.group(l, fl & flag::kSectorMask, irregular, S);
  }

  bool on_clock() const { return runs_on_clock(st, fl, p, l, tab.regularisation_open.data(), unemployed, S); }

  bool admitted(int pathway) const {
    const LotteryRule& r = tab.lottery[pathway];
    if (r.mode == LotteryRule::All) return true;
    if (r.mode == LotteryRule::None) return false;
    const std::uint64_t mine = ticket_of(draw(Purpose::Lottery));
    return mine < r.ticket || (mine == r.ticket && id <= r.id);
  }

  void exit_model() { st = kExited; }

  // Mechanisms 3-5 for an aspirant: choose a destination, apply to a pathway or leave
  // irregularly, or give up after give_up_months.
  void aspire() {
    if (t - since >= give_up_months) {
      give_up();
      return;
    }
    const int sector = fl & flag::kSectorMask;
    const std::size_t g = tab.group(l, o, sector);
    tab.ensure_group(g);
    if (!tab.choice_ok[g]) return;
    const auto w = draw(Purpose::Aspire);
    const int dest = tab.choose(g, to_unit(w[0]));
    const std::uint32_t word = w[1];
    const int path = tab.entry_pathway[tab.dos(dest, o, sector)];
    if (path != kNone && !(fl & flag::kRejected)) {
      apply(path, dest);
    } else if (tab.irregular[g * n + dest].happens(word)) {
      st = kInTransit;
      d = dest;
      since = t;
      fl = (fl | flag::kIrregular) & ~flag::kEmployed;
      travel();
    } else if (path != kNone) {
      apply(path, dest);
    }
  }

  void apply(int path, int dest) {
    st = kApplied;
    p = path;
    d = dest;
    ++c[L.applications + path];
  }

  void give_up() {
    if (l == o) {
      ++c[L.gave_up + o];
      exit_model();
      return;
    }
    // Abroad: stays where it is, with the status it has there.
    st = (fl & flag::kIrregular) ? kIrregular : kRegular;
    fl &= ~(flag::kEmployed | flag::kRejected);
    since = job_since = t;
    d = p = kNone;
  }

  // Mechanism 4: this month's lottery for a pending application.
  void decide() {
    if (admitted(p)) {
      ++c[L.admissions + p];
      st = kWaiting;
      since = t;
      if (tab.processing[p] == 0) arrive();
      // Asleep (screen) until the earliest month it could travel; then visited monthly.
      else wake = std::clamp(t + tab.fewest_processing[p], t + 1, int{kNever});
    } else {
      // Rejected: decide again at once (apply again, or leave irregularly), so that a
      // pathway's queue does not empty every other month.
      st = kAspiring;
      fl |= flag::kRejected;
      d = p = kNone;
      aspire();
    }
  }

  void wait() {
    if (t - since >= tab.processing[p]) arrive();
  }

  // Regular travel: no route risk.
  void arrive() {
    const auto kind = s.pathways[p].kind;
    l = d;
    st = kRegular;
    since = job_since = t;
    fl &= ~(flag::kIrregular | flag::kRejected | flag::kEmployed);
    if (kind == PathwayKind::LabourVisa) {
      fl |= flag::kEmployed;
      ++c[L.hires_at(l, fl & flag::kSectorMask)];
    }
    ++c[L.arrivals_at(o, l, static_cast<int>(kind))];
    d = p = kNone;
  }

  // Mechanism 5: one edge of an irregular journey per month at most.
  void travel() {
    const int e = routes.next_edge[l * n + d];
    if (e < 0) {  // the route closed behind the migrant: rethink where to go
      st = kAspiring;
      since = t;
      d = kNone;
      return;
    }
    if (t - since + 1 < policy.route_months[e]) return;  // still crossing
    const auto w = draw(Purpose::Journey);
    switch (tab.edge_outcome[e].pick(w[0])) {
      case 0:
        ++c[L.route_deaths + e];
        exit_model();
        return;
      case 1:
        ++c[L.interceptions + e];
        exit_model();
        return;
      default: break;
    }
    ++c[L.crossings + e];
    l = routes.next_node[l * n + d];
    if (l == d) {
      st = kIrregular;
      since = job_since = t;
      fl &= ~(flag::kEmployed | flag::kRejected);
      d = kNone;
      ++c[L.arrivals_at(o, l, kArrivalIrregular)];
      return;
    }
    const int stay = tab.stay_pathway[tab.dos(l, o, fl & flag::kSectorMask)];
    if (stay != kNone && tab.transit_stay.happens(w[1])) {
      since = t;
      apply(stay, l);
      return;
    }
    since = t + 1;  // the next edge starts next month
  }

  /// What a woken clock brings a settled migrant at location `loc` with flags `f`, from
  /// words 0 and 1 of its Settled block: `what` is 0 job loss (hiring), 1 exit, 2 both, 3
  /// nothing; `job_change` whether its job changes (a hiring candidate is hired at the
  /// group's thinning).
  struct Woken {
    int what;
    bool job_change;
  };
  Woken woken(int loc, int f, int irregular, const std::array<std::uint32_t, 4>& w) const {
    const bool employed = (f & flag::kEmployed) != 0;
    const std::size_t g = unemployed.group(loc, f & flag::kSectorMask, irregular, S);
    const Exclusive<3>& kind = employed ? clock.kind[clock.at(loc, irregular)] : unemployed.kind[g];
    const int what = kind.pick(w[0]);
    return {what, (what == 0 || what == 2) && (employed || unemployed.hire[g].happens(w[1]))};
  }

  // Mechanisms 6 and 8 for a settled migrant whose clock woke this month (clock.hpp).
  // Employed: word 0 picks job loss, exit or both (ClockBounds::kind), and an exit is drawn
  // from clock_exits with word 2. Unemployed: word 0 picks hiring, exit or both
  // (UnemployedClocks::kind), a hiring happens with word 1 at the group's thinning, and an
  // exit, with the hazards of the state after the hiring, from unemployed_clock_exits. One
  // path for both, the tables chosen and the job's change made without branches: which of
  // the two a woken migrant is, and whether its job changes, are coin tosses to the branch
  // predictor.
  void wake_up() {
    const auto& w = settled_words();
    const int irregular = st == kIrregular ? 1 : 0;
    const bool employed = (fl & flag::kEmployed) != 0;
    const auto [what, job_change] = woken(l, fl, irregular, w);
    fl ^= job_change ? flag::kEmployed : 0;
    job_since = job_change ? t : job_since;
    c[L.hires_at(l, fl & flag::kSectorMask)] += (job_change && !employed) ? 1 : 0;
    if (what == 1 || what == 2) {
      const std::size_t lo = (static_cast<std::size_t>(l) * tab.origins + o) * 2 + irregular;
      const int long_unemployed = !(fl & flag::kEmployed) && t - job_since >= long_months ? 1 : 0;
      const Exclusive<4>& exits =
          employed ? tab.clock_exits[lo] : tab.unemployed_clock_exits[lo * 2 + static_cast<std::size_t>(long_unemployed)];
      exit_event(exits.pick(w[2]));
    }
  }

  void exit_event(int k) {
    switch (k) {
      case kExitDeath:
        ++c[L.natural_deaths + l];
        exit_model();
        break;
      case kExitDeported:
        ++c[L.pair_at(L.deportations, o, l)];
        exit_model();
        break;
      case kExitReturn:
        ++c[L.pair_at(L.returns, o, l)];
        exit_model();
        break;
      case kExitOnward:
        ++c[L.onward + l];
        st = kAspiring;
        since = t;
        fl &= ~(flag::kEmployed | flag::kRejected);
        p = kNone;
        break;
      default: break;
    }
  }

  // Mechanisms 6-8 for a settled migrant, with this month's draws.
  void settle() {
    const auto& w = settled_words();
    const int sector = fl & flag::kSectorMask;
    int irregular = st == kIrregular ? 1 : 0;
    // 6. Labour market.
    if (fl & flag::kEmployed) {
      if (tab.separation[l].happens(w[0])) {
        fl &= ~flag::kEmployed;
        job_since = t;
      }
    } else if (tab.hire[(static_cast<std::size_t>(l) * S + sector) * 2 + irregular].happens(w[0])) {
      fl |= flag::kEmployed;
      job_since = t;
      ++c[L.hires_at(l, sector)];
    }
    // 7. Regularisation.
    if (irregular) {
      if (p != kNone) {
        if (admitted(p)) {
          ++c[L.admissions + p];
          st = kRegular;
          fl &= ~flag::kIrregular;
          irregular = 0;
          p = kNone;
        } else if (!tab.pathway_open[p]) {
          p = kNone;  // the programme closed: the application lapses
        }
      } else {
        for (const std::uint8_t q : tab.regularisations[l]) {
          const Pathway& pw = s.pathways[q];
          if (!pw.origin_ok[o] || !pw.sector_ok[sector] || since >= tab.presence_before[q]) continue;
          if (tab.take_up[q].happens(w[1])) {
            p = q;
            ++c[L.applications + q];
          }
          break;
        }
      }
    }
    // 8. Exits: death, deportation, return, onward move.
    const int long_unemployed = !(fl & flag::kEmployed) && t - job_since >= long_months ? 1 : 0;
    const std::size_t k = ((static_cast<std::size_t>(l) * tab.origins + o) * 2 + irregular) * 2 + long_unemployed;
    exit_event(tab.exits[k].pick(w[2]));
  }

  /// Runs agent i's month; `block`, if given, is block 0 of its month's stream of `purpose`,
  /// computed beforehand (by the batched Philox) and equal to what random_block would draw:
  /// the Settled block for a settled migrant, the first it draws for any other (kFirstDraw).
  void run(Agents& a, std::size_t i, const std::array<std::uint32_t, 4>* block = nullptr,
           Purpose purpose = Purpose::Settled) {
    const int st0 = a.status[i];
    id = a.id[i];
    o = a.origin[i];
    l = a.location[i];
    d = a.destination[i];
    st = st0;
    fl = a.flags[i];
    p = a.pathway[i];
    since = a.since[i];
    job_since = a.job_since[i];
    wake = a.wake[i];
    have_words = false;
    have_pre = block != nullptr;
    if (have_pre) {
      pre = *block;
      pre_purpose = purpose;
    }
    const int l0 = l, fl0 = fl;

    switch (st0) {
      case kAspiring: aspire(); break;
      case kApplied: decide(); break;
      case kWaiting: wait(); break;
      case kInTransit: travel(); break;
      default:
        if (on_clock() && wake == t) {
          wake_up();
        } else {
          settle();
        }
        break;
    }
    // Count the change of state.
    if (st != st0 || l != l0) {
      --c[L.stock_at(o, l0, st0)];
      if (st != kExited) ++c[L.stock_at(o, l, st)];
    }
    const bool was_settled = settled(st0), is_settled = settled(st);
    if (was_settled || is_settled) {
      const int sector = fl0 & flag::kSectorMask;
      const int before_irr = st0 == kIrregular, after_irr = st == kIrregular;
      const int before_emp = (fl0 & flag::kEmployed) ? 1 : 0, after_emp = (fl & flag::kEmployed) ? 1 : 0;
      if (!(was_settled && is_settled && l == l0 && before_irr == after_irr && before_emp == after_emp)) {
        if (was_settled) --c[L.labour_at(l0, sector, before_irr, before_emp)];
        if (is_settled) ++c[L.labour_at(l, sector, after_irr, after_emp)];
      }
    }
    if (st == kExited) {
      a.status[i] = static_cast<std::uint8_t>(kExited);
      freed.push_back(static_cast<std::uint32_t>(i));
      return;
    }
    // Write back.
    a.location[i] = static_cast<std::uint8_t>(l);
    a.destination[i] = static_cast<std::uint8_t>(d);
    a.status[i] = static_cast<std::uint8_t>(st);
    a.flags[i] = static_cast<std::uint8_t>(fl);
    a.pathway[i] = static_cast<std::uint8_t>(p);
    a.since[i] = static_cast<std::int16_t>(since);
    a.job_since[i] = static_cast<std::int16_t>(job_since);
    a.wake[i] = static_cast<std::int16_t>(wake);
    // Whoever ends the month settled gets a fresh clock with this month's bounds (the
    // geometric distribution is memoryless, so redrawing is exact).
    if (st == kRegular || st == kIrregular) redraw_clock(&a.wake[i]);
    // A pending application takes part in next month's lottery.
    if (st == kApplied || (st == kIrregular && p != kNone)) {
      tickets.push_back(Ticket{lottery_ticket(seed, static_cast<std::uint32_t>(t + 1), id), id,
                               static_cast<std::uint8_t>(p)});
    }
  }
};

/// The stream an agent of each status at the month's start usually draws from first: an
/// aspirant chooses (aspire), an applicant's lottery reads its ticket (admitted), an admitted
/// migrant whose travel is due arrives and gets a clock (arrive, redraw_clock), a migrant in
/// transit crosses an edge (travel), a settled one takes its month's draws (settle, wake_up).
/// Each is block 0 of that stream for the month (a lottery ticket is the month's Lottery
/// block). Where an agent draws another stream first (an aspirant who gives up abroad gets a
/// clock) or none (a lottery that admits everyone), AgentMonth::draw computes what it needs:
/// the results are the same, the batch's block goes unused.
constexpr std::array<Purpose, kExited + 1> kFirstDraw = {Purpose::Aspire,  Purpose::Lottery, Purpose::Clock,
                                                        Purpose::Journey, Purpose::Settled, Purpose::Settled,
                                                        Purpose::Settled};

}  // namespace

void Model::agent_pass() {
  const int threads = omp_get_max_threads();
  thread_counts_.resize(threads);
  thread_tickets_.resize(threads);
  thread_free_.resize(threads);
  const std::size_t N = agents_.size();
  int team = threads;  // the team the runtime gives (fewer than asked with OMP_DYNAMIC)
  woken_.build(clock_, unemployed_, tables_.regularisation_open.data(), scenario_.n_countries(), scenario_.n_sectors());
#pragma omp parallel num_threads(threads)
  {
    const int th = omp_get_thread_num();
#pragma omp single nowait
    team = omp_get_num_threads();
    auto& counts = thread_counts_[th];
    counts.assign(layout_.total, 0);
    // The thread's lists, held in the thread during the pass and handed back after it (swaps,
    // no copies): the vectors' own headers sit side by side in thread_tickets_ and
    // thread_free_, so each push_back of one thread took the other's cache line away (1M and
    // 10M agents, 2 threads: the pass x0.97, docs/performance.md).
    std::vector<Ticket> tickets;
    std::vector<std::uint32_t> freed;
    tickets.swap(thread_tickets_[th]);
    freed.swap(thread_free_[th]);
    tickets.clear();
    freed.clear();
    WakeBatch wakes(t_);
    AgentMonth am{scenario_, tables_, clock_, unemployed_, routes_, policy_, layout_, counts.data(), tickets,
                  freed, wakes, seed_, t_, scenario_.n_countries(), scenario_.n_sectors(),
                  scenario_.behaviour.long_unemployment_months, scenario_.behaviour.give_up_months,
                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    // Most agents are employed migrants whose event clock sleeps through the month. Each
    // block of agents is first screened without branches (a loop the compiler vectorises):
    // `busy` is set for every agent that has something to do this month; only those are
    // visited. An irregular migrant sleeps only if no regularisation is open where it is.
    // The unemployed sleep too, but not those of a group whose hiring bound was raised
    // this month: the screen keeps the unemployed of the locations with such a group, and
    // those of the other groups there are let go below.
    const std::uint8_t* __restrict raised = unemployed_.raised.data();
    const int S = scenario_.n_sectors();
    const std::uint8_t* status = agents_.status.data();
    const std::uint8_t* flags = agents_.flags.data();
    const std::uint8_t* location = agents_.location.data();
    const std::uint8_t* pathway = agents_.pathway.data();
    const std::int16_t* wake = agents_.wake.data();
    const std::uint8_t* __restrict reg_open = tables_.regularisation_open.data();
    // Locations with an open regularisation, and with a raised hiring bound, for the screen;
    // with more than it lists, all irregular (or unemployed) migrants are kept by the screen
    // and checked one by one below.
    const int C = scenario_.n_countries();
    std::uint8_t open[kListed], raised_at[kListed];
    const bool check_irregular = !list_locations(C, [&](int l) { return reg_open[l] != 0; }, open);
    const bool raised_everywhere = !list_locations(C, [&](int l) {
      for (int sec = 0; sec < S; ++sec)
        for (int irr = 0; irr < 2; ++irr)
          if (raised[unemployed_.group(l, sec, irr, S)]) return true;
      return false;
    }, raised_at);
    const bool some_raised = raised_everywhere || raised_at[0] != kNone;
    const std::int16_t t = static_cast<std::int16_t>(t_);
    constexpr std::size_t kBlock = 256;
    const std::size_t blocks = (N + kBlock - 1) / kBlock;
    alignas(64) std::uint8_t busy[kBlock];
    std::uint16_t busy_index[kBlock];
    std::uint32_t busy_id[kBlock];
    std::uint32_t busy_purpose[kBlock];
    std::uint32_t busy_words[4 * kBlock];
    // The busy agents' fields for classify_woken, which reads whole groups of eight.
    std::uint8_t busy_status[kBlock + 8], busy_flags[kBlock + 8], busy_location[kBlock + 8], busy_pathway[kBlock + 8];
    std::int16_t busy_wake[kBlock + 8];
    std::uint16_t busy_row[kBlock + 8];
    std::uint64_t quick[kBlock / 64], job_change[kBlock / 64];
    const WokenTable& woken = woken_;
    const std::uint32_t* __restrict ids = agents_.id.data();
    const std::uint8_t* __restrict origin = agents_.origin.data();
    const std::uint8_t* __restrict destination = agents_.destination.data();
    const std::int16_t* since = agents_.since.data();
    const std::int16_t* job_since = agents_.job_since.data();
    // Blocks handed out as threads come free, in runs that start large (what is left divided
    // by the number of threads) and shrink to 16 blocks (4,096 agents) at the end: new agents
    // sit at the end of the arrays and are busier, and a shared host slows one vCPU or the
    // other. Runs of 16 blocks throughout made the 10M pass with 2 threads 13% slower
    // (docs/performance.md); likely because each new run restarts the thread's streams
    // through a dozen arrays, and the hardware prefetchers with them.
    // Monotonic: each thread gets its runs in increasing order, so its list of freed slots is
    // sorted (Model::step merges them). The results do not depend on who runs which block.
#pragma omp for schedule(monotonic : guided, 16) nowait
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t first = b * kBlock, n = std::min(kBlock, N - first);
      // The next block's ids, which the screen does not read: each of its busy agents needs
      // one; without this, a demand miss per busy agent (10M agents: the pass 7 % slower).
      if (first + 2 * kBlock <= N)
        for (std::size_t k = 0; k < kBlock; k += 16) __builtin_prefetch(&ids[first + kBlock + k]);
      const std::uint8_t* st = status + first;
      const std::uint8_t* fl = flags + first;
      const std::uint8_t* pw = pathway + first;
      const std::int16_t* wk = wake + first;
      screen(st, fl, pw, wk, location + first, n, t, open, check_irregular, raised_at, raised_everywhere, busy);
      // The busy agents of the block, in order, by a branch-free compaction (a loop over the
      // set bytes mispredicted its exits, see docs/performance.md).
      std::size_t m = compact_busy(busy, n, busy_index);
      // Months with many regularisations open or some hiring bounds raised: the screen kept
      // agents that may still sleep; let them go (a pass over the busy agents only).
      if (check_irregular || some_raised) {
        std::size_t kept = 0;
        for (std::size_t j = 0; j < m; ++j) {
          const std::size_t k = busy_index[j], i = first + k;
          const bool sleeps =
              wk[k] > t && runs_on_clock(st[k], fl[k], pw[k], location[i], reg_open, unemployed_, S);
          if (!sleeps) busy_index[kept++] = static_cast<std::uint16_t>(k);
        }
        m = kept;
      }
      // Their ids, gathered in one go (the loads overlap instead of each waiting on memory),
      // with the fields the woken clocks' classification reads, and the first block each
      // draws this month (kFirstDraw) by the batched Philox. The fields the screen did not
      // read are fetched ahead for the agents' months (without destination's, each busy agent
      // off the quick path waited on it: the 10M loop 4-5% slower, docs/performance.md).
      for (std::size_t j = 0; j < m; ++j) {
        const std::size_t k = busy_index[j], i = first + k;
        busy_id[j] = ids[i];
        busy_status[j] = st[k];
        busy_flags[j] = fl[k];
        busy_pathway[j] = pw[k];
        busy_wake[j] = wk[k];
        busy_location[j] = location[i];
        busy_purpose[j] = static_cast<std::uint32_t>(kFirstDraw[st[k]]);
        __builtin_prefetch(&origin[i]);
        __builtin_prefetch(&destination[i]);
        __builtin_prefetch(&since[i]);
        __builtin_prefetch(&job_since[i]);
      }
      random_blocks(seed_, static_cast<std::uint32_t>(t_), PurposeWords{busy_purpose}, busy_id, m, busy_words);
      // The settled migrants whose clock woke with no exit candidate (woken.hpp), all at once;
      // then their months, in a loop over their bits, and every other busy agent's month in
      // full, in a loop over the other bits: neither asks per agent which kind it is, a branch
      // the predictor missed often. Their order does not change any result: a woken clock's
      // month frees no slot and queues no ticket (the thread's lists stay in slot order), its
      // counts are sums, and its fresh clock goes to its own slot.
      classify_woken(woken, BusyAgents{busy_status, busy_flags, busy_location, busy_pathway, busy_wake, busy_words,
                                       busy_words + m, m},
                     t, quick, job_change, busy_row);
      const std::size_t bit_words = (m + 63) / 64;
      for (std::size_t v = 0; v < bit_words; ++v) {
        for (std::uint64_t bits = quick[v]; bits != 0; bits &= bits - 1) {
          const std::size_t j = v * 64 + static_cast<std::size_t>(std::countr_zero(bits)), i = first + busy_index[j];
          // As wake_up() with a job change at most: no branch on whether the job changes.
          const int change = static_cast<int>((job_change[v] >> (j % 64)) & 1);
          const int f = busy_flags[j], l = busy_location[j], sector = f & flag::kSectorMask;
          const int emp = (f & flag::kEmployed) ? 1 : 0, irregular = busy_status[j] == kIrregular ? 1 : 0;
          agents_.flags[i] = static_cast<std::uint8_t>(f ^ (change ? flag::kEmployed : 0));
          const std::int16_t was = agents_.job_since[i];
          agents_.job_since[i] = change ? t : was;
          counts[layout_.hires_at(l, sector)] += change & (1 - emp);
          counts[layout_.labour_at(l, sector, irregular, emp)] -= change;
          counts[layout_.labour_at(l, sector, irregular, 1 - emp)] += change;
          // A fresh clock after the change, from word 3 of the Settled block (redraw_clock).
          const std::size_t row = busy_row[j];
          queue_wake(woken.any[row], *woken.wait[row], woken.log_1mp[row], wakes, &agents_.wake[i],
                     busy_words[3 * m + j]);
        }
      }
      for (std::size_t v = 0; v < bit_words; ++v) {
        const std::size_t left = m - v * 64;
        const std::uint64_t in_block = left >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << left) - 1;
        for (std::uint64_t bits = ~quick[v] & in_block; bits != 0; bits &= bits - 1) {
          const std::size_t j = v * 64 + static_cast<std::size_t>(std::countr_zero(bits));
          const std::array<std::uint32_t, 4> w = {busy_words[j], busy_words[m + j], busy_words[2 * m + j],
                                                  busy_words[3 * m + j]};
          am.run(agents_, first + busy_index[j], &w, static_cast<Purpose>(busy_purpose[j]));
        }
      }
    }
    // The thread's fresh clocks still queued: its own agents only, so no barrier before
    // (the loop's nowait); the region's end waits for every thread.
    wakes.finish();
    tickets.swap(thread_tickets_[th]);
    freed.swap(thread_free_[th]);
  }
  // Threads beyond this month's team (a smaller team, or a change of thread count) hold
  // nothing: their lists from an earlier month must not be counted again.
  for (int th = team; th < static_cast<int>(thread_counts_.size()); ++th) {
    thread_counts_[th].assign(layout_.total, 0);
    thread_tickets_[th].clear();
    thread_free_[th].clear();
  }
}

}  // namespace migsim
