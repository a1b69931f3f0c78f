// Fuzz harness for the officer's requests (docs/officer-protocol.md), which
// any process in the UI socket's group can send to the root daemon. Each
// input is one request's JSON, answered by a real OfficerDesk whose
// connection is logged in (the login, an Argon2id hash, is done once), with a
// real quarantine log and whitelist in a temporary folder and one refused
// device plugged in. Besides not crashing: every reply has "ok", every
// refusal one of the protocol's codes, and the whitelist, whatever was
// registered into it, still parses. A request that reads as a value writes
// itself back as the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include <unistd.h>

#include "kiosk/files/AtomicFile.h"
#include "kiosk/messages/OfficerMessages.h"
#include "kiosk/officer/OfficerDesk.h"
#include "kiosk/officer/Officers.h"
#include "kiosk/policy/Whitelist.h"

namespace {

struct World {
    kiosk::Config config;
    std::optional<kiosk::log::SignedLog> log;
    std::map<std::string, kiosk::PresentDevice> devices;
    kiosk::KioskView view;
    std::optional<kiosk::OfficerDesk> desk;
    kiosk::OfficerDesk::Clock::time_point now = kiosk::OfficerDesk::Clock::now();

    World() {
        char dir[] = "/tmp/qkiosk-fuzz-officer-XXXXXX";
        if (!::mkdtemp(dir)) __builtin_trap();
        const std::string d = dir;
        config.logPath = d + "/log.db";
        config.kioskKey = d + "/kiosk.key";
        config.spoolDir = d;
        config.whitelistPath = d + "/whitelist.toml";
        config.officers.file = d + "/officers";
        config.officers.lockoutFile = d + "/lockout.json";
        if (!kiosk::officer::setPassword(config.officers, "fuzz", "fuzz password 1")) __builtin_trap();
        auto opened = kiosk::log::openSignedLog(config.logPath, config.kioskKey);
        if (!opened) __builtin_trap();
        log = std::move(*opened);
        kiosk::PresentDevice p;
        p.identity = {"0781", "5567", "4C530001", {"08:06:50"}, "1-1", "", "Cruzer", std::nullopt};
        p.state = kiosk::messages::DeviceState::Refused;
        p.reasons = {"device-not-approved"};
        devices["1-1"] = p;
        view.devices = &devices;
        desk.emplace(config, *log);
        const auto in = desk->handle({1, 0, 0, false, "1", R"({"op":"login","name":"fuzz","password":"fuzz password 1"})"}, view, now);
        if (!in.value("ok", false)) __builtin_trap();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    const std::string request(reinterpret_cast<const char*>(data), size);
    // Logging in and out is an Argon2id hash each time: too slow to fuzz, and
    // it would end the session the other requests need.
    const auto body = nlohmann::json::parse(request, nullptr, false);
    if (body.is_object() && body.contains("op") && body["op"].is_string() && (body["op"] == "login" || body["op"] == "logout"))
        return 0;
    const auto reply = world.desk->handle({1, 0, 0, false, "1", request}, world.view, world.now);
    if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean()) __builtin_trap();
    if (!reply["ok"].get<bool>()) {
        static const std::set<std::string> codes{"not-logged-in", "refused", "locked-out", "bad-request", "no-device", "failed"};
        if (!reply.contains("code") || !reply["code"].is_string() || !codes.count(reply["code"].get<std::string>())) __builtin_trap();
        if (reply["code"] == "not-logged-in") __builtin_trap();   // the session never ends here
    }
    // The request, read as a value, writes itself back as the same request;
    // and the terminal reads the desk's answer to it without a throw.
    if (auto asked = kiosk::messages::parseOfficerRequest(body)) {
        auto again = kiosk::messages::parseOfficerRequest(kiosk::messages::toJson(*asked));
        if (!again || !(*again == *asked)) __builtin_trap();
        (void)kiosk::messages::readReply(*asked, reply);
    }
    if (std::filesystem::exists(world.config.whitelistPath))
        if (!kiosk::policy::loadWhitelist(world.config.whitelistPath)) __builtin_trap();
    return 0;
}
