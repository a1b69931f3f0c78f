// Filters, one-line summaries and export files over the quarantine log's
// records. See kiosk/log/LogQuery.h.
#include "kiosk/log/LogQuery.h"

#include "qkiosk/base/Dates.h"

#include <algorithm>
#include <string_view>

namespace kiosk::log {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool isHex4(std::string_view s) {
    return s.size() == 4 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

// VID:PID or VID:PID:SERIAL. The serial is what the device says (any text
// without control characters), so only its presence is checked.
bool isDeviceId(const std::string& s) {
    if (s.size() < 9 || s[4] != ':' || !isHex4(std::string_view(s).substr(0, 4)) ||
        !isHex4(std::string_view(s).substr(5, 4)))
        return false;
    if (s.size() == 9) return true;
    if (s[9] != ':' || s.size() == 10 || s.size() > 10 + 255) return false;
    return std::none_of(s.begin() + 10, s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

Error badField(const char* field, const std::string& value, const char* expected) {
    std::string msg = field;
    msg.append(": \"").append(value).append("\" is not ").append(expected);
    return makeError(msg);
}

}  // namespace

Status checkFilter(const Filter& f) {
    if (f.from && !isCalendarDate(*f.from)) return badField("from", *f.from, "a date YYYY-MM-DD");
    if (f.to && !isCalendarDate(*f.to)) return badField("to", *f.to, "a date YYYY-MM-DD");
    if (f.verdict && *f.verdict != "pass" && *f.verdict != "fail") return badField("verdict", *f.verdict, "pass or fail");
    if (f.device && !isDeviceId(*f.device))
        return badField("device", *f.device, "VID:PID or VID:PID:SERIAL (4 hex digits each for VID and PID)");
    return {};
}

// The report a session record carries (its data), or an empty object.
json dataOf(const Record& r) {
    auto j = json::parse(r.data, nullptr, false);
    return j.is_object() ? j : json::object();
}

json recordJson(const Record& r) {
    return {{"seq", r.seq},         {"time", r.time}, {"kind", r.kind},      {"ticket_id", r.ticketId},
            {"data", dataOf(r)},   {"prev_hash", r.prevHash}, {"hash", r.hash}};
}

std::string ownerOf(const json& d) {
    if (!d.contains("device") || !d["device"].is_object()) return "";
    const auto& dev = d["device"];
    return dev.contains("approval") && dev["approval"].is_object() ? str(dev["approval"], "owner") : "";
}

bool matches(const Record& r, const Filter& f) {
    const std::string day = r.time.substr(0, 10);
    if (f.from && day < *f.from) return false;
    if (f.to && day > *f.to) return false;
    if (f.kind && r.kind != *f.kind) return false;
    const json d = dataOf(r);
    if (f.verdict && str(d, "verdict") != *f.verdict) return false;
    if (f.device) {
        const json dev = d.contains("device") && d["device"].is_object() ? d["device"] : json::object();
        std::string id = str(dev, "vendor_id") + ":" + str(dev, "product_id");
        const std::string full = id + ":" + str(dev, "serial");
        if (*f.device != id && *f.device != full) return false;
    }
    if (f.owner && ownerOf(d).find(*f.owner) == std::string::npos) return false;
    return true;
}

// Quoted; a field that a spreadsheet would take for a formula (= + - @, tab,
// CR first: a whitelist owner, a file name from a stick) starts with a ' so
// that Excel shows it as text and never evaluates it.
std::string csvField(const std::string& s) {
    std::string out = "\"";
    if (!s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos) out += '\'';
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string reasonsText(const json& d) {
    std::string out;
    if (d.contains("reasons") && d["reasons"].is_array())
        for (const auto& r : d["reasons"]) {
            if (!out.empty()) out += "; ";
            out += str(r, "code") + " " + str(r, "path") + (str(r, "detail").empty() ? "" : ": " + str(r, "detail"));
        }
    return out;
}

std::string deviceText(const json& d) {
    if (!d.contains("device") || !d["device"].is_object()) return "";
    const auto& dev = d["device"];
    return str(dev, "vendor_id") + ":" + str(dev, "product_id") + (str(dev, "serial").empty() ? "" : ":" + str(dev, "serial"));
}

messages::SessionSummary sessionSummary(const Record& r) {
    const json d = dataOf(r);
    messages::SessionSummary s{r.seq, r.time, r.ticketId, str(d, "verdict"), deviceText(d), ownerOf(d), {}};
    // A FAIL lists one reason per finding (a hundred infected files): the
    // screen's line wants each kind of reason once, the first one first.
    if (d.contains("reasons") && d["reasons"].is_array())
        for (const auto& reason : d["reasons"]) {
            const std::string code = reason.is_object() ? str(reason, "code") : "";
            if (!code.empty() && std::find(s.reasons.begin(), s.reasons.end(), code) == s.reasons.end()) s.reasons.push_back(code);
        }
    return s;
}

std::optional<ExportFormat> exportFormatNamed(const std::string& name) {
    if (name == "csv") return ExportFormat::Csv;
    if (name == "jsonl") return ExportFormat::Jsonl;
    return std::nullopt;
}

const char* exportFormatName(ExportFormat fmt) { return fmt == ExportFormat::Csv ? "csv" : "jsonl"; }

std::string exportText(const std::vector<Record>& records, const Filter& f, ExportFormat fmt, std::size_t* count) {
    std::string out;
    std::size_t n = 0;
    if (fmt == ExportFormat::Csv) {
        // UTF-8 with a byte order mark and CRLF: Excel opens it with Japanese text intact.
        out = "\xEF\xBB\xBF";
        out += "seq,time,kind,ticket_id,verdict,device,owner,reasons,manifest_sha256,record_hash\r\n";
        for (const auto& r : records) {
            if (!matches(r, f)) continue;
            const json d = dataOf(r);
            out += std::to_string(r.seq) + "," + csvField(r.time) + "," + csvField(r.kind) + "," + csvField(r.ticketId) +
                   "," + csvField(str(d, "verdict")) + "," + csvField(deviceText(d)) + "," + csvField(ownerOf(d)) + "," +
                   csvField(reasonsText(d)) + "," + csvField(str(d, "manifest_sha256")) + "," + csvField(r.hash) + "\r\n";
            ++n;
        }
    } else {
        for (const auto& r : records) {
            if (!matches(r, f)) continue;
            out += recordJson(r).dump() + "\n";
            ++n;
        }
    }
    if (count) *count = n;
    return out;
}

json exportRecordData(const Filter& f, ExportFormat fmt, const std::string& out, const std::string& by) {
    json what = {{"format", exportFormatName(fmt)}, {"out", out}, {"by", by}};
    for (const auto& [name, value] : {std::pair{"from", f.from}, {"to", f.to}, {"verdict", f.verdict},
                                      {"device", f.device}, {"owner", f.owner}, {"kind", f.kind}})
        if (value) what["filter"][name] = *value;
    return what;
}

}  // namespace kiosk::log
