// Writing a file onto a stick's FAT filesystem with the real mtools, into
// images made by the standard tools (mkfs.vfat, sfdisk, mke2fs through
// tests/fixtures/make-image.sh), read back with mtype as another program
// would. A missing tool: SKIP (exit 77), never PASS.
#include <catch2/catch.hpp>

#include "Harness.h"
#include "kiosk/officer/FatExport.h"

using namespace qktest;

namespace {

void requireMtools() {
    for (const char* tool : {"mcopy", "mtype", "mdir"}) requireTool(tool);
}

// A stick's worth of bytes: CRLF lines, a NUL, every byte value, and more
// than a pipe or a capture buffer holds at once.
std::string exportContent(std::size_t size) {
    std::string s = "\xEF\xBB\xBFseq,time\r\n1,\"2026-11-27\"\r\n";
    s.push_back('\0');
    for (std::size_t i = 0; s.size() < size; ++i) s.push_back(static_cast<char>((i * 131 + 7) % 256));
    return s;
}

// What another program reads of the file on the FAT filesystem at `offset`.
RunResult mtype(const fs::path& image, std::uint64_t offset, const std::string& name) {
    return run({"mtype", "-i", join({image.string(), "@@", std::to_string(offset)}), join({"::", name})});
}

// Where partition 1 starts, in bytes, as sfdisk reads the table.
std::uint64_t partitionOffset(const fs::path& image) {
    requireTool("sfdisk");
    const auto r = run({"sfdisk", "-J", image.string()});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    const auto table = json::parse(r.out).at("partitiontable");
    const std::uint64_t sector = table.value("sectorsize", 512);
    return table.at("partitions").at(0).at("start").get<std::uint64_t>() * sector;
}

fs::path stickWithNotes(Workspace& ws, const std::string& name, const std::string& fsType, const std::string& table,
                        const std::vector<std::string>& extra = {}) {
    ws.write("stick/notes.txt", "already on the stick\n");
    return makeImage(ws, name, fsType, table, ws.path() / "stick", extra);
}

}  // namespace

TEST_CASE("A file written into a FAT32 filesystem reads back byte for byte with mtype", "[FatExport]") {
    requireMtools();
    Workspace ws;
    const auto img = stickWithNotes(ws, "stick.img", "fat32", "none");
    const std::string content = exportContent(300 * 1024);
    auto freeBefore = kiosk::fatFreeBytes(img.string(), 0, ws.path().string());
    REQUIRE(freeBefore);

    const auto st = kiosk::writeFileToFat(img.string(), 0, "qkiosk-log-kiosk-1-20261127-034324.csv", content,
                                          ws.path().string());
    INFO((st ? std::string() : st.error().message));
    REQUIRE(st.ok());
    const auto back = mtype(img, 0, "qkiosk-log-kiosk-1-20261127-034324.csv");
    CHECK(back.exitCode == 0);
    CHECK(back.out == content);
    CHECK(mtype(img, 0, "notes.txt").out == "already on the stick\n");

    auto freeAfter = kiosk::fatFreeBytes(img.string(), 0, ws.path().string());
    REQUIRE(freeAfter);
    CHECK(*freeAfter + content.size() <= *freeBefore);
    CHECK(*freeBefore - *freeAfter < content.size() + 64 * 1024);   // a cluster or a few more, not more
    // Nothing of the private copy is left behind.
    for (const auto& e : fs::directory_iterator(ws.path()))
        CHECK(e.path().filename().string().rfind("qkiosk-fat-", 0) == std::string::npos);
}

TEST_CASE("A file is written into partition 1 of an MBR stick at the partition's offset", "[FatExport]") {
    requireMtools();
    Workspace ws;
    const auto img = stickWithNotes(ws, "mbr.img", "fat32", "mbr");
    const auto offset = partitionOffset(img);
    REQUIRE(offset > 0);
    const std::string content = "seq,time\r\n2,\"2026-11-28\"\r\n";

    SECTION("at the partition's offset: written") {
        REQUIRE(kiosk::writeFileToFat(img.string(), offset, "LOG.CSV", content, ws.path().string()).ok());
        CHECK(mtype(img, offset, "LOG.CSV").out == content);
        CHECK(mtype(img, offset, "notes.txt").out == "already on the stick\n");
    }
    SECTION("at offset 0, the partition table: not a FAT filesystem, nothing written") {
        const auto before = sha256File(img);
        const auto st = kiosk::writeFileToFat(img.string(), 0, "LOG.CSV", content, ws.path().string());
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.error().message, Catch::StartsWith(join({img.string(), ": not a FAT filesystem at offset 0"})));
        CHECK(sha256File(img) == before);
    }
}

TEST_CASE("A file already on the stick is never overwritten, in any case of its name", "[FatExport]") {
    requireMtools();
    Workspace ws;
    const auto img = stickWithNotes(ws, "stick.img", "fat16", "none");
    REQUIRE(kiosk::writeFileToFat(img.string(), 0, "qkiosk-log.csv", "first\r\n", ws.path().string()).ok());
    for (const char* again : {"qkiosk-log.csv", "QKIOSK-LOG.CSV", "notes.txt"}) {
        const auto st = kiosk::writeFileToFat(img.string(), 0, again, "second\r\n", ws.path().string());
        INFO(again);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.error().message, Catch::StartsWith(img.string()) && Catch::Contains("already on the stick") &&
                                           Catch::Contains("not overwritten"));
    }
    CHECK(mtype(img, 0, "qkiosk-log.csv").out == "first\r\n");
    CHECK(mtype(img, 0, "notes.txt").out == "already on the stick\n");
}

TEST_CASE("A filesystem that is not FAT is refused with a clear error", "[FatExport]") {
    requireMtools();
    Workspace ws;
    const auto img = stickWithNotes(ws, "ext4.img", "ext4", "none");
    const auto before = sha256File(img);
    const auto st = kiosk::writeFileToFat(img.string(), 0, "log.csv", "x\r\n", ws.path().string());
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error().message, Catch::StartsWith(join({img.string(), ": not a FAT filesystem at offset 0"})));
    CHECK(st.error().message.find('\n') == std::string::npos);
    CHECK(sha256File(img) == before);
    const auto free = kiosk::fatFreeBytes(img.string(), 0, ws.path().string());
    REQUIRE_FALSE(free.ok());
    CHECK_THAT(free.error().message, Catch::Contains("not a FAT filesystem"));

    SECTION("and so are a missing device and a folder") {
        const auto missing = kiosk::writeFileToFat((ws.path() / "gone.img").string(), 0, "log.csv", "x", ws.path().string());
        REQUIRE_FALSE(missing.ok());
        CHECK_THAT(missing.error().message, Catch::Contains("gone.img: cannot open it"));
        const auto folder = kiosk::writeFileToFat(ws.path().string(), 0, "log.csv", "x", ws.path().string());
        REQUIRE_FALSE(folder.ok());
        CHECK_THAT(folder.error().message, Catch::Contains("not a block device or an image file"));
    }
}

TEST_CASE("A file name that is not plain ASCII of 1 to 100 characters is refused before anything is written", "[FatExport]") {
    requireMtools();
    Workspace ws;
    const auto img = stickWithNotes(ws, "stick.img", "fat16", "none");
    const auto before = sha256File(img);
    for (const std::string& bad : {std::string(), std::string(101, 'a'), std::string(".hidden"), std::string("log."),
                                  std::string("../log.csv"), std::string("sub/log.csv"), std::string("a b.csv"),
                                  std::string("log*.csv"), std::string("ログ.csv"), std::string("a:b")}) {
        const auto st = kiosk::writeFileToFat(img.string(), 0, bad, "x", ws.path().string());
        INFO(bad);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.error().message, Catch::StartsWith("file name \""));
        CHECK_FALSE(kiosk::checkFatFileName(bad).ok());
    }
    CHECK(sha256File(img) == before);
    for (const std::string& good : {std::string("a"), std::string(100, 'b'), std::string("QKIOSK.CSV"),
                                   std::string("qkiosk-log-kiosk_1-20261127-034324.jsonl")})
        CHECK(kiosk::checkFatFileName(good).ok());
}

TEST_CASE("A file bigger than the free space fails, and no part of it is left", "[FatExport]") {
    requireMtools();
    Workspace ws;
    const auto img = stickWithNotes(ws, "small.img", "fat12", "none", {"--size-mb", "2"});
    const auto free = kiosk::fatFreeBytes(img.string(), 0, ws.path().string());
    REQUIRE(free);
    CHECK(*free < 2u * 1024 * 1024);
    const std::string content = exportContent(*free + 4096);
    const auto st = kiosk::writeFileToFat(img.string(), 0, "big.csv", content, ws.path().string());
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error().message, Catch::StartsWith(join({img.string(), ": the stick is full"})));
    CHECK(mtype(img, 0, "big.csv").exitCode != 0);
    CHECK(mtype(img, 0, "notes.txt").out == "already on the stick\n");
}

TEST_CASE("A file is written through a real block device (a loop device over an MBR stick image)", "[FatExport]") {
    requireMtools();
    requireTool("losetup");
    Workspace ws;
    const auto img = stickWithNotes(ws, "loop.img", "fat16", "mbr", {"--size-mb", "14"});
    const auto offset = partitionOffset(img);
    const auto attached = run({"losetup", "--find", "--show", img.string()});
    if (attached.exitCode != 0) {
        WARN("SKIP: no loop device here (" << attached.err << ")");
        std::exit(77);
    }
    const std::string dev = attached.out.substr(0, attached.out.find('\n'));
    struct Detach {
        std::string dev;
        ~Detach() { (void)run({"losetup", "-d", dev}); }
    } detach{dev};
    const std::string content = exportContent(70 * 1024);
    const auto st = kiosk::writeFileToFat(dev, offset, "qkiosk-log.csv", content, ws.path().string());
    INFO((st ? std::string() : st.error().message));
    REQUIRE(st.ok());
    // fsync'd through the block device: the image file behind it has the file.
    (void)run({"losetup", "-d", dev});
    CHECK(mtype(img, offset, "qkiosk-log.csv").out == content);
    CHECK(mtype(img, offset, "notes.txt").out == "already on the stick\n");
}
