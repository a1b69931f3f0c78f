// Dates as the kiosk writes and reads them: YYYY-MM-DD, a real day of the
// calendar (2026-02-30 is not one). One check for the whitelist's expiry
// dates, the log's filters and the officer's approvals.
#pragma once

#include <string>

namespace kiosk {

bool isCalendarDate(const std::string& s);

}  // namespace kiosk
