#include "kiosk/messages/StatusEvent.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "kiosk/messages/JsonRead.h"

namespace kiosk::messages {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";   // U+FFFD

// Free text at the end of a line: one line, whatever it holds.
std::string oneLine(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) out += kReplacement;
        else out += c;
    }
    return out;
}

// A word in the middle of a line (a port, a ticket, a device node): no space either.
std::string word(std::string_view s) {
    if (s.empty()) return std::string(kReplacement);
    std::string out = oneLine(s);
    for (std::size_t at = out.find(' '); at != std::string::npos; at = out.find(' ', at)) out.replace(at, 1, kReplacement);
    return out;
}

// The value of a key=value word: may be empty.
std::string value(std::string_view s) { return s.empty() ? std::string() : word(s); }

std::string number(std::uint64_t n) { return std::to_string(n); }

// Reads the line word by word, then the rest as free text.
class Words {
public:
    explicit Words(std::string_view rest) : rest_(rest) {}
    Result<std::string> next(const char* what) {
        if (rest_.empty()) return makeError(std::string("no ") + what);
        const auto space = rest_.find(' ');
        std::string w(rest_.substr(0, space));
        rest_ = space == std::string_view::npos ? std::string_view() : rest_.substr(space + 1);
        if (w.empty()) return makeError(std::string("an empty ") + what);
        return w;
    }
    std::string rest() const { return std::string(rest_); }
    bool done() const { return rest_.empty(); }

private:
    std::string_view rest_;
};

Result<std::uint64_t> unsignedOf(std::string_view s, const char* what) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return makeError(std::string(what) + " is not a number");
    return n;
}

// "key=value" → value
Result<std::string> keyed(Words& words, std::string_view key) {
    auto w = words.next(std::string(key).c_str());
    if (!w) return w.error();
    if (w->size() <= key.size() || w->compare(0, key.size(), key) != 0 || (*w)[key.size()] != '=')
        return makeError("expected " + std::string(key) + "=");
    return w->substr(key.size() + 1);
}

// "key=<a>/<b>" → (a, b)
Result<std::pair<std::uint64_t, std::uint64_t>> fraction(Words& words, std::string_view key) {
    auto v = keyed(words, key);
    if (!v) return v.error();
    const auto slash = v->find('/');
    if (slash == std::string::npos) return makeError(std::string(key) + " is not <done>/<found>");
    auto a = unsignedOf(std::string_view(*v).substr(0, slash), std::string(key).c_str());
    auto b = unsignedOf(std::string_view(*v).substr(slash + 1), std::string(key).c_str());
    if (!a) return a.error();
    if (!b) return b.error();
    return std::pair{*a, *b};
}

const std::string kPrintKept = " (the ticket is kept: qkiosk ticket print ";
const std::string kIncomplete = " (incomplete: ";

std::string verdictJson(const Verdict& v) {
    nlohmann::json reasons = nlohmann::json::array();
    for (std::size_t i = 0; i < v.reasons.size() && i < Verdict::kVerdictReasons; ++i)
        reasons.push_back({{"code", v.reasons[i].code}, {"path", v.reasons[i].path}, {"detail", v.reasons[i].detail}});
    return nlohmann::json{{"port", v.port},       {"ticket_id", v.ticketId},        {"pass", v.pass},
                          {"reasons", reasons},   {"reasons_total", v.reasonsTotal}, {"files", v.files},
                          {"bytes", v.bytes},     {"printer", v.printer}}
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<StatusEvent> verdictOf(std::string_view text) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return makeError("VERDICT is not followed by a JSON object");
    using namespace jsonread;
    Verdict v;
    v.port = jsonread::text(j, "port");
    v.ticketId = jsonread::text(j, "ticket_id");
    v.pass = flag(j, "pass");
    const auto& reasons = member(j, "reasons");
    if (reasons.is_array())
        for (const auto& x : reasons)
            if (x.is_object()) v.reasons.push_back({jsonread::text(x, "code"), jsonread::text(x, "path"), jsonread::text(x, "detail")});
    v.reasonsTotal = std::max<std::uint64_t>(count(j, "reasons_total"), v.reasons.size());
    v.files = count(j, "files");
    v.bytes = count(j, "bytes");
    v.printer = flag(j, "printer");
    return StatusEvent(std::move(v));
}

template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

}  // namespace

std::string pendingText(std::int64_t n) { return std::to_string(n) + (n == 1 ? " record pending" : " records pending"); }

std::string encode(const StatusEvent& event) {
    return std::visit(
        Overload{
            [](const Loading& e) { return "LOADING " + oneLine(e.dbDir); },
            [](const Ready& e) {
                return "READY signatures=" + number(e.signatures) + " version=" + value(e.version) + " age_days=" + value(e.ageDays);
            },
            [](const EngineUpdated& e) { return "ENGINE-UPDATED signatures=" + number(e.signatures) + " version=" + value(e.version); },
            [](const EngineUpdateFailed& e) { return "ENGINE-UPDATE-FAILED " + oneLine(e.message); },
            [](const Identifying& e) { return "IDENTIFYING " + word(e.port); },
            [](const Refused& e) {
                return "REFUSED " + word(e.port) + " " + (e.ticketId.empty() ? std::string("-") : word(e.ticketId)) + " " + word(e.code) +
                       ": " + oneLine(e.detail);
            },
            [](const Scanning& e) { return "SCANNING " + word(e.port) + " " + word(e.devnode); },
            [](const Progress& e) {
                return "PROGRESS " + word(e.port) + " files=" + number(e.filesDone) + "/" + number(e.filesFound) +
                       " bytes=" + number(e.bytesDone) + "/" + number(e.bytesFound) + " media=" + number(e.mediaBytes) + " " +
                       oneLine(e.currentPath);
            },
            [](const Verdict& e) { return "VERDICT " + verdictJson(e); },
            [](const Evidence& e) {
                std::string line = "EVIDENCE " + word(e.port) + " " + word(e.ticketId) + " ";
                switch (e.stage) {
                    case Evidence::Stage::Collecting: return line + "collecting";
                    case Evidence::Stage::Stored:
                        return line + "stored " + oneLine(e.caseDir) + (e.why.empty() ? "" : kIncomplete + oneLine(e.why) + ")");
                    case Evidence::Stage::Missing: break;
                }
                return line + "missing: " + oneLine(e.why);
            },
            [](const Outcome& e) { return std::string("RESULT ") + (e.pass ? "PASS " : "FAIL ") + word(e.port) + " " + word(e.ticketId); },
            [](const Printed& e) { return "PRINTED " + word(e.ticketId); },
            [](const PrintFailed& e) {
                return "PRINT-FAILED " + word(e.ticketId) + " " + oneLine(e.why) + kPrintKept + word(e.ticketId) + ")";
            },
            [](const RemoveMedia& e) { return "REMOVE-MEDIA " + word(e.port); },
            [](const Removed& e) { return "REMOVED " + word(e.port); },
            [](const Failure& e) { return "ERROR " + oneLine(e.message); },
            [](const SyslogUp& e) { return "SYSLOG-UP " + word(e.target) + " forwarded up to record " + std::to_string(e.forwardedUpTo); },
            [](const SyslogDown& e) {
                return "SYSLOG-DOWN " + word(e.target) + ": " + oneLine(e.why) + " (" + pendingText(e.pending) + "; retrying)";
            },
            [](const Stopped&) { return std::string("STOPPED"); },
        },
        event);
}

Result<StatusEvent> parseStatusLine(std::string_view line) {
    const auto space = line.find(' ');
    const std::string_view kind = line.substr(0, space);
    Words words(space == std::string_view::npos ? std::string_view() : line.substr(space + 1));
    auto bad = [&](const Error& e) { return Error{std::string(kind) + ": " + e.message}; };
#define QK_WORD(var, what)               \
    auto var = words.next(what);         \
    if (!var) return bad(var.error());

    if (kind == "LOADING") return StatusEvent(Loading{words.rest()});
    if (kind == "READY" || kind == "ENGINE-UPDATED") {
        auto count = keyed(words, "signatures");
        if (!count) return bad(count.error());
        auto n = unsignedOf(*count, "signatures");
        if (!n) return bad(n.error());
        auto version = keyed(words, "version");
        if (!version) return bad(version.error());
        if (kind == "ENGINE-UPDATED") return StatusEvent(EngineUpdated{*n, *version});
        auto age = keyed(words, "age_days");
        if (!age) return bad(age.error());
        return StatusEvent(Ready{*n, *version, *age});
    }
    if (kind == "ENGINE-UPDATE-FAILED") return StatusEvent(EngineUpdateFailed{words.rest()});
    if (kind == "IDENTIFYING") {
        QK_WORD(port, "port");
        return StatusEvent(Identifying{*port});
    }
    if (kind == "REFUSED") {
        QK_WORD(port, "port");
        QK_WORD(ticket, "ticket");
        QK_WORD(code, "reason code");
        if (code->back() != ':') return bad(makeError("the reason code is not followed by ':'"));
        code->pop_back();
        return StatusEvent(Refused{*port, *ticket == "-" ? "" : *ticket, *code, words.rest()});
    }
    if (kind == "SCANNING") {
        QK_WORD(port, "port");
        QK_WORD(devnode, "device node");
        return StatusEvent(Scanning{*port, *devnode});
    }
    if (kind == "PROGRESS") {
        QK_WORD(port, "port");
        Progress p;
        p.port = *port;
        auto files = fraction(words, "files");
        if (!files) return bad(files.error());
        auto bytes = fraction(words, "bytes");
        if (!bytes) return bad(bytes.error());
        auto media = keyed(words, "media");
        if (!media) return bad(media.error());
        auto size = unsignedOf(*media, "media");
        if (!size) return bad(size.error());
        std::tie(p.filesDone, p.filesFound) = *files;
        std::tie(p.bytesDone, p.bytesFound) = *bytes;
        p.mediaBytes = *size;
        p.currentPath = words.rest();
        return StatusEvent(std::move(p));
    }
    if (kind == "VERDICT") return verdictOf(words.rest());
    if (kind == "EVIDENCE") {
        QK_WORD(port, "port");
        QK_WORD(ticket, "ticket");
        const std::string rest = words.rest();
        Evidence e{*port, *ticket, Evidence::Stage::Collecting, "", ""};
        if (rest == "collecting") return StatusEvent(std::move(e));
        if (rest.rfind("missing: ", 0) == 0) {
            e.stage = Evidence::Stage::Missing;
            e.why = rest.substr(9);
            return StatusEvent(std::move(e));
        }
        if (rest.rfind("stored ", 0) == 0) {
            e.stage = Evidence::Stage::Stored;
            e.caseDir = rest.substr(7);
            if (const auto at = e.caseDir.find(kIncomplete); at != std::string::npos && e.caseDir.back() == ')') {
                e.why = e.caseDir.substr(at + kIncomplete.size(), e.caseDir.size() - at - kIncomplete.size() - 1);
                e.caseDir.erase(at);
            }
            return StatusEvent(std::move(e));
        }
        return bad(makeError("not collecting, stored or missing"));
    }
    if (kind == "RESULT") {
        QK_WORD(verdict, "verdict");
        if (*verdict != "PASS" && *verdict != "FAIL") return bad(makeError("the verdict is neither PASS nor FAIL"));
        QK_WORD(port, "port");
        QK_WORD(ticket, "ticket");
        return StatusEvent(Outcome{*verdict == "PASS", *port, *ticket});
    }
    if (kind == "PRINTED") {
        QK_WORD(ticket, "ticket");
        return StatusEvent(Printed{*ticket});
    }
    if (kind == "PRINT-FAILED") {
        QK_WORD(ticket, "ticket");
        std::string why = words.rest();
        const std::string kept = kPrintKept + *ticket + ")";
        if (why.size() >= kept.size() && why.compare(why.size() - kept.size(), kept.size(), kept) == 0) why.erase(why.size() - kept.size());
        return StatusEvent(PrintFailed{*ticket, why});
    }
    if (kind == "REMOVE-MEDIA") {
        QK_WORD(port, "port");
        return StatusEvent(RemoveMedia{*port});
    }
    if (kind == "REMOVED") {
        QK_WORD(port, "port");
        return StatusEvent(Removed{*port});
    }
    if (kind == "ERROR") return StatusEvent(Failure{words.rest()});
    if (kind == "SYSLOG-UP") {
        QK_WORD(target, "target");
        const std::string rest = words.rest();
        const std::string lead = "forwarded up to record ";
        if (rest.rfind(lead, 0) != 0) return bad(makeError("expected \"forwarded up to record\""));
        auto n = unsignedOf(std::string_view(rest).substr(lead.size()), "the record");
        if (!n) return bad(n.error());
        return StatusEvent(SyslogUp{*target, static_cast<std::int64_t>(*n)});
    }
    if (kind == "SYSLOG-DOWN") {
        QK_WORD(targetColon, "target");
        if (targetColon->back() != ':') return bad(makeError("the target is not followed by ':'"));
        targetColon->pop_back();
        std::string why = words.rest();
        SyslogDown d{*targetColon, why, 0};
        // "<why> (<n> records pending; retrying)"
        if (const auto open = why.rfind(" ("); open != std::string::npos && why.ends_with("; retrying)")) {
            const std::string_view inside = std::string_view(why).substr(open + 2);
            const auto sp = inside.find(' ');
            if (auto n = unsignedOf(inside.substr(0, sp), "pending")) {
                d.pending = static_cast<std::int64_t>(*n);
                d.why = why.substr(0, open);
            }
        }
        return StatusEvent(std::move(d));
    }
    if (kind == "STOPPED" && words.done()) return StatusEvent(Stopped{});
#undef QK_WORD
    return makeError("not a status line: \"" + std::string(line.substr(0, 40)) + "\"");
}

bool isSessionEvent(const StatusEvent& e) {
    return std::holds_alternative<Identifying>(e) || std::holds_alternative<Scanning>(e) || std::holds_alternative<Verdict>(e) ||
           std::holds_alternative<Outcome>(e) || std::holds_alternative<Refused>(e) || std::holds_alternative<Printed>(e) ||
           std::holds_alternative<PrintFailed>(e) || std::holds_alternative<RemoveMedia>(e);
}

bool isTerminalOnly(const StatusEvent& e) { return std::holds_alternative<Progress>(e) || std::holds_alternative<Verdict>(e); }

}  // namespace kiosk::messages
