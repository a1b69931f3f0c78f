#include <catch2/catch.hpp>

#include "kiosk/policy/Policy.h"

using namespace kiosk;
using namespace kiosk::policy;
using kiosk::devices::UsbConfiguration;
using kiosk::devices::UsbDevice;
using kiosk::devices::UsbInterface;
using kiosk::proto::ReasonCode;

namespace {

UsbDevice device(std::uint16_t vid, std::uint16_t pid, std::string serial, std::vector<UsbInterface> interfaces,
                 std::string port = "1-1") {
    UsbDevice d;
    d.name = std::move(port);
    d.vendorId = vid;
    d.productId = pid;
    d.serial = std::move(serial);
    d.configurations.push_back(UsbConfiguration{1, std::move(interfaces)});
    return d;
}

const UsbInterface kStorage{0, 0, 0x08, 0x06, 0x50};
const UsbInterface kUas{0, 1, 0x08, 0x06, 0x62};
const UsbInterface kKeyboard{1, 0, 0x03, 0x01, 0x01};
const UsbInterface kNetwork{0, 0, 0x02, 0x06, 0x00};

const char* kWhitelist = R"(
[[device]]
vendor_id  = "0781"
product_id = "5567"
serial     = "4C530001"
interfaces = ["08:06:50"]
owner      = "Example Medical Systems K.K."
purpose    = "CT firmware maintenance"
expires    = "2027-03-31"
)";

Result<Whitelist> whitelist() { return parseWhitelist(kWhitelist, "whitelist.toml"); }

}  // namespace

TEST_CASE("An approved stick is admitted with its approval, and still scanned", "[Policy]") {
    const auto d = decide(device(0x0781, 0x5567, "4C530001", {kStorage}), whitelist(), Config{}, "2026-11-27");
    CHECK(d.admit);
    CHECK(d.role == Role::Storage);
    REQUIRE(d.approval);
    CHECK(d.approval->owner == "Example Medical Systems K.K.");
    CHECK(d.reasons.empty());
}

TEST_CASE("An approval ends after its expiry date", "[Policy]") {
    const auto stick = device(0x0781, 0x5567, "4C530001", {kStorage});
    CHECK(decide(stick, whitelist(), Config{}, "2027-03-31").admit);
    const auto d = decide(stick, whitelist(), Config{}, "2027-04-01");
    CHECK_FALSE(d.admit);
    REQUIRE(d.reasons.size() == 1);
    CHECK(d.reasons[0].code == ReasonCode::DeviceExpired);
    CHECK_THAT(d.reasons[0].detail, Catch::Contains("2027-03-31"));
}

TEST_CASE("A renewed approval (a second entry for the same device) counts, whichever comes first in the file", "[Policy]") {
    const auto stick = device(0x0781, 0x5567, "4C530001", {kStorage});
    Approval renewal;
    renewal.vendorId = "0781";
    renewal.productId = "5567";
    renewal.serial = "4C530001";
    renewal.interfaces = {"08:06:50"};
    renewal.owner = "Example Medical Systems K.K.";
    renewal.purpose = "CT firmware maintenance, renewed";
    renewal.expires = "2028-03-31";
    const auto entry = approvalToml(renewal, "Approved at the kiosk terminal by 山田 on 2027-04-02");
    REQUIRE(entry);
    for (const std::string& text : {std::string(kWhitelist) + *entry, *entry + kWhitelist}) {
        const auto w = parseWhitelist(text, "whitelist.toml");
        REQUIRE(w);
        const auto d = decide(stick, w, Config{}, "2027-04-02");
        CHECK(d.admit);
        REQUIRE(d.approval);
        CHECK(d.approval->expires == "2028-03-31");
        CHECK(d.approval->purpose == "CT firmware maintenance, renewed");
    }
    // A value that would break the file out of its string is refused, not written.
    renewal.owner = "Evil\n[[device]]";
    CHECK_FALSE(approvalToml(renewal, "x"));
    renewal.owner = "quote \" and backslash \\";
    const auto quoted = approvalToml(renewal, "x");
    REQUIRE(quoted);
    CHECK(parseWhitelist(*quoted, "w.toml")->devices.at(0).owner == "quote \" and backslash \\");
}

TEST_CASE("BadUSB: storage that also offers anything else is refused", "[Policy]") {
    SECTION("a clone of the approved stick with a keyboard interface") {
        const auto d = decide(device(0x0781, 0x5567, "4C530001", {kStorage, kKeyboard}), whitelist(), Config{}, "2026-11-27");
        CHECK_FALSE(d.admit);
        REQUIRE(d.reasons.size() == 1);
        CHECK(d.reasons[0].code == ReasonCode::BadUsb);
        CHECK_THAT(d.reasons[0].detail, Catch::Contains("keyboard") && Catch::Contains("03:01:01"));
    }
    SECTION("a keyboard alone") {
        const auto d = decide(device(0x046d, 0xc31c, "", {kKeyboard}), whitelist(), Config{}, "2026-11-27");
        CHECK_FALSE(d.admit);
        CHECK(d.reasons.at(0).code == ReasonCode::BadUsb);
        CHECK_THAT(d.reasons[0].detail, Catch::Contains("not a storage device"));
    }
    SECTION("a network adapter") {
        CHECK(decide(device(0x0bda, 0x8153, "1", {kNetwork}), whitelist(), Config{}, "2026-11-27").reasons.at(0).code ==
              ReasonCode::BadUsb);
    }
    SECTION("a second configuration the kernel would not choose still counts") {
        auto d = device(0x0781, 0x5567, "4C530001", {kStorage});
        d.configurations.push_back(UsbConfiguration{2, {kKeyboard}});
        CHECK_FALSE(decide(d, whitelist(), Config{}, "2026-11-27").admit);
    }
}

TEST_CASE("Unknown media follow the site's rule", "[Policy]") {
    const auto stick = device(0x090c, 0x1000, "AA00", {kStorage});
    Config scan;
    CHECK(decide(stick, whitelist(), scan, "2026-11-27").admit);
    Config refuse;
    refuse.unknownMedia = "refuse";
    const auto d = decide(stick, whitelist(), refuse, "2026-11-27");
    CHECK_FALSE(d.admit);
    CHECK(d.reasons.at(0).code == ReasonCode::DeviceNotApproved);
    SECTION("a device without a serial number can never match an approval") {
        CHECK_THAT(decide(device(0x0781, 0x5567, "", {kStorage}), whitelist(), refuse, "2026-11-27").reasons.at(0).detail,
                   Catch::Contains("no serial"));
    }
    SECTION("a matching serial with other interfaces is not the approved device") {
        const auto uas = decide(device(0x0781, 0x5567, "4C530001", {kStorage, kUas}), whitelist(), scan, "2026-11-27");
        CHECK_FALSE(uas.admit);
        CHECK(uas.reasons.at(0).code == ReasonCode::DeviceNotApproved);
    }
}

TEST_CASE("A broken whitelist refuses every storage device, never allows all", "[Policy]") {
    const auto broken = parseWhitelist("[[device]]\nvendor_id = 0781\n", "w.toml");
    REQUIRE_FALSE(broken.ok());
    const auto d = decide(device(0x0781, 0x5567, "4C530001", {kStorage}), broken, Config{}, "2026-11-27");
    CHECK_FALSE(d.admit);
    CHECK(d.reasons.at(0).code == ReasonCode::DeviceNotApproved);
    CHECK_THAT(d.reasons[0].detail, Catch::Contains("w.toml:2:"));
}

TEST_CASE("The kiosk's own fixed devices and hubs are admitted", "[Policy]") {
    Config c;
    c.fixedDevices.push_back(FixedDevice{"1-5", "04B8", "0e15"});
    CHECK(decide(device(0x04b8, 0x0e15, "", {UsbInterface{0, 0, 0x07, 0x01, 0x02}}, "1-5"), whitelist(), c, "2026-11-27").role ==
          Role::Fixed);
    SECTION("but only on its port") {
        CHECK_FALSE(decide(device(0x04b8, 0x0e15, "", {UsbInterface{0, 0, 0x07, 0x01, 0x02}}, "1-4"), whitelist(), c, "2026-11-27").admit);
    }
    auto hub = device(0x05e3, 0x0608, "", {UsbInterface{0, 0, 0x09, 0x00, 0x00}});
    hub.deviceClass = 0x09;
    const auto h = decide(hub, whitelist(), c, "2026-11-27");
    CHECK(h.admit);
    CHECK(h.role == Role::Hub);
}

TEST_CASE("Whitelist errors name file, line and column", "[Whitelist]") {
    auto err = [](const std::string& text) {
        auto w = parseWhitelist(text, "w.toml");
        REQUIRE_FALSE(w.ok());
        return w.error().message;
    };
    const std::string entry = "[[device]]\nvendor_id = \"0781\"\nproduct_id = \"5567\"\nserial = \"X\"\n"
                              "interfaces = [\"08:06:50\"]\nowner = \"O\"\npurpose = \"P\"\n";
    CHECK(parseWhitelist(entry + "expires = \"2027-03-31\"\n", "w.toml").ok());
    CHECK(parseWhitelist(entry + "expires = 2027-03-31\n", "w.toml")->devices.at(0).expires == "2027-03-31");
    CHECK_THAT(err(entry), Catch::Contains("w.toml:1:1") && Catch::Contains("expires"));
    CHECK_THAT(err(entry + "expires = \"31/03/2027\"\n"), Catch::StartsWith("w.toml:8:"));
    CHECK_THAT(err(entry + "expires = \"2027-03-31\"\ncolour = \"red\"\n"), Catch::StartsWith("w.toml:9:1") && Catch::Contains("colour"));
    CHECK_THAT(err("[[device]]\nvendor_id = \"78\"\n"), Catch::Contains("w.toml:"));
    CHECK_THAT(err("[[device]\n"), Catch::StartsWith("w.toml:1:"));
}

TEST_CASE("Non-ASCII text is kept in strings and refused elsewhere", "[Whitelist]") {
    const std::string head = "[[device]]\nvendor_id = \"0781\"\nproduct_id = \"5567\"\nserial = \"X\"\n"
                             "interfaces = [\"08:06:50\"]\npurpose = \"P\"\nexpires = \"2027-03-31\"\n";
    SECTION("a Japanese owner, also after a line-ending backslash") {
        // toml++ 3.3.0 reaches undefined behaviour on kana right after a
        // line-ending backslash (marzer/tomlplusplus#190); Debian's build reads it.
        auto w = parseWhitelist(head + "owner = \"\"\"\\\n  \u3042\u3044\u3046\u533b\u7642\"\"\"\n", "w.toml");
        REQUIRE(w.ok());
        CHECK(w->devices.at(0).owner == "\u3042\u3044\u3046\u533b\u7642");
    }
    SECTION("a stray non-ASCII letter in a table name (found by fuzz_whitelist)") {
        auto w = parseWhitelist("[[de\xca\x89ice]]\nvendoz = 1479-05-CCCCCCCCCT firmwatemp_dirr", "w.toml");
        REQUIRE_FALSE(w.ok());
        CHECK_THAT(w.error().message, Catch::StartsWith("w.toml:1:"));
    }
    SECTION("kana where a key should be") {
        auto w = parseWhitelist(head + "\u3042 = \"x\"\n", "w.toml");
        REQUIRE_FALSE(w.ok());
        CHECK_THAT(w.error().message, Catch::StartsWith("w.toml:8:"));
    }
}
