#include <catch2/catch.hpp>

#include "kiosk/FileTypePolicy.h"

using kiosk::FileTypePolicy;
using kiosk::globMatchNoCase;
using kiosk::proto::ReasonCode;

TEST_CASE("Blocked names are the classic USB infection paths by default", "[FileTypePolicy]") {
    FileTypePolicy policy;
    SECTION("autorun.inf in any case and any folder") {
        auto f = policy.check("/p1/AUTORUN.INF", "text/plain");
        REQUIRE(f);
        CHECK(f->code == ReasonCode::BlockedFileType);
        CHECK(policy.check("/p1/sub/autorun.inf", "text/plain"));
    }
    SECTION("Windows shortcuts by name and by content") {
        CHECK(policy.check("/p0/Documents.lnk", "application/octet-stream")->code == ReasonCode::BlockedFileType);
        CHECK(policy.check("/p0/Documents.txt", "application/x-ms-shortcut")->code == ReasonCode::BlockedFileType);
    }
    SECTION("ordinary files pass") {
        CHECK_FALSE(policy.check("/p0/report.pdf", "application/pdf"));
        CHECK_FALSE(policy.check("/p0/setup.exe", "application/vnd.microsoft.portable-executable"));
    }
}

TEST_CASE("An executable posing as a document is a type mismatch", "[FileTypePolicy]") {
    FileTypePolicy policy;
    const auto f = policy.check("/p0/invoice.pdf", "application/vnd.microsoft.portable-executable");
    REQUIRE(f);
    CHECK(f->code == ReasonCode::TypeMismatch);
    CHECK_THAT(f->detail, Catch::Contains(".pdf"));
    CHECK(policy.check("/p0/photo.JPG", "application/x-dosexec"));
    CHECK(policy.check("/p0/scan.dcm", "application/x-executable"));
    CHECK_FALSE(policy.check("/p0/tool", "application/x-executable"));
    CHECK_FALSE(policy.check("/p0/letter.doc", "application/msword"));
}

TEST_CASE("Sites choose their own blocked names", "[FileTypePolicy]") {
    FileTypePolicy policy({"*.scr", "desktop.ini"});
    CHECK(policy.check("/p0/a.SCR", "application/octet-stream"));
    CHECK(policy.checkName("/p0/Desktop.ini"));
    CHECK_FALSE(policy.checkName("/p0/autorun.inf"));
}

TEST_CASE("Glob patterns", "[FileTypePolicy]") {
    CHECK(globMatchNoCase("*.lnk", "a.LNK"));
    CHECK(globMatchNoCase("a?c*", "abcdef"));
    CHECK_FALSE(globMatchNoCase("*.lnk", "a.lnk.txt"));
    CHECK(globMatchNoCase("*", ""));
}
