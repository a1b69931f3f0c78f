#include "qkiosk/base/Dates.h"

#include <algorithm>
#include <ctime>

namespace kiosk {
namespace {

bool isDigits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s) {
    int v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
}

enum class Shape { Rfc3339, Day, Stamp };

std::string format(TimePoint t, Shape shape, bool utc) {
    const std::time_t s = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    if (utc) gmtime_r(&s, &tm);
    else localtime_r(&s, &tm);
    char buf[40];
    std::size_t n = 0;
    switch (shape) {
    case Shape::Rfc3339: n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm); break;
    case Shape::Day: n = std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm); break;
    case Shape::Stamp: n = std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm); break;
    }
    return std::string(buf, n);
}

}  // namespace

bool isCalendarDate(std::string_view v) {
    if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
    if (!isDigits(v.substr(0, 4)) || !isDigits(v.substr(5, 2)) || !isDigits(v.substr(8, 2))) return false;
    using namespace std::chrono;
    const year_month_day d{year{number(v.substr(0, 4))}, month{static_cast<unsigned>(number(v.substr(5, 2)))},
                           day{static_cast<unsigned>(number(v.substr(8, 2)))}};
    return d.ok();
}

std::string rfc3339(TimePoint t) { return format(t, Shape::Rfc3339, true); }
std::string rfc3339Now() { return rfc3339(std::chrono::system_clock::now()); }

std::optional<TimePoint> parseRfc3339(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SSZ
    if (s.size() != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z') return std::nullopt;
    if (!isCalendarDate(s.substr(0, 10))) return std::nullopt;
    if (!isDigits(s.substr(11, 2)) || !isDigits(s.substr(14, 2)) || !isDigits(s.substr(17, 2))) return std::nullopt;
    const int h = number(s.substr(11, 2)), m = number(s.substr(14, 2)), sec = number(s.substr(17, 2));
    if (h > 23 || m > 59 || sec > 60) return std::nullopt;
    using namespace std::chrono;
    const year_month_day d{year{number(s.substr(0, 4))}, month{static_cast<unsigned>(number(s.substr(5, 2)))},
                           day{static_cast<unsigned>(number(s.substr(8, 2)))}};
    return TimePoint(sys_days(d)) + hours(h) + minutes(m) + seconds(sec);
}

std::string localDay(TimePoint t, int daysAfter) {
    // Through the local calendar, not +86400 s: a day is a day across a clock change.
    const std::time_t s = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&s, &tm);
    tm.tm_mday += daysAfter;
    tm.tm_hour = 12;   // away from midnight, where a clock change could move the day
    tm.tm_isdst = -1;
    const std::time_t moved = std::mktime(&tm);
    return format(std::chrono::system_clock::from_time_t(moved), Shape::Day, false);
}

std::string todayLocal() { return localDay(std::chrono::system_clock::now()); }
std::string localDayAfter(int days) { return localDay(std::chrono::system_clock::now(), days); }

std::string localStamp(TimePoint t) { return format(t, Shape::Stamp, false); }
std::string utcStamp(TimePoint t) { return format(t, Shape::Stamp, true); }

}  // namespace kiosk
