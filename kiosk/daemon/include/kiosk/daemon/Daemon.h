// The kiosk daemon (`qkiosk run`): one long-running process that watches USB,
// decides, authorizes, scans, and writes each session's report and ticket to
// the spool directory. One session at a time, in arrival order.
//
// The signatures are loaded once, at start, and stay loaded (ScannerService).
// When the database folder changes (an imported update, freshclam), a new
// engine is loaded on the side and swapped in between sessions; if it fails
// to load, the old one stays and the failure is reported.
//
// Status lines on stdout, one per event, for the terminal UI and for logs:
//   LOADING <db_dir>                  the signatures are loading; not ready yet
//   READY signatures=<n> version=<v> age_days=<d>   waiting for media
//   ENGINE-UPDATED signatures=<n> version=<v>       a new database is in use
//   ENGINE-UPDATE-FAILED <message>    the new database did not load; the old one stays
//   IDENTIFYING <port>
//   REFUSED <port> <ticket> <code>: <detail>
//   SCANNING <port> <devnode>
//   PROGRESS <port> files=<done>/<found> bytes=<done>/<found> media=<size> <current path>   (ui_socket only, 4 a second)
//   VERDICT {"port","ticket_id","pass","reasons":[…50],"reasons_total","files","bytes","printer"}   (ui_socket only)
//   EVIDENCE <port> <ticket> collecting   a FAIL with findings: the files and the media image go to the vault
//   EVIDENCE <port> <ticket> stored <case dir> [(incomplete: <why>)]
//   EVIDENCE <port> <ticket> missing: <why>   nothing could be stored (full disk, unusable vault)
//   RESULT <PASS|FAIL> <port> <ticket>
//   PRINTED <ticket>                   on the configured printer
//   PRINT-FAILED <ticket> <why> (…)    the ticket is kept for `qkiosk ticket print`
//   REMOVE-MEDIA <port>
//   REMOVED <port>
//   ERROR <message>
//   REFUSED <port> - unscannable: the quarantine log cannot be written (…)   nothing is accepted until it can
//   REFUSED <port> - unscannable: the kiosk's disk is full (…)   the same, below min_free_space
//   SYSLOG-UP <target> forwarded up to record <n>       ([syslog] target set) the collector takes the records
//   SYSLOG-DOWN <target>: <why> (<n> records pending; retrying)   it does not; they wait in the log
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <optional>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "kiosk/config/Config.h"
#include "kiosk/daemon/EngineKeeper.h"
#include "kiosk/daemon/WhitelistWatcher.h"
#include "kiosk/messages/StatusEvent.h"
#include "kiosk/officer/OfficerDesk.h"
#include "kiosk/status/StatusSocket.h"
#include "kiosk/model/Report.h"
#include "kiosk/workers/ScannerService.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/log/SyslogForwarder.h"
#include "kiosk/devices/DeviceSource.h"
#include "kiosk/devices/UsbAuthorizer.h"
#include "kiosk/policy/Policy.h"
#include "kiosk/ticket/Printer.h"

namespace kiosk {

class EvidenceCollection;
struct Media;

class Daemon {
public:
    Daemon(Config config, devices::DeviceSource& source, devices::UsbAuthorizer& authorizer,
           std::function<void(const messages::StatusEvent&)> status);

    // Locks the buses down, authorizes the fixed devices, records sessions a
    // crash interrupted, and handles devices already plugged in.
    Status start();
    // Serves until `stop` becomes true (checked at least every second).
    Status run(const std::atomic<bool>& stop);

    // Handles one newly attached device, start to ticket (public for tests).
    void handleDevice(const std::string& name);

    // Answers the officers' requests that arrive on `socket` (the UI socket),
    // between sessions (OfficerDesk.h). Call before start().
    void serveOfficers(StatusSocket& socket) { officerSocket_ = &socket; }

private:
    Report refusal(const devices::UsbDevice& d, const policy::Decision& decision);
    Report scanDevice(const devices::UsbDevice& d, const policy::Decision& decision);
    Result<std::string> waitForDisk(const devices::UsbDevice& d);
    void finish(const Report& r, const std::string& port);
    messages::Verdict verdictEvent(const Report& r, const std::string& port) const;
    // On a FAIL with findings: the case in the evidence vault and its record in the log.
    void collectEvidence(EvidenceCollection& evidence, Report& r, const Media& media, const std::string& port);
    void recoverInterrupted();
    // Whether the spool and the log still have `min_free_space` free.
    Status checkFreeSpace() const;

    Config config_;
    devices::DeviceSource& source_;
    devices::UsbAuthorizer& authorizer_;
    std::function<void(const messages::StatusEvent&)> status_;
    WhitelistWatcher whitelist_;
    // The next event: first those that arrived while a session waited for its disk.
    std::optional<devices::DeviceEvent> nextEvent();

    // Appends to the quarantine log; `sign` signs the chain head after it.
    Status record(const std::string& kind, const std::string& ticketId, const std::string& dataJson, bool sign);
    void printSyslogStatus();

    std::optional<log::SignedLog> log_;
    ticket::Printer printer_;
    // Forwards the log to the syslog collector on its own thread ([syslog] target);
    // its status lines are printed from the daemon's thread.
    std::unique_ptr<log::SyslogForwarder> syslog_;
    EngineKeeper engine_;   // the signatures, kept across sessions

    // The officers' requests, answered between sessions.
    void serveRequests();
    StatusSocket* officerSocket_ = nullptr;
    std::unique_ptr<OfficerDesk> desk_;
    std::map<std::string, PresentDevice> present_;   // by port: what the officer's screens may act on
    std::string syslogLine_ = "off";                   // the last SYSLOG-UP/DOWN line

    std::set<std::string> handled_;   // ports with a session or refusal until removed
    std::deque<devices::DeviceEvent> backlog_;
};

}  // namespace kiosk
