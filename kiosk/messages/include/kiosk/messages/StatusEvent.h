// The daemon's status lines (`qkiosk run` on stdout, and on its ui_socket for
// the kiosk terminal), as values: the daemon builds a StatusEvent, encode()
// writes its line, and every reader (the UI socket's replay, the terminal's
// screens, tests) reads it back with parseStatusLine(). docs/design.md lists
// the lines; this file is where they are made, in one place.
//
// One event is one line. Free text (messages, paths from the media) has its
// control characters replaced by U+FFFD on the way out, so a file named with
// a newline on a stick cannot forge a line of its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::messages {

// LOADING <db_dir>: the signatures are loading; nothing can be scanned yet.
struct Loading {
    std::string dbDir;
};
// READY signatures=<n> version=<v> age_days=<d|unknown>: waiting for media.
struct Ready {
    std::uint64_t signatures = 0;
    std::string version;
    std::string ageDays = "unknown";   // whole days as text, or "unknown"
};
// ENGINE-UPDATED signatures=<n> version=<v>: a new database is in use.
struct EngineUpdated {
    std::uint64_t signatures = 0;
    std::string version;
};
// ENGINE-UPDATE-FAILED <message>: the new database did not load; the old one stays.
struct EngineUpdateFailed {
    std::string message;
};
// IDENTIFYING <port>
struct Identifying {
    std::string port;
};
// REFUSED <port> <ticket|-> <code>: <detail>. No ticket when the kiosk could
// not record anything (log unwritable, disk full).
struct Refused {
    std::string port;
    std::string ticketId;   // "" for none
    std::string code;       // a reason code
    std::string detail;
};
// SCANNING <port> <devnode>
struct Scanning {
    std::string port;
    std::string devnode;
};
// PROGRESS <port> files=<done>/<found> bytes=<done>/<found> media=<size> <current path>
// (UI socket only, a few times a second.)
struct Progress {
    std::string port;
    std::uint64_t filesDone = 0, filesFound = 0, bytesDone = 0, bytesFound = 0, mediaBytes = 0;
    std::string currentPath;
};
// VERDICT {json}: what the terminal shows of a verdict (UI socket only).
struct VerdictReason {
    std::string code, path, detail;
    bool operator==(const VerdictReason&) const = default;
};
struct Verdict {
    std::string port;
    std::string ticketId;
    bool pass = false;
    std::vector<VerdictReason> reasons;   // the first kVerdictReasons
    std::uint64_t reasonsTotal = 0;
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
    bool printer = false;                 // a printer is configured
    static constexpr std::size_t kVerdictReasons = 50;
};
// EVIDENCE <port> <ticket> collecting | stored <case dir> [(incomplete: <why>)] | missing: <why>
struct Evidence {
    enum class Stage { Collecting, Stored, Missing };
    std::string port;
    std::string ticketId;
    Stage stage = Stage::Collecting;
    std::string caseDir;   // Stored
    std::string why;       // Stored: what is incomplete ("" = complete); Missing: why nothing was stored
};
// RESULT <PASS|FAIL> <port> <ticket>
struct Outcome {
    bool pass = false;
    std::string port;
    std::string ticketId;
};
// PRINTED <ticket>
struct Printed {
    std::string ticketId;
};
// PRINT-FAILED <ticket> <why> (the ticket is kept: qkiosk ticket print <ticket>)
struct PrintFailed {
    std::string ticketId;
    std::string why;
};
// REMOVE-MEDIA <port>
struct RemoveMedia {
    std::string port;
};
// REMOVED <port>
struct Removed {
    std::string port;
};
// ERROR <message>
struct Failure {
    std::string message;
};
// SYSLOG-UP <target> forwarded up to record <n>
struct SyslogUp {
    std::string target;
    std::int64_t forwardedUpTo = 0;
};
// SYSLOG-DOWN <target>: <why> (<n> record(s) pending; retrying)
struct SyslogDown {
    std::string target;
    std::string why;
    std::int64_t pending = 0;
};
// STOPPED: the daemon ended cleanly (stdout only).
struct Stopped {};

using StatusEvent = std::variant<Loading, Ready, EngineUpdated, EngineUpdateFailed, Identifying, Refused, Scanning, Progress,
                                 Verdict, Evidence, Outcome, Printed, PrintFailed, RemoveMedia, Removed, Failure, SyslogUp,
                                 SyslogDown, Stopped>;

// The line, without its newline.
std::string encode(const StatusEvent& event);
// One line (without its newline) back into its event; an error names what is wrong.
Result<StatusEvent> parseStatusLine(std::string_view line);

// "1 record pending", "3 records pending": as SYSLOG-DOWN says it.
std::string pendingText(std::int64_t records);

// The lines of one device's session, from IDENTIFYING to REMOVE-MEDIA: what a
// terminal that connects in the middle needs to see.
bool isSessionEvent(const StatusEvent& event);
// The lines only the kiosk terminal gets (frequent, or detail the stdout log does not need).
bool isTerminalOnly(const StatusEvent& event);

}  // namespace kiosk::messages
