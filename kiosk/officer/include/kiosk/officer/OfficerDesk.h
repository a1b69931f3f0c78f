// The officer's requests from the kiosk terminal, answered in the daemon
// (docs/officer-protocol.md is the contract; docs/threat-model.md why it is
// safe). The terminal runs without root; everything an officer works on (the
// log, the whitelist, the signatures, the inserted devices) is the daemon's.
//
// A login authenticates one connection of the UI socket, nothing else: no
// token exists to be copied. It ends with logout, with the connection, or
// after `[officers] idle_minutes` without a request. Every action that
// changes something is a signed log record naming the officer and the
// process that asked (uid and pid from the kernel), written before the
// answer. The desk runs on the daemon's thread, between device sessions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kiosk/config/Config.h"
#include "kiosk/messages/OfficerMessages.h"
#include "kiosk/model/Report.h"
#include "kiosk/workers/ScannerService.h"
#include "kiosk/status/StatusSocket.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/ticket/Printer.h"

namespace kiosk {

// A USB device plugged in now that the daemon has a session for, as the
// officer's screens see it.
struct PresentDevice {
    DeviceIdentity identity;                 // port, ids, serial, interfaces, approval
    std::string devnode;                     // its storage, once authorized ("" if refused)
    messages::DeviceState state = messages::DeviceState::Identifying;
    std::string ticketId;
    std::vector<std::string> reasons;        // reason codes of its verdict
    std::vector<PartitionInfo> partitions;   // what its scan found
};

// What only the daemon knows, at the moment of a request.
struct KioskView {
    const EngineInfo* engine = nullptr;                       // null while none is loaded
    const std::map<std::string, PresentDevice>* devices = nullptr;   // by port
    ticket::Printer printer;
    std::string syslog = "off";                               // the last SYSLOG-UP/DOWN line
};

class OfficerDesk {
public:
    using Clock = std::chrono::steady_clock;
    // `recorded` is called after each record the desk appends (the daemon
    // wakes its syslog forwarder with it).
    OfficerDesk(const Config& config, log::SignedLog& log, std::function<void()> recorded = {})
        : config_(config), log_(log), recorded_(std::move(recorded)) {}

    // The reply to one request, as the wire's JSON (never throws; a reply
    // always has "ok"). The request's text is read and the reply made with
    // kiosk/messages' OfficerMessages.
    nlohmann::json handle(const SocketRequest& request, const KioskView& kiosk, Clock::time_point now);
    // The connection ended: its officer, if any, is logged out (recorded).
    void closed(std::uint64_t client);
    // Every officer is logged out (recorded with `why`): the daemon stops.
    void endAll(const std::string& why);

private:
    struct Session {
        std::string officer;
        Clock::time_point lastUse;
        uid_t uid = 0;
        pid_t pid = 0;
    };
    messages::OfficerReply dispatch(const SocketRequest& r, const KioskView& kiosk, Clock::time_point now);
    messages::OfficerReply login(const SocketRequest& r, const messages::LoginRequest& q, Clock::time_point now);
    messages::OfficerReply answer(const Session& current, const messages::OfficerRequest& q, std::uint64_t client, const KioskView& kiosk);
    messages::OfficerReply status(const KioskView& kiosk);
    messages::OfficerReply logQuery(const messages::LogRequest& q);
    messages::OfficerReply session(const messages::SessionRequest& q);
    messages::OfficerReply devices(const KioskView& kiosk);
    messages::OfficerReply registerDevice(const Session& who, const messages::RegisterRequest& q, const KioskView& kiosk);
    messages::OfficerReply importSignatures(const Session& who, const messages::ImportRequest& q, const KioskView& kiosk);
    messages::OfficerReply exportLog(const Session& who, const messages::ExportRequest& q, const KioskView& kiosk);
    // Appends one signed record.
    Status record(const std::string& kind, const std::string& ticketId, const nlohmann::json& data);
    // Records the end of an officer's session on the terminal.
    void logout(std::uint64_t client, const std::string& why);
    // "山田 (terminal uid 1000 pid 4242)": who, for the records.
    static std::string caller(const Session& s);

    const Config& config_;
    log::SignedLog& log_;
    std::function<void()> recorded_;
    std::map<std::uint64_t, Session> sessions_;   // by connection
};

}  // namespace kiosk
