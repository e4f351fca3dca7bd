#include "model/counters.hpp"

namespace migsim {

const char* arrival_kind_name(int k) {
  static const char* names[kArrivalKinds] = {"labour_visa",          "humanitarian_visa",
                                             "private_sponsorship",  "family_reunification",
                                             "free_movement",        "irregular",
                                             "other"};
  return names[k];
}

CounterLayout::CounterLayout(int o, int c, int s, int p, int r)
    : origins(o), countries(c), sectors(s), pathways(p), routes(r) {
  std::size_t at = 0;
  auto take = [&](std::size_t n) {
    const std::size_t here = at;
    at += n;
    return here;
  };
  const auto O = static_cast<std::size_t>(o), C = static_cast<std::size_t>(c),
             S = static_cast<std::size_t>(s), P = static_cast<std::size_t>(p),
             R = static_cast<std::size_t>(r);
  stock = take(O * C * 6);
  labour = take(C * S * 4);
  state_end = at;
  applications = take(P);
  admissions = take(P);
  arrivals = take(O * C * kArrivalKinds);
  crossings = take(R);
  route_deaths = take(R);
  interceptions = take(R);
  hires = take(C * S);
  returns = take(O * C);
  deportations = take(O * C);
  natural_deaths = take(C);
  onward = take(C);
  gave_up = take(O);
  total = at;
}

}  // namespace migsim
