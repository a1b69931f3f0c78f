#include "kiosk/officer/OfficerDesk.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "kiosk/files/AtomicFile.h"
#include "qkiosk/base/Dates.h"
#include "kiosk/officer/FatExport.h"
#include "kiosk/model/Report.h"
#include "qkiosk/base/Dates.h"
#include "kiosk/log/LogQuery.h"
#include "kiosk/officer/Officers.h"
#include "kiosk/policy/Policy.h"
#include "kiosk/policy/Whitelist.h"
#include "kiosk/signatures/Import.h"
#include "kiosk/ticket/TicketPrinting.h"
#include "qkiosk/base/Sha256.h"

namespace kiosk {
namespace {

using nlohmann::json;

// The reasons of one session a reply carries, as the daemon's VERDICT line
// does: the reply stays well inside what the socket takes at once.
constexpr std::size_t kReasonsShown = 50;

using messages::OfficerReply;
using messages::Refusal;
using messages::ReplyCode;
using messages::DeviceState;

OfficerReply fail(ReplyCode code, const std::string& error) { return Refusal{code, error}; }

std::size_t characters(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool printable(const std::string& s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// The log filter of a "log" or "export-log" request, checked.
Result<log::Filter> filterOf(const messages::LogFilterFields& fields) {
    log::Filter f;
    for (auto [value, out] : {std::pair<const std::string*, std::optional<std::string>*>{&fields.from, &f.from}, {&fields.to, &f.to},
                              {&fields.verdict, &f.verdict}, {&fields.device, &f.device}, {&fields.owner, &f.owner}})
        if (!value->empty()) *out = *value;
    if (auto st = log::checkFilter(f); !st) return st.error();
    return f;
}

const PresentDevice* deviceAt(const KioskView& kiosk, const std::string& port, std::string& why) {
    const auto it = kiosk.devices->find(port);
    if (it == kiosk.devices->end()) {
        why = "no device is plugged in at port " + port + " now";
        return nullptr;
    }
    return &it->second;
}

bool hasFat(const PresentDevice& d) {
    return std::any_of(d.partitions.begin(), d.partitions.end(), [](const PartitionInfo& p) { return p.onMedia() && p.fs.starts_with("fat"); });
}

}  // namespace

std::string OfficerDesk::caller(const Session& s) {
    return s.officer + " (terminal uid " + std::to_string(s.uid) + " pid " + std::to_string(s.pid) + ")";
}

Status OfficerDesk::record(const std::string& kind, const std::string& ticketId, const json& data) {
    auto r = log_.appendSigned(kind, ticketId, data.dump(-1, ' ', false, json::error_handler_t::replace));
    if (recorded_) recorded_();
    if (!r) return r.error();
    return {};
}

void OfficerDesk::logout(std::uint64_t client, const std::string& why) {
    const auto it = sessions_.find(client);
    if (it == sessions_.end()) return;
    (void)record("officer-logout", "", {{"officer", it->second.officer}, {"uid", it->second.uid}, {"pid", it->second.pid}, {"why", why}});
    sessions_.erase(it);
}

void OfficerDesk::closed(std::uint64_t client) { logout(client, "the terminal closed the connection"); }

void OfficerDesk::endAll(const std::string& why) {
    while (!sessions_.empty()) logout(sessions_.begin()->first, why);
}

json OfficerDesk::handle(const SocketRequest& r, const KioskView& kiosk, Clock::time_point now) {
    try {
        return messages::toJson(dispatch(r, kiosk, now));
    } catch (const std::exception& e) {
        // Nothing an officer sends may bring the daemon down.
        return messages::toJson(fail(ReplyCode::Failed, std::string("the kiosk could not answer: ") + e.what()));
    }
}

OfficerReply OfficerDesk::dispatch(const SocketRequest& r, const KioskView& kiosk, Clock::time_point now) {
    const json body = json::parse(r.json, nullptr, false);
    auto request = messages::parseOfficerRequest(body);
    // A line that is no request at all, or a login, is answered as it is;
    // any other request only once the connection has an officer.
    const bool hasOp = body.is_object() && body.contains("op") && body["op"].is_string();
    if (!request && (!hasOp || body["op"] == "login")) return fail(ReplyCode::BadRequest, request.error().message);
    if (request)
        if (const auto* in = std::get_if<messages::LoginRequest>(&*request)) return login(r, *in, now);

    const auto it = sessions_.find(r.client);
    if (it == sessions_.end()) return fail(ReplyCode::NotLoggedIn, "log in first");
    if (now - it->second.lastUse > std::chrono::minutes(config_.officers.idleMinutes)) {
        logout(r.client, "no request for " + std::to_string(config_.officers.idleMinutes) + " minutes");
        return fail(ReplyCode::NotLoggedIn,
                    "logged out after " + std::to_string(config_.officers.idleMinutes) + " minutes without use; log in again");
    }
    it->second.lastUse = now;
    if (!request) return fail(ReplyCode::BadRequest, request.error().message);
    return answer(it->second, *request, r.client, kiosk);
}

OfficerReply OfficerDesk::answer(const Session& current, const messages::OfficerRequest& q, std::uint64_t client, const KioskView& kiosk) {
    const Session who = current;   // a logout ends `current`
    return std::visit(
        [&](const auto& request) -> OfficerReply {
            using T = std::decay_t<decltype(request)>;
            if constexpr (std::is_same_v<T, messages::LogoutRequest>) {
                logout(client, "logged out");
                return messages::Done{};
            } else if constexpr (std::is_same_v<T, messages::StatusRequest>) {
                return status(kiosk);
            } else if constexpr (std::is_same_v<T, messages::LogRequest>) {
                return logQuery(request);
            } else if constexpr (std::is_same_v<T, messages::SessionRequest>) {
                return session(request);
            } else if constexpr (std::is_same_v<T, messages::DevicesRequest>) {
                return devices(kiosk);
            } else if constexpr (std::is_same_v<T, messages::RegisterRequest>) {
                return registerDevice(who, request, kiosk);
            } else if constexpr (std::is_same_v<T, messages::ImportRequest>) {
                return importSignatures(who, request, kiosk);
            } else if constexpr (std::is_same_v<T, messages::ExportRequest>) {
                return exportLog(who, request, kiosk);
            } else {
                return fail(ReplyCode::BadRequest, "already logged in");   // a login is answered before this
            }
        },
        q);
}

OfficerReply OfficerDesk::login(const SocketRequest& r, const messages::LoginRequest& q, Clock::time_point now) {
    // A new login on this connection ends the session before it.
    logout(r.client, "another login on the same terminal");
    const std::string where = "terminal uid " + std::to_string(r.uid) + " pid " + std::to_string(r.pid);
    auto answer = officer::login(config_.officers, q.name, q.password, log_, where);
    if (recorded_) recorded_();
    if (!answer) return fail(ReplyCode::Failed, answer.error().message);
    switch (answer->outcome) {
        case officer::Outcome::Accepted:
            sessions_[r.client] = Session{q.name, now, r.uid, r.pid};
            return messages::LoginReply{q.name, config_.officers.idleMinutes};
        case officer::Outcome::LockedOut: return fail(ReplyCode::LockedOut, answer->message);
        case officer::Outcome::Refused: break;
    }
    return fail(ReplyCode::Refused, answer->message);
}

OfficerReply OfficerDesk::status(const KioskView& kiosk) {
    messages::StatusReply out;
    out.kioskId = config_.kioskId;
    if (kiosk.engine) {
        const auto age = signatureAgeDays(*kiosk.engine);
        out.signatures = {kiosk.engine->dbVersion, kiosk.engine->signatures, signatureAgeText(*kiosk.engine),
                          !age || *age > config_.maxSignatureAgeDays};
    } else {
        out.signatures = {"", 0, "unknown", true};
    }
    for (const std::string& dir : {config_.spoolDir, std::filesystem::path(config_.logPath).parent_path().string()}) {
        auto free = freeBytes(dir);
        out.disks.push_back({dir, free ? *free : 0, config_.minFreeSpace});
    }
    const char* kinds[] = {"none", "cups", "escpos"};
    const auto ready = ticket::check(kiosk.printer);
    out.printer = {kinds[kiosk.printer.kind], ticket::describe(kiosk.printer),
                   kiosk.printer.kind == ticket::Printer::None ? "no printer" : ready ? "ready" : ready.error().message,
                   static_cast<bool>(ready)};
    const auto pending = ticket::unprinted(config_.spoolDir);
    out.unprinted = pending ? static_cast<std::int64_t>(pending->size()) : -1;   // -1: the spool cannot be read
    out.syslog = kiosk.syslog;
    auto count = log_.log->countAfter(0);
    out.logRecords = count ? *count : -1;
    if (auto sessions = log_.log->find({"session", "", true, 10, true}))
        for (const auto& s : *sessions) out.sessions.push_back(log::sessionSummary(s));
    return out;
}

OfficerReply OfficerDesk::logQuery(const messages::LogRequest& q) {
    auto filter = filterOf(q.filter);
    if (!filter) return fail(ReplyCode::BadRequest, filter.error().message);
    // Without their manifests: a year of sessions is read in about a second
    // rather than ten, in a tenth of the memory (docs/performance.md).
    auto sessions = log_.log->find({"session", "", true, -1, true});
    if (!sessions) return fail(ReplyCode::Failed, sessions.error().message);
    messages::LogReply out;
    for (const auto& s : *sessions) {
        if (!log::matches(s, *filter)) continue;
        const auto at = static_cast<std::int64_t>(out.total);
        if (at >= q.offset && at < q.offset + q.limit) out.sessions.push_back(log::sessionSummary(s));
        ++out.total;
    }
    return out;
}

OfficerReply OfficerDesk::session(const messages::SessionRequest& q) {
    auto records = log_.log->find({"", q.ticketId, false, -1, true});
    if (!records) return fail(ReplyCode::Failed, records.error().message);
    messages::SessionReply out;
    bool found = false;
    for (const auto& r : *records) {
        out.records.push_back({r.seq, r.time, r.kind});
        if (r.kind != "session") continue;
        // Without its manifest, and with its first reasons only, as the
        // VERDICT line: the ticket and `qkiosk log show` have them all.
        json report = log::dataOf(r);
        if (report.contains("reasons") && report["reasons"].is_array() && report["reasons"].size() > kReasonsShown) {
            report["reasons_total"] = report["reasons"].size();
            report["reasons"].erase(report["reasons"].begin() + kReasonsShown, report["reasons"].end());
        }
        out.report = std::move(report);
        found = true;
    }
    if (!found) return fail(ReplyCode::BadRequest, "no session " + q.ticketId + " in the log");
    return out;
}

OfficerReply OfficerDesk::devices(const KioskView& kiosk) {
    messages::DevicesReply out;
    for (const auto& [port, d] : *kiosk.devices) {
        const auto& id = d.identity;
        messages::DeviceEntry e{port, id.vendorId, id.productId, id.serial, id.product, id.interfaces, std::nullopt,
                                d.state, d.ticketId, d.reasons, hasFat(d)};
        if (id.approval) e.approval = messages::DeviceApproval{id.approval->owner, id.approval->purpose, id.approval->expires};
        out.devices.push_back(std::move(e));
    }
    return out;
}

OfficerReply OfficerDesk::registerDevice(const Session& who, const messages::RegisterRequest& q, const KioskView& kiosk) {
    std::string why;
    const PresentDevice* d = deviceAt(kiosk, q.port, why);
    if (!d) return fail(ReplyCode::NoDevice, why);
    for (auto [name, value] : {std::pair<const char*, const std::string*>{"owner", &q.owner}, {"purpose", &q.purpose}}) {
        if (value->empty() || characters(*value) > 100 || !printable(*value))
            return fail(ReplyCode::BadRequest, std::string(name) + " must be 1 to 100 characters, on one line");
    }
    // Local days, as the whitelist's expiry dates are read.
    const std::string today = todayLocal(), latest = localDayAfter(static_cast<int>(config_.officers.maxApprovalDays));
    if (!isCalendarDate(q.expires)) return fail(ReplyCode::BadRequest, "expires must be a date YYYY-MM-DD");
    if (q.expires <= today) return fail(ReplyCode::BadRequest, "expires must be after today (" + today + ")");
    if (q.expires > latest)
        return fail(ReplyCode::BadRequest, "an approval can last " + std::to_string(config_.officers.maxApprovalDays) +
                                               " days at most: expires can be " + latest + " at the latest");
    const auto& id = d->identity;
    if (id.serial.empty()) return fail(ReplyCode::BadRequest, "this device has no serial number: it cannot be approved");
    // Approval is for storage only: a device refused for what else it is
    // (a keyboard, a network adapter: badusb) stays refused whatever the
    // whitelist says, and is not put on it.
    if (std::find(d->reasons.begin(), d->reasons.end(), "badusb") != d->reasons.end())
        return fail(ReplyCode::BadRequest, "this device is not only storage (badusb): it cannot be approved");
    if (id.approval && id.approval->expires >= q.expires)
        return fail(ReplyCode::BadRequest, "this device is already approved until " + id.approval->expires + " (" + id.approval->owner + ")");

    policy::Approval a;
    a.vendorId = id.vendorId;
    a.productId = id.productId;
    a.serial = id.serial;
    a.interfaces = id.interfaces;
    a.owner = q.owner;
    a.purpose = q.purpose;
    a.expires = q.expires;
    auto entry = policy::approvalToml(a, "Approved at the kiosk terminal by " + who.officer + " on " + rfc3339Now() +
                                             (d->ticketId.empty() ? std::string() : ", after session " + d->ticketId));
    if (!entry) return fail(ReplyCode::BadRequest, entry.error().message);
    // The whole new file must parse before it replaces the old one: a broken
    // whitelist would refuse every device.
    std::string before;
    unsigned mode = 0644;   // a new whitelist: readable, as the CLI's is
    struct stat st{};
    const bool existed = ::stat(config_.whitelistPath.c_str(), &st) == 0;
    if (existed) {
        auto text = readTextFile(config_.whitelistPath);
        if (!text) return fail(ReplyCode::Failed, text.error().message);
        before = *text;
        mode = st.st_mode & 07777;   // the site's choice stays
    }
    const std::string after = before + *entry;
    if (auto parsed = policy::parseWhitelist(after, config_.whitelistPath); !parsed)
        return fail(ReplyCode::Failed, "the whitelist would not be valid: " + parsed.error().message);
    if (auto written = writeFileAtomically(config_.whitelistPath, after, mode); !written) return fail(ReplyCode::Failed, written.error().message);
    if (existed) (void)::chown(config_.whitelistPath.c_str(), st.st_uid, st.st_gid);   // and its owner
    const json data = {{"by", caller(who)},        {"port", id.port},       {"vendor_id", a.vendorId}, {"product_id", a.productId},
                       {"serial", a.serial},      {"interfaces", a.interfaces}, {"owner", a.owner}, {"purpose", a.purpose},
                       {"expires", a.expires},    {"whitelist", config_.whitelistPath},
                       {"whitelist_sha256", toHex(Sha256::of(std::string_view(after)))}};
    if (auto rec = record("whitelist-approval-added", d->ticketId, data); !rec) {
        // Not in the log, not in force.
        (void)writeFileAtomically(config_.whitelistPath, before, mode);
        return fail(ReplyCode::Failed, "the approval could not be recorded (" + rec.error().message + "): nothing was changed");
    }
    return messages::RegisterReply{"approved until " + a.expires + " for " + a.owner + "; unplug the device and plug it in again to scan it"};
}

OfficerReply OfficerDesk::importSignatures(const Session& who, const messages::ImportRequest& q, const KioskView& kiosk) {
    std::string why;
    const PresentDevice* d = deviceAt(kiosk, q.port, why);
    if (!d) return fail(ReplyCode::NoDevice, why);
    if (d->devnode.empty() || d->state == DeviceState::Scanning || d->state == DeviceState::Identifying)
        return fail(ReplyCode::NoDevice, "the kiosk has not read this device (" + std::string(messages::deviceStateName(d->state)) + "): an update is imported from a stick that was scanned");
    const auto outcome = signatures::importUpdate(
        {signatures::ImportSource::Device, d->devnode}, config_, config_.dbDir,
        [&](const std::string& kind, const json& data) { return record(kind, "", data); }, caller(who));
    if (const auto* failure = std::get_if<signatures::ImportFailure>(&outcome)) return fail(ReplyCode::Failed, failure->message);
    const auto& done = std::get<signatures::Imported>(outcome);
    return messages::ImportReply{done.engine.dbVersion, done.engine.signatures, done.files};
}

OfficerReply OfficerDesk::exportLog(const Session& who, const messages::ExportRequest& q, const KioskView& kiosk) {
    std::string why;
    const PresentDevice* d = deviceAt(kiosk, q.port, why);
    if (!d) return fail(ReplyCode::NoDevice, why);
    if (d->state != DeviceState::Pass || d->devnode.empty())
        return fail(ReplyCode::NoDevice, "the log is written only to a stick that passed its scan now (this one: " +
                                             std::string(messages::deviceStateName(d->state)) + ")");
    const auto fat = std::find_if(d->partitions.begin(), d->partitions.end(), [](const PartitionInfo& p) { return p.onMedia() && p.fs.starts_with("fat"); });
    if (fat == d->partitions.end()) return fail(ReplyCode::NoDevice, "the stick has no FAT filesystem to write the log to");
    const log::ExportFormat fmt = q.jsonl ? log::ExportFormat::Jsonl : log::ExportFormat::Csv;
    auto filter = filterOf(q.filter);
    if (!filter) return fail(ReplyCode::BadRequest, filter.error().message);

    auto all = log_.log->records();
    if (!all) return fail(ReplyCode::Failed, all.error().message);
    std::size_t count = 0;
    const std::string text = log::exportText(*all, *filter, fmt, &count);
    const std::string stamp = localStamp(std::chrono::system_clock::now());
    // The kiosk id may hold characters a file name should not: only the safe ones are kept.
    std::string kiosk_id;
    for (char c : config_.kioskId) kiosk_id += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    const std::string name = "qkiosk-log-" + kiosk_id + "-" + stamp + "." + log::exportFormatName(fmt);
    auto free = fatFreeBytes(d->devnode, fat->offset, config_.scan.tempDir);
    if (!free) return fail(ReplyCode::Failed, free.error().message);
    if (*free < text.size())
        return fail(ReplyCode::Failed, "the stick is full: the log needs " + humanBytes(text.size()) + ", the stick has " + humanBytes(*free) + " free");
    // Recorded before it leaves the kiosk: a log that cannot record the export does not export.
    const auto& id = d->identity;
    json data = log::exportRecordData(*filter, fmt, "usb " + id.vendorId + ":" + id.productId + ":" + id.serial + " port " + id.port + " /" + name,
                                      caller(who));
    data["records"] = count;
    data["sha256"] = toHex(Sha256::of(std::string_view(text)));
    if (auto rec = record("log-exported", d->ticketId, data); !rec)
        return fail(ReplyCode::Failed, "the export could not be recorded (" + rec.error().message + "): nothing was written to the stick");
    if (auto st = writeFileToFat(d->devnode, fat->offset, name, text, config_.scan.tempDir); !st) {
        data["error"] = st.error().message;
        (void)record("log-export-failed", d->ticketId, data);
        return fail(ReplyCode::Failed, st.error().message);
    }
    return messages::ExportReply{name, count, text.size()};
}

}  // namespace kiosk
