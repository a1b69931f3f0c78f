#include "kiosk/log/SyslogMessage.h"

#include <map>
#include <nlohmann/json.hpp>

namespace kiosk::log {
namespace {

using nlohmann::json;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// RFC 5424 6.3.3: in a PARAM-VALUE, '"', '\' and ']' are escaped with a backslash.
std::string paramValue(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '"' || c == '\\' || c == ']') out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

// A header field (HOSTNAME, MSGID): printable US-ASCII only, at most `max`
// characters; anything else becomes '_' so a kiosk_id in Japanese still
// gives a valid message. Empty is the NILVALUE.
std::string headerField(std::string_view v, std::size_t max) {
    std::string out;
    for (char c : v.substr(0, max)) out.push_back(c >= 33 && c <= 126 ? c : '_');
    return out.empty() ? "-" : out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json dataOf(const Record& r) {
    auto j = json::parse(r.data, nullptr, false);
    if (j.is_discarded()) return json{{"raw", r.data}};
    return j;
}

int severityOf(const std::string& kind, const json& d);

// `d`: the record's data, parsed once for the whole message.
std::string header(const Record& r, const json& d, const SyslogOrigin& origin) {
    std::string h = "<";
    h.append(std::to_string(origin.facility * 8 + severityOf(r.kind, d)));
    h.append(">1 ");
    h.append(r.time.empty() ? "-" : r.time);
    h.append(" ");
    h.append(headerField(origin.hostname, 255));
    h.append(" qkiosk - ");
    h.append(headerField(r.kind, 32));
    h.append(" [qkiosk@32473 seq=\"");
    h.append(std::to_string(r.seq));
    h.append("\" kind=\"");
    h.append(paramValue(r.kind));
    h.append("\" ticket=\"");
    h.append(paramValue(r.ticketId));
    if (r.kind == "session") {
        if (d.is_object() && d.contains("verdict") && d["verdict"].is_string()) {
            h.append("\" verdict=\"");
            h.append(paramValue(d["verdict"].get<std::string>()));
        }
    }
    h.append("\" hash=\"");
    h.append(paramValue(r.hash));
    h.append("\" kiosk=\"");
    h.append(paramValue(origin.kioskId));
    h.append("\"] ");
    return h;
}

}  // namespace

int syslogSeverity(const Record& r) { return severityOf(r.kind, dataOf(r)); }

namespace {

int severityOf(const std::string& kind, const json& d) {
    const auto text = [&](const char* key) {
        return d.is_object() && d.contains(key) && d[key].is_string() ? d[key].get<std::string>() : std::string();
    };
    if (kind == "engine-update-failed") return 3;
    if (kind == "whitelist-loaded" && d.is_object() && d.contains("error")) return 3;
    if (kind == "session" && text("verdict") == "fail") return 4;
    if (kind == "signature-update-refused") return 4;
    if (kind == "device" && text("decision") == "refuse") return 5;
    if (kind == "log-pruned") return 5;
    return 6;
}

}  // namespace

std::string syslogMessage(const Record& r, const SyslogOrigin& origin) {
    json d = dataOf(r);   // parsed once: a session's can be megabytes
    const std::string head = header(r, d, origin);
    const auto fits = [&](const std::string& body) { return head.size() + kBom.size() + body.size() <= kSyslogMaxMessage; };
    // The data, on one line. A session's list of every file stays in the
    // kiosk's log (its manifest hash and count are in the message); the
    // files of an evidence record are its chain of custody and go with it.
    if (r.kind == "session" && d.is_object()) d.erase("files");
    std::string body = dump(d);
    // Too large for one message: keep as many reasons as fit, then say what was left out.
    if (!fits(body) && d.is_object() && d.contains("reasons") && d["reasons"].is_array()) {
        const json all = d["reasons"];
        std::size_t keep = all.size();
        while (!fits(body) && keep > 0) {
            keep /= 2;
            d["reasons"] = json(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep));
            d["reasons_omitted"] = all.size() - keep;
            body = dump(d);
        }
    }
    if (!fits(body)) {
        std::string detail = "the record is too large for one syslog message: qkiosk log show ";
        detail.append(std::to_string(r.seq));
        body = dump(json{{"truncated", true}, {"detail", detail}});
    }
    std::string msg = head;
    msg.append(kBom);
    msg.append(body);
    return msg;
}

std::string syslogFrame(const Record& r, const SyslogOrigin& origin) {
    const std::string msg = syslogMessage(r, origin);
    std::string frame = std::to_string(msg.size());
    frame.push_back(' ');
    frame.append(msg);
    return frame;
}

}  // namespace kiosk::log
