#pragma once
/// @file comm_mpi.hpp
/// The MPI communicator of a run spread over ranks (see comm.hpp), and the MPI session of
/// the process. Built only when MPI was found (MIGSIM_HAVE_MPI).

#include <memory>

#include "model/comm.hpp"

namespace migsim {

/// True when the process was started by an MPI launcher (mpirun, srun --mpi=...): only
/// then does migsim initialise MPI, so a plain `migsim run` never touches it.
bool launched_by_mpi();

/// Initialises MPI (thread level FUNNELED: only the main thread calls MPI) and finalises
/// it when destroyed. Holds the communicator of MPI_COMM_WORLD.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  Comm& comm();
  /// Ends every rank at once with `code` (after an error on one rank, when the others
  /// might wait for it forever).
  [[noreturn]] void abort(int code);

 private:
  std::unique_ptr<Comm> comm_;
};

}  // namespace migsim
