#include "kiosk/daemon/Daemon.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kiosk/daemon/EngineKeeper.h"
#include "kiosk/daemon/ProgressReporter.h"
#include "kiosk/daemon/WhitelistWatcher.h"
#include "kiosk/files/AtomicFile.h"
#include "kiosk/evidence/Evidence.h"
#include "kiosk/workers/Media.h"
#include "kiosk/session/ScanSession.h"
#include "kiosk/ticket/Ticket.h"
#include "kiosk/ticket/TicketPrinting.h"

namespace kiosk {
namespace {

using Clock = std::chrono::steady_clock;
using messages::DeviceState;
namespace fs = std::filesystem;

}  // namespace

Daemon::Daemon(Config config, devices::DeviceSource& source, devices::UsbAuthorizer& authorizer,
               std::function<void(const messages::StatusEvent&)> status)
    : config_(std::move(config)), source_(source), authorizer_(authorizer), status_(std::move(status)),
      whitelist_(config_.whitelistPath, status_,
                 [this](const std::string& kind, const std::string& ticketId, const std::string& data, bool sign) {
                     return record(kind, ticketId, data, sign);
                 }),
      engine_(EngineKeeper::forDatabase(config_.dbDir, config_.scan.tempDir, status_,
                                        [this](const std::string& kind, const std::string& ticketId,
                                               const std::string& data, bool sign) {
                                            return record(kind, ticketId, data, sign);
                                        })) {}

Status Daemon::checkFreeSpace() const {
    for (const std::string& dir : {config_.spoolDir, fs::path(config_.logPath).parent_path().string()}) {
        auto free = freeBytes(dir);
        if (!free) return free.error();
        if (*free < config_.minFreeSpace)
            return makeError("the kiosk's disk is full (" + humanBytes(*free) + " free in " + dir + ", " +
                             humanBytes(config_.minFreeSpace) + " must stay free for records and tickets)");
    }
    return {};
}

Status Daemon::record(const std::string& kind, const std::string& ticketId, const std::string& dataJson, bool sign) {
    if (!log_) return makeError("the quarantine log is not open");
    Status st{};
    if (auto r = sign ? log_->appendSigned(kind, ticketId, dataJson) : log_->log->append(kind, ticketId, dataJson); !r)
        st = r.error();
    if (!st) status_(messages::Failure{st.error().message});
    if (st && syslog_) syslog_->notify();
    printSyslogStatus();
    return st;
}

void Daemon::printSyslogStatus() {
    if (!syslog_) return;
    for (const auto& event : syslog_->takeStatus()) {
        syslogLine_ = messages::encode(event);
        status_(event);
    }
}

void Daemon::serveRequests() {
    if (!officerSocket_ || !desk_) return;
    for (const auto& r : officerSocket_->takeRequests()) {
        if (r.closed) {
            desk_->closed(r.client);
            continue;
        }
        KioskView view;
        view.engine = engine_.current() ? &engine_.current()->info() : nullptr;
        view.devices = &present_;
        view.printer = printer_;
        view.syslog = syslogLine_;
        const auto answer = desk_->handle(r, view, OfficerDesk::Clock::now());
        officerSocket_->reply(r.client, r.id, answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        printSyslogStatus();
    }
}

Status Daemon::start() {
    std::error_code ec;
    fs::create_directories(config_.spoolDir, ec);
    if (ec) return makeError(config_.spoolDir + ": " + ec.message());
    auto printer = ticket::parsePrinter(config_.ticket.printer);
    if (!printer) return printer.error().context("[ticket] printer");
    printer_ = *printer;
    // The quarantine log and the key that signs it: without them the kiosk does not start.
    auto signedLog = log::openSignedLog(config_.logPath, config_.kioskKey);
    if (!signedLog) return signedLog.error();
    log_ = std::move(*signedLog);
    if (!config_.syslog.target.empty())
        syslog_ = std::make_unique<log::SyslogForwarder>(config_.logPath, config_.syslog, log::syslogOrigin(config_));
    if (auto st = record("daemon-start", "", nlohmann::json{{"kiosk_id", config_.kioskId}, {"db_dir", config_.dbDir}}.dump(), true);
        !st)
        return st.error().context("the quarantine log cannot be written");
    if (officerSocket_)
        desk_ = std::make_unique<OfficerDesk>(config_, *log_, [this] {
            if (syslog_) syslog_->notify();
        });
    engine_.maintain();
    if (!engine_.current()) return makeError("the signatures in " + config_.dbDir + " cannot be loaded");
    whitelist_.refresh();
    recoverInterrupted();
    auto hubs = source_.rootHubs();
    if (!hubs) return hubs.error();
    if (auto s = authorizer_.lockDown(*hubs); !s) return s.error().context("cannot take over USB authorization");
    if (auto s = source_.startMonitor(); !s) return s;
    auto present = source_.enumerate();
    if (!present) return present.error();
    for (const auto& d : *present) handleDevice(d.name);
    return {};
}

void Daemon::recoverInterrupted() {
    std::error_code ec;
    std::vector<fs::path> markers;
    for (fs::directory_iterator it(config_.spoolDir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".session") markers.push_back(it->path());
    if (ec) status_(messages::Failure{config_.spoolDir + ": interrupted sessions cannot be looked for: " + ec.message()});
    for (const auto& path : markers) {
        std::ifstream in(path);
        Report r;
        try {
            const auto j = nlohmann::json::parse(in);
            r.ticketId = j.at("ticket_id");
            r.started = j.at("started");
            if (j.contains("device") && !j["device"].is_null()) {
                DeviceIdentity id;
                id.vendorId = j["device"].value("vendor_id", "");
                id.productId = j["device"].value("product_id", "");
                id.serial = j["device"].value("serial", "");
                id.port = j["device"].value("port", "");
                r.device = id;
            }
        } catch (const std::exception&) {
            r.ticketId = path.stem().string();
        }
        r.finished = rfc3339Now();
        r.manifestSha256 = "";
        addReason(r, proto::ReasonCode::Unscannable, "/", "session interrupted: the kiosk stopped during the scan");
        finish(r, r.device ? r.device->port : "");
        fs::remove(path, ec);
    }
}

Report Daemon::refusal(const devices::UsbDevice& d, const policy::Decision& decision) {
    Report r;
    r.ticketId = newTicketId();
    r.started = r.finished = rfc3339Now();
    r.device = policy::identityOf(d, decision);
    r.source = d.name;
    for (const auto& x : decision.reasons) addReason(r, x.code, "/", x.detail);
    return r;
}

Result<std::string> Daemon::waitForDisk(const devices::UsbDevice& d) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
        auto now = source_.device(d.name);
        if (!now) return now.error();
        if (!now->blockDevices.empty()) {
            const std::string node = now->blockDevices.front();
            auto there = pathExists(node);
            if (!there) return there.error();
            if (*there) return node;
        }
        pollfd p{source_.fd(), POLLIN, 0};
        ::poll(&p, 1, 200);
        // Keep every event for the main loop: another device plugged in now
        // must still be handled, and this one's removal must still be seen.
        bool removed = false;
        while (auto ev = source_.nextEvent()) {
            removed |= ev->kind == devices::DeviceEvent::Kind::Removed && ev->name == d.name;
            backlog_.push_back(std::move(*ev));
        }
        if (removed) return makeError("the device was removed before its storage appeared");
    }
    return makeError("no storage appeared within 30 s after authorization");
}

Report Daemon::scanDevice(const devices::UsbDevice& d, const policy::Decision& decision) {
    const auto id = policy::identityOf(d, decision);
    auto failed = [&](const std::string& why) {
        Report r;
        r.ticketId = newTicketId();
        r.started = r.finished = rfc3339Now();
        r.device = id;
        r.source = d.name;
        addReason(r, proto::ReasonCode::ReadError, "/", why);
        return r;
    };
    if (auto s = authorizer_.authorizeStorage(d); !s) return failed("cannot authorize the storage interface: " + s.error().message);
    auto disk = waitForDisk(d);
    if (!disk) return failed(disk.error().message);
    auto media = openMedia(*disk, true);
    if (!media) return failed(media.error().message);
    status_(messages::Scanning{d.name, *disk});
    present_[d.name].devnode = *disk;
    present_[d.name].state = DeviceState::Scanning;

    // The marker survives a crash; the next start turns it into an "interrupted" record.
    const std::string ticket = newTicketId();
    const std::string marker = config_.spoolDir + "/" + ticket + ".session";
    nlohmann::json m = {{"ticket_id", ticket}, {"started", rfc3339Now()},
                        {"device", {{"vendor_id", id.vendorId}, {"product_id", id.productId}, {"serial", id.serial}, {"port", id.port}}}};
    (void)writeFileAtomically(marker, m.dump() + "\n");
    m["devnode"] = *disk;
    m["media_bytes"] = media->size;
    if (auto st = record("session-start", ticket, m.dump(), false); !st) {
        std::error_code ignored;
        fs::remove(marker, ignored);
        auto r = failed("the quarantine log cannot be written: " + st.error().message);
        r.reasons.back().code = proto::ReasonCode::Unscannable;
        return r;
    }

    if (!engine_.current()) engine_.maintain();
    if (!engine_.current()) {
        std::error_code ignored;
        fs::remove(marker, ignored);
        auto r = failed("the signatures are not loaded");
        r.reasons.back().code = proto::ReasonCode::Unscannable;
        return r;
    }
    EvidenceCollection evidence(config_.evidence);
    ScanOptions options{engine_.current()->service(), config_.scan, config_.sandbox, config_.maxSignatureAgeDays, id, {}, {}};
    options.evidence = &evidence;
    ScanSession session(std::move(options));
    // For the kiosk terminal: how far the scan is, from the start and a few times a second.
    ProgressReporter progress(d.name, media->size, status_);
    progress.start();
    session.onProgress([&](const Progress& p) { progress(p); });
    auto report = session.run(*media);
    std::error_code ec;
    if (!report) {
        fs::remove(marker, ec);
        auto r = failed("scan could not run: " + report.error().message);
        r.reasons.back().code = proto::ReasonCode::Unscannable;
        return r;
    }
    report->ticketId = ticket;
    for (const auto& x : decision.reasons) addReason(*report, x.code, "/", x.detail);
    collectEvidence(evidence, *report, *media, d.name);   // the marker stays while the image is taken
    fs::remove(marker, ec);
    return std::move(*report);
}

void Daemon::collectEvidence(EvidenceCollection& evidence, Report& r, const Media& media, const std::string& port) {
    using Stage = messages::Evidence::Stage;
    if (hasEvidenceFindings(r)) status_(messages::Evidence{port, r.ticketId, Stage::Collecting, "", ""});
    evidence.finish(r, media, config_.kioskId);
    if (!r.evidence) return;
    // The chain of custody starts in the log, signed, with every hash.
    const auto [kind, data] = custodyRecord(r);
    (void)record(kind, r.ticketId, data, true);
    const auto& e = *r.evidence;
    if (e.caseDir.empty()) status_(messages::Evidence{port, r.ticketId, Stage::Missing, "", e.missing});
    else status_(messages::Evidence{port, r.ticketId, Stage::Stored, e.caseDir, e.missing});
}

// What the kiosk terminal shows of a verdict: the reasons in full for the
// first few (the ticket and the log have them all).
messages::Verdict Daemon::verdictEvent(const Report& r, const std::string& port) const {
    messages::Verdict v;
    v.port = port.empty() && r.device ? r.device->port : port;
    v.ticketId = r.ticketId;
    v.pass = r.pass;
    for (std::size_t i = 0; i < r.reasons.size() && i < messages::Verdict::kVerdictReasons; ++i)
        v.reasons.push_back({proto::reasonCodeName(r.reasons[i].code), r.reasons[i].path, r.reasons[i].detail});
    v.reasonsTotal = r.reasons.size();
    v.files = r.files.size();
    v.bytes = r.bytesScanned;
    v.printer = printer_.kind != ticket::Printer::None;
    return v;
}

void Daemon::finish(const Report& r, const std::string& port) {
    // A failure is on the status line; the spool below still keeps the ticket and report.
    (void)record("session", r.ticketId, toJson(r), true);
    const auto ticket = ticket::issue(r, config_.kioskId, log_->key);
    if (auto s = ticket::spool(config_.spoolDir, ticket, r); !s) status_(messages::Failure{s.error().message});
    status_(verdictEvent(r, port));
    if (!port.empty()) status_(messages::Outcome{r.pass, port, r.ticketId});
    // Pictures and paper last: a slow or jammed printer never holds up the verdict.
    const auto layout = ticket::layoutOf(ticket);
    if (auto s = ticket::archive(layout, config_.ticket.archive, config_.spoolDir + "/" + r.ticketId); !s) status_(messages::Failure{s.error().message});
    if (auto s = ticket::printRecorded(printer_, layout, config_.spoolDir, r.ticketId, *log_, false); !s)
        status_(messages::PrintFailed{r.ticketId, s.error().message});
    else if (printer_.kind != ticket::Printer::None)
        status_(messages::Printed{r.ticketId});
}

void Daemon::handleDevice(const std::string& name) {
    if (handled_.count(name)) return;
    auto d = source_.device(name);
    // Right after the add event a device may still be enumerating: give its
    // descriptors a moment to appear before calling it unreadable (badusb).
    for (int i = 0; i < 10 && d && (d->configurations.empty() || !d->descriptorProblem.empty()); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        d = source_.device(name);
    }
    if (!d) {
        status_(messages::Failure{d.error().message});
        return;
    }
    whitelist_.refresh();
    const auto decision = policy::decide(*d, whitelist_.current(), config_, todayLocal());
    if (decision.role == policy::Role::Fixed || decision.role == policy::Role::Hub) {
        if (auto s = authorizer_.authorizeAll(*d); !s) status_(messages::Failure{s.error().message});
        return;
    }
    handled_.insert(name);
    status_(messages::Identifying{name});
    const auto identity = policy::identityOf(*d, decision);
    // What the policy said, from the start: a device refused before any
    // ticket (full disk, log) still shows why, badusb included.
    std::vector<std::string> decided;
    for (const auto& x : decision.reasons) decided.push_back(proto::reasonCodeName(x.code));
    present_[name] = PresentDevice{identity, "", DeviceState::Identifying, "", decided, {}};
    auto shown = [&](const Report& r, DeviceState state) {
        auto& p = present_[name];
        p.state = state;
        p.ticketId = r.ticketId;
        p.partitions = r.partitions;
        p.reasons.clear();
        for (const auto& x : r.reasons) {
            const std::string code = proto::reasonCodeName(x.code);
            if (std::find(p.reasons.begin(), p.reasons.end(), code) == p.reasons.end()) p.reasons.push_back(code);
        }
    };
    // Every device is recorded before anything else happens to it. A kiosk
    // that cannot record (full disk, broken log) accepts nothing: nothing is
    // read, no verdict is given, and staff are told to call an officer.
    nlohmann::json seen = {{"port", name},          {"vendor_id", identity.vendorId}, {"product_id", identity.productId},
                           {"serial", identity.serial}, {"interfaces", identity.interfaces},
                           {"decision", decision.admit ? "admit" : "refuse"}, {"reasons", nlohmann::json::array()}};
    for (const auto& x : decision.reasons) seen["reasons"].push_back(proto::reasonCodeName(x.code));
    if (auto st = record("device", "", seen.dump(), false); !st) {
        (void)authorizer_.refuse(*d);
        present_[name].state = DeviceState::Refused;
        status_(messages::Refused{name, "", "unscannable", "the quarantine log cannot be written (" + st.error().message +
                                                               "): nothing is accepted until it can; call the security officer"});
        return;
    }
    // Room for this session's records, ticket and report, or nothing is accepted.
    if (auto room = checkFreeSpace(); !room) {
        (void)authorizer_.refuse(*d);
        present_[name].state = DeviceState::Refused;
        (void)record("device-refused", "", nlohmann::json{{"port", name}, {"why", room.error().message}}.dump(), true);
        status_(messages::Refused{name, "", "unscannable",
                                  room.error().message + ": nothing is accepted until space is freed; call the security officer"});
        return;
    }
    if (!decision.admit) {
        (void)authorizer_.refuse(*d);
        const auto r = refusal(*d, decision);
        finish(r, "");
        shown(r, DeviceState::Refused);
        status_(messages::Refused{name, r.ticketId, proto::reasonCodeName(r.reasons.front().code), r.reasons.front().detail});
        return;
    }
    const auto r = scanDevice(*d, decision);
    finish(r, name);
    shown(r, r.pass ? DeviceState::Pass : DeviceState::Fail);
    status_(messages::RemoveMedia{name});
}

std::optional<devices::DeviceEvent> Daemon::nextEvent() {
    if (!backlog_.empty()) {
        auto ev = std::move(backlog_.front());
        backlog_.pop_front();
        return ev;
    }
    return source_.nextEvent();
}

Status Daemon::run(const std::atomic<bool>& stop) {
    if (engine_.current()) status_(engine_.readyEvent());
    while (!stop) {
        pollfd p[2] = {{source_.fd(), POLLIN, 0}, {officerSocket_ ? officerSocket_->requestFd() : -1, POLLIN, 0}};
        const int n = backlog_.empty() ? ::poll(p, 2, 1000) : 0;
        if (n < 0 && errno != EINTR) return makeError(std::string("poll: ") + std::strerror(errno));
        whitelist_.refresh();
        engine_.maintain();
        printSyslogStatus();
        serveRequests();
        while (auto ev = nextEvent()) {
            using K = devices::DeviceEvent::Kind;
            if (ev->kind == K::Added) {
                handleDevice(ev->name);
            } else if (ev->kind == K::Removed) {
                present_.erase(ev->name);
                if (handled_.erase(ev->name)) status_(messages::Removed{ev->name});
                if (engine_.current()) status_(engine_.readyEvent());
            }
        }
    }
    serveRequests();   // the last ones, and connections that ended
    if (desk_) desk_->endAll("the kiosk service stopped");
    (void)record("daemon-stop", "", "{}", true);
    if (syslog_) {
        syslog_->stop(std::chrono::seconds(3));   // the last records, if the collector is up
        printSyslogStatus();
    }
    return {};
}

}  // namespace kiosk
