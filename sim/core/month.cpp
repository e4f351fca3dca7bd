#include "core/month.hpp"

#include <charconv>
#include <cstdio>

namespace migsim {

std::string Month::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year(), month());
  return buf;
}

namespace {
std::optional<int> parse_int(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<Month> Month::parse(std::string_view text) {
  const auto dash = text.find('-');
  const auto year = parse_int(text.substr(0, dash));
  if (!year || text.substr(0, dash).size() != 4 || *year < 1000) return std::nullopt;
  if (dash == std::string_view::npos) return Month::of(*year, 1);
  const auto month = parse_int(text.substr(dash + 1));
  if (!month || *month < 1 || *month > 12) return std::nullopt;
  return Month::of(*year, *month);
}

int64_t days_from_epoch(Month m) {
  // Howard Hinnant's days_from_civil, for day 1 of the month.
  int64_t y = m.year();
  const int64_t mo = m.month();
  y -= mo <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5;  // day 1 -> +0
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace migsim
