#pragma once
/// @file agents.hpp
/// Agents as a struct of arrays of small integer fields: 16 bytes per agent, no pointer or
/// object per agent. An agent is the plain struct AgentView describes; `Agents` stores each
/// field in its own array so that the monthly pass streams through memory.

#include <cstddef>
#include <cstdint>
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

struct Agents {
  std::vector<std::uint32_t> id;          ///< unique, assigned in a fixed order; keys the RNG
  std::vector<std::uint8_t> origin;       ///< country of birth (or the rest of the world)
  std::vector<std::uint8_t> location;     ///< country where the agent is
  std::vector<std::uint8_t> destination;  ///< intended destination, or kNone
  std::vector<std::uint8_t> status;       ///< Status
  std::vector<std::uint8_t> flags;        ///< sector, employed, irregular, rejected bits
  std::vector<std::uint8_t> pathway;      ///< pathway applied to / admitted on, or kNone
  std::vector<std::int16_t> since;        ///< month (from the start) the status began
  std::vector<std::int16_t> job_since;    ///< month the employment state last changed
  std::vector<std::int16_t> wake;         ///< settled migrants: next month an event may happen (clock.hpp)

  /// Bytes of state per agent (the sum of the field sizes above).
  static constexpr std::size_t kBytesPerAgent = 4 + 6 * 1 + 3 * 2;

  std::size_t size() const { return id.size(); }
  void resize(std::size_t n);
  void reserve(std::size_t n);
  /// Copies the agent in slot `from` to slot `to`.
  void copy(std::size_t from, std::size_t to);
};

}  // namespace migsim
