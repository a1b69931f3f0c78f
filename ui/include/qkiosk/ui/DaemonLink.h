// The kiosk terminal's connection to the daemon's ui_socket: the status
// lines coming in, the officer's requests going out and their replies
// matched back (docs/officer-protocol.md). The terminal never blocks on it:
// a daemon that stops answering is noticed, not waited for.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiosk/messages/OfficerMessages.h"

namespace kiosk::ui {

// One connection to the daemon's Unix socket, read without blocking.
class DaemonConnection {
public:
    DaemonConnection() = default;
    DaemonConnection(const DaemonConnection&) = delete;
    DaemonConnection& operator=(const DaemonConnection&) = delete;
    ~DaemonConnection() { close(); }

    bool connected() const { return fd_ >= 0; }
    // Connects to the socket at `path`; the error in words if it cannot.
    std::optional<std::string> connect(const std::string& path);
    // Sends one line, newline included (a request: small, the socket takes
    // it at once); false, and closed, if the daemon is gone or has not read
    // for 5 seconds.
    bool send(const std::string& line);
    // The complete lines that have arrived since the last call, without
    // their newlines; nullopt once the daemon hung up (the connection is
    // then closed).
    std::optional<std::vector<std::string>> lines();
    void close();

private:
    int fd_ = -1;
    std::string buffer_;
};

// The officer's requests in flight: sent with a number, answered by the
// daemon's REPLY line with the same number.
class OfficerRequests {
public:
    using Clock = std::chrono::steady_clock;
    struct Answered {
        messages::OfficerRequest request;
        messages::OfficerReply reply;
        std::uint64_t session = 0;   // the officer session that asked (ui::Officer::session)
    };
    // Sends what the screens of officer session `session` queued; false if the daemon is gone.
    bool send(DaemonConnection& connection, std::vector<messages::OfficerRequest> outbox, std::uint64_t session,
              Clock::time_point now);
    // The request a line answers, and the reply read as its kind: nullopt
    // for a line that is not a REPLY to a request still waiting (a status
    // line, a reply already seen).
    std::optional<Answered> answer(const std::string& line);
    // Whether a request has waited longer than `limit` (the daemon answers
    // between sessions: a long scan can hold one up, but not forever).
    bool overdue(Clock::duration limit, Clock::time_point now) const;
    // Forget every request (the connection is gone: no answer will come).
    void clear() { pending_.clear(); }

private:
    struct Pending {
        messages::OfficerRequest request;
        Clock::time_point sent;
        std::uint64_t session = 0;
    };
    std::uint64_t next_ = 1;
    std::map<std::string, Pending> pending_;   // by id
};

}  // namespace kiosk::ui
