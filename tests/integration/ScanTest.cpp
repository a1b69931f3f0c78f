// qkiosk scan on real filesystem images: every filesystem and partition table
// the kiosk supports, clean and infected, files deep in folders and in nested
// archives, NTFS alternate data streams, and the manifest.
#include <catch2/catch.hpp>

#include <random>

#include "Harness.h"

using namespace qktest;

namespace {


// The files every test stick holds; `infected` adds EICAR three archives deep.
fs::path makeTree(Workspace& ws, const std::string& name, bool infected) {
    requireTool("zip");
    const auto root = ws.path() / name;
    ws.write(name + "/readme.txt", "Please bring this stick to the ward office.\n");
    ws.write(name + "/検査結果.txt", "血液検査 結果 正常\n");
    ws.write(name + "/empty.txt", "");
    ws.write(name + "/docs/a/b/c/d/e/deep.bin", randomBytes(300001, 7));
    const auto work = ws.path() / (name + "-zip");
    ws.write(name + "-zip/inner/notes.txt", "meeting notes\n");
    if (infected) ws.write(name + "-zip/inner/folder/eicar.com", eicar());
    REQUIRE(run({"sh", "-c", "cd '" + (work / "inner").string() + "' && zip -q -r ../inner.zip . && cd .. && zip -q outer.zip inner.zip"}).exitCode == 0);
    fs::copy_file(work / "outer.zip", root / "docs" / "archive.zip");
    return root;
}

void checkCleanStick(const std::string& fsType, const std::string& table, const std::string& tskName, int part) {
    Workspace ws;
    const auto tree = makeTree(ws, "clean", false);
    const auto image = makeImage(ws, "clean.img", fsType, table, tree);
    const auto s = scanImage(ws, image);
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 0);
    const auto& r = s.report;
    CHECK(r.at("verdict") == "pass");
    CHECK(r.at("reasons").empty());
    const std::string p = "/p" + std::to_string(part) + "/";

    // Every file, with its true SHA-256, deep folders and Japanese names included.
    std::map<std::string, json> files;
    for (const auto& f : r.at("files")) files[f.at("path")] = f;
    for (const auto& rel : {"readme.txt", "検査結果.txt", "empty.txt", "docs/a/b/c/d/e/deep.bin", "docs/archive.zip"}) {
        INFO(rel);
        REQUIRE(files.count(p + rel) == 1);
        CHECK(files[p + rel].at("sha256") == sha256File(tree / rel));
        CHECK(files[p + rel].at("size") == fs::file_size(tree / rel));
    }
    CHECK(r.at("files_scanned") == r.at("files_total"));
    CHECK(r.at("bytes_scanned").get<std::uint64_t>() >= 300001);

    bool found = false;
    for (const auto& pi : r.at("media").at("partitions"))
        if (pi.at("index") == part) {
            found = true;
            CHECK(pi.at("fs") == tskName);
        }
    CHECK(found);
    CHECK(r.at("engine").at("signatures").get<int>() >= 1);
    CHECK(r.at("manifest_sha256").get<std::string>().size() == 64);
}

void checkInfectedStick(const std::string& fsType, const std::string& table, int part) {
    Workspace ws;
    const auto tree = makeTree(ws, "infected", true);
    const auto image = makeImage(ws, "infected.img", fsType, table, tree);
    const auto s = scanImage(ws, image);
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    CHECK(s.report.at("verdict") == "fail");
    const auto infected = reasons(s.report, "infected");
    REQUIRE(infected.size() == 1);
    const std::string path = infected[0].at("path");
    CHECK_THAT(path, Catch::StartsWith("/p" + std::to_string(part) + "/docs/archive.zip!") && Catch::EndsWith("eicar.com"));
    CHECK_THAT(infected[0].at("detail").get<std::string>(), Catch::Contains("Qkiosk.Test.EICAR"));
    // The person at the kiosk sees the verdict and where the finding is.
    CHECK_THAT(s.out, Catch::Contains("FAIL") && Catch::Contains("archive.zip"));
}

}  // namespace

TEST_CASE("FAT12 stick: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("fat12", "none", "fat12", 0);
    checkInfectedStick("fat12", "none", 0);
}
TEST_CASE("FAT16 stick: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("fat16", "none", "fat16", 0);
    checkInfectedStick("fat16", "none", 0);
}
TEST_CASE("FAT32 stick with MBR: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("fat32", "mbr", "fat32", 1);
    checkInfectedStick("fat32", "mbr", 1);
}
TEST_CASE("FAT32 in a logical partition of an extended MBR partition", "[scan][fs]") {
    checkCleanStick("fat32", "mbr-extended", "fat32", 2);
    checkInfectedStick("fat32", "mbr-extended", 2);
}
TEST_CASE("exFAT stick with GPT: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("exfat", "gpt", "exfat", 1);
    checkInfectedStick("exfat", "gpt", 1);
}
TEST_CASE("Bare exFAT stick", "[scan][fs]") {
    checkInfectedStick("exfat", "none", 0);
}
TEST_CASE("NTFS disk with GPT: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("ntfs", "gpt", "ntfs", 1);
    checkInfectedStick("ntfs", "gpt", 1);
}
TEST_CASE("ext2 stick: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("ext2", "none", "ext2", 0);
    checkInfectedStick("ext2", "none", 0);
}
TEST_CASE("ext4 disk with MBR: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("ext4", "mbr", "ext4", 1);
    checkInfectedStick("ext4", "mbr", 1);
}
TEST_CASE("ISO 9660 image: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("iso9660", "none", "iso9660", 0);
    checkInfectedStick("iso9660", "none", 0);
}
TEST_CASE("HFS+ volume: clean passes, infected fails", "[scan][fs]") {
    checkCleanStick("hfsplus", "none", "hfsplus", 0);
    checkInfectedStick("hfsplus", "none", 0);
}

TEST_CASE("An executable hidden in an NTFS alternate data stream is found", "[scan][ntfs]") {
    Workspace ws;
    ws.write("tree/readme.txt", "harmless\n");
    ws.write("tree/sub/photo.jpg", "not really a jpeg\n");
    const auto payload = ws.write("payload.bin", eicar());
    const auto image = makeImage(ws, "ads.img", "ntfs", "none", ws.path() / "tree",
                                 {"--ads", "readme.txt:hidden=" + payload.string(),
                                  "--ads", "sub/photo.jpg:Zone.Identifier=" + payload.string()});
    const auto s = scanImage(ws, image);
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    CHECK(reasons(s.report, "infected", "/p0/readme.txt:hidden").size() == 1);
    CHECK(reasons(s.report, "infected", "/p0/sub/photo.jpg:Zone.Identifier").size() == 1);
    // The streams are in the manifest too: they are content a user could run.
    bool listed = false;
    for (const auto& f : s.report.at("files")) listed |= f.at("path") == "/p0/readme.txt:hidden";
    CHECK(listed);
    // NTFS metadata files are not user content and must not appear.
    for (const auto& f : s.report.at("files")) CHECK_THAT(f.at("path").get<std::string>(), !Catch::Contains("$MFT"));
}

TEST_CASE("The manifest depends on the content only", "[scan][manifest]") {
    Workspace ws;
    const auto tree = makeTree(ws, "tree", false);
    const auto fat = scanImage(ws, makeImage(ws, "a.img", "fat32", "none", tree));
    const auto ext = scanImage(ws, makeImage(ws, "b.img", "ext4", "none", tree));
    const auto ntfs = scanImage(ws, makeImage(ws, "c.img", "ntfs", "none", tree));
    REQUIRE(fat.exitCode == 0);
    REQUIRE(ext.exitCode == 0);
    REQUIRE(ntfs.exitCode == 0);
    SECTION("identical files give the identical manifest on any filesystem") {
        CHECK(fat.report.at("manifest_sha256") == ext.report.at("manifest_sha256"));
        CHECK(fat.report.at("manifest_sha256") == ntfs.report.at("manifest_sha256"));
    }
    SECTION("one changed byte changes it") {
        auto text = std::string("Please bring this stick to the ward office.\n");
        text[0] = 'p';
        ws.write("tree/readme.txt", text);
        const auto changed = scanImage(ws, makeImage(ws, "d.img", "fat32", "none", tree));
        REQUIRE(changed.exitCode == 0);
        CHECK(changed.report.at("manifest_sha256") != fat.report.at("manifest_sha256"));
    }
}

TEST_CASE("The JSON report follows the schema of docs/design.md", "[scan][report]") {
    Workspace ws;
    ws.write("tree/a.txt", "a\n");
    const auto s = scanImage(ws, makeImage(ws, "s.img", "fat16", "none", ws.path() / "tree"));
    REQUIRE(s.exitCode == 0);
    const auto& r = s.report;
    for (const auto* key : {"verdict", "reasons", "device", "media", "files_scanned", "bytes_scanned", "manifest_sha256",
                            "engine", "ticket_id", "started", "finished"})
        CHECK(r.contains(key));
    CHECK(r.at("device").is_null());
    CHECK(r.at("media").at("size_bytes").get<std::uint64_t>() == fs::file_size(ws.path() / "s.img"));
    CHECK(r.at("engine").at("libclamav") == "1.4.6");
    CHECK_THAT(r.at("started").get<std::string>(), Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"));

    SECTION("and --json - writes it to stdout with the summary on stderr") {
        auto r2 = run({QKIOSK_BIN, "scan", "--image", (ws.path() / "s.img").string(), "--db", ws.database().string(),
                       "--json", "-"});
        REQUIRE(r2.exitCode == 0);
        CHECK(json::parse(r2.out).at("verdict") == "pass");
        CHECK_THAT(r2.err, Catch::Contains("PASS"));
    }
}
