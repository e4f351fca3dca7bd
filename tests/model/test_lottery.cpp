// The lottery's cut (pathways.cpp: ticket_counts and draw_lotteries) against a full sort of
// each pathway's tickets, for every number of seats, with tickets spread over several parts
// (the pass's threads), tickets that share their top byte, and equal tickets told apart by id.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "model/tables.hpp"

using namespace migsim;

namespace {

bool by_ticket(const Ticket& a, const Ticket& b) { return a.ticket != b.ticket ? a.ticket < b.ticket : a.id < b.id; }

/// Checks pathway 0's cut for every number of seats a lottery can have (1 to one below its
/// tickets) against its sorted tickets; pathway 1's tickets are mixed in, with a lottery of
/// its own (half its tickets), and pathway 2 has no tickets and no lottery.
void check_all_seats(const std::vector<std::vector<Ticket>>& parts) {
  std::vector<Ticket> mine[2];
  for (const auto& part : parts)
    for (const Ticket& t : part) mine[t.pathway].push_back(t);
  for (auto& v : mine) std::sort(v.begin(), v.end(), by_ticket);
  const auto counts = ticket_counts(parts, 3);
  REQUIRE(counts.size() == 3 * kTicketBytes);
  std::int64_t sum[3] = {0, 0, 0};
  for (int p = 0; p < 3; ++p)
    for (int b = 0; b < kTicketBytes; ++b) sum[p] += counts[static_cast<std::size_t>(p) * kTicketBytes + b];
  CHECK(sum[0] == static_cast<std::int64_t>(mine[0].size()));
  CHECK(sum[1] == static_cast<std::int64_t>(mine[1].size()));
  CHECK(sum[2] == 0);
  const auto other = static_cast<std::int64_t>(mine[1].size() / 2);
  for (std::int64_t seats = 1; seats < static_cast<std::int64_t>(mine[0].size()); ++seats) {
    std::vector<LotteryRule> rules;
    draw_lotteries(parts, counts, {seats, other > 0 ? other : -1, -1}, rules);
    REQUIRE(rules.size() == 3);
    CAPTURE(seats);
    CHECK(rules[0].mode == LotteryRule::Below);
    CHECK(rules[0].ticket == mine[0][static_cast<std::size_t>(seats - 1)].ticket);
    CHECK(rules[0].id == mine[0][static_cast<std::size_t>(seats - 1)].id);
    if (other > 0) {
      CHECK(rules[1].mode == LotteryRule::Below);
      CHECK(rules[1].ticket == mine[1][static_cast<std::size_t>(other - 1)].ticket);
      CHECK(rules[1].id == mine[1][static_cast<std::size_t>(other - 1)].id);
    }
    CHECK(rules[2].mode == LotteryRule::All);
  }
}

std::vector<std::vector<Ticket>> make_parts(std::mt19937_64& rng, int n, std::uint64_t mask, int distinct) {
  std::vector<std::vector<Ticket>> parts(3);
  std::uniform_int_distribution<std::uint64_t> pick(0, static_cast<std::uint64_t>(distinct) - 1);
  std::vector<std::uint64_t> values(static_cast<std::size_t>(distinct));
  for (auto& v : values) v = rng() & mask;
  for (int k = 0; k < n; ++k) {
    const Ticket t{values[pick(rng)], static_cast<std::uint32_t>(1000 + k), static_cast<std::uint8_t>(rng() % 2)};
    parts[rng() % 3].push_back(t);
  }
  return parts;
}

}  // namespace

TEST_CASE("lottery: the cut is the seats-th smallest (ticket, id) of the pathway's tickets") {
  std::mt19937_64 rng(20261202);
  SUBCASE("uniform tickets") { check_all_seats(make_parts(rng, 700, ~std::uint64_t{0}, 700)); }
  SUBCASE("every ticket's top byte the same") { check_all_seats(make_parts(rng, 400, (std::uint64_t{1} << 56) - 1, 400)); }
  SUBCASE("a few top bytes, many equal tickets told apart by id") {
    check_all_seats(make_parts(rng, 400, 0x0300000000000003ULL, 8));
  }
  SUBCASE("top bytes at both ends") { check_all_seats(make_parts(rng, 300, 0xff000000000000ffULL, 300)); }
}

TEST_CASE("lottery: no seats admits no one, no lottery admits everyone") {
  const std::vector<std::vector<Ticket>> parts = {{{5, 1, 0}, {7, 2, 1}}, {{3, 3, 0}}};
  const auto counts = ticket_counts(parts, 2);
  std::vector<LotteryRule> rules;
  draw_lotteries(parts, counts, {0, -1}, rules);
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].mode == LotteryRule::None);
  CHECK(rules[1].mode == LotteryRule::All);
  draw_lotteries({}, ticket_counts({}, 0), {}, rules);
  CHECK(rules.empty());
}
