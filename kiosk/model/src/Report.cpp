#include "kiosk/model/Report.h"

#include <sys/random.h>

#include <nlohmann/json.hpp>

#include "qkiosk/base/Sha256.h"   // toHex

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace kiosk {

std::optional<double> signatureAgeDays(const EngineInfo& engine, TimePoint now) {
    const auto built = parseRfc3339(engine.dbTime);
    if (!built) return std::nullopt;
    return std::chrono::duration<double>(now - *built).count() / 86400.0;
}

std::string signatureAgeText(const EngineInfo& engine, TimePoint now) {
    const auto age = signatureAgeDays(engine, now);
    if (!age) return "unknown";
    char days[32];
    std::snprintf(days, sizeof days, "%.1f", *age);
    return days;
}

std::string newTicketId(TimePoint now) {
    std::uint8_t rnd[4] = {};
    if (::getrandom(rnd, sizeof rnd, 0) != static_cast<ssize_t>(sizeof rnd)) {
        const auto ns = std::chrono::steady_clock::now().time_since_epoch().count();
        for (int i = 0; i < 4; ++i) rnd[i] = static_cast<std::uint8_t>(ns >> (8 * i));
    }
    return utcStamp(now) + "-" + toHex(rnd);
}

void addReason(Report& r, proto::ReasonCode code, std::string path, std::string detail) {
    r.reasons.push_back(Reason{code, std::move(path), std::move(detail)});
    // Keep the report's order: by path, so media-wide reasons ("/") come first.
    std::stable_sort(r.reasons.begin(), r.reasons.end(), [](const Reason& a, const Reason& b) { return a.path < b.path; });
    r.pass = false;
}

namespace {

nlohmann::json evidenceJson(const Evidence& e) {
    using nlohmann::json;
    json ev = {{"case", e.caseDir.empty() ? json(nullptr) : json(e.caseDir)}, {"case_sha256", e.caseSha256}};
    ev["files"] = json::array();
    for (const auto& f : e.files) {
        json jf = {{"path", f.path}, {"size", f.size}, {"sha256", f.sha256},
                   {"stored", f.stored.empty() ? json(nullptr) : json(f.stored)}};
        if (!f.missing.empty()) jf["missing"] = f.missing;
        ev["files"].push_back(std::move(jf));
    }
    if (e.image.stored.empty()) ev["image"] = {{"skipped", e.image.skipped}};
    else ev["image"] = {{"stored", e.image.stored}, {"size", e.image.size}, {"sha256", e.image.sha256}};
    if (!e.missing.empty()) ev["missing"] = e.missing;
    return ev;
}

}  // namespace

std::string toJson(const Evidence& e) { return evidenceJson(e).dump(); }

std::string toJson(const Report& r) {
    using nlohmann::json;
    json j;
    j["format_version"] = 1;
    j["verdict"] = r.pass ? "pass" : "fail";
    j["reasons"] = json::array();
    for (const auto& x : r.reasons)
        j["reasons"].push_back({{"code", proto::reasonCodeName(x.code)}, {"path", x.path}, {"detail", x.detail}});
    if (r.device) {
        j["device"] = {{"vendor_id", r.device->vendorId},
                       {"product_id", r.device->productId},
                       {"serial", r.device->serial},
                       {"interfaces", r.device->interfaces},
                       {"port", r.device->port},
                       {"manufacturer", r.device->manufacturer},
                       {"product", r.device->product}};
        if (r.device->approval)
            j["device"]["approval"] = {{"owner", r.device->approval->owner},
                                       {"purpose", r.device->approval->purpose},
                                       {"expires", r.device->approval->expires}};
        else
            j["device"]["approval"] = nullptr;
    } else {
        j["device"] = nullptr;
    }
    json parts = json::array();
    for (const auto& p : r.partitions)
        parts.push_back({{"index", p.index}, {"path", p.path}, {"scheme", p.scheme}, {"fs", p.fs}, {"label", p.label},
                         {"offset_bytes", p.offset}, {"size_bytes", p.length}});
    j["media"] = {{"source", r.source}, {"size_bytes", r.mediaSize}, {"partitions", parts}};
    j["files_total"] = r.files.size();
    j["files_scanned"] = r.filesScanned;
    j["bytes_scanned"] = r.bytesScanned;
    j["manifest_sha256"] = r.manifestSha256;
    j["engine"] = {{"libclamav", r.engine.libclamav}, {"signatures", r.engine.signatures},
                   {"db_version", r.engine.dbVersion}, {"db_time", r.engine.dbTime}, {"load_ms", r.engine.loadMillis}};
    j["sandbox"] = r.sandbox;
    j["ticket_id"] = r.ticketId;
    j["started"] = r.started;
    j["finished"] = r.finished;
    j["duration_seconds"] = static_cast<double>(static_cast<long long>(r.seconds * 1000)) / 1000.0;
    json files = json::array();
    for (const auto& f : r.files) files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}, {"mime", f.mime}});
    j["files"] = std::move(files);
    j["evidence"] = r.evidence ? evidenceJson(*r.evidence) : json(nullptr);
    return j.dump(2) + "\n";
}

std::string toSummary(const Report& r) {
    std::ostringstream out;
    out << "Verdict: " << (r.pass ? "PASS" : "FAIL") << "\n";
    if (!r.reasons.empty()) {
        out << "Reasons:\n";
        constexpr std::size_t kShown = 40;
        for (std::size_t i = 0; i < r.reasons.size() && i < kShown; ++i) {
            const auto& x = r.reasons[i];
            char code[24];
            std::snprintf(code, sizeof code, "%-19s", proto::reasonCodeName(x.code));
            out << "  " << code << " " << x.path << "  " << x.detail << "\n";
        }
        if (r.reasons.size() > kShown) out << "  ... and " << r.reasons.size() - kShown << " more (see the JSON report)\n";
    }
    if (r.device) {
        out << "Device:     " << r.device->vendorId << ":" << r.device->productId << " serial "
            << (r.device->serial.empty() ? "(none)" : r.device->serial) << " at " << r.device->port;
        if (r.device->approval) out << ", approved for " << r.device->approval->owner << " until " << r.device->approval->expires;
        out << "\n";
    }
    out << "Media:      " << r.source << ", " << humanBytes(r.mediaSize);
    if (r.partitions.empty()) out << ", no volume recognised";
    for (const auto& p : r.partitions) {
        out << "; " << std::string_view(p.path).substr(0, p.path.size() - 1) << " " << (p.fs.empty() ? "unknown" : p.fs);
        if (!p.label.empty()) out << " \"" << p.label << "\"";
    }
    out << "\n";
    out << "Files:      " << r.files.size() << " found, " << r.filesScanned << " scanned, " << humanBytes(r.bytesScanned) << "\n";
    out << "Manifest:   " << r.manifestSha256 << "\n";
    out << "Signatures: " << r.engine.signatures << " (" << r.engine.dbVersion;
    if (!r.engine.dbTime.empty()) out << ", " << r.engine.dbTime;
    out << "), libclamav " << r.engine.libclamav << "\n";
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f s", r.seconds);
    out << "Ticket:     " << r.ticketId << "   Time: " << secs << "\n";
    if (r.evidence) {
        const auto& e = *r.evidence;
        std::size_t stored = 0;
        for (const auto& f : e.files) stored += !f.stored.empty();
        if (e.caseDir.empty()) {
            out << "Evidence:   NOT STORED: " << e.missing << "\n";
        } else {
            out << "Evidence:   " << e.caseDir << " (" << stored << " of " << e.files.size() << " file(s), ";
            if (e.image.stored.empty()) out << "no media image: " << e.image.skipped;
            else out << "media image " << humanBytes(e.image.size);
            out << ")";
            if (!e.missing.empty()) out << "; INCOMPLETE: " << e.missing;
            out << "\n";
        }
    }
    return out.str();
}

}  // namespace kiosk
