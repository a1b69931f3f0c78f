// The officer's requests and the daemon's replies on the UI socket
// (docs/officer-protocol.md), as values. The terminal builds a request,
// toJson() writes it, the daemon reads it back with parseOfficerRequest()
// (strict: a request that is not well-formed is refused), answers with a
// reply value, and the terminal reads that with readReply() (lenient: the
// terminal shows what it can of any answer and never throws). The framing,
// `REQUEST <id> <json>` and `REPLY <id> <json>`, is made and read here too.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::messages {

// ---- requests --------------------------------------------------------------

// The filter of a log query or a log export; "" is "not given".
struct LogFilterFields {
    std::string from, to;   // YYYY-MM-DD
    std::string verdict;    // pass, fail
    std::string device;     // VID:PID[:SERIAL]
    std::string owner;      // part of the approval's owner
    bool operator==(const LogFilterFields&) const = default;
};

struct LoginRequest {
    std::string name, password;
    bool operator==(const LoginRequest&) const = default;
};
struct LogoutRequest {
    bool operator==(const LogoutRequest&) const = default;
};
struct StatusRequest {
    bool operator==(const StatusRequest&) const = default;
};
struct LogRequest {
    LogFilterFields filter;
    std::int64_t offset = 0;   // 0 to kMaxOffset
    std::int64_t limit = 15;   // 1 to kMaxLimit
    static constexpr std::int64_t kMaxOffset = 1'000'000'000, kMaxLimit = 100;
    bool operator==(const LogRequest&) const = default;
};
struct SessionRequest {
    std::string ticketId;
    bool operator==(const SessionRequest&) const = default;
};
struct DevicesRequest {
    bool operator==(const DevicesRequest&) const = default;
};
struct RegisterRequest {
    std::string port, owner, purpose, expires;
    bool operator==(const RegisterRequest&) const = default;
};
struct ImportRequest {
    std::string port;
    bool operator==(const ImportRequest&) const = default;
};
struct ExportRequest {
    std::string port;
    bool jsonl = false;   // the format: csv, or jsonl
    LogFilterFields filter;
    bool operator==(const ExportRequest&) const = default;
};

using OfficerRequest = std::variant<LoginRequest, LogoutRequest, StatusRequest, LogRequest, SessionRequest, DevicesRequest,
                                    RegisterRequest, ImportRequest, ExportRequest>;

// Its "op": login, logout, status, log, session, devices, register,
// import-signatures, export-log.
std::string_view opOf(const OfficerRequest& request);
nlohmann::json toJson(const OfficerRequest& request);
// The request in a JSON object; the error is the sentence a bad-request
// reply carries. Only the shape is checked here (types, required fields,
// ranges, names); whether a date is in range or a port has a device is the
// daemon's to say.
Result<OfficerRequest> parseOfficerRequest(const nlohmann::json& body);

// ---- replies ---------------------------------------------------------------

enum class ReplyCode { NotLoggedIn, Refused, LockedOut, BadRequest, NoDevice, Failed };
// not-logged-in, refused, locked-out, bad-request, no-device, failed.
std::string_view replyCodeName(ReplyCode code);

// Every refusal: {"ok":false,"code":…,"error":…}.
struct Refusal {
    ReplyCode code = ReplyCode::Failed;
    std::string error;   // one English sentence for the screen's detail line
};
// {"ok":true} and nothing else (logout).
struct Done {};

struct LoginReply {
    std::string officer;
    std::uint32_t idleMinutes = 5;
};

// One session of the log, as the log review and the status page list it.
struct SessionSummary {
    std::int64_t seq = 0;
    std::string time, ticketId, verdict, device, owner;
    std::vector<std::string> reasons;   // distinct reason codes, in the order they first appear
    bool operator==(const SessionSummary&) const = default;
};
nlohmann::json toJson(const SessionSummary& summary);
SessionSummary readSessionSummary(const nlohmann::json& j);

struct StatusReply {
    std::string kioskId;
    struct Signatures {
        std::string version;
        std::uint64_t count = 0;
        std::string ageDays = "unknown";
        bool outdated = true;
    } signatures;
    struct Disk {
        std::string dir;
        std::uint64_t free = 0, minFree = 0;
    };
    std::vector<Disk> disks;
    struct Printer {
        std::string kind = "none";   // none, cups, escpos
        std::string target, state;
        bool ready = false;
    } printer;
    std::int64_t unprinted = 0;      // -1: the spool cannot be read
    std::string syslog = "off";      // off, or the last SYSLOG-UP/SYSLOG-DOWN line
    std::int64_t logRecords = 0;     // -1: the log cannot be counted
    std::vector<SessionSummary> sessions;   // the last ten, newest first
};

struct LogReply {
    std::uint64_t total = 0;
    std::vector<SessionSummary> sessions;
};

struct SessionReply {
    nlohmann::json report;   // the session's report as recorded (docs/report-format.md), without its files
    struct Record {
        std::int64_t seq = 0;
        std::string time, kind;
    };
    std::vector<Record> records;
};

// What the kiosk knows of a device plugged in now.
enum class DeviceState { Identifying, Scanning, Pass, Fail, Refused };
// identifying, scanning, pass, fail, refused.
std::string_view deviceStateName(DeviceState state);
std::optional<DeviceState> deviceStateNamed(std::string_view name);

struct DeviceApproval {
    std::string owner, purpose, expires;
    bool operator==(const DeviceApproval&) const = default;
};
struct DeviceEntry {
    std::string port, vendorId, productId, serial, product;
    std::vector<std::string> interfaces;
    std::optional<DeviceApproval> approval;
    DeviceState state = DeviceState::Identifying;
    std::string ticketId;
    std::vector<std::string> reasons;   // reason codes of its verdict
    bool fat = false;                   // its last scan found a FAT filesystem the log can be written to
    bool operator==(const DeviceEntry&) const = default;
};
struct DevicesReply {
    std::vector<DeviceEntry> devices;
};

struct RegisterReply {
    std::string message;
};
struct ImportReply {
    std::string version;
    std::uint64_t signatures = 0, files = 0;
};
struct ExportReply {
    std::string file;
    std::uint64_t records = 0, bytes = 0;
};

using OfficerReply = std::variant<Refusal, Done, LoginReply, StatusReply, LogReply, SessionReply, DevicesReply, RegisterReply,
                                  ImportReply, ExportReply>;

nlohmann::json toJson(const OfficerReply& reply);
// The reply to `asked`, as the terminal reads it: a field missing or of the
// wrong type reads as empty; anything that is not a JSON object with "ok" is
// a Refusal (failed) with no sentence of the daemon's.
OfficerReply readReply(const OfficerRequest& asked, const nlohmann::json& reply);

// ---- framing ---------------------------------------------------------------

// Longest request line the daemon reads (a longer one closes the connection).
inline constexpr std::size_t kMaxRequestLine = 8192;

// `REQUEST <id> <json>` / `REPLY <id> <json>`, without the newline. Text that
// is not valid UTF-8 is replaced, never thrown on.
std::string requestLine(std::uint64_t id, const OfficerRequest& request);
std::string replyLine(std::string_view id, const OfficerReply& reply);
// The same for a reply already written as JSON text (one line).
std::string replyLine(std::string_view id, std::string_view json);

struct Framed {
    std::string id;        // 1 to 9 digits
    std::string json;      // the rest of the line, not yet parsed
};
// The id and JSON text of a `REQUEST` line; nullopt if it is not one
// (wrong word, id not 1 to 9 digits, no JSON, too long).
std::optional<Framed> parseRequestLine(std::string_view line);
// The same for a `REPLY` line.
std::optional<Framed> parseReplyLine(std::string_view line);

}  // namespace kiosk::messages
