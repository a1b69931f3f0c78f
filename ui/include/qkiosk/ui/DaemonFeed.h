// The kiosk terminal against the daemon (`qkiosk ui` without --image): the
// daemon's status lines (docs/admin.md, "The daemon's output", read from its
// ui_socket) turned into screens. Pure: no socket, no clock; the caller
// passes the lines and the time.
#pragma once

#include <optional>
#include <string>

#include "kiosk/messages/StatusEvent.h"
#include "qkiosk/ui/Screen.h"

namespace kiosk::ui {

class DaemonFeed {
public:
    // `maxSignatureAgeDays`: the kiosk's limit (config), to say on the ready
    // screen that no media can pass.
    explicit DaemonFeed(double maxSignatureAgeDays) : maxAge_(maxSignatureAgeDays) {}

    // Applies one status event at `nowSeconds` (any steady clock). Events the
    // terminal does not show (ERROR, EVIDENCE, SYSLOG-…) change nothing.
    void apply(State& state, const messages::StatusEvent& event, double nowSeconds);
    // The same for one line as it arrives; a line that is not a status line changes nothing.
    void apply(State& state, const std::string& line, double nowSeconds);

private:
    double maxAge_;
    double scanStart_ = 0;
    std::optional<Finished> verdict_;          // from the last VERDICT line
};

}  // namespace kiosk::ui
