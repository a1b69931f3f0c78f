#include <catch2/catch.hpp>

#include "qkiosk/protocol/Messages.h"

using namespace kiosk::proto;

TEST_CASE("Messages survive a round trip", "[Messages]") {
    FileEntry f{42, 1, "/p1/docs/検査.pdf", 1234, {}, Content::Attached};
    f.sha256[0] = 0xab;
    auto back = decodeFileEntry(encode(f));
    REQUIRE(back.ok());
    CHECK(back->id == 42);
    CHECK(back->path == "/p1/docs/検査.pdf");
    CHECK(back->sha256[0] == 0xab);

    ScanResult r{7, {{Verdict::Infected, "a.zip!b.exe", "Win.Test.EICAR_HDB-1"}}, "application/zip", 99};
    auto rb = decodeScanResult(encode(r));
    REQUIRE(rb.ok());
    CHECK(rb->verdict() == Verdict::Infected);
    CHECK(rb->hits.at(0).member == "a.zip!b.exe");
}

TEST_CASE("A worker cannot send what the front end must not believe", "[Messages]") {
    SECTION("a file path that is not absolute") {
        FileEntry f{1, 0, "relative/path", 1, {}, Content::Attached};
        CHECK_FALSE(decodeFileEntry(encode(f)).ok());
    }
    SECTION("an empty file that claims a size") {
        FileEntry f{1, 0, "/p0/a", 10, {}, Content::Empty};
        CHECK_FALSE(decodeFileEntry(encode(f)).ok());
    }
    SECTION("a reader finding with a code only the policy may give") {
        Finding x{ReasonCode::DeviceNotApproved, "/", "no"};
        CHECK_FALSE(decodeFinding(encode(x)).ok());
    }
    SECTION("a message decoded as another type") {
        CHECK_FALSE(decodeScanResult(encode(FileAck{1})).ok());
    }
    SECTION("a hit without a detail") {
        ScanResult r{7, {{Verdict::Infected, "", ""}}, "", 0};
        CHECK_FALSE(decodeScanResult(encode(r)).ok());
    }
}

TEST_CASE("Reason codes have the names docs/design.md gives them", "[Messages]") {
    CHECK(std::string(reasonCodeName(ReasonCode::TypeMismatch)) == "type-mismatch");
    CHECK(std::string(reasonCodeName(ReasonCode::BadUsb)) == "badusb");
    CHECK(reasonCodeFromName("encrypted-volume") == ReasonCode::EncryptedVolume);
    CHECK_FALSE(reasonCodeFromName("fine").has_value());
}
