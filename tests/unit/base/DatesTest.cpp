// Dates by the kiosk's one rule: records in UTC, calendar days people choose in local time.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>

#include "qkiosk/base/Dates.h"

using namespace kiosk;
using namespace std::chrono;

namespace {

// Runs `f` with the process's time zone set to `tz`, then puts the old one back.
template <typename F>
void inZone(const char* tz, F f) {
    const char* old = std::getenv("TZ");
    const std::string saved = old ? old : "";
    ::setenv("TZ", tz, 1);
    ::tzset();
    f();
    if (old) ::setenv("TZ", saved.c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
}

TimePoint at(int y, unsigned m, unsigned d, int h, int min, int s) {
    return TimePoint(sys_days(year_month_day{year{y}, month{m}, day{d}})) + hours(h) + minutes(min) + seconds(s);
}

}  // namespace

TEST_CASE("Only real days of the calendar are dates", "[dates]") {
    CHECK(isCalendarDate("2027-03-31"));
    CHECK(isCalendarDate("2028-02-29"));
    CHECK_FALSE(isCalendarDate("2027-02-29"));
    CHECK_FALSE(isCalendarDate("2026-02-30"));
    CHECK_FALSE(isCalendarDate("2100-02-29"));
    CHECK(isCalendarDate("2000-02-29"));
    CHECK_FALSE(isCalendarDate("2027-3-31"));
    CHECK_FALSE(isCalendarDate("2027-13-01"));
    CHECK_FALSE(isCalendarDate("2027-00-10"));
    CHECK_FALSE(isCalendarDate("2027-01-00"));
    CHECK_FALSE(isCalendarDate("31.03.2027"));
    CHECK_FALSE(isCalendarDate(""));
}

TEST_CASE("Recorded instants are UTC whatever the kiosk's time zone, and read back exactly", "[dates]") {
    const TimePoint t = at(2026, 12, 4, 22, 34, 34);
    inZone("Asia/Tokyo", [&] {
        CHECK(rfc3339(t) == "2026-12-04T22:34:34Z");
        CHECK(utcStamp(t) == "20261204-223434");
    });
    CHECK(parseRfc3339("2026-12-04T22:34:34Z") == t);
    CHECK_FALSE(parseRfc3339("2026-12-04 22:34:34Z"));
    CHECK_FALSE(parseRfc3339("2026-02-30T00:00:00Z"));
    CHECK_FALSE(parseRfc3339("2026-12-04T24:00:00Z"));
    CHECK_FALSE(parseRfc3339("2026-12-04T22:34:34+09:00"));
    CHECK_FALSE(parseRfc3339(""));
}

TEST_CASE("Days people choose and file names people read are the kiosk's local ones", "[dates]") {
    // 22:34 UTC on 4 December is already 5 December in Tokyo.
    const TimePoint t = at(2026, 12, 4, 22, 34, 34);
    inZone("Asia/Tokyo", [&] {
        CHECK(localDay(t) == "2026-12-05");
        CHECK(localDay(t, 30) == "2027-01-04");
        CHECK(localDay(t, -365) == "2025-12-05");
        CHECK(localStamp(t) == "20261205-073434");
    });
    inZone("UTC", [&] { CHECK(localDay(t) == "2026-12-04"); });
}

TEST_CASE("A day after is a calendar day, also across a daylight saving change", "[dates]") {
    // Europe/Berlin leaves summer time on 25 October 2026 (a 25-hour day).
    inZone("Europe/Berlin", [] {
        const TimePoint lateEvening = at(2026, 10, 24, 21, 30, 0);   // 23:30 local, 24 October
        CHECK(localDay(lateEvening) == "2026-10-24");
        CHECK(localDay(lateEvening, 1) == "2026-10-25");
        CHECK(localDay(lateEvening, 2) == "2026-10-26");
    });
}
