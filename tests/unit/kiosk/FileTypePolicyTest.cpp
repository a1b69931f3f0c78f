#include <catch2/catch.hpp>

#include "kiosk/session/FileTypePolicy.h"

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

TEST_CASE("Names built to show another extension are deceptive, with the hidden characters made visible", "[FileTypePolicy]") {
    FileTypePolicy policy;
    auto detail = [&](const std::string& path) {
        const auto f = policy.checkDeception(path);
        REQUIRE(f);
        CHECK(f->code == ReasonCode::DeceptiveName);
        return f->detail;
    };
    SECTION("a right-to-left override, as the reader escapes it in the path") {
        // invoice<U+202E>fdp.exe shows as "invoiceexe.pdf".
        const auto d = detail("/p1/invoice\\xe2\\x80\\xaefdp.exe");
        CHECK_THAT(d, Catch::Contains("invoice<U+202E>fdp.exe") && Catch::Contains("bidirectional"));
    }
    SECTION("other bidirectional controls") {
        CHECK(policy.checkDeception("/p1/a\\xe2\\x81\\xa7b.txt"));   // U+2067 RIGHT-TO-LEFT ISOLATE
        CHECK(policy.checkDeception("/p1/a\u200Fb.txt"));            // RIGHT-TO-LEFT MARK
    }
    SECTION("a zero-width space before the extension") {
        CHECK_THAT(detail("/p1/report\u200B.pdf.exe"), Catch::Contains("report<U+200B>.pdf.exe") && Catch::Contains("invisible"));
    }
    SECTION("an ideographic space beside the dot") {
        CHECK_THAT(detail("/p0/写真\u3000.jpg"), Catch::Contains("写真<U+3000>.jpg") && Catch::Contains("look-alike space"));
    }
    SECTION("a run of spaces that pushes the extension away") {
        CHECK_THAT(detail("/p0/invoice.pdf                              .exe"), Catch::Contains("run of spaces"));
    }
    SECTION("trailing dots and spaces") {
        CHECK_THAT(detail("/p0/setup.exe."), Catch::Contains("trailing dots or spaces"));
        CHECK(policy.checkDeception("/p0/setup.exe "));
    }
    SECTION("a program named like a document where extensions are hidden") {
        CHECK_THAT(detail("/p0/請求書.pdf.exe"), Catch::Contains("named like a .pdf document"));
        CHECK(policy.checkDeception("/p0/photo.JPG.scr"));
    }
    SECTION("an NTFS stream name counts too") {
        CHECK(policy.checkDeception("/p0/readme.txt:x\u200B.exe"));
    }
}

TEST_CASE("Ordinary names, Japanese ones included, are not deceptive", "[FileTypePolicy]") {
    FileTypePolicy policy;
    for (const char* path : {"/p1/検査結果_2026年度_放射線科.txt", "/p1/山田　太郎/報告書.docx", "/p1/setup-1.2.3.exe",
                             "/p1/archive.tar.gz", "/p1/my file.pdf", "/p1/.hidden", "/p1/backup.zip.exe", "/p1/README",
                             "/p1/a.b.c.d", "/p1/emoji 😀.png"}) {
        INFO(path);
        CHECK_FALSE(policy.checkDeception(path));
    }
}

TEST_CASE("A site may turn the deceptive-name check off; blocked names still see through trailing dots", "[FileTypePolicy]") {
    FileTypePolicy off(FileTypePolicy::defaultBlockedNames(), false);
    CHECK_FALSE(off.checkDeception("/p1/invoice\\xe2\\x80\\xaefdp.exe"));
    // Windows opens "evil.lnk." as evil.lnk.
    CHECK(off.checkName("/p0/evil.lnk."));
    CHECK(off.checkName("/p0/evil.lnk  "));
}

TEST_CASE("Report paths are turned back into the bytes they stand for", "[FileTypePolicy]") {
    CHECK(kiosk::unescapeName("a\\x5cb") == "a\\b");
    CHECK(kiosk::unescapeName("\\xe2\\x80\\xae") == "\u202E");
    CHECK(kiosk::unescapeName("plain \\x") == "plain \\x");
}
