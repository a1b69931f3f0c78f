// The quarantine log's records as RFC 5424 messages with octet-counting
// framing (RFC 6587): header fields, structured data and its escaping, the
// severity of each kind of record, and the size cap.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "kiosk/log/SyslogMessage.h"

using namespace kiosk::log;

namespace {

const std::string kBom = "\xEF\xBB\xBF";

Record record(std::int64_t seq, const std::string& kind, const std::string& data, const std::string& ticket = "") {
    Record r{seq, "2026-11-27T08:02:54Z", kind, ticket, data, std::string(64, '0'), ""};
    r.hash = recordHash(r);
    return r;
}

SyslogOrigin origin() { return SyslogOrigin{"qkiosk-ward3", "ward-3", 16}; }

// The JSON after the byte order mark.
nlohmann::json body(const std::string& msg) {
    const auto at = msg.find(kBom);
    REQUIRE(at != std::string::npos);
    return nlohmann::json::parse(msg.substr(at + kBom.size()));
}

}  // namespace

TEST_CASE("A record is one RFC 5424 message: header, qkiosk structured data with its seq, BOM, JSON on one line",
          "[log][syslog]") {
    const auto r = record(42, "session", R"({"verdict": "fail",
  "reasons": [{"code": "infected", "path": "/p1/a.exe", "detail": "Eicar"}],
  "files": [{"path": "/p1/a.exe", "size": 68}], "ticket_id": "T1"})", "20261127-080254-495c55f9");
    const auto msg = syslogMessage(r, origin());
    const std::string head = "<132>1 2026-11-27T08:02:54Z qkiosk-ward3 qkiosk - session [qkiosk@32473 seq=\"42\" kind=\"session\" "
                             "ticket=\"20261127-080254-495c55f9\" verdict=\"fail\" hash=\"";
    CHECK(msg.rfind(head, 0) == 0);
    CHECK(msg.find(r.hash + "\" kiosk=\"ward-3\"] " + kBom + "{") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
    const auto j = body(msg);
    CHECK(j.at("reasons").at(0).at("code") == "infected");
    CHECK_FALSE(j.contains("files"));   // the list of every file stays in the kiosk's log

    SECTION("framed by its length in octets") {
        const auto frame = syslogFrame(r, origin());
        CHECK(frame == std::to_string(msg.size()) + " " + msg);
    }
}

TEST_CASE("Structured-data values escape quotes, backslashes and closing brackets, and header fields stay printable ASCII", "[log][syslog]") {
    const auto r = record(1, "daemon-start", "{}");
    SyslogOrigin o{"病棟 3", "ward \"3\" [east]\\", 16};
    const auto msg = syslogMessage(r, o);
    CHECK(msg.find(R"(kiosk="ward \"3\" [east\]\\"])") != std::string::npos);
    // HOSTNAME: no space, no byte outside 33–126.
    CHECK(msg.find(" qkiosk - daemon-start ") != std::string::npos);
    const auto host = msg.substr(msg.find(' ', msg.find(' ') + 1) + 1);
    CHECK(host.rfind("_______3 qkiosk", 0) == 0);
    CHECK(syslogMessage(r, SyslogOrigin{"", "k", 16}).find("Z - qkiosk - daemon-start") != std::string::npos);
    // MSGID has at most 32 characters.
    const auto longKind = syslogMessage(record(2, std::string(40, 'k'), "{}"), origin());
    CHECK(longKind.find(" " + std::string(32, 'k') + " [") != std::string::npos);
}

TEST_CASE("Severity: errors, FAILs, refusals and prunings stand out from the informational records", "[log][syslog]") {
    CHECK(syslogSeverity(record(1, "session", R"({"verdict":"pass"})")) == 6);
    CHECK(syslogSeverity(record(1, "session", R"({"verdict":"fail"})")) == 4);
    CHECK(syslogSeverity(record(1, "device", R"({"decision":"refuse"})")) == 5);
    CHECK(syslogSeverity(record(1, "device", R"({"decision":"admit"})")) == 6);
    CHECK(syslogSeverity(record(1, "engine-update-failed", "{}")) == 3);
    CHECK(syslogSeverity(record(1, "whitelist-loaded", R"({"error":"whitelist.toml:3:1: …"})")) == 3);
    CHECK(syslogSeverity(record(1, "whitelist-loaded", R"({"approvals":2})")) == 6);
    CHECK(syslogSeverity(record(1, "signature-update-refused", "{}")) == 4);
    CHECK(syslogSeverity(record(1, "log-pruned", "{}")) == 5);
    CHECK(syslogSeverity(record(1, "daemon-start", "{}")) == 6);
    // PRI = facility × 8 + severity.
    CHECK(syslogMessage(record(1, "log-pruned", "{}"), SyslogOrigin{"h", "k", *syslogFacility("authpriv")}).rfind("<85>1 ", 0) == 0);
    CHECK(syslogFacility("local7") == 23);
    CHECK(syslogFacility("audit") == 13);
    CHECK_FALSE(syslogFacility("kern"));
}

TEST_CASE("A record too large for one message keeps what fits and says what it left out", "[log][syslog]") {
    nlohmann::json d = {{"verdict", "fail"}, {"reasons", nlohmann::json::array()}};
    for (int i = 0; i < 500; ++i)
        d["reasons"].push_back({{"code", "infected"}, {"path", "/p1/folder/file-" + std::to_string(i) + ".exe"},
                                {"detail", std::string(60, 'x')}});
    const auto msg = syslogMessage(record(7, "session", d.dump()), origin());
    CHECK(msg.size() <= kSyslogMaxMessage);
    const auto j = body(msg);
    CHECK(j.at("verdict") == "fail");
    CHECK(j.at("reasons").size() > 10);
    CHECK(j.at("reasons_omitted").get<std::size_t>() + j.at("reasons").size() == 500);

    const auto huge = syslogMessage(record(8, "whatever", nlohmann::json{{"blob", std::string(20000, 'y')}}.dump()), origin());
    CHECK(huge.size() <= kSyslogMaxMessage);
    CHECK(body(huge).at("truncated") == true);
    // Data that is not JSON is carried as a string.
    CHECK(body(syslogMessage(record(9, "odd", "not json"), origin())).at("raw") == "not json");
}

TEST_CASE("An evidence record reaches the collector with every file's hash: the chain of custody is not cut", "[syslog]") {
    const SyslogOrigin origin{"kiosk-1", "kiosk-1", 16};
    Record r{12, "2026-11-27T08:03:00Z", "evidence-collected", "20261127-080254-495c55f9",
             R"({"case":"/var/lib/qkiosk/evidence/20261127-080254-495c55f9","files":[{"path":"/p1/a.exe","size":68,"sha256":"6eb8aa"}]})",
             std::string(64, '0'), std::string(64, 'a')};
    const std::string m = syslogMessage(r, origin);
    CHECK(m.find("\"sha256\":\"6eb8aa\"") != std::string::npos);
    CHECK(m.find("/p1/a.exe") != std::string::npos);
}
