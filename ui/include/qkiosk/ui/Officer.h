// The security officer's screens of the kiosk terminal, as values: login,
// menu, log review, session detail, register, import signatures, export log,
// status. Like Screen.h, no I/O: what a screen wants from the daemon is a
// request value queued in State::outbox (kiosk/messages' OfficerMessages,
// docs/officer-protocol.md); the controller sends it and hands the reply,
// read back as a value, to applyReply(). The officer part is a separate member of State, so the
// daemon's feed keeps updating the staff screen underneath.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kiosk/messages/OfficerMessages.h"

namespace kiosk::ui {

struct State;

// Lengths the text fields accept, in characters (the daemon checks again).
inline constexpr std::size_t kMaxNameChars = 64, kMaxPasswordChars = 128, kMaxFieldChars = 100, kMaxDateChars = 10;
// Sessions per page of the log review (the `limit` of a log request).
inline constexpr int kLogPageSize = 15;

// A line of news on an officer screen: a msgid (translated when drawn, so a
// language switch changes it too) with its %s arguments, or the daemon's own
// English sentence shown as it is.
struct Note {
    std::string text;
    std::vector<std::string> args;
    bool verbatim = false;           // the daemon's `error` or `message`: not a msgid
    bool error = false;              // drawn as a failure
    bool empty() const { return text.empty(); }
};

// One row of the `log` reply (and of `status.sessions`).
using LogEntry = messages::SessionSummary;

// A USB device of the `devices` reply.
using OfficerDevice = messages::DeviceEntry;

// The log review's filter form; every field optional.
struct LogFilters {
    std::string from, to;            // YYYY-MM-DD
    int verdict = 0;                 // 0 all, 1 pass, 2 fail
    std::string device, owner;       // VID:PID[:SERIAL], part of the owner
};

struct LogReview {
    LogFilters filters;              // applied: what the list shows
    LogFilters draft;                // being edited (after f)
    bool editing = false;
    int field = 0;                   // 0 from, 1 to, 2 verdict, 3 device, 4 owner
    std::vector<LogEntry> sessions;
    std::uint64_t total = 0;
    int offset = 0;
    int selected = 0;
    bool loaded = false;
};

// The `session` reply, as the detail screen shows it.
struct SessionDetail {
    std::string ticketId, started, finished;
    std::string vendorId, productId, serial;
    bool hasDevice = false;
    std::optional<std::string> owner, purpose, expires;
    std::string verdict;
    std::uint64_t files = 0, bytes = 0;
    std::string dbVersion, manifestSha256, evidenceCase;
    struct Reason { std::string code, path, detail; };
    std::vector<Reason> reasons;     // the first ones (the daemon sends 50)
    std::uint64_t reasonsTotal = 0;  // how many the session has
    int scroll = 0;                  // first line shown
};

struct RegisterForm {
    int field = 0;                   // 0 the device list, 1 owner, 2 purpose, 3 expires
    std::string owner, purpose, expires;
};

struct ExportForm {
    int field = 0;                   // 0 the device list, 1 from, 2 to
    bool jsonl = false;              // format: csv, or jsonl
    std::string from, to;
};

struct StatusView {
    bool loaded = false;
    std::string kioskId, sigVersion, sigAgeDays;
    std::uint64_t sigCount = 0;
    bool outdated = false;
    struct Disk { std::string dir; std::uint64_t free = 0, minFree = 0; };
    std::vector<Disk> disks;
    std::string printerKind, printerState;
    bool printerReady = false;
    std::int64_t unprinted = 0;      // -1: the kiosk cannot read its spool
    std::uint64_t logRecords = 0;
    std::string syslog;
    std::vector<LogEntry> sessions;
};

struct Officer {
    enum class Page { Login, Menu, Log, Detail, Register, Import, Export, Status };
    Page page = Page::Login;
    std::uint64_t session = 0;       // which opening of the officer's screens (State::officerSessions)
    std::string name;                // who is logged in ("" before the login reply)
    std::uint32_t idleMinutes = 5;   // the daemon's idle limit, from its login reply
    bool waiting = false;            // a request is out: keys but the language key do nothing
    std::string waitingFor;          // its "op" (the import says it can take a minute)
    Note note;                       // the current page's message line

    // Login: typed text as UTF-8; the password is only ever drawn as '*'.
    std::string loginName, password;
    int loginField = 0;              // 0 name, 1 password

    int menuSelected = 0;            // 0..5: items 1..5, then log out
    LogReview log;
    SessionDetail detail;
    std::vector<OfficerDevice> devices;  // the last `devices` reply
    int deviceSelected = 0;
    bool devicesLoaded = false;
    RegisterForm reg;
    ExportForm exp;
    StatusView status;
};

// The stick the log can be written to: passed its scan now, FAT (the
// export page's choice and its explanation both ask this).
bool exportable(const OfficerDevice& device);

// The lines of the session detail (the renderer draws exactly these, one
// line each), so that scrolling stops at its end.
int detailLineCount(const SessionDetail& detail);

// The controller got `REPLY` for `request` (as it was taken from the
// outbox, while Officer::session was `session`). A reply for an officer
// session that has ended changes nothing, even when another has begun since;
// a `not-logged-in` reply goes back to the login screen with the daemon's text.
void applyReply(State& state, const messages::OfficerRequest& request, const messages::OfficerReply& reply, std::uint64_t session);
// The same for the officer session shown now.
void applyReply(State& state, const messages::OfficerRequest& request, const messages::OfficerReply& reply);

// Officer mode ends and the staff screen (as the feed left it) is back: the
// idle timeout, or the controller's own reason. Queues a `logout` if somebody
// was logged in, for the controller to send.
void endOfficerSession(State& state);

// The connection to the daemon dropped: the daemon has ended the session
// already, nothing is queued; back to the staff screen.
void officerConnectionLost(State& state);

// Text entry on UTF-8 strings: the last character removed, one appended
// (nothing when the text has `maxChars` already or `c` is not printable).
void eraseLastChar(std::string& utf8);
void appendChar(std::string& utf8, char32_t c, std::size_t maxChars);
std::size_t charCount(const std::string& utf8);


}  // namespace kiosk::ui
