#include "model/comm_mpi.hpp"

#include <mpi.h>

#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/errors.hpp"

namespace migsim {

namespace {

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw RuntimeFailure(std::string("MPI: ") + what + " failed");
}

int as_int(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw RuntimeFailure(std::string("MPI: ") + what + " too large for one message");
  return static_cast<int>(n);
}

class MpiComm : public Comm {
 public:
  MpiComm() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void sum(std::int64_t* data, std::size_t n) override {
    if (size_ == 1 || n == 0) return;
    check(MPI_Allreduce(MPI_IN_PLACE, data, as_int(n, "counter sum"), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD),
          "Allreduce of the month's counters");
  }

  void all_tickets(std::vector<std::vector<Ticket>>& parts) override {
    if (size_ == 1) return;
    std::vector<Ticket> tickets;
    for (const auto& part : parts) tickets.insert(tickets.end(), part.begin(), part.end());
    const int mine = as_int(tickets.size() * sizeof(Ticket), "ticket pool");
    std::vector<int> bytes(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    check(MPI_Allgather(&mine, 1, MPI_INT, bytes.data(), 1, MPI_INT, MPI_COMM_WORLD), "Allgather of ticket counts");
    std::size_t total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<std::size_t>(r)] = as_int(total, "ticket pool");
      total += static_cast<std::size_t>(bytes[static_cast<std::size_t>(r)]);
    }
    std::vector<Ticket> all(total / sizeof(Ticket));
    check(MPI_Allgatherv(tickets.data(), mine, MPI_BYTE, all.data(), bytes.data(), offsets.data(), MPI_BYTE,
                         MPI_COMM_WORLD),
          "Allgatherv of lottery tickets");
    parts.assign(1, std::move(all));
  }

  void gather_bytes(std::vector<char> mine, std::vector<char>& out) override {
    const int n = as_int(mine.size(), "checkpoint part");
    std::vector<int> bytes(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    check(MPI_Gather(&n, 1, MPI_INT, bytes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "Gather of sizes");
    std::size_t total = 0;
    if (rank_ == 0) {
      for (int r = 0; r < size_; ++r) {
        offsets[static_cast<std::size_t>(r)] = as_int(total, "checkpoint");
        total += static_cast<std::size_t>(bytes[static_cast<std::size_t>(r)]);
      }
    }
    out.assign(total, 0);
    check(MPI_Gatherv(mine.data(), n, MPI_BYTE, out.data(), bytes.data(), offsets.data(), MPI_BYTE, 0,
                      MPI_COMM_WORLD),
          "Gatherv of checkpoint parts");
  }

  bool any(bool flag) override {
    int v = flag ? 1 : 0;
    if (size_ > 1) check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "Allreduce of a flag");
    return v != 0;
  }

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    throw RuntimeFailure("MPI_Init_thread failed");
  }
  comm_ = std::make_unique<MpiComm>();
}

MpiSession::~MpiSession() {
  comm_.reset();
  MPI_Finalize();
}

Comm& MpiSession::comm() { return *comm_; }

void MpiSession::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();
}

}  // namespace migsim
