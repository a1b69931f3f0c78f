// What the daemon's parts are handed instead of reaching out themselves:
// where their status lines go, how they append to the quarantine log, and
// what time it is. Tests pass their own (a vector of events, a list of
// records, a clock they move by hand), so no test of a part sleeps.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "kiosk/messages/StatusEvent.h"
#include "qkiosk/base/Result.h"

namespace kiosk {

// One status line, as a typed event (encode() writes it).
using StatusSink = std::function<void(const messages::StatusEvent&)>;

// Appends one record to the quarantine log; `sign` signs the chain head after it.
using Recorder = std::function<Status(const std::string& kind, const std::string& ticketId, const std::string& dataJson,
                                      bool sign)>;

// The monotonic time: std::chrono::steady_clock::now in the kiosk.
using SteadyTime = std::function<std::chrono::steady_clock::time_point()>;
inline std::chrono::steady_clock::time_point steadyNow() { return std::chrono::steady_clock::now(); }

}  // namespace kiosk
