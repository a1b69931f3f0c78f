// The officer's requests and the daemon's replies: each written as the JSON
// docs/officer-protocol.md shows, read back as what it was, a malformed
// request refused with a sentence, and a strange reply read without a throw.
#include <catch2/catch.hpp>

#include "kiosk/messages/OfficerMessages.h"

using namespace kiosk::messages;
using nlohmann::json;

namespace {

OfficerRequest parsed(const json& j) {
    auto r = parseOfficerRequest(j);
    INFO(j.dump());
    REQUIRE(r);
    return *r;
}

std::string refusal(const json& j) {
    auto r = parseOfficerRequest(j);
    INFO(j.dump());
    REQUIRE_FALSE(r);
    return r.error().message;
}

// A reply written, then read as the terminal reads it, then written again.
json throughTheWire(const OfficerRequest& asked, const OfficerReply& reply) {
    const json wire = toJson(reply);
    return toJson(readReply(asked, json::parse(wire.dump())));
}

}  // namespace

TEST_CASE("Every officer request is the JSON of the contract and reads back as itself", "[OfficerMessages]") {
    const std::vector<std::pair<OfficerRequest, json>> cases = {
        {LoginRequest{"山田", "correct horse 電池"}, {{"op", "login"}, {"name", "山田"}, {"password", "correct horse 電池"}}},
        {LogoutRequest{}, {{"op", "logout"}}},
        {StatusRequest{}, {{"op", "status"}}},
        {LogRequest{{"2026-11-01", "", "fail", "0781:5567", ""}, 15, 15},
         {{"op", "log"}, {"from", "2026-11-01"}, {"verdict", "fail"}, {"device", "0781:5567"}, {"offset", 15}, {"limit", 15}}},
        {SessionRequest{"20261127-034324-aa3c0044"}, {{"op", "session"}, {"ticket_id", "20261127-034324-aa3c0044"}}},
        {DevicesRequest{}, {{"op", "devices"}}},
        {RegisterRequest{"1-1", "Example K.K.", "MRI maintenance", "2027-03-31"},
         {{"op", "register"}, {"port", "1-1"}, {"owner", "Example K.K."}, {"purpose", "MRI maintenance"}, {"expires", "2027-03-31"}}},
        {ImportRequest{"1-2"}, {{"op", "import-signatures"}, {"port", "1-2"}}},
        {ExportRequest{"1-1", true, {"2026-11-01", "2026-11-30", "", "", ""}},
         {{"op", "export-log"}, {"port", "1-1"}, {"format", "jsonl"}, {"from", "2026-11-01"}, {"to", "2026-11-30"}}},
    };
    for (const auto& [request, wire] : cases) {
        INFO(wire.dump());
        CHECK(toJson(request) == wire);
        CHECK(parsed(wire) == request);
        CHECK(opOf(request) == wire.at("op").get<std::string>());
    }
    SECTION("what is left out takes the contract's defaults") {
        CHECK(std::get<LogRequest>(parsed({{"op", "log"}})) == LogRequest{});
        CHECK(std::get<LogRequest>(parsed({{"op", "log"}})).limit == 15);
        CHECK(std::get<ExportRequest>(parsed({{"op", "export-log"}, {"port", "1-1"}, {"format", "csv"}})).jsonl == false);
    }
}

TEST_CASE("A malformed officer request is refused with a sentence that names what is wrong", "[OfficerMessages]") {
    CHECK(refusal(json::array()) == "a request is a JSON object with \"op\"");
    CHECK(refusal({{"op", 7}}) == "a request is a JSON object with \"op\"");
    CHECK(refusal({{"op", "fly"}}) == "unknown request \"fly\"");
    CHECK(refusal({{"op", "login"}, {"name", json::array({"x"})}, {"password", "y"}}) == "\"name\" and \"password\" are required");
    CHECK(refusal({{"op", "login"}, {"name", "x"}}) == "\"name\" and \"password\" are required");
    CHECK(refusal({{"op", "log"}, {"from", 20261101}}) == "\"from\" must be a string");
    CHECK(refusal({{"op", "log"}, {"offset", "x"}}) == "\"offset\" must be a whole number from 0 to 1000000000");
    CHECK(refusal({{"op", "log"}, {"offset", -1}}) == "\"offset\" must be a whole number from 0 to 1000000000");
    CHECK(refusal({{"op", "log"}, {"limit", 0}}) == "\"limit\" must be a whole number from 1 to 100");
    CHECK(refusal({{"op", "log"}, {"limit", 100.5}}) == "\"limit\" must be a whole number from 1 to 100");
    CHECK(refusal({{"op", "session"}}) == "\"ticket_id\" is required");
    CHECK(refusal({{"op", "register"}, {"owner", "a"}}) == "\"port\" is required");
    CHECK(refusal({{"op", "register"}, {"port", "1-1"}, {"owner", 1}}) == "owner, purpose and expires must be strings");
    CHECK(refusal({{"op", "import-signatures"}, {"port", ""}}) == "\"port\" is required");
    CHECK(refusal({{"op", "export-log"}, {"port", "1-1"}, {"format", "xml"}}) == "\"format\" must be csv or jsonl");
    CHECK(refusal({{"op", "export-log"}, {"port", "1-1"}}) == "\"format\" must be csv or jsonl");
}

TEST_CASE("Every reply the daemon writes reads back at the terminal as what was written", "[OfficerMessages]") {
    SECTION("a refusal keeps its code and sentence") {
        for (auto code : {ReplyCode::NotLoggedIn, ReplyCode::Refused, ReplyCode::LockedOut, ReplyCode::BadRequest, ReplyCode::NoDevice,
                          ReplyCode::Failed}) {
            const json wire = toJson(Refusal{code, "why"});
            CHECK(wire == json{{"ok", false}, {"code", std::string(replyCodeName(code))}, {"error", "why"}});
            const auto back = readReply(StatusRequest{}, wire);
            REQUIRE(std::holds_alternative<Refusal>(back));
            CHECK(std::get<Refusal>(back).code == code);
            CHECK(std::get<Refusal>(back).error == "why");
        }
    }
    SECTION("the replies of each request") {
        const SessionSummary one{812, "2026-11-27T03:43:24Z", "20261127-034324-aa3c0044", "fail", "0781:5567:4C530001",
                                 "Example Medical Systems K.K.", {"infected"}};
        StatusReply status;
        status.kioskId = "kiosk-01";
        status.signatures = {"daily:27412 main:62 bytecode:335", 8712345, "1.2", false};
        status.disks = {{"/var/spool/qkiosk", 123456789, 67108864}};
        status.printer = {"cups", "cups:ticket", "ready", true};
        status.unprinted = -1;
        status.syslog = "SYSLOG-UP log:6514 forwarded up to record 9";
        status.logRecords = 1234;
        status.sessions = {one};
        DeviceEntry device{"1-1", "0781", "5567", "4C530001", "Cruzer Blade", {"08:06:50"},
                           DeviceApproval{"Example K.K.", "MRI", "2027-03-31"}, DeviceState::Pass, "T1", {}, true};
        DeviceEntry refused{"1-2", "046d", "c31c", "", "", {"03:01:01"}, std::nullopt, DeviceState::Refused, "T2", {"badusb"}, false};
        SessionReply session{json{{"ticket_id", "T1"}, {"verdict", "pass"}}, {{810, "2026-11-27T03:43:20Z", "device"}}};
        const std::vector<std::pair<OfficerRequest, OfficerReply>> cases = {
            {LogoutRequest{}, Done{}},
            {LoginRequest{"山田", "pw"}, LoginReply{"山田", 5}},
            {StatusRequest{}, status},
            {LogRequest{}, LogReply{57, {one}}},
            {SessionRequest{"T1"}, session},
            {DevicesRequest{}, DevicesReply{{device, refused}}},
            {RegisterRequest{"1-1", "o", "p", "2027-01-01"}, RegisterReply{"approved until 2027-01-01 for o"}},
            {ImportRequest{"1-1"}, ImportReply{"daily:27413", 8712400, 3}},
            {ExportRequest{"1-1", false, {}}, ExportReply{"qkiosk-log-kiosk-01-20261127-111500.csv", 57, 40960}},
        };
        for (const auto& [asked, reply] : cases) {
            INFO(toJson(reply).dump());
            CHECK(throughTheWire(asked, reply) == toJson(reply));
            CHECK(toJson(reply).at("ok") == true);
        }
        const auto devices = std::get<DevicesReply>(readReply(DevicesRequest{}, toJson(DevicesReply{{device, refused}})));
        CHECK(devices.devices == std::vector<DeviceEntry>{device, refused});
        CHECK(toJson(DevicesReply{{refused}}).at("devices").at(0).at("approval").is_null());
        CHECK(toJson(DevicesReply{{refused}}).at("devices").at(0).at("state") == "refused");
    }
}

TEST_CASE("A reply that is not what the contract says is read without a throw, as far as it goes", "[OfficerMessages]") {
    for (const json& junk : {json("not an object"), json::array(), json::object(), json{{"ok", "yes"}}})
        CHECK(std::holds_alternative<Refusal>(readReply(StatusRequest{}, junk)));
    const auto status = std::get<StatusReply>(
        readReply(StatusRequest{}, json::parse(R"({"ok":true,"signatures":"x","disk":{"a":1},"log":[1],"sessions":7,"unprinted":"3"})")));
    CHECK(status.signatures.count == 0);
    CHECK(status.disks.empty());
    CHECK(status.sessions.empty());
    CHECK(status.unprinted == 0);
    const auto devices = std::get<DevicesReply>(readReply(
        DevicesRequest{}, json::parse(R"({"ok":true,"devices":[{"port":"1-1","state":"melting","approval":"yes","fat":1}]})")));
    REQUIRE(devices.devices.size() == 1);
    CHECK(devices.devices[0].state == DeviceState::Identifying);   // nothing an officer can act on
    CHECK_FALSE(devices.devices[0].approval);
    CHECK_FALSE(devices.devices[0].fat);
    CHECK(std::holds_alternative<Refusal>(readReply(LoginRequest{}, json{{"ok", false}, {"code", "new-code"}})));
    CHECK(std::get<Refusal>(readReply(LoginRequest{}, json{{"ok", false}, {"code", "new-code"}})).code == ReplyCode::Failed);
}

TEST_CASE("Request and reply lines carry a number of 1 to 9 digits and one JSON object", "[OfficerMessages]") {
    CHECK(requestLine(12, StatusRequest{}) == R"(REQUEST 12 {"op":"status"})");
    CHECK(replyLine("12", Done{}) == R"(REPLY 12 {"ok":true})");
    const auto framed = parseRequestLine(requestLine(123456789, LoginRequest{"a", "b"}));
    REQUIRE(framed);
    CHECK(framed->id == "123456789");
    CHECK(parsed(json::parse(framed->json)) == OfficerRequest{LoginRequest{"a", "b"}});
    for (const char* bad : {"REQUEST", "REQUEST ", "REQUEST 1", "REQUEST  {}", "REQUEST 1234567890 {}", "REQUEST x1 {}", "REQUESTS 1 {}",
                            "REPLY 1 {}", "READY signatures=1 version=2 age_days=3"})
        CHECK_FALSE(parseRequestLine(bad));
    CHECK_FALSE(parseRequestLine("REQUEST 1 " + std::string(kMaxRequestLine, 'x')));
    const auto reply = parseReplyLine("REPLY 7 " + std::string(100000, ' ') + "{}");
    REQUIRE(reply);   // a page of the log is long; only requests have a limit
    CHECK(reply->id == "7");
    CHECK_FALSE(parseReplyLine("RESULT PASS 1-1 T"));
    SECTION("a name that is not UTF-8 is replaced, never thrown on") {
        const std::string line = requestLine(1, LoginRequest{"\xff\xfe", "pw"});
        CHECK(line.find("\xef\xbf\xbd") != std::string::npos);
    }
}
