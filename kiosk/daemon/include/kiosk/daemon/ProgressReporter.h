// PROGRESS lines for one scan: the first at the start, then at most one per
// interval (four a second), however often the scan reports. The kiosk
// terminal redraws on each; more would only load the socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "kiosk/daemon/Parts.h"
#include "kiosk/session/ScanSession.h"

namespace kiosk {

class ProgressReporter {
public:
    static constexpr std::chrono::milliseconds kInterval{250};

    ProgressReporter(std::string port, std::uint64_t mediaBytes, StatusSink status, SteadyTime now = steadyNow,
                     std::chrono::milliseconds interval = kInterval);

    // The first line (nothing read yet): always sent.
    void start();
    // A line for `p`, unless the last one went out less than the interval ago.
    void operator()(const Progress& p);

private:
    void send(const Progress& p);

    std::string port_;
    std::uint64_t mediaBytes_;
    StatusSink status_;
    SteadyTime now_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point last_;
};

}  // namespace kiosk
