#include "engine/memory.hpp"

#include <sys/resource.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/errors.hpp"
#include "engine/progress.hpp"
#include "model/agents.hpp"
#include "model/counters.hpp"

namespace migsim {

namespace {

constexpr double kAgentHeadroom = 1.5;
constexpr std::uint64_t kFixedBytes = 64ull << 20;
constexpr std::int64_t kMaxAgents = (std::int64_t{1} << 32) - 2;  // ids are 32-bit; model.cpp

/// A "Key:   123 kB" line of a /proc file, in bytes; 0 if absent.
std::uint64_t proc_kb(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size() + 1, key + ":") == 0) {
      std::istringstream v(line.substr(key.size() + 1));
      std::uint64_t kb = 0;
      v >> kb;
      return kb << 10;
    }
  }
  return 0;
}

/// A number in a one-line file (cgroup), or 0 for "max" / absent.
std::uint64_t file_number(const char* file) {
  std::ifstream in(file);
  std::string word;
  if (!(in >> word) || word == "max") return 0;
  try {
    return std::stoull(word);
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / double(1ull << 30));
  else std::snprintf(buf, sizeof buf, "%.0f MiB", std::ceil(double(bytes) / double(1ull << 20)));
  return buf;
}

MemoryEstimate estimate_memory(const Scenario& s, int months, int threads) {
  MemoryEstimate e;
  e.agents = s.initial_agents();
  e.agent_bytes = static_cast<std::uint64_t>(double(e.agents) * double(Agents::kBytesPerAgent) * kAgentHeadroom);
  // Values recorded per month (engine/recorder.cpp): stock and arrivals [origin][location]
  // by status and kind, returns and deportations [origin][location], four per pathway,
  // three per route edge, employed, seekers, hires and vacancies [location][sector], new
  // movers [origin][sector], two per location, one per origin, and the agent count.
  const auto O = static_cast<std::uint64_t>(s.n_origins()), C = static_cast<std::uint64_t>(s.n_countries()),
             S = static_cast<std::uint64_t>(s.n_sectors()), P = s.pathways.size(), R = s.routes.size();
  const std::uint64_t per_month = O * C * (6 + kArrivalKinds + 2) + 4 * P + 3 * R + 4 * C * S + O * S + 2 * C + O + 1;
  e.series_bytes = static_cast<std::uint64_t>(std::max(months, 0)) * per_month * 8 * 2;
  const CounterLayout layout(s.n_origins(), s.n_countries(), s.n_sectors(), static_cast<int>(P), static_cast<int>(R));
  e.thread_bytes = static_cast<std::uint64_t>(std::max(threads, 1)) * layout.total * 8;
  e.fixed_bytes = kFixedBytes;
  return e;
}

const char* const kAddressSpaceLimit = "the address-space limit (ulimit -v)";

std::uint64_t available_memory(std::string* source) {
  std::uint64_t best = proc_kb("/proc/meminfo", "MemAvailable");
  std::string from = "MemAvailable in /proc/meminfo";
  if (const std::uint64_t max = file_number("/sys/fs/cgroup/memory.max")) {
    const std::uint64_t used = file_number("/sys/fs/cgroup/memory.current");
    const std::uint64_t left = max > used ? max - used : 0;
    if (best == 0 || left < best) {
      best = left;
      from = "the cgroup's memory.max less memory.current";
    }
  }
  struct rlimit as {};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    const std::uint64_t mapped = proc_kb("/proc/self/status", "VmSize");
    const std::uint64_t left = as.rlim_cur > mapped ? as.rlim_cur - mapped : 0;
    if (best == 0 || left < best) {
      best = left;
      from = kAddressSpaceLimit;
    }
  }
  if (source) *source = from;
  return best;
}

void check_memory(const Scenario& s, const MemoryEstimate& e, std::uint64_t available,
                  const std::string& available_source) {
  const std::string at = (s.size_source.empty() ? std::string("scenario") : s.size_source) + ": " +
                         (s.size_key.empty() ? std::string("people_per_agent") : s.size_key) + ": ";
  const std::string ppa = std::to_string(s.people_per_agent);
  if (e.agents > kMaxAgents) {
    const auto need = static_cast<std::int64_t>(
        std::ceil(double(s.people_per_agent) * double(e.agents) / double(kMaxAgents)));
    throw InputError({at + "the initial stock makes " + format_count(e.agents) + " agents at people_per_agent " +
                      ppa + ", more than the " + format_count(kMaxAgents) +
                      " a run can hold; set people_per_agent to at least " + std::to_string(need)});
  }
  if (available == 0 || e.needed() <= available) return;
  const bool held = e.while_held() > e.total();  // the peak is while the checkpoint is held
  std::string held_part, advice = "resume on a machine with more memory";
  if (held && e.held_mapped) {
    held_part = "; the checkpoint, mapped into the address space that ulimit -v limits: " + format_bytes(e.held_bytes);
    advice = "raise ulimit -v, or " + advice;
  } else if (held) {
    held_part = "; the checkpoint, read into memory because its file system cannot map files: " +
                format_bytes(e.held_bytes);
    advice += ", or from a copy of the checkpoint on a file system that can map files, such as a local disk, where it "
              "is not read into memory";
  }
  const std::string parts =
      format_count(e.agents) + " agents at people_per_agent " + ppa + ": " + format_bytes(e.agent_bytes) +
      "; series and buffers: " +
      format_bytes((held ? e.series_bytes / 2 : e.series_bytes) + e.thread_bytes + e.fixed_bytes) + held_part;
  const std::string needs = "the run needs about " + format_bytes(e.needed()) + " of memory (" + parts + "), but " +
                            format_bytes(available) + " is available (" + available_source + "); ";
  // A resumed run keeps its scenario: another people_per_agent would not be the checkpoint's.
  if (!e.resume_file.empty()) throw InputError({e.resume_file + ": cannot resume from this checkpoint: " + needs + advice});
  std::string msg = at + needs;
  const std::uint64_t rest = e.series_bytes + e.thread_bytes + e.fixed_bytes;
  if (rest < available && e.agent_bytes > 0) {
    const auto need = static_cast<std::int64_t>(
        std::ceil(double(s.people_per_agent) * double(e.agent_bytes) / double(available - rest)));
    msg += "set people_per_agent to at least " + std::to_string(need) + ", or run on a machine with more memory";
  } else {
    msg += "the monthly series alone need " + format_bytes(e.series_bytes) +
           ": run fewer months (--months) or fewer countries, or on a machine with more memory";
  }
  throw InputError({msg});
}

bool keep_freed_memory() {
#if defined(__GLIBC__)
  // Setting either also stops glibc from adjusting them as blocks come and go.
  const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  const bool trim_ok = mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max()) == 1;
  return mmap_ok && trim_ok;
#else
  return false;
#endif
}

}  // namespace migsim
