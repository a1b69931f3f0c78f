// Dates and times, in one place and by one rule:
//  * An instant the kiosk records (the log, reports, tickets, evidence, a
//    signature bundle's creation) is UTC, written RFC 3339 with a "Z":
//    "2026-12-04T22:34:34Z". Records from kiosks in different places, or
//    from either side of a clock change, compare as they are.
//  * A calendar day people choose or read (a whitelist approval's expiry, the
//    log's --since/--until/--through, the furthest day an officer may approve)
//    is a day of the kiosk's local time zone, "YYYY-MM-DD": the day on the
//    hospital's wall calendar.
//  * A time in a file name a person will see (an officer's log export) is
//    local too: "20261205-073434".
// Every function that needs "now" also takes it as an argument, so that callers
// with an injected clock (and their tests) decide what now is.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kiosk {

using TimePoint = std::chrono::system_clock::time_point;

// A real day of the calendar as "YYYY-MM-DD" (2026-02-30 is not one).
bool isCalendarDate(std::string_view s);

// "2026-12-04T22:34:34Z" (UTC, whole seconds).
std::string rfc3339(TimePoint t);
std::string rfc3339Now();
// The reverse, for exactly that shape; nullopt for anything else.
std::optional<TimePoint> parseRfc3339(std::string_view s);

// The local calendar day `daysAfter` days after `t` ("YYYY-MM-DD").
std::string localDay(TimePoint t, int daysAfter = 0);
std::string todayLocal();
std::string localDayAfter(int days);

// "20261205-073434": local time for file names people read.
std::string localStamp(TimePoint t);
// "20261204-223434": UTC, the first part of a ticket id.
std::string utcStamp(TimePoint t);

}  // namespace kiosk
