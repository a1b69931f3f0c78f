#include "kiosk/messages/OfficerMessages.h"

#include <algorithm>
#include <array>
#include <utility>

#include "kiosk/messages/JsonRead.h"

namespace kiosk::messages {
namespace {

using nlohmann::json;
using jsonread::count;
using jsonread::flag;
using jsonread::member;
using jsonread::text;
using jsonread::texts;

template <class... F>
struct Visit : F... {
    using F::operator()...;
};
template <class... F>
Visit(F...) -> Visit<F...>;

std::string dumped(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// ---- strict reading of a request -------------------------------------------

// A string field: absent (or null) is "", anything but a string is an error.
Result<std::string> field(const json& body, const char* name) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return std::string();
    if (!it->is_string()) return makeError(std::string("\"") + name + "\" must be a string");
    return it->get<std::string>();
}

Result<std::string> required(const json& body, const char* name) {
    auto v = field(body, name);
    if (!v || v->empty()) return makeError(std::string("\"") + name + "\" is required");
    return v;
}

// A whole number field, `otherwise` when absent, within [low, high].
Result<std::int64_t> whole(const json& body, const char* name, std::int64_t otherwise, std::int64_t low, std::int64_t high) {
    const auto it = body.find(name);
    if (it == body.end() || it->is_null()) return otherwise;
    if (!it->is_number_integer() || it->get<std::int64_t>() < low || it->get<std::int64_t>() > high)
        return makeError(std::string("\"") + name + "\" must be a whole number from " + std::to_string(low) + " to " + std::to_string(high));
    return it->get<std::int64_t>();
}

Result<LogFilterFields> filterOf(const json& body) {
    LogFilterFields f;
    for (auto [name, out] : {std::pair<const char*, std::string*>{"from", &f.from}, {"to", &f.to}, {"verdict", &f.verdict},
                             {"device", &f.device}, {"owner", &f.owner}}) {
        auto v = field(body, name);
        if (!v) return v.error();
        *out = std::move(*v);
    }
    return f;
}

void putFilter(json& out, const LogFilterFields& f) {
    for (auto [name, value] : {std::pair<const char*, const std::string*>{"from", &f.from}, {"to", &f.to}, {"verdict", &f.verdict},
                               {"device", &f.device}, {"owner", &f.owner}})
        if (!value->empty()) out[name] = *value;
}

// ---- lenient reading of a reply --------------------------------------------

std::vector<SessionSummary> summaries(const json& list) {
    std::vector<SessionSummary> out;
    if (!list.is_array()) return out;
    for (const auto& e : list) out.push_back(readSessionSummary(e));
    return out;
}

std::int64_t signedCount(const json& j, const char* key, std::int64_t otherwise) {
    const json& v = member(j, key);
    return v.is_number_integer() ? v.get<std::int64_t>() : otherwise;
}

StatusReply statusOf(const json& j) {
    StatusReply s;
    s.kioskId = text(j, "kiosk_id");
    const json& sig = member(j, "signatures");
    s.signatures.version = text(sig, "version");
    s.signatures.count = count(sig, "signatures");
    s.signatures.ageDays = text(sig, "age_days");
    s.signatures.outdated = flag(sig, "outdated");
    const json& disks = member(j, "disk");
    if (disks.is_array())
        for (const auto& e : disks) s.disks.push_back({text(e, "dir"), count(e, "free"), count(e, "min_free")});
    const json& printer = member(j, "printer");
    s.printer.kind = text(printer, "kind");
    s.printer.target = text(printer, "target");
    s.printer.state = text(printer, "state");
    s.printer.ready = flag(printer, "ready");
    s.unprinted = signedCount(j, "unprinted", 0);
    s.syslog = text(j, "syslog");
    s.logRecords = signedCount(member(j, "log"), "records", 0);
    s.sessions = summaries(member(j, "sessions"));
    return s;
}

DevicesReply devicesOf(const json& j) {
    DevicesReply out;
    const json& list = member(j, "devices");
    if (!list.is_array()) return out;
    for (const auto& e : list) {
        DeviceEntry d;
        d.port = text(e, "port");
        d.vendorId = text(e, "vendor_id");
        d.productId = text(e, "product_id");
        d.serial = text(e, "serial");
        d.product = text(e, "product");
        d.interfaces = texts(e, "interfaces");
        const json& a = member(e, "approval");
        if (a.is_object()) d.approval = DeviceApproval{text(a, "owner"), text(a, "purpose"), text(a, "expires")};
        // A state this terminal does not know is one it cannot act on.
        d.state = deviceStateNamed(text(e, "state")).value_or(DeviceState::Identifying);
        d.ticketId = text(e, "ticket_id");
        d.reasons = texts(e, "reasons");
        d.fat = flag(e, "fat");
        out.devices.push_back(std::move(d));
    }
    return out;
}

SessionReply sessionOf(const json& j) {
    SessionReply s;
    const json& report = member(j, "report");
    s.report = report.is_object() ? report : json::object();
    const json& records = member(j, "records");
    if (records.is_array())
        for (const auto& e : records) s.records.push_back({signedCount(e, "seq", 0), text(e, "time"), text(e, "kind")});
    return s;
}

constexpr std::array<std::pair<ReplyCode, std::string_view>, 6> kCodes{{{ReplyCode::NotLoggedIn, "not-logged-in"},
                                                                         {ReplyCode::Refused, "refused"},
                                                                         {ReplyCode::LockedOut, "locked-out"},
                                                                         {ReplyCode::BadRequest, "bad-request"},
                                                                         {ReplyCode::NoDevice, "no-device"},
                                                                         {ReplyCode::Failed, "failed"}}};

constexpr std::array<std::pair<DeviceState, std::string_view>, 5> kStates{{{DeviceState::Identifying, "identifying"},
                                                                            {DeviceState::Scanning, "scanning"},
                                                                            {DeviceState::Pass, "pass"},
                                                                            {DeviceState::Fail, "fail"},
                                                                            {DeviceState::Refused, "refused"}}};

std::optional<Framed> framed(std::string_view line, std::string_view word, std::size_t longest) {
    if (line.size() > longest || !line.starts_with(word) || line.size() <= word.size() || line[word.size()] != ' ')
        return std::nullopt;
    const std::size_t start = word.size() + 1;
    const auto space = line.find(' ', start);
    if (space == std::string_view::npos || space == start || space - start > 9) return std::nullopt;
    const std::string_view id = line.substr(start, space - start);
    if (id.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    return Framed{std::string(id), std::string(line.substr(space + 1))};
}

}  // namespace

std::string_view opOf(const OfficerRequest& request) {
    return std::visit(Visit{[](const LoginRequest&) { return std::string_view("login"); },
                            [](const LogoutRequest&) { return std::string_view("logout"); },
                            [](const StatusRequest&) { return std::string_view("status"); },
                            [](const LogRequest&) { return std::string_view("log"); },
                            [](const SessionRequest&) { return std::string_view("session"); },
                            [](const DevicesRequest&) { return std::string_view("devices"); },
                            [](const RegisterRequest&) { return std::string_view("register"); },
                            [](const ImportRequest&) { return std::string_view("import-signatures"); },
                            [](const ExportRequest&) { return std::string_view("export-log"); }},
                      request);
}

json toJson(const OfficerRequest& request) {
    json out = {{"op", std::string(opOf(request))}};
    std::visit(Visit{[&](const LoginRequest& r) {
                         out["name"] = r.name;
                         out["password"] = r.password;
                     },
                     [&](const LogRequest& r) {
                         putFilter(out, r.filter);
                         out["offset"] = r.offset;
                         out["limit"] = r.limit;
                     },
                     [&](const SessionRequest& r) { out["ticket_id"] = r.ticketId; },
                     [&](const RegisterRequest& r) {
                         out["port"] = r.port;
                         out["owner"] = r.owner;
                         out["purpose"] = r.purpose;
                         out["expires"] = r.expires;
                     },
                     [&](const ImportRequest& r) { out["port"] = r.port; },
                     [&](const ExportRequest& r) {
                         out["port"] = r.port;
                         out["format"] = r.jsonl ? "jsonl" : "csv";
                         putFilter(out, r.filter);
                     },
                     [](const auto&) {}},
               request);
    return out;
}

Result<OfficerRequest> parseOfficerRequest(const json& body) {
    if (!body.is_object() || !body.contains("op") || !body["op"].is_string())
        return makeError("a request is a JSON object with \"op\"");
    const std::string& op = body["op"].get_ref<const std::string&>();
    if (op == "login") {
        auto name = field(body, "name"), password = field(body, "password");
        if (!name || !password || name->empty() || password->empty()) return makeError("\"name\" and \"password\" are required");
        return OfficerRequest{LoginRequest{std::move(*name), std::move(*password)}};
    }
    if (op == "logout") return OfficerRequest{LogoutRequest{}};
    if (op == "status") return OfficerRequest{StatusRequest{}};
    if (op == "devices") return OfficerRequest{DevicesRequest{}};
    if (op == "log") {
        auto filter = filterOf(body);
        if (!filter) return filter.error();
        auto offset = whole(body, "offset", 0, 0, LogRequest::kMaxOffset);
        if (!offset) return offset.error();
        auto limit = whole(body, "limit", 15, 1, LogRequest::kMaxLimit);
        if (!limit) return limit.error();
        return OfficerRequest{LogRequest{std::move(*filter), *offset, *limit}};
    }
    if (op == "session") {
        auto ticket = required(body, "ticket_id");
        if (!ticket) return ticket.error();
        return OfficerRequest{SessionRequest{std::move(*ticket)}};
    }
    // The rest act on the device at a port.
    auto port = required(body, "port");
    if (op == "register") {
        if (!port) return port.error();
        auto owner = field(body, "owner"), purpose = field(body, "purpose"), expires = field(body, "expires");
        if (!owner || !purpose || !expires) return makeError("owner, purpose and expires must be strings");
        return OfficerRequest{RegisterRequest{std::move(*port), std::move(*owner), std::move(*purpose), std::move(*expires)}};
    }
    if (op == "import-signatures") {
        if (!port) return port.error();
        return OfficerRequest{ImportRequest{std::move(*port)}};
    }
    if (op == "export-log") {
        if (!port) return port.error();
        auto format = field(body, "format");
        if (!format || (*format != "csv" && *format != "jsonl")) return makeError("\"format\" must be csv or jsonl");
        auto filter = filterOf(body);
        if (!filter) return filter.error();
        return OfficerRequest{ExportRequest{std::move(*port), *format == "jsonl", std::move(*filter)}};
    }
    return makeError("unknown request \"" + op + "\"");
}

std::string_view replyCodeName(ReplyCode code) {
    for (const auto& [c, name] : kCodes)
        if (c == code) return name;
    return "failed";
}

std::string_view deviceStateName(DeviceState state) {
    for (const auto& [s, name] : kStates)
        if (s == state) return name;
    return "identifying";
}

std::optional<DeviceState> deviceStateNamed(std::string_view name) {
    for (const auto& [s, n] : kStates)
        if (n == name) return s;
    return std::nullopt;
}

json toJson(const SessionSummary& s) {
    return {{"seq", s.seq},   {"time", s.time},   {"ticket_id", s.ticketId}, {"verdict", s.verdict},
            {"device", s.device}, {"owner", s.owner}, {"reasons", s.reasons}};
}

SessionSummary readSessionSummary(const json& e) {
    SessionSummary s;
    s.seq = signedCount(e, "seq", 0);
    s.time = text(e, "time");
    s.ticketId = text(e, "ticket_id");
    s.verdict = text(e, "verdict");
    s.device = text(e, "device");
    s.owner = text(e, "owner");
    s.reasons = texts(e, "reasons");
    return s;
}

json toJson(const OfficerReply& reply) {
    return std::visit(
        Visit{[](const Refusal& r) -> json { return {{"ok", false}, {"code", std::string(replyCodeName(r.code))}, {"error", r.error}}; },
              [](const Done&) -> json { return {{"ok", true}}; },
              [](const LoginReply& r) -> json { return {{"ok", true}, {"officer", r.officer}, {"idle_minutes", r.idleMinutes}}; },
              [](const StatusReply& r) -> json {
                  json disks = json::array(), sessions = json::array();
                  for (const auto& d : r.disks) disks.push_back({{"dir", d.dir}, {"free", d.free}, {"min_free", d.minFree}});
                  for (const auto& s : r.sessions) sessions.push_back(toJson(s));
                  return {{"ok", true},
                          {"kiosk_id", r.kioskId},
                          {"signatures",
                           {{"version", r.signatures.version},
                            {"signatures", r.signatures.count},
                            {"age_days", r.signatures.ageDays},
                            {"outdated", r.signatures.outdated}}},
                          {"disk", disks},
                          {"printer",
                           {{"kind", r.printer.kind}, {"target", r.printer.target}, {"ready", r.printer.ready}, {"state", r.printer.state}}},
                          {"unprinted", r.unprinted},
                          {"syslog", r.syslog},
                          {"log", {{"records", r.logRecords}}},
                          {"sessions", sessions}};
              },
              [](const LogReply& r) -> json {
                  json sessions = json::array();
                  for (const auto& s : r.sessions) sessions.push_back(toJson(s));
                  return {{"ok", true}, {"total", r.total}, {"sessions", sessions}};
              },
              [](const SessionReply& r) -> json {
                  json records = json::array();
                  for (const auto& x : r.records) records.push_back({{"seq", x.seq}, {"time", x.time}, {"kind", x.kind}});
                  return {{"ok", true}, {"report", r.report}, {"records", records}};
              },
              [](const DevicesReply& r) -> json {
                  json list = json::array();
                  for (const auto& d : r.devices) {
                      json approval = nullptr;
                      if (d.approval) approval = {{"owner", d.approval->owner}, {"purpose", d.approval->purpose}, {"expires", d.approval->expires}};
                      list.push_back({{"port", d.port},
                                      {"vendor_id", d.vendorId},
                                      {"product_id", d.productId},
                                      {"serial", d.serial},
                                      {"product", d.product},
                                      {"interfaces", d.interfaces},
                                      {"approval", approval},
                                      {"state", std::string(deviceStateName(d.state))},
                                      {"ticket_id", d.ticketId},
                                      {"reasons", d.reasons},
                                      {"fat", d.fat}});
                  }
                  return {{"ok", true}, {"devices", list}};
              },
              [](const RegisterReply& r) -> json { return {{"ok", true}, {"message", r.message}}; },
              [](const ImportReply& r) -> json {
                  return {{"ok", true}, {"version", r.version}, {"signatures", r.signatures}, {"files", r.files}};
              },
              [](const ExportReply& r) -> json { return {{"ok", true}, {"file", r.file}, {"records", r.records}, {"bytes", r.bytes}}; }},
        reply);
}

OfficerReply readReply(const OfficerRequest& asked, const json& reply) {
    // No sentence of the daemon's to show: the terminal says it in its own (translated) words.
    if (!reply.is_object() || !member(reply, "ok").is_boolean()) return Refusal{ReplyCode::Failed, ""};
    if (!flag(reply, "ok")) {
        const std::string code = text(reply, "code");
        ReplyCode c = ReplyCode::Failed;
        for (const auto& [k, name] : kCodes)
            if (name == code) c = k;
        return Refusal{c, text(reply, "error")};
    }
    return std::visit(Visit{[&](const LoginRequest&) -> OfficerReply {
                                const std::uint64_t idle = count(reply, "idle_minutes");
                                return LoginReply{text(reply, "officer"), static_cast<std::uint32_t>(std::min<std::uint64_t>(idle, 1u << 20))};
                            },
                            [&](const LogoutRequest&) -> OfficerReply { return Done{}; },
                            [&](const StatusRequest&) -> OfficerReply { return statusOf(reply); },
                            [&](const LogRequest&) -> OfficerReply {
                                return LogReply{count(reply, "total"), summaries(member(reply, "sessions"))};
                            },
                            [&](const SessionRequest&) -> OfficerReply { return sessionOf(reply); },
                            [&](const DevicesRequest&) -> OfficerReply { return devicesOf(reply); },
                            [&](const RegisterRequest&) -> OfficerReply { return RegisterReply{text(reply, "message")}; },
                            [&](const ImportRequest&) -> OfficerReply {
                                return ImportReply{text(reply, "version"), count(reply, "signatures"), count(reply, "files")};
                            },
                            [&](const ExportRequest&) -> OfficerReply {
                                return ExportReply{text(reply, "file"), count(reply, "records"), count(reply, "bytes")};
                            }},
                      asked);
}

std::string requestLine(std::uint64_t id, const OfficerRequest& request) {
    return "REQUEST " + std::to_string(id) + " " + dumped(toJson(request));
}

std::string replyLine(std::string_view id, const OfficerReply& reply) { return replyLine(id, dumped(toJson(reply))); }

std::string replyLine(std::string_view id, std::string_view json) { return "REPLY " + std::string(id) + " " + std::string(json); }

std::optional<Framed> parseRequestLine(std::string_view line) { return framed(line, "REQUEST", kMaxRequestLine); }

// A reply can be long (a page of the log): the limit is the daemon's, on requests.
std::optional<Framed> parseReplyLine(std::string_view line) { return framed(line, "REPLY", std::string_view::npos); }

}  // namespace kiosk::messages
