#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "kiosk/devices/UsbDescriptors.h"

using namespace kiosk::devices;

namespace {

std::vector<std::uint8_t> fromHex(std::string_view hex) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

// The `H: descriptors=` lines of tests/umockdev, recorded from real devices.
// SanDisk Cruzer Blade 0781:5567: one bulk-only mass-storage interface.
constexpr std::string_view kStick =
    "1201000200000040810767550001010203010902200001010080320904000002080650000705810200020007050202000200";
// The same stick's identity with a second interface: a boot keyboard (HID with its HID descriptor).
//   device 0..17 | configuration 18 | interface 0 at 27, endpoints 36, 43 | interface 1 at 50, HID 59, endpoint 68 | end 75
constexpr std::string_view kComposite =
    "1201000200000040810767550001010203010902390002010080320904000002080650000705810200020007050202000200"
    "090401000103010100092111010001223F000705830308000A";
// Realtek 0bda:8153 network adapter: two configurations, the second with a CDC
// data interface in two alternate settings and class-specific descriptors.
constexpr std::string_view kNetworkDescriptors =
    "1201100200000040DA0B538100300102060209022700010100A0320904000003FFFF000007058102000200070502020002000705830302"
    "000809025000020200A032090400000102060005052400100105240600010D240F0300000000EA050000000705830310000809040100000A"
    "00000009040101020A0000000705810200020007050202000200";
// A USB Attached SCSI disk: bulk-only in alternate setting 0, UAS (08:06:62) in 1.
constexpr std::string_view kUasDescriptors =
    "12011002000000402D15780508050102030109025500010100C0010904000002080650000705810200020007050202000200090400010408"
    "0662000705010200020004240100070582020002000424020007058302000200042403000705040200020004240400";

std::string errorOf(const std::vector<std::uint8_t>& blob) {
    auto r = parseUsbDescriptors(blob);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

}  // namespace

TEST_CASE("A mass-storage stick's descriptors as sysfs shows them", "[UsbDescriptors]") {
    auto d = parseUsbDescriptors(fromHex(kStick));
    REQUIRE(d.ok());
    CHECK(d->bcdUsb == 0x0200);
    CHECK(d->vendorId == 0x0781);
    CHECK(d->productId == 0x5567);
    CHECK(d->bcdDevice == 0x0100);
    CHECK(d->deviceClass == 0);
    CHECK(d->numConfigurations == 1);
    REQUIRE(d->configurations.size() == 1);
    const auto& c = d->configurations[0];
    CHECK(c.value == 1);
    CHECK(c.numInterfaces == 1);
    REQUIRE(c.interfaces.size() == 1);
    const auto& i = c.interfaces[0];
    CHECK(i.number == 0);
    CHECK(i.altSetting == 0);
    CHECK(i.cls == 0x08);
    CHECK(i.subclass == 0x06);
    CHECK(i.protocol == 0x50);
    CHECK(i.numEndpoints == 2);
}

TEST_CASE("A composite storage and keyboard device shows both interfaces", "[UsbDescriptors]") {
    auto d = parseUsbDescriptors(fromHex(kComposite));
    REQUIRE(d.ok());
    REQUIRE(d->configurations.size() == 1);
    const auto& ifs = d->configurations[0].interfaces;
    REQUIRE(ifs.size() == 2);
    CHECK((ifs[0].cls == 0x08 && ifs[0].subclass == 0x06 && ifs[0].protocol == 0x50));
    CHECK(ifs[1].number == 1);
    CHECK((ifs[1].cls == 0x03 && ifs[1].subclass == 0x01 && ifs[1].protocol == 0x01));
    CHECK(ifs[1].numEndpoints == 1);  // the HID descriptor between them is not an endpoint
}

TEST_CASE("Every configuration and alternate setting is listed", "[UsbDescriptors]") {
    SECTION("a network adapter with two configurations") {
        auto d = parseUsbDescriptors(fromHex(kNetworkDescriptors));
        REQUIRE(d.ok());
        REQUIRE(d->configurations.size() == 2);
        CHECK(d->configurations[0].value == 1);
        CHECK(d->configurations[0].interfaces.size() == 1);
        CHECK(d->configurations[0].interfaces[0].cls == 0xff);
        const auto& second = d->configurations[1];
        CHECK(second.value == 2);
        CHECK(second.numInterfaces == 2);
        REQUIRE(second.interfaces.size() == 3);
        CHECK((second.interfaces[1].number == 1 && second.interfaces[1].altSetting == 0 && second.interfaces[1].numEndpoints == 0));
        CHECK((second.interfaces[2].number == 1 && second.interfaces[2].altSetting == 1 && second.interfaces[2].numEndpoints == 2));
    }
    SECTION("a UAS disk whose second alternate setting is another protocol") {
        auto d = parseUsbDescriptors(fromHex(kUasDescriptors));
        REQUIRE(d.ok());
        CHECK(d->bcdUsb == 0x0210);
        const auto& ifs = d->configurations.at(0).interfaces;
        REQUIRE(ifs.size() == 2);
        CHECK((ifs[1].altSetting == 1 && ifs[1].protocol == 0x62 && ifs[1].numEndpoints == 4));
    }
    SECTION("a second configuration appended to the composite device") {
        auto blob = fromHex(kComposite);
        blob[17] = 2;  // bNumConfigurations
        auto second = std::vector<std::uint8_t>(blob.begin() + 18, blob.end());
        second.at(5) = 2;  // its bConfigurationValue
        blob.insert(blob.end(), second.begin(), second.end());
        auto d = parseUsbDescriptors(blob);
        REQUIRE(d.ok());
        REQUIRE(d->configurations.size() == 2);
        CHECK(d->configurations[1].value == 2);
        CHECK(d->configurations[1].interfaces.size() == 2);
    }
}

TEST_CASE("Every device recorded in tests/umockdev parses", "[UsbDescriptors]") {
    int blobs = 0;
    for (const auto& entry : std::filesystem::directory_iterator(QKIOSK_UMOCKDEV_DIR)) {
        if (entry.path().extension() != ".umockdev") continue;
        std::ifstream in(entry.path());
        std::string line;
        while (std::getline(in, line)) {
            constexpr std::string_view prefix = "H: descriptors=";
            if (line.rfind(prefix, 0) != 0) continue;
            INFO(entry.path().filename().string() << ": " << line);
            auto d = parseUsbDescriptors(fromHex(std::string_view(line).substr(prefix.size())));
            CHECK(d.ok());
            ++blobs;
        }
    }
    CHECK(blobs >= 8);
}

TEST_CASE("Malformed descriptors are refused with the reason", "[UsbDescriptors]") {
    const auto good = fromHex(kComposite);

    SECTION("nothing at all") { CHECK_THAT(errorOf({}), Catch::Contains("empty")); }
    SECTION("a device descriptor cut off") {
        CHECK_THAT(errorOf({good.begin(), good.begin() + 10}), Catch::Contains("cut off at 10 of 18 bytes"));
    }
    SECTION("every truncation of a valid blob") {
        for (std::size_t n = 0; n < good.size(); ++n) {
            INFO("first " << n << " bytes");
            CHECK_FALSE(parseUsbDescriptors(std::span(good.data(), n)).ok());
        }
    }
    SECTION("a device descriptor of the wrong length or type") {
        auto b = good;
        b[0] = 17;
        CHECK_THAT(errorOf(b), Catch::Contains("bLength 17, must be 18"));
        b = good;
        b[1] = 2;
        CHECK_THAT(errorOf(b), Catch::Contains("type 0x02, must be 0x01"));
    }
    SECTION("a zero-length descriptor") {
        auto b = good;
        b[59] = 0;  // the HID descriptor
        CHECK_THAT(errorOf(b), Catch::Contains("offset 59: zero-length descriptor"));
    }
    SECTION("wTotalLength beyond the blob") {
        auto b = good;
        b[20] = 0x40;  // 64 bytes, 57 are there
        CHECK_THAT(errorOf(b), Catch::Contains("wTotalLength 64 runs past the end of the descriptors (57 bytes left)"));
    }
    SECTION("wTotalLength shorter than the configuration descriptor") {
        auto b = good;
        b[20] = 4;
        CHECK_THAT(errorOf(b), Catch::Contains("wTotalLength 4 is shorter"));
    }
    SECTION("a descriptor that runs past the end of its configuration") {
        auto b = good;
        b[59] = 0x20;
        CHECK_THAT(errorOf(b), Catch::Contains("offset 59: descriptor of bLength 32 runs past the end of its configuration"));
    }
    SECTION("a descriptor header cut off by wTotalLength") {
        auto b = good;
        b.push_back(0x07);
        b[20] = 58;  // one byte more, covering half a descriptor header
        CHECK_THAT(errorOf(b), Catch::Contains("cut off"));
    }
    SECTION("too many configurations") {
        auto b = good;
        b[17] = 9;
        CHECK_THAT(errorOf(b), Catch::Contains("bNumConfigurations 9 exceeds the maximum of 8"));
        b[17] = 0;
        CHECK_THAT(errorOf(b), Catch::Contains("bNumConfigurations is 0"));
    }
    SECTION("fewer configurations than announced") {
        auto b = good;
        b[17] = 2;
        CHECK_THAT(errorOf(b), Catch::Contains("configuration 2 of 2 at offset 75: missing"));
    }
    SECTION("more configurations than announced") {
        auto b = good;
        b.insert(b.end(), good.begin() + 18, good.end());
        CHECK_THAT(errorOf(b), Catch::Contains("57 bytes after the last of 1 configurations"));
    }
    SECTION("two configurations with the same value") {
        auto b = good;
        b.at(17) = 2;
        b.insert(b.end(), good.begin() + 18, good.end());
        CHECK_THAT(errorOf(b), Catch::Contains("bConfigurationValue 1 is used twice"));
    }
    SECTION("an interface with more endpoints than it announces") {
        auto b = good;
        b[54] = 2;  // interface 1's bNumEndpoints; one endpoint follows
        CHECK_THAT(errorOf(b), Catch::Contains("interface 1 alternate setting 0 announces 2 endpoints but 1 follow"));
    }
    SECTION("bNumInterfaces that disagrees with the interfaces") {
        auto b = good;
        b[22] = 1;
        CHECK_THAT(errorOf(b), Catch::Contains("bNumInterfaces 1 but 2 distinct interfaces follow"));
    }
    SECTION("the same interface and alternate setting twice") {
        auto b = good;
        b[52] = 0;  // interface 1 becomes a second interface 0 alternate setting 0
        CHECK_THAT(errorOf(b), Catch::Contains("second descriptor for interface 0 alternate setting 0"));
    }
    SECTION("an endpoint before any interface") {
        auto b = good;
        b[28] = 5;  // interface 0's type becomes endpoint
        CHECK_THAT(errorOf(b), Catch::Contains("endpoint descriptor before any interface"));
    }
    SECTION("a configuration descriptor nested inside a configuration") {
        auto b = good;
        b[60] = 2;  // the HID descriptor's type
        CHECK_THAT(errorOf(b), Catch::Contains("type 0x02 inside a configuration"));
    }
}
