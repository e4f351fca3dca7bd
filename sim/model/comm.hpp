#pragma once
/// @file comm.hpp
/// What the model exchanges between the processes (MPI ranks) of one run. Each rank holds
/// a share of the agents (agent id modulo the number of ranks) and creates only its share
/// of new agents, whose ids are still assigned globally in a fixed order; after each
/// month's pass the ranks sum their integer counters and pool their lottery tickets.
/// Integer sums and a sorted ticket pool do not depend on the partition, so the output is
/// the same at any number of ranks (MODEL.md's determinism contract).
///
/// Comm is the serial implementation (one rank, nothing to exchange); comm_mpi.hpp has the
/// MPI one, built when CMake's MIGSIM_MPI option finds MPI.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "model/tables.hpp"

namespace migsim {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  /// Sums `n` integers over the ranks, in place: every rank gets the sums.
  virtual void sum(std::int64_t* data, std::size_t n) { (void)data, (void)n; }
  /// Replaces this rank's tickets, in parts, by every rank's (in rank order, as one part).
  virtual void all_tickets(std::vector<std::vector<Ticket>>& parts) { (void)parts; }
  /// Gathers each rank's bytes on rank 0, in rank order (elsewhere `out` is left empty).
  /// `mine` is taken over (one rank hands it on without a copy) and freed once gathered.
  virtual void gather_bytes(std::vector<char> mine, std::vector<char>& out) { out = std::move(mine); }
  /// True on every rank if `flag` is true on any rank.
  virtual bool any(bool flag) { return flag; }
};

/// The serial communicator (one rank).
Comm& serial_comm();

}  // namespace migsim
