#pragma once
/// @file agents.hpp
/// Agents as a struct of arrays of small integer fields: 16 bytes per agent, no pointer or
/// object per agent. An agent is the plain struct AgentView describes; `Agents` stores each
/// field in its own array so that the monthly pass streams through memory.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace migsim {

/// Where an agent is in its migration. The first six are the `status` dimension of the
/// output; Exited marks a slot whose agent left the model this month (returned home, died,
/// deported, gave up) and that a new agent may reuse.
enum class Status : std::uint8_t {
  Aspiring = 0,   ///< considering a move: choosing a destination, deciding how to go
  Applied = 1,    ///< an application to a pathway awaits the lottery
  Waiting = 2,    ///< admitted; processing before regular travel
  InTransit = 3,  ///< travelling irregularly over the route graph
  Regular = 4,    ///< settled with a regular status
  Irregular = 5,  ///< settled without a regular status
  Exited = 6,
};
inline constexpr int kStatuses = 6;
const char* to_string(Status s);

/// Bits of Agents::flags.
namespace flag {
inline constexpr std::uint8_t kSectorMask = 0x07;  ///< labour sector index (0..7)
inline constexpr std::uint8_t kEmployed = 0x08;    ///< holds a job (settled agents)
inline constexpr std::uint8_t kIrregular = 0x10;   ///< no regular status where it is
inline constexpr std::uint8_t kRejected = 0x20;    ///< lost a pathway lottery since aspiring
}  // namespace flag

/// madvise(MADV_HUGEPAGE) on [p, p + bytes); errors ignored (agents.cpp).
void advise_huge_pages(void* p, std::size_t bytes) noexcept;
/// Asks the kernel to map the whole pages of [p, p + bytes) now, in one call, rather than one
/// page fault at a time as they are first written (about half the cost per page on the
/// benchmark VM, docs/performance.md). Best effort: a kernel without MADV_POPULATE_WRITE
/// (before Linux 5.14) leaves them to fault as usual.
void prefault(void* p, std::size_t bytes) noexcept;

/// Allocator of the agent arrays and the largest tables: blocks of 512 KiB or more are rounded
/// up to whole 2 MiB, aligned to 2 MiB and marked MADV_HUGEPAGE before anything touches
/// them, so that where transparent huge pages are enabled "on madvise" (Debian's default)
/// the kernel backs them with 2 MiB pages: one page fault instead of 512 (first touches cost
/// 6-16 us per 4 KiB page on the benchmark machine; docs/performance.md). From 512 KiB, not
/// 1 MiB: a one-byte field of a million agents is just under 1 MiB, and its 250 faults each
/// cost more start-up than the rounding's memory (1M case: 7 ms less, 7 MB more). A hint only:
/// where it is refused, memory is as usual.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHuge = std::size_t{2} << 20;
  static constexpr std::size_t kSmallest = kHuge / 4;  ///< blocks below it are as usual
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kSmallest) return std::allocator<T>{}.allocate(n);
    const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (!p) throw std::bad_alloc();
    advise_huge_pages(p, rounded);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kSmallest) std::allocator<T>{}.deallocate(p, n);
    else std::free(p);
  }
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

template <class T>
using HugeArray = std::vector<T, HugePageAllocator<T>>;

/// Storage for values that are always written before they are read. It never initialises
/// them, so where the block is fresh from the kernel (as large blocks are) each page is mapped
/// when a thread first writes to it: a table filled in parallel regions is mapped by all the
/// threads, and only the pages used. (A std::vector zeroes the whole block at once, on one
/// thread.) Allocated as HugePageAllocator does; the contents do not survive a resize to a
/// larger size.
template <class T>
class UninitArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  UninitArray() = default;
  UninitArray(const UninitArray&) = delete;
  UninitArray& operator=(const UninitArray&) = delete;
  ~UninitArray() { release(); }
  /// n elements; reallocates (contents lost) only to grow.
  void resize(std::size_t n) {
    if (n > capacity_) {
      release();
      data_ = HugePageAllocator<T>{}.allocate(n);
      capacity_ = n;
    }
    size_ = n;
  }
  std::size_t size() const { return size_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

 private:
  void release() {
    if (data_) HugePageAllocator<T>{}.deallocate(data_, capacity_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
};

/// The agent arrays' allocator: HugePageAllocator, except that a vector growing leaves the
/// new elements as they are (default-initialised) instead of zeroing them. Every field of
/// an agent is written when its slot is filled (create_initial_agents, add_new_agents, a
/// checkpoint's restore), so zeroing first only touched every new page twice, the first
/// time on one thread: 18-25 ms of the 1M-agent start-up, before the parallel loop that
/// fills the agents.
template <class T>
struct AgentAllocator : HugePageAllocator<T> {
  template <class U>
  struct rebind {
    using other = AgentAllocator<U>;
  };
  AgentAllocator() = default;
  template <class U>
  AgentAllocator(const AgentAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  friend bool operator==(const AgentAllocator&, const AgentAllocator&) { return true; }
};

template <class T>
using AgentArray = std::vector<T, AgentAllocator<T>>;

struct Agents {
  AgentArray<std::uint32_t> id;          ///< unique, assigned in a fixed order; keys the RNG
  AgentArray<std::uint8_t> origin;       ///< country of birth (or the rest of the world)
  AgentArray<std::uint8_t> location;     ///< country where the agent is
  AgentArray<std::uint8_t> destination;  ///< intended destination, or kNone
  AgentArray<std::uint8_t> status;       ///< Status
  AgentArray<std::uint8_t> flags;        ///< sector, employed, irregular, rejected bits
  AgentArray<std::uint8_t> pathway;      ///< pathway applied to / admitted on, or kNone
  AgentArray<std::int16_t> since;        ///< month (from the start) the status began
  AgentArray<std::int16_t> job_since;    ///< month the employment state last changed
  AgentArray<std::int16_t> wake;         ///< settled: next month an event may happen (clock.hpp); waiting: earliest month to travel

  /// Bytes of state per agent (the sum of the field sizes above).
  static constexpr std::size_t kBytesPerAgent = 4 + 6 * 1 + 3 * 2;

  std::size_t size() const { return id.size(); }
  void resize(std::size_t n);
  void reserve(std::size_t n);
  /// Copies the agent in slot `from` to slot `to`.
  void copy(std::size_t from, std::size_t to);
  /// Asks the hardware to bring slot i's cache line of every field into the L2 cache, ahead
  /// of writing the slot: a hint, with no effect on any value. A slot reused by a new agent
  /// lies anywhere in the arrays, so its ten fields are ten cache misses (Model::add_new_agents).
  /// Always inlined: GCC 12 finds a function of four or more prefetches free of side effects
  /// and deletes the calls to it, prefetches and all (seen in its assembly, -O1 and up).
  [[gnu::always_inline]] void prefetch(std::size_t i) const noexcept {
    __builtin_prefetch(&id[i], 0, 2);
    __builtin_prefetch(&origin[i], 0, 2);
    __builtin_prefetch(&location[i], 0, 2);
    __builtin_prefetch(&destination[i], 0, 2);
    __builtin_prefetch(&status[i], 0, 2);
    __builtin_prefetch(&flags[i], 0, 2);
    __builtin_prefetch(&pathway[i], 0, 2);
    __builtin_prefetch(&since[i], 0, 2);
    __builtin_prefetch(&job_since[i], 0, 2);
    __builtin_prefetch(&wake[i], 0, 2);
  }
};

}  // namespace migsim
