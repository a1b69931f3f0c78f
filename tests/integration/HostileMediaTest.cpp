// Sticks built the way an attacker builds them (tests/fixtures/make-hostile.sh)
// to hide a payload from a scanner that does not read every reading of the
// media completely: containers nobody opens, walks that stop early, damaged
// FAT, media with more than one reading, names that deceive. The payload's
// signature is a hash of the whole file, so a match proves it was really
// read. Each stick must FAIL with the expected reason (never PASS, no worker
// may crash), and where the kiosk opens the container, the same stick with a
// clean payload must PASS: no false alarm.
#include <catch2/catch.hpp>

#include <map>

#include "Harness.h"

using namespace qktest;

namespace {

constexpr const char* kSignature = "Qkiosk.Test.Hostile";

// 72 KiB of text, different in every run: large enough for zisofs to
// compress and for FAT to spread over many clusters.
std::string makePayload(const std::string& salt) {
    std::string s;
    std::uint64_t x = 0x9E3779B97F4A7C15ull ^ std::hash<std::string>{}(salt);
    while (s.size() < 72 * 1024) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s += static_cast<char>('a' + (x % 26));
        if (s.size() % 64 == 63) s += '\n';
    }
    return s;
}

struct Fixture {
    Workspace ws;
    fs::path payload, clean, db;

    Fixture() {
        payload = ws.write("payload.exe", makePayload("infected" + ws.path().string()));
        clean = ws.write("clean.exe", makePayload("clean" + ws.path().string()));
        db = ws.database();
        auto md5 = run({"md5sum", payload.string()});
        REQUIRE(md5.exitCode == 0);
        ws.write("db/hostile.hdb", md5.out.substr(0, 32) + ":" + std::to_string(fs::file_size(payload)) + ":" + kSignature + "\n");
    }

    // Builds CASE around `what`; a missing tool ends the test with 77 (SKIP).
    fs::path build(const std::string& c, const fs::path& what) {
        const auto out = ws.path() / (c + "-" + what.stem().string() + ".img");
        const auto r = run({std::string(QKIOSK_FIXTURES) + "/make-hostile.sh", c, out.string(), what.string()});
        if (r.exitCode == 77) {
            WARN(r.err);
            std::exit(77);
        }
        INFO(r.err);
        REQUIRE(r.exitCode == 0);
        return out;
    }
};

// No worker may crash or be stopped: a crash is not a verdict.
void noWorkerFailed(const Scan& s) {
    for (const auto& x : s.report.at("reasons")) {
        const std::string d = x.at("detail");
        INFO(x.dump());
        CHECK_FALSE((d.find("stopped (") != std::string::npos || d.find("killed by signal") != std::string::npos ||
                     d.find("invalid frame") != std::string::npos));
    }
}

struct Expect {
    std::string code;        // must be among the reasons
    std::string where = "";  // a reason with that code has a path containing this
    std::string detail = ""; // ... and a detail containing this
};

// Scans the stick; it must FAIL with every expected reason.
Scan expectFail(Fixture& f, const std::string& c, const std::vector<Expect>& expected, const fs::path& payload = {}) {
    const auto image = f.build(c, payload.empty() ? f.payload : payload);
    auto s = scanImage(f.ws, image);
    INFO(c << "\n" << s.out << s.err);
    REQUIRE(s.exitCode == 1);
    CHECK(s.report.at("verdict") == "fail");
    noWorkerFailed(s);
    for (const auto& e : expected) {
        INFO("expected " << e.code << " at " << e.where << " saying " << e.detail);
        bool found = false;
        for (const auto& x : reasons(s.report, e.code)) {
            const std::string path = x.at("path"), detail = x.at("detail");
            if (path.find(e.where) != std::string::npos && detail.find(e.detail) != std::string::npos) found = true;
        }
        CHECK(found);
    }
    return s;
}

Expect infected(const std::string& where = "") { return {"infected", where, kSignature}; }

// The same stick with a clean payload PASSes.
void expectPass(Fixture& f, const std::string& c) {
    const auto image = f.build(c, f.clean);
    const auto s = scanImage(f.ws, image);
    INFO(c << "\n" << s.out << s.err);
    CHECK(s.exitCode == 0);
    CHECK(s.report.at("verdict") == "pass");
    CHECK(s.report.at("reasons").empty());
}

}  // namespace

TEST_CASE("Disk images on a stick are opened as media: their files are scanned like the stick's", "[scan][hostile][slow]") {
    Fixture f;
    const std::map<std::string, std::string> cases = {
        {"container-raw-fat", "/p0/images/vendor.img//p0/DOCS/SETUP.EXE"},
        {"container-raw-mbr", "/p0/images/vendor-disk.img//p1/DOCS/SETUP.EXE"},
        {"container-vhd-fixed", "/p0/images/vendor-fixed.vhd//p1/DOCS/SETUP.EXE"},
        {"container-vhd-dynamic", "/p0/images/vendor.vhd//p1/DOCS/SETUP.EXE"},
        {"container-vhdx", "/p0/images/vendor.vhdx//p1/DOCS/SETUP.EXE"},
        {"container-vmdk-sparse", "/p0/images/vendor.vmdk//p1/DOCS/SETUP.EXE"},
        {"container-vmdk-stream", "/p0/images/vendor-stream.vmdk//p1/DOCS/SETUP.EXE"},
        {"container-qcow2", "/p0/images/vendor.qcow2//p1/DOCS/SETUP.EXE"},
        {"container-e01", "/p0/images/vendor.E01//p1/DOCS/SETUP.EXE"},
        {"container-iso-zisofs", "/p0/images/vendor.iso"},
        {"container-iso-rockridge", "/p0/images/vendor.iso"},
    };
    for (const auto& [c, where] : cases) {
        SECTION(c) {
            const auto s = expectFail(f, c, {infected(where)});
            // The image's volume is listed under the image's path.
            bool listed = false;
            for (const auto& p : s.report.at("media").at("partitions"))
                listed |= p.at("path").get<std::string>().find("//p") != std::string::npos;
            CHECK(listed);
            expectPass(f, c);
        }
    }
}

TEST_CASE("Archives and streams libclamav cannot open are opened by the scanner, or named", "[scan][hostile][slow]") {
    Fixture f;
    for (const char* c : {"container-ar", "container-tar-zst", "container-tar-lz4", "container-tar-lzip", "container-zst",
                          "container-7z-bzip2", "container-zip-ppmd", "container-tar-zst-in-zip"}) {
        SECTION(c) {
            expectFail(f, c, {infected("/p0/images/")});
            expectPass(f, c);
        }
    }
    SECTION("a squashfs image") { expectFail(f, "container-squashfs", {{"unscannable", "vendor.squashfs", "squashfs"}}); }
    SECTION("a WIM archive") { expectFail(f, "container-wim", {{"unscannable", "install.wim", "WIM"}}); }
    SECTION("a squashfs image inside a zip") {
        expectFail(f, "container-squashfs-in-zip", {{"unscannable", "bundle.zip", "squashfs"}});
    }
    SECTION("a VHD inside a zip") { expectFail(f, "container-vhd-in-zip", {{"unscannable", "vm.zip", "VHD"}}); }
}

TEST_CASE("Every directory at any depth and every path whatever its length is walked", "[scan][hostile][slow]") {
    Fixture f;
    SECTION("200 nested folders on FAT32") {
        expectFail(f, "walk-deep-fat32", {infected("/d199/d200/payload.exe")});
        expectPass(f, "walk-deep-fat32");
    }
    SECTION("200 nested folders on ext4") {
        expectFail(f, "walk-deep-ext4", {infected("/d199/d200/payload.exe")});
        expectPass(f, "walk-deep-ext4");
    }
    SECTION("128 nested folders, the deepest holding a folder before its file") {
        expectFail(f, "walk-deep-subdir-first", {infected("/level128/payload.exe")});
    }
    SECTION("a path of about 4 KiB of long folder names on FAT32 and on ext4, names whole") {
        for (const char* c : {"walk-long-path-fat32", "walk-long-path-ext4"}) {
            INFO(c);
            const auto s = expectFail(f, c, {infected("a-long-name-folder-with-a-long-name-16/payload.exe")});
            expectPass(f, c);
        }
    }
    SECTION("a path of exactly 4,095 bytes on ext4") {
        const auto s = expectFail(f, "walk-path-4095-ext4", {infected("ppppp.exe")});
        const std::string path = reasons(s.report, "infected").at(0).at("path");
        CHECK(path.size() == 4 + 4095);   // "/p0/" and the path inside the volume
        expectPass(f, "walk-path-4095-ext4");
    }
    SECTION("a long name of 240 characters on FAT32 is read whole") {
        expectFail(f, "walk-long-name-fat32", {infected("long-name-long-name-tool.exe")});
    }
}

TEST_CASE("Damaged FAT structures are a corrupt filesystem", "[scan][hostile][slow]") {
    Fixture f;
    for (const char* c : {"fat-first-cluster-0", "fat-first-cluster-1", "fat-first-cluster-past-end", "fat-first-cluster-root",
                          "fat-file-past-end", "fat-loop", "fat-cross-link"}) {
        SECTION(c) { expectFail(f, c, {{"corrupt-filesystem"}}); }
    }
    SECTION("FAT copies that disagree, the second marked the only active one: read as Windows reads it") {
        expectFail(f, "fat-copies-differ", {{"corrupt-filesystem", "/p0/", "FAT"}, infected("/p0/DOCS/PAYLOAD.BIN")});
    }
}

TEST_CASE("Media with more than one reading: every reading is scanned", "[scan][hostile][slow]") {
    Fixture f;
    SECTION("sector 0 is both a FAT boot sector and a partition table") {
        expectFail(f, "layout-vbr-and-mbr", {infected("/p1/SETUP.EXE")});
        expectPass(f, "layout-vbr-and-mbr");
    }
    SECTION("the same, the payload in the bare volume") {
        expectFail(f, "layout-mbr-and-vbr", {infected("/p0/SETUP.EXE")});
        expectPass(f, "layout-mbr-and-vbr");
    }
    SECTION("a whole filesystem where no partition is") {
        expectFail(f, "layout-hidden-volume", {infected("SETUP.EXE")});
        expectPass(f, "layout-hidden-volume");
    }
}

TEST_CASE("Names built to deceive FAIL, with the hidden characters made visible", "[scan][hostile][slow]") {
    Fixture f;
    SECTION("a right-to-left override") { expectFail(f, "name-rlo", {{"deceptive-name", "invoice", "<U+202E>"}}); }
    SECTION("a zero-width space before the extension") {
        expectFail(f, "name-zero-width", {{"deceptive-name", "report", "<U+200B>"}});
    }
    SECTION("an ideographic space before the extension") {
        expectFail(f, "name-ideographic-space", {{"deceptive-name", "写真", "<U+3000>"}});
    }
    SECTION("a trailing dot") { expectFail(f, "name-trailing-dot", {{"deceptive-name", "setup.exe.", "trailing"}}); }
    SECTION("a shortcut under a name of 200 characters") { expectFail(f, "name-long-lnk", {{"blocked-file-type", "x.lnk"}}); }
    SECTION("a program under a 200-character picture name") {
        expectFail(f, "name-long-jpg-exe", {{"type-mismatch", "x.jpg"}}, "/usr/share/clamav-testfiles/clam.exe");
    }
}
