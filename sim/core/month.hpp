#pragma once
/// @file month.hpp
/// Calendar months, the model's unit of time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace migsim {

/// A calendar month, stored as a count of months since year 0 (year * 12 + month - 1), so
/// that differences are month counts and comparisons are calendar order.
struct Month {
  int32_t value = 0;

  static constexpr Month of(int year, int month) { return Month{year * 12 + (month - 1)}; }
  constexpr int year() const { return value / 12; }
  constexpr int month() const { return value % 12 + 1; }  ///< 1..12
  constexpr Month operator+(int months) const { return Month{value + months}; }
  constexpr int operator-(Month other) const { return value - other.value; }
  constexpr auto operator<=>(const Month&) const = default;

  /// "YYYY-MM".
  std::string str() const;
  /// Parses "YYYY-MM" (also "YYYY-M") or "YYYY" (meaning January of that year) for years
  /// 1000..9999; returns nullopt for anything else.
  static std::optional<Month> parse(std::string_view text);
};

/// Days from 1970-01-01 to the first day of `m` in the proleptic Gregorian calendar.
int64_t days_from_epoch(Month m);

}  // namespace migsim
