#include "model/comm.hpp"

namespace migsim {

Comm& serial_comm() {
  static Comm one;
  return one;
}

}  // namespace migsim
