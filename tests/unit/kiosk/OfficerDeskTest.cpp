// The officer desk's session rules, on the clock it is given: a login holds
// for one connection until `idle_minutes` pass without a request, and every
// end of a session is a signed record.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "kiosk/officer/OfficerDesk.h"
#include "kiosk/officer/Officers.h"

using namespace kiosk;
namespace fs = std::filesystem;

namespace {

struct Desk {
    fs::path dir;
    Config config;
    std::optional<log::SignedLog> log;
    std::map<std::string, PresentDevice> devices;
    KioskView view;
    Desk() {
        std::string t = (fs::temp_directory_path() / "qkiosk-desk-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()));
        dir = t;
        config.logPath = (dir / "log.db").string();
        config.kioskKey = (dir / "kiosk.key").string();
        config.spoolDir = dir.string();
        config.officers.file = (dir / "officers").string();
        config.officers.lockoutFile = (dir / "lockout.json").string();
        config.officers.idleMinutes = 5;
        REQUIRE(officer::setPassword(config.officers, "山田", "correct horse 電池"));
        auto opened = log::openSignedLog(config.logPath, config.kioskKey);
        REQUIRE(opened);
        log = std::move(*opened);
        view.devices = &devices;
    }
    ~Desk() { fs::remove_all(dir); }
    std::vector<std::string> kinds() {
        auto records = log->log->records();
        REQUIRE(records);
        std::vector<std::string> out;
        for (const auto& r : *records) out.push_back(r.kind);
        return out;
    }
};

SocketRequest request(std::uint64_t client, const std::string& text) { return {client, 1000, 4242, false, "1", text}; }

}  // namespace

TEST_CASE("An officer's terminal session ends after the idle minutes, and is recorded when it ends", "[officer]") {
    Desk d;
    OfficerDesk desk(d.config, *d.log);
    const auto t0 = OfficerDesk::Clock::now();
    const auto in = desk.handle(request(1, R"({"op":"login","name":"山田","password":"correct horse 電池"})"), d.view, t0);
    REQUIRE(in.at("ok") == true);
    CHECK(in.at("idle_minutes") == 5);

    // Used within the idle time: still logged in, and the clock restarts.
    CHECK(desk.handle(request(1, R"({"op":"devices"})"), d.view, t0 + std::chrono::minutes(4)).at("ok") == true);
    CHECK(desk.handle(request(1, R"({"op":"devices"})"), d.view, t0 + std::chrono::minutes(8)).at("ok") == true);
    // Another connection never shares the login.
    CHECK(desk.handle(request(2, R"({"op":"devices"})"), d.view, t0 + std::chrono::minutes(8)).at("code") == "not-logged-in");
    // Five minutes and a second without a request: logged out.
    const auto late = desk.handle(request(1, R"({"op":"devices"})"), d.view, t0 + std::chrono::minutes(13) + std::chrono::seconds(1));
    CHECK(late.at("code") == "not-logged-in");
    CHECK_THAT(late.at("error").get<std::string>(), Catch::Contains("5 minutes without use"));
    CHECK(d.kinds().back() == "officer-logout");

    // A closed connection ends its session too.
    REQUIRE(desk.handle(request(3, R"({"op":"login","name":"山田","password":"correct horse 電池"})"), d.view, t0).at("ok") == true);
    desk.closed(3);
    CHECK(d.kinds().back() == "officer-logout");
    CHECK(desk.handle(request(3, R"({"op":"devices"})"), d.view, t0).at("code") == "not-logged-in");
}

TEST_CASE("The officer desk answers a request it cannot read with bad-request, never with a crash", "[officer]") {
    Desk d;
    OfficerDesk desk(d.config, *d.log);
    const auto now = OfficerDesk::Clock::now();
    for (const char* junk : {"", "[]", "{}", R"({"op":7})", "{\"op\":\"login\"", R"({"op":"login","name":["x"],"password":"y"})"})
        CHECK(desk.handle(request(1, junk), d.view, now).at("code") == "bad-request");
    REQUIRE(desk.handle(request(1, R"({"op":"login","name":"山田","password":"correct horse 電池"})"), d.view, now).at("ok") == true);
    CHECK(desk.handle(request(1, R"({"op":"fly"})"), d.view, now).at("code") == "bad-request");
    for (const char* bad : {R"({"op":"log","offset":"x"})", R"({"op":"log","offset":1e30})", R"({"op":"log","offset":-1})",
                            R"({"op":"log","limit":0})", R"({"op":"log","offset":2147483647,"limit":100.5})"})
        CHECK(desk.handle(request(1, bad), d.view, now).at("code") == "bad-request");
    CHECK(desk.handle(request(1, R"({"op":"log","offset":999999999,"limit":100})"), d.view, now).at("total") == 0);
    CHECK(desk.handle(request(1, R"({"op":"register","port":"1-1","owner":"a","purpose":"b","expires":"2030-01-01"})"), d.view, now)
              .at("code") == "no-device");
}

TEST_CASE("A login name no account can have (a NUL, a line break) is refused and counted under one name, never passed on", "[officer]") {
    Desk d;
    d.config.officers.pamService = "qkiosk-no-such-service";   // were it passed on, PAM would read "山田" from "山田\0x"
    OfficerDesk desk(d.config, *d.log);
    const auto now = OfficerDesk::Clock::now();
    const std::string nul = std::string(R"({"op":"login","name":"山田\u0000x","password":"correct horse 電池"})");
    for (const std::string& text : {nul, std::string(R"({"op":"login","name":"山田\nx","password":"correct horse 電池"})")})
        CHECK(desk.handle(request(1, text), d.view, now).at("code") == "refused");
    const auto records = d.log->log->find({"officer-login-failed", "", false, -1, false});
    REQUIRE(records);
    REQUIRE(records->size() == 2);
    for (const auto& r : *records) CHECK(nlohmann::json::parse(r.data).at("name") == "(invalid name)");
    CHECK(nlohmann::json::parse(records->back().data).at("failures") == 2);
}

TEST_CASE("A session's detail carries its first 50 reasons and how many there are, so that the reply stays small", "[officer]") {
    Desk d;
    nlohmann::json report = {{"verdict", "fail"}, {"reasons", nlohmann::json::array()}, {"files", nlohmann::json::array({{{"path", "/p1/a"}}})}};
    for (int i = 0; i < 120; ++i)
        report["reasons"].push_back({{"code", "infected"}, {"path", "/p1/" + std::string(200, 'x') + std::to_string(i)}, {"detail", "Eicar"}});
    REQUIRE(d.log->log->append("session", "20261127-000000-00000001", report.dump()));
    OfficerDesk desk(d.config, *d.log);
    const auto now = OfficerDesk::Clock::now();
    REQUIRE(desk.handle(request(1, R"({"op":"login","name":"山田","password":"correct horse 電池"})"), d.view, now).at("ok") == true);
    const auto reply = desk.handle(request(1, R"({"op":"session","ticket_id":"20261127-000000-00000001"})"), d.view, now);
    REQUIRE(reply.at("ok") == true);
    CHECK(reply.at("report").at("reasons").size() == 50);
    CHECK(reply.at("report").at("reasons_total") == 120);
    CHECK_FALSE(reply.at("report").contains("files"));
}
