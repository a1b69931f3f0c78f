#include <catch2/catch.hpp>

#include "kiosk/model/Manifest.h"
#include "qkiosk/base/Sha256.h"

using kiosk::FileRecord;
using kiosk::manifestSha256;

TEST_CASE("The manifest identifies the content, not the order it was read in", "[Manifest]") {
    const std::vector<FileRecord> a{{"/p0/a.txt", 3, std::string(64, 'a'), ""}, {"/p0/b.txt", 4, std::string(64, 'b'), ""}};
    const std::vector<FileRecord> reversed{a[1], a[0]};
    CHECK(manifestSha256(a) == manifestSha256(reversed));

    SECTION("is the documented hash of sorted sha256sum-style lines") {
        const std::string lines = std::string(64, 'a') + " 3 /p0/a.txt\n" + std::string(64, 'b') + " 4 /p0/b.txt\n";
        CHECK(manifestSha256(a) == kiosk::toHex(kiosk::Sha256::of(lines)));
    }
    SECTION("changes when a file changes, is renamed, or is added") {
        auto changed = a;
        changed[0].sha256 = std::string(64, 'c');
        CHECK(manifestSha256(changed) != manifestSha256(a));
        auto renamed = a;
        renamed[0].path = "/p0/A.txt";
        CHECK(manifestSha256(renamed) != manifestSha256(a));
        auto added = a;
        added.push_back({"/p0/c.txt", 0, std::string(64, 'e'), ""});
        CHECK(manifestSha256(added) != manifestSha256(a));
    }
}
