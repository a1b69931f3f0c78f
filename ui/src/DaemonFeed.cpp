#include "qkiosk/ui/DaemonFeed.h"

#include "JsonRead.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <sstream>

namespace kiosk::ui {
namespace {

// "key=<a>/<b>" → (a, b)
std::pair<std::uint64_t, std::uint64_t> fraction(const std::string& word, const std::string& key) {
    std::pair<std::uint64_t, std::uint64_t> out{0, 0};
    if (word.rfind(key + "=", 0) != 0) return out;
    const auto slash = word.find('/');
    const std::string a = word.substr(key.size() + 1, slash == std::string::npos ? std::string::npos : slash - key.size() - 1);
    std::from_chars(a.data(), a.data() + a.size(), out.first);
    if (slash != std::string::npos) std::from_chars(word.data() + slash + 1, word.data() + word.size(), out.second);
    return out;
}

std::string valueOf(const std::string& line, const std::string& key) {
    const auto at = line.find(" " + key + "=");
    if (at == std::string::npos) return "";
    const auto start = at + key.size() + 2;
    return line.substr(start, line.find(' ', start) - start);
}

}  // namespace

void DaemonFeed::apply(State& state, const std::string& line, double now) {
    std::istringstream words(line);
    std::string kind, port;
    words >> kind >> port;
    if (kind == "LOADING") {
        state.screen = Unavailable{true, ""};
    } else if (kind == "READY") {
        const std::string age = valueOf(line, "age_days");
        double days = 0;
        const bool known = !age.empty() && age != "unknown" && std::from_chars(age.data(), age.data() + age.size(), days).ec == std::errc{};
        state.idle = Ready{known ? age : "unknown", !known || days > maxAge_};
        // A new READY after a session (or a new engine) does not hide a result still on screen.
        if (std::holds_alternative<Ready>(state.screen) || std::holds_alternative<Unavailable>(state.screen))
            state.screen = state.idle;
    } else if (kind == "IDENTIFYING") {
        state.screen = Identifying{false, port};
    } else if (kind == "SCANNING") {
        scanStart_ = now;
        state.screen = Scanning{};
    } else if (kind == "PROGRESS") {
        std::string filesWord, bytesWord, mediaWord;
        words >> filesWord >> bytesWord >> mediaWord;
        std::string path;
        std::getline(words, path);
        if (!path.empty() && path.front() == ' ') path.erase(0, 1);
        Scanning s;
        std::tie(s.filesDone, s.filesFound) = fraction(filesWord, "files");
        std::tie(s.bytesDone, s.bytesFound) = fraction(bytesWord, "bytes");
        s.currentPath = path;
        s.elapsedSeconds = now - scanStart_;
        s.secondsLeft = estimateSecondsLeft(s.bytesDone, s.bytesFound, s.elapsedSeconds);
        state.screen = s;
    } else if (kind == "VERDICT") {
        const auto j = nlohmann::json::parse(line.substr(8), nullptr, false);
        verdict_.reset();
        if (!j.is_object()) return;
        Result r;
        // Read without throwing: a field of an unexpected type reads as empty.
        using namespace jsonread;
        r.pass = flag(j, "pass");
        const auto& reasons = member(j, "reasons");
        if (reasons.is_array())
            for (const auto& x : reasons)
                if (x.is_object()) r.reasons.push_back({text(x, "code"), text(x, "path"), text(x, "detail")});
        r.files = count(j, "files");
        r.bytes = count(j, "bytes");
        r.ticketId = text(j, "ticket_id");
        r.ticket = TicketState::Saved;
        verdict_ = std::move(r);
    } else if (kind == "RESULT") {
        // "RESULT PASS|FAIL <port> <ticket>": the second word is the verdict here.
        const std::string verdictWord = port;
        std::string where, ticket;
        words >> where >> ticket;
        Result r = verdict_ && verdict_->ticketId == ticket ? *verdict_ : Result{};
        r.pass = verdictWord == "PASS";
        r.ticketId = ticket;
        if (!r.pass && r.reasons.empty()) r.reasons.push_back({"unscannable", "/", "see the ticket"});
        state.screen = r;
    } else if (kind == "PRINTED" || kind == "PRINT-FAILED") {
        // A failed print leaves the ticket saved in the spool, for the officer's reprint.
        if (auto* r = std::get_if<Result>(&state.screen); r && r->ticketId == port)
            r->ticket = kind == "PRINTED" ? TicketState::Printed : TicketState::Saved;
    } else if (kind == "REFUSED") {
        // "REFUSED <port> <ticket> <code>: <detail>" or "REFUSED <port> - <code>: <detail>"
        std::string ticket, codeColon, detail;
        words >> ticket >> codeColon;
        std::getline(words, detail);
        if (!detail.empty() && detail.front() == ' ') detail.erase(0, 1);
        if (!codeColon.empty() && codeColon.back() == ':') codeColon.pop_back();
        Refused refused;
        if (verdict_ && verdict_->ticketId == ticket) refused.reasons = verdict_->reasons;
        else refused.reasons.push_back({codeColon, "/", detail});
        state.screen = refused;
    } else if (kind == "REMOVED") {
        state.screen = state.idle;
    }
}

}  // namespace kiosk::ui
