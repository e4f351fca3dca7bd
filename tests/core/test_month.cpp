#include <doctest/doctest.h>

#include "core/month.hpp"

using migsim::Month;

TEST_CASE("months parse, print and count") {
  const auto m = Month::parse("2010-01");
  REQUIRE(m);
  CHECK(m->year() == 2010);
  CHECK(m->month() == 1);
  CHECK(m->str() == "2010-01");
  CHECK(*Month::parse("2022-12") - *m == 155);
  CHECK((*m + 13).str() == "2011-02");
  CHECK(Month::parse("2015")->str() == "2015-01");
  CHECK(Month::parse("2015-6")->str() == "2015-06");
  for (const char* bad : {"", "2010-13", "2010-00", "10-01", "2010-01-05", "abcd", "2010-", "-2010", "999"}) {
    CAPTURE(bad);
    CHECK_FALSE(Month::parse(bad));
  }
}

TEST_CASE("days since the epoch follow the Gregorian calendar") {
  CHECK(migsim::days_from_epoch(Month::of(1970, 1)) == 0);
  CHECK(migsim::days_from_epoch(Month::of(2010, 1)) == 14610);
  // 2012 is a leap year: March starts 29 + 31 days after January.
  CHECK(migsim::days_from_epoch(Month::of(2012, 3)) - migsim::days_from_epoch(Month::of(2012, 1)) == 60);
  CHECK(migsim::days_from_epoch(Month::of(2011, 3)) - migsim::days_from_epoch(Month::of(2011, 1)) == 59);
  // 2000 is a leap year, 2100 is not.
  CHECK(migsim::days_from_epoch(Month::of(2000, 3)) - migsim::days_from_epoch(Month::of(2000, 2)) == 29);
  CHECK(migsim::days_from_epoch(Month::of(2100, 3)) - migsim::days_from_epoch(Month::of(2100, 2)) == 28);
}
