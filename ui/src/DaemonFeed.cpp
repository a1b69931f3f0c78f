#include "qkiosk/ui/DaemonFeed.h"

#include <charconv>

namespace kiosk::ui {

void DaemonFeed::apply(State& state, const std::string& line, double now) {
    // A line this terminal cannot read changes nothing (a newer daemon's, say).
    if (auto event = messages::parseStatusLine(line)) apply(state, *event, now);
}

void DaemonFeed::apply(State& state, const messages::StatusEvent& event, double now) {
    if (std::holds_alternative<messages::Loading>(event)) {
        state.screen = Unavailable{true, ""};
    } else if (const auto* ready = std::get_if<messages::Ready>(&event)) {
        double days = 0;
        const std::string& age = ready->ageDays;
        const bool known = !age.empty() && age != "unknown" && std::from_chars(age.data(), age.data() + age.size(), days).ec == std::errc{};
        state.idle = Ready{known ? age : "unknown", !known || days > maxAge_};
        // A new READY after a session (or a new engine) does not hide a result still on screen.
        if (std::holds_alternative<Ready>(state.screen) || std::holds_alternative<Unavailable>(state.screen))
            state.screen = state.idle;
    } else if (const auto* identifying = std::get_if<messages::Identifying>(&event)) {
        state.screen = Identifying{false, identifying->port};
    } else if (std::holds_alternative<messages::Scanning>(event)) {
        scanStart_ = now;
        state.screen = Scanning{};
    } else if (const auto* p = std::get_if<messages::Progress>(&event)) {
        Scanning s;
        s.filesDone = p->filesDone;
        s.filesFound = p->filesFound;
        s.bytesDone = p->bytesDone;
        s.bytesFound = p->bytesFound;
        s.currentPath = p->currentPath;
        s.elapsedSeconds = now - scanStart_;
        s.secondsLeft = estimateSecondsLeft(s.bytesDone, s.bytesFound, s.elapsedSeconds);
        state.screen = s;
    } else if (const auto* v = std::get_if<messages::Verdict>(&event)) {
        Finished r;
        r.pass = v->pass;
        for (const auto& x : v->reasons) r.reasons.push_back({x.code, x.path, x.detail});
        r.files = v->files;
        r.bytes = v->bytes;
        r.ticketId = v->ticketId;
        r.ticket = TicketState::Saved;
        verdict_ = std::move(r);
    } else if (const auto* o = std::get_if<messages::Outcome>(&event)) {
        Finished r = verdict_ && verdict_->ticketId == o->ticketId ? *verdict_ : Finished{};
        r.pass = o->pass;
        r.ticketId = o->ticketId;
        if (!r.pass && r.reasons.empty()) r.reasons.push_back({"unscannable", "/", "see the ticket"});
        state.screen = r;
    } else if (const auto* printed = std::get_if<messages::Printed>(&event)) {
        if (auto* r = std::get_if<Finished>(&state.screen); r && r->ticketId == printed->ticketId) r->ticket = TicketState::Printed;
    } else if (const auto* failed = std::get_if<messages::PrintFailed>(&event)) {
        // A failed print leaves the ticket saved in the spool, for the officer's reprint.
        if (auto* r = std::get_if<Finished>(&state.screen); r && r->ticketId == failed->ticketId) r->ticket = TicketState::Saved;
    } else if (const auto* refused = std::get_if<messages::Refused>(&event)) {
        Refused shown;
        if (verdict_ && !refused->ticketId.empty() && verdict_->ticketId == refused->ticketId) shown.reasons = verdict_->reasons;
        else shown.reasons.push_back({refused->code, "/", refused->detail});
        state.screen = shown;
    } else if (std::holds_alternative<messages::Removed>(event)) {
        state.screen = state.idle;
    }
}

}  // namespace kiosk::ui
