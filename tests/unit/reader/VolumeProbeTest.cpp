#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "VolumeProbe.h"

using namespace kiosk::scan;
using kiosk::proto::ReasonCode;

namespace {
std::vector<std::uint8_t> with(std::size_t offset, std::string_view magic, std::size_t size = 64 * 1024) {
    std::vector<std::uint8_t> v(size, 0x20);
    std::memcpy(v.data() + offset, magic.data(), magic.size());
    return v;
}
}  // namespace

TEST_CASE("Encrypted volumes are recognised before any filesystem is tried", "[VolumeProbe]") {
    auto bitlocker = probeEncryption(with(3, "-FVE-FS-"));
    REQUIRE(bitlocker);
    CHECK(bitlocker->code == ReasonCode::EncryptedVolume);
    CHECK_THAT(bitlocker->detail, Catch::Contains("BitLocker"));
    auto luks = probeEncryption(with(0, std::string_view("LUKS\xba\xbe\x00\x02", 8)));
    REQUIRE(luks);
    CHECK_THAT(luks->detail, Catch::Contains("LUKS"));
    CHECK_FALSE(probeEncryption(with(3, "MSDOS5.0")));
}

TEST_CASE("Unreadable volumes are explained", "[VolumeProbe]") {
    SECTION("random bytes look like an encrypted container") {
        std::mt19937 rng(1);
        std::vector<std::uint8_t> random(64 * 1024);
        for (auto& b : random) b = static_cast<std::uint8_t>(rng());
        CHECK(explainUnreadable(random).code == ReasonCode::EncryptedVolume);
    }
    SECTION("filesystems TSK cannot read are named") {
        auto xfs = explainUnreadable(with(0, "XFSB"));
        CHECK(xfs.code == ReasonCode::UnknownFilesystem);
        CHECK_THAT(xfs.detail, Catch::Contains("XFS"));
        CHECK_THAT(explainUnreadable(with(0x10040, "_BHRfS_M", 0x20000)).detail, Catch::Contains("Btrfs"));
    }
    SECTION("blank media") {
        std::vector<std::uint8_t> zeros(4096, 0);
        CHECK(explainUnreadable(zeros).code == ReasonCode::UnknownFilesystem);
        CHECK_THAT(explainUnreadable(zeros).detail, Catch::Contains("empty"));
    }
    SECTION("text is not mistaken for ciphertext") {
        CHECK(explainUnreadable(with(0, "hello")).code == ReasonCode::UnknownFilesystem);
    }
}
