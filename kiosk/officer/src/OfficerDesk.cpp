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

json fail(const std::string& code, const std::string& error) { return {{"ok", false}, {"code", code}, {"error", error}}; }

// A string field of the request: absent is "", anything else than a string is an error.
Result<std::string> field(const json& body, const char* name) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return std::string();
    if (!it->is_string()) return makeError(std::string("\"") + name + "\" must be a string");
    return it->get<std::string>();
}

std::size_t characters(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// A whole number field of the request, `otherwise` when absent, within [low, high].
Result<std::int64_t> whole(const json& body, const char* name, std::int64_t otherwise, std::int64_t low, std::int64_t high) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return otherwise;
    if (!it->is_number_integer() || it->get<std::int64_t>() < low || it->get<std::int64_t>() > high)
        return makeError(std::string("\"") + name + "\" must be a whole number from " + std::to_string(low) + " to " + std::to_string(high));
    return it->get<std::int64_t>();
}

bool printable(const std::string& s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}


// The log filter of a "log" or "export-log" request.
Result<log::Filter> filterOf(const json& body) {
    log::Filter f;
    for (auto [name, out] : {std::pair<const char*, std::optional<std::string>*>{"from", &f.from}, {"to", &f.to},
                             {"verdict", &f.verdict}, {"device", &f.device}, {"owner", &f.owner}}) {
        auto v = field(body, name);
        if (!v) return v.error();
        if (!v->empty()) *out = *v;
    }
    if (auto st = log::checkFilter(f); !st) return st.error();
    return f;
}

const PresentDevice* deviceAt(const KioskView& kiosk, const json& body, std::string& why) {
    auto port = field(body, "port");
    if (!port || port->empty()) {
        why = "\"port\" is required";
        return nullptr;
    }
    const auto it = kiosk.devices->find(*port);
    if (it == kiosk.devices->end()) {
        why = "no device is plugged in at port " + *port + " now";
        return nullptr;
    }
    return &it->second;
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
        return dispatch(r, kiosk, now);
    } catch (const std::exception& e) {
        // Nothing an officer sends may bring the daemon down.
        return fail("failed", std::string("the kiosk could not answer: ") + e.what());
    }
}

json OfficerDesk::dispatch(const SocketRequest& r, const KioskView& kiosk, Clock::time_point now) {
    const json body = json::parse(r.json, nullptr, false);
    if (!body.is_object() || !body.contains("op") || !body["op"].is_string())
        return fail("bad-request", "a request is a JSON object with \"op\"");
    const std::string op = body["op"];
    if (op == "login") return login(r, body, now);

    const auto it = sessions_.find(r.client);
    if (it == sessions_.end()) return fail("not-logged-in", "log in first");
    if (now - it->second.lastUse > std::chrono::minutes(config_.officers.idleMinutes)) {
        logout(r.client, "no request for " + std::to_string(config_.officers.idleMinutes) + " minutes");
        return fail("not-logged-in",
                    "logged out after " + std::to_string(config_.officers.idleMinutes) + " minutes without use; log in again");
    }
    it->second.lastUse = now;
    const Session who = it->second;
    if (op == "logout") {
        logout(r.client, "logged out");
        return {{"ok", true}};
    }
    if (op == "status") return status(kiosk);
    if (op == "log") return logQuery(body);
    if (op == "session") return session(body);
    if (op == "devices") return devices(kiosk);
    if (op == "register") return registerDevice(who, body, kiosk);
    if (op == "import-signatures") return importSignatures(who, body, kiosk);
    if (op == "export-log") return exportLog(who, body, kiosk);
    return fail("bad-request", "unknown request \"" + op + "\"");
}

json OfficerDesk::login(const SocketRequest& r, const json& body, Clock::time_point now) {
    auto name = field(body, "name");
    auto password = field(body, "password");
    if (!name || !password || name->empty() || password->empty())
        return fail("bad-request", "\"name\" and \"password\" are required");
    // A new login on this connection ends the session before it.
    logout(r.client, "another login on the same terminal");
    const std::string where = "terminal uid " + std::to_string(r.uid) + " pid " + std::to_string(r.pid);
    auto answer = officer::login(config_.officers, *name, *password, log_, where);
    if (recorded_) recorded_();
    if (!answer) return fail("failed", answer.error().message);
    switch (answer->outcome) {
        case officer::Outcome::Accepted:
            sessions_[r.client] = Session{*name, now, r.uid, r.pid};
            return {{"ok", true}, {"officer", *name}, {"idle_minutes", config_.officers.idleMinutes}};
        case officer::Outcome::LockedOut: return fail("locked-out", answer->message);
        case officer::Outcome::Refused: break;
    }
    return fail("refused", answer->message);
}

json OfficerDesk::status(const KioskView& kiosk) {
    json out = {{"ok", true}, {"kiosk_id", config_.kioskId}};
    if (kiosk.engine) {
        const auto age = signatureAgeDays(*kiosk.engine);
        out["signatures"] = {{"version", kiosk.engine->dbVersion},
                             {"signatures", kiosk.engine->signatures},
                             {"age_days", signatureAgeText(*kiosk.engine)},
                             {"outdated", !age || *age > config_.maxSignatureAgeDays}};
    } else {
        out["signatures"] = {{"version", ""}, {"signatures", 0}, {"age_days", "unknown"}, {"outdated", true}};
    }
    out["disk"] = json::array();
    for (const std::string& dir : {config_.spoolDir, std::filesystem::path(config_.log).parent_path().string()}) {
        auto free = freeBytes(dir);
        out["disk"].push_back({{"dir", dir}, {"free", free ? *free : 0}, {"min_free", config_.minFreeSpace}});
    }
    const char* kinds[] = {"none", "cups", "escpos"};
    const auto ready = ticket::check(kiosk.printer);
    out["printer"] = {{"kind", kinds[kiosk.printer.kind]},
                      {"target", ticket::describe(kiosk.printer)},
                      {"ready", static_cast<bool>(ready)},
                      {"state", kiosk.printer.kind == ticket::Printer::None ? "no printer" : ready ? "ready" : ready.error().message}};
    const auto pending = ticket::unprinted(config_.spoolDir);
    out["unprinted"] = pending ? static_cast<std::int64_t>(pending->size()) : -1;   // -1: the spool cannot be read
    out["syslog"] = kiosk.syslog;
    auto count = log_.log->countAfter(0);
    out["log"] = {{"records", count ? *count : -1}};
    out["sessions"] = json::array();
    if (auto sessions = log_.log->find({"session", "", true, 10, true}))
        for (const auto& s : *sessions) out["sessions"].push_back(log::sessionSummary(s));
    return out;
}

json OfficerDesk::logQuery(const json& body) {
    auto filter = filterOf(body);
    if (!filter) return fail("bad-request", filter.error().message);
    auto offset = whole(body, "offset", 0, 0, 1'000'000'000), limit = whole(body, "limit", 15, 1, 100);
    if (!offset) return fail("bad-request", offset.error().message);
    if (!limit) return fail("bad-request", limit.error().message);
    // Without their manifests: a year of sessions is read in about a second
    // rather than ten, in a tenth of the memory (docs/performance.md).
    auto sessions = log_.log->find({"session", "", true, -1, true});
    if (!sessions) return fail("failed", sessions.error().message);
    json list = json::array();
    std::int64_t total = 0;
    for (const auto& s : *sessions) {
        if (!log::matches(s, *filter)) continue;
        if (total >= *offset && total < *offset + *limit) list.push_back(log::sessionSummary(s));
        ++total;
    }
    return {{"ok", true}, {"total", total}, {"sessions", list}};
}

json OfficerDesk::session(const json& body) {
    auto ticket = field(body, "ticket_id");
    if (!ticket || ticket->empty()) return fail("bad-request", "\"ticket_id\" is required");
    auto records = log_.log->find({"", *ticket, false, -1, true});
    if (!records) return fail("failed", records.error().message);
    json out = {{"ok", true}, {"report", nullptr}, {"records", json::array()}};
    for (const auto& r : *records) {
        out["records"].push_back({{"seq", r.seq}, {"time", r.time}, {"kind", r.kind}});
        if (r.kind != "session") continue;
        // Without its manifest, and with its first reasons only, as the
        // VERDICT line: the ticket and `qkiosk log show` have them all.
        json report = log::dataOf(r);
        if (report.contains("reasons") && report["reasons"].is_array() && report["reasons"].size() > kReasonsShown) {
            report["reasons_total"] = report["reasons"].size();
            report["reasons"].erase(report["reasons"].begin() + kReasonsShown, report["reasons"].end());
        }
        out["report"] = std::move(report);
    }
    if (out["report"].is_null()) return fail("bad-request", "no session " + *ticket + " in the log");
    return out;
}

json OfficerDesk::devices(const KioskView& kiosk) {
    json list = json::array();
    for (const auto& [port, d] : *kiosk.devices) {
        const auto& id = d.identity;
        json approval = nullptr;
        if (id.approval) approval = {{"owner", id.approval->owner}, {"purpose", id.approval->purpose}, {"expires", id.approval->expires}};
        const bool fat = std::any_of(d.partitions.begin(), d.partitions.end(), [](const PartitionInfo& p) { return p.onMedia() && p.fs.starts_with("fat"); });
        list.push_back({{"port", port},       {"vendor_id", id.vendorId}, {"product_id", id.productId},
                        {"serial", id.serial}, {"product", id.product},    {"interfaces", id.interfaces},
                        {"approval", approval}, {"state", d.state},        {"ticket_id", d.ticketId},
                        {"reasons", d.reasons}, {"fat", fat}});
    }
    return {{"ok", true}, {"devices", list}};
}

json OfficerDesk::registerDevice(const Session& who, const json& body, const KioskView& kiosk) {
    std::string why;
    const PresentDevice* d = deviceAt(kiosk, body, why);
    if (!d) return fail("no-device", why);
    auto owner = field(body, "owner"), purpose = field(body, "purpose"), expires = field(body, "expires");
    if (!owner || !purpose || !expires) return fail("bad-request", "owner, purpose and expires must be strings");
    for (auto [name, value] : {std::pair<const char*, const std::string*>{"owner", &*owner}, {"purpose", &*purpose}}) {
        if (value->empty() || characters(*value) > 100 || !printable(*value))
            return fail("bad-request", std::string(name) + " must be 1 to 100 characters, on one line");
    }
    // Local days, as the whitelist's expiry dates are read.
    const std::string today = todayLocal(), latest = localDayAfter(static_cast<int>(config_.officers.maxApprovalDays));
    if (!isCalendarDate(*expires)) return fail("bad-request", "expires must be a date YYYY-MM-DD");
    if (*expires <= today) return fail("bad-request", "expires must be after today (" + today + ")");
    if (*expires > latest)
        return fail("bad-request", "an approval can last " + std::to_string(config_.officers.maxApprovalDays) +
                                       " days at most: expires can be " + latest + " at the latest");
    const auto& id = d->identity;
    if (id.serial.empty()) return fail("bad-request", "this device has no serial number: it cannot be approved");
    // Approval is for storage only: a device refused for what else it is
    // (a keyboard, a network adapter: badusb) stays refused whatever the
    // whitelist says, and is not put on it.
    if (std::find(d->reasons.begin(), d->reasons.end(), "badusb") != d->reasons.end())
        return fail("bad-request", "this device is not only storage (badusb): it cannot be approved");
    if (id.approval && id.approval->expires >= *expires)
        return fail("bad-request", "this device is already approved until " + id.approval->expires + " (" + id.approval->owner + ")");

    policy::Approval a;
    a.vendorId = id.vendorId;
    a.productId = id.productId;
    a.serial = id.serial;
    a.interfaces = id.interfaces;
    a.owner = *owner;
    a.purpose = *purpose;
    a.expires = *expires;
    auto entry = policy::approvalToml(a, "Approved at the kiosk terminal by " + who.officer + " on " + rfc3339Now() +
                                             (d->ticketId.empty() ? std::string() : ", after session " + d->ticketId));
    if (!entry) return fail("bad-request", entry.error().message);
    // The whole new file must parse before it replaces the old one: a broken
    // whitelist would refuse every device.
    std::string before;
    unsigned mode = 0644;   // a new whitelist: readable, as the CLI's is
    struct stat st{};
    const bool existed = ::stat(config_.policy.c_str(), &st) == 0;
    if (existed) {
        auto text = readTextFile(config_.policy);
        if (!text) return fail("failed", text.error().message);
        before = *text;
        mode = st.st_mode & 07777;   // the site's choice stays
    }
    const std::string after = before + *entry;
    if (auto parsed = policy::parseWhitelist(after, config_.policy); !parsed)
        return fail("failed", "the whitelist would not be valid: " + parsed.error().message);
    if (auto written = writeFileAtomically(config_.policy, after, mode); !written) return fail("failed", written.error().message);
    if (existed) (void)::chown(config_.policy.c_str(), st.st_uid, st.st_gid);   // and its owner
    const json data = {{"by", caller(who)},        {"port", id.port},       {"vendor_id", a.vendorId}, {"product_id", a.productId},
                       {"serial", a.serial},      {"interfaces", a.interfaces}, {"owner", a.owner}, {"purpose", a.purpose},
                       {"expires", a.expires},    {"whitelist", config_.policy},
                       {"whitelist_sha256", toHex(Sha256::of(std::string_view(after)))}};
    if (auto rec = record("whitelist-approval-added", d->ticketId, data); !rec) {
        // Not in the log, not in force.
        (void)writeFileAtomically(config_.policy, before, mode);
        return fail("failed", "the approval could not be recorded (" + rec.error().message + "): nothing was changed");
    }
    return {{"ok", true},
            {"message", "approved until " + a.expires + " for " + a.owner + "; unplug the device and plug it in again to scan it"}};
}

json OfficerDesk::importSignatures(const Session& who, const json& body, const KioskView& kiosk) {
    std::string why;
    const PresentDevice* d = deviceAt(kiosk, body, why);
    if (!d) return fail("no-device", why);
    if (d->devnode.empty() || d->state == "scanning" || d->state == "identifying")
        return fail("no-device", "the kiosk has not read this device (" + d->state + "): an update is imported from a stick that was scanned");
    const auto outcome = signatures::importUpdate(
        {signatures::ImportSource::Device, d->devnode}, config_, config_.dbDir,
        [&](const std::string& kind, const json& data) { return record(kind, "", data); }, caller(who));
    if (const auto* failure = std::get_if<signatures::ImportFailure>(&outcome)) return fail("failed", failure->message);
    const auto& done = std::get<signatures::Imported>(outcome);
    return {{"ok", true}, {"version", done.engine.dbVersion}, {"signatures", done.engine.signatures}, {"files", done.files}};
}

json OfficerDesk::exportLog(const Session& who, const json& body, const KioskView& kiosk) {
    std::string why;
    const PresentDevice* d = deviceAt(kiosk, body, why);
    if (!d) return fail("no-device", why);
    if (d->state != "pass" || d->devnode.empty())
        return fail("no-device", "the log is written only to a stick that passed its scan now (this one: " + d->state + ")");
    const auto fat = std::find_if(d->partitions.begin(), d->partitions.end(), [](const PartitionInfo& p) { return p.onMedia() && p.fs.starts_with("fat"); });
    if (fat == d->partitions.end()) return fail("no-device", "the stick has no FAT filesystem to write the log to");
    auto format = field(body, "format");
    const auto named = format ? log::exportFormatNamed(*format) : std::nullopt;
    if (!named) return fail("bad-request", "\"format\" must be csv or jsonl");
    const log::ExportFormat fmt = *named;
    auto filter = filterOf(body);
    if (!filter) return fail("bad-request", filter.error().message);

    auto all = log_.log->records();
    if (!all) return fail("failed", all.error().message);
    std::size_t count = 0;
    const std::string text = log::exportText(*all, *filter, fmt, &count);
    const std::string stamp = localStamp(std::chrono::system_clock::now());
    // The kiosk id may hold characters a file name should not: only the safe ones are kept.
    std::string kiosk_id;
    for (char c : config_.kioskId) kiosk_id += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    const std::string name = "qkiosk-log-" + kiosk_id + "-" + stamp + "." + *format;
    auto free = fatFreeBytes(d->devnode, fat->offset, config_.scan.tempDir);
    if (!free) return fail("failed", free.error().message);
    if (*free < text.size())
        return fail("failed", "the stick is full: the log needs " + humanBytes(text.size()) + ", the stick has " + humanBytes(*free) + " free");
    // Recorded before it leaves the kiosk: a log that cannot record the export does not export.
    const auto& id = d->identity;
    json data = log::exportRecordData(*filter, fmt, "usb " + id.vendorId + ":" + id.productId + ":" + id.serial + " port " + id.port + " /" + name,
                                      caller(who));
    data["records"] = count;
    data["sha256"] = toHex(Sha256::of(std::string_view(text)));
    if (auto rec = record("log-exported", d->ticketId, data); !rec)
        return fail("failed", "the export could not be recorded (" + rec.error().message + "): nothing was written to the stick");
    if (auto st = writeFileToFat(d->devnode, fat->offset, name, text, config_.scan.tempDir); !st) {
        data["error"] = st.error().message;
        (void)record("log-export-failed", d->ticketId, data);
        return fail("failed", st.error().message);
    }
    return {{"ok", true}, {"file", name}, {"records", count}, {"bytes", text.size()}};
}

}  // namespace kiosk
