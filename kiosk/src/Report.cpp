#include "kiosk/Report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace kiosk {
std::string humanBytes(std::uint64_t bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

void addReason(Report& r, proto::ReasonCode code, std::string path, std::string detail) {
    r.reasons.push_back(Reason{code, std::move(path), std::move(detail)});
    // Keep the report's order: by path, so media-wide reasons ("/") come first.
    std::stable_sort(r.reasons.begin(), r.reasons.end(), [](const Reason& a, const Reason& b) { return a.path < b.path; });
    r.pass = false;
}

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
        parts.push_back({{"index", p.index}, {"scheme", p.scheme}, {"fs", p.fs}, {"label", p.label},
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
        out << "; /p" << p.index << " " << (p.fs.empty() ? "unknown" : p.fs);
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
    return out.str();
}

}  // namespace kiosk
