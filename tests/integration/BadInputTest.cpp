// Hostile and broken media: each gets a FAIL with the right reason (or exit 2
// for unusable arguments), in bounded time, never a crash, hang or PASS.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>

#include "Harness.h"

using namespace qktest;

namespace {

using Clock = std::chrono::steady_clock;

void writeAt(const fs::path& file, std::uint64_t offset, const std::string& bytes) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(f.good());
}


// A scan that must FAIL, quickly, with at least one reason of `code`.
Scan expectFail(Workspace& ws, const fs::path& image, const std::string& code, const std::vector<std::string>& extra = {}) {
    const auto t0 = Clock::now();
    auto s = scanImage(ws, image, extra);
    const auto secs = std::chrono::duration<double>(Clock::now() - t0).count();
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    CHECK(s.report.at("verdict") == "fail");
    CHECK_FALSE(reasons(s.report, code).empty());
    CHECK(secs < 60);
    return s;
}

fs::path writeConfig(Workspace& ws, const std::string& text) { return ws.write("qkiosk.toml", text); }

}  // namespace

TEST_CASE("Random bytes are refused as a possible encrypted container", "[bad]") {
    Workspace ws;
    const auto img = ws.write("random.img", randomBytes(8 << 20, 3));
    const auto s = expectFail(ws, img, "encrypted-volume");
    CHECK(s.report.at("files").empty());
}

TEST_CASE("Blank media has no filesystem", "[bad]") {
    Workspace ws;
    expectFail(ws, ws.write("zeros.img", std::string(4 << 20, '\0')), "unknown-filesystem");
    expectFail(ws, ws.write("empty.img", ""), "unknown-filesystem");
}

TEST_CASE("A truncated image never passes", "[bad]") {
    Workspace ws;
    ws.write("tree/small.txt", "first file\n");
    ws.write("tree/big/photo.bin", randomBytes(6 << 20, 9));
    SECTION("bare filesystem") {
        const auto img = makeImage(ws, "t.img", "fat32", "none", ws.path() / "tree", {"--size-mb", "40"});
        fs::resize_file(img, fs::file_size(img) / 2);
        expectFail(ws, img, "read-error");
    }
    SECTION("partition table pointing past the end") {
        const auto img = makeImage(ws, "t.img", "ext4", "mbr", ws.path() / "tree", {"--size-mb", "40"});
        fs::resize_file(img, 20 << 20);
        expectFail(ws, img, "read-error");
    }
}

TEST_CASE("A corrupted FAT never passes", "[bad]") {
    Workspace ws;
    ws.write("tree/doc.txt", std::string(200000, 'x'));
    ws.write("tree/sub/more.txt", std::string(300000, 'y'));
    const auto img = makeImage(ws, "c.img", "fat16", "none", ws.path() / "tree");
    std::ifstream in(img, std::ios::binary);
    unsigned char bpb[16];
    in.read(reinterpret_cast<char*>(bpb), sizeof bpb);
    const unsigned bytesPerSector = bpb[11] | bpb[12] << 8;
    const unsigned reserved = bpb[14] | bpb[15] << 8;
    // Overwrite both FAT copies' first sectors with cluster numbers past the end.
    writeAt(img, std::uint64_t{bytesPerSector} * reserved, std::string(2048, '\xf7'));
    const auto s = scanImage(ws, img);
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    CHECK((reasons(s.report, "read-error").size() + reasons(s.report, "unknown-filesystem").size()) > 0);
}

TEST_CASE("BitLocker and LUKS volumes are encrypted-volume, never read", "[bad]") {
    Workspace ws;
    ws.write("tree/BitLockerToGo.exe.txt", "the discovery volume's reader would be here\n");
    SECTION("BitLocker To Go keeps a readable FAT discovery volume: it must not be taken as the content") {
        const auto img = makeImage(ws, "bl.img", "fat32", "mbr", ws.path() / "tree");
        writeAt(img, 2048 * 512 + 3, "-FVE-FS-");
        const auto s = expectFail(ws, img, "encrypted-volume");
        CHECK_THAT(reasons(s.report, "encrypted-volume")[0].at("detail").get<std::string>(), Catch::Contains("BitLocker"));
        CHECK(reasons(s.report, "encrypted-volume")[0].at("path") == "/p1/");
    }
    SECTION("LUKS") {
        auto img = ws.write("luks.img", std::string(4 << 20, '\0'));
        writeAt(img, 0, std::string("LUKS\xba\xbe\x00\x02", 8));
        expectFail(ws, img, "encrypted-volume");
    }
}

TEST_CASE("Archives that cannot be scanned completely are unscannable", "[bad][archive]") {
    Workspace ws;
    requireTool("zip");
    auto sh = [&](const std::string& cmd) {
        const auto r = run({"sh", "-c", "cd '" + ws.path().string() + "' && " + cmd});
        INFO(r.err);
        REQUIRE(r.exitCode == 0);
    };
    SECTION("a zip of zeros beyond the size limit") {
        sh("mkdir -p tree && head -c 40M /dev/zero > zeros.bin && zip -q tree/bomb.zip zeros.bin && rm zeros.bin");
        const auto cfg = writeConfig(ws, "[scan]\nmax_file_size = \"16MiB\"\n");
        const auto s = expectFail(ws, makeImage(ws, "z.img", "fat16", "none", ws.path() / "tree"), "unscannable",
                                  {"--config", cfg.string()});
        CHECK_THAT(reasons(s.report, "unscannable")[0].at("path").get<std::string>(), Catch::StartsWith("/p0/bomb.zip"));
        CHECK(reasons(s.report, "infected").empty());
    }
    SECTION("a 1 MB zip declaring a member over the default 1 GiB limit stops at once") {
        // libclamav alone would inflate 1 GiB into its temporary folder (RAM)
        // and scan only the first part; the kiosk stops at the declared size.
        sh("mkdir -p tree && head -c 1100M /dev/zero | zip -q tree/bomb.zip -");
        const auto t0 = Clock::now();
        const auto s = expectFail(ws, makeImage(ws, "zd.img", "fat16", "none", ws.path() / "tree"), "unscannable");
        CHECK(std::chrono::duration<double>(Clock::now() - t0).count() < 10);
        CHECK_THAT(reasons(s.report, "unscannable")[0].at("detail").get<std::string>(), Catch::Contains("exceeds the scan limit"));
    }
    SECTION("a RAR archive, which Debian's libclamav cannot unpack") {
        ws.write("tree/parts.rar", std::string("Rar!\x1a\x07\x00", 7) + std::string(4000, 'r'));
        const auto s = expectFail(ws, makeImage(ws, "r.img", "fat16", "none", ws.path() / "tree"), "unscannable");
        CHECK_THAT(reasons(s.report, "unscannable", "/p0/parts.rar").at(0).at("detail").get<std::string>(), Catch::Contains("RAR"));
    }
    SECTION("an encrypted zip") {
        sh("mkdir -p tree && echo secret > s.txt && zip -q -P password tree/locked.zip s.txt");
        const auto s = expectFail(ws, makeImage(ws, "e.img", "fat16", "none", ws.path() / "tree"), "unscannable");
        CHECK_THAT(reasons(s.report, "unscannable")[0].at("detail").get<std::string>(), Catch::Contains("ncrypted"));
    }
    SECTION("archives nested deeper than the recursion limit") {
        sh("echo bottom > l0 && for i in $(seq 1 24); do zip -q l$i.zip l$((i-1))* && rm -f l$((i-1))*; done"
           " && mkdir -p tree && mv l24.zip tree/deep.zip");
        expectFail(ws, makeImage(ws, "n.img", "fat16", "none", ws.path() / "tree"), "unscannable");
    }
}

TEST_CASE("A file larger than the scan limit is unscannable but still in the manifest", "[bad]") {
    Workspace ws;
    ws.write("tree/huge.iso", randomBytes(3 << 20, 5));
    const auto cfg = writeConfig(ws, "[scan]\nmax_file_size = \"1MiB\"\n");
    const auto s = expectFail(ws, makeImage(ws, "h.img", "fat16", "none", ws.path() / "tree"), "unscannable",
                              {"--config", cfg.string()});
    CHECK(reasons(s.report, "unscannable", "/p0/huge.iso").size() == 1);
    REQUIRE(s.report.at("files").size() == 1);
    CHECK(s.report.at("files")[0].at("sha256") == sha256File(ws.path() / "tree/huge.iso"));
}

TEST_CASE("Executables posing as documents and classic autorun files are refused", "[bad][types]") {
    Workspace ws;
    ws.copy("/bin/true", "tree/invoice.pdf");
    ws.write("tree/autorun.inf", "[autorun]\nopen=setup.exe\n");
    ws.write("tree/Documents.lnk", std::string("L\0\0\0", 4) + std::string(72, '\0'));
    ws.write("tree/notes.txt", "ordinary\n");
    const auto s = expectFail(ws, makeImage(ws, "t.img", "fat16", "none", ws.path() / "tree"), "type-mismatch");
    CHECK(reasons(s.report, "type-mismatch", "/p0/invoice.pdf").size() == 1);
    CHECK(reasons(s.report, "blocked-file-type", "/p0/autorun.inf").size() == 1);
    CHECK(reasons(s.report, "blocked-file-type", "/p0/Documents.lnk").size() == 1);
    CHECK(reasons(s.report, "type-mismatch", "/p0/notes.txt").empty());

    SECTION("a site can change the blocked names") {
        const auto cfg = writeConfig(ws, "[scan]\nblocked_names = [\"*.txt\"]\n");
        const auto s2 = scanImage(ws, ws.path() / "t.img", {"--config", cfg.string()});
        CHECK(reasons(s2.report, "blocked-file-type", "/p0/notes.txt").size() == 1);
        CHECK(reasons(s2.report, "blocked-file-type", "/p0/autorun.inf").empty());
    }
}

TEST_CASE("Unusable arguments exit 2 with one line naming the input", "[bad][cli]") {
    Workspace ws;
    ws.write("tree/a.txt", "a\n");
    const auto img = makeImage(ws, "ok.img", "fat16", "none", ws.path() / "tree");
    auto oneLine = [](const RunResult& r) {
        CHECK(r.exitCode == 2);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK(r.out.empty());
    };
    SECTION("a missing image") {
        const auto r = run({QKIOSK_BIN, "scan", "--image", "/nonexistent/stick.img", "--db", ws.database().string()});
        oneLine(r);
        CHECK_THAT(r.err, Catch::Contains("/nonexistent/stick.img") && Catch::Contains("No such file"));
    }
    SECTION("a missing signature directory") {
        const auto r = run({QKIOSK_BIN, "scan", "--image", img.string(), "--db", "/nonexistent/db"});
        oneLine(r);
        CHECK_THAT(r.err, Catch::Contains("/nonexistent/db"));
    }
    SECTION("a signature directory without signatures") {
        fs::create_directories(ws.path() / "emptydb");
        const auto r = run({QKIOSK_BIN, "scan", "--image", img.string(), "--db", (ws.path() / "emptydb").string()});
        oneLine(r);
        CHECK_THAT(r.err, Catch::Contains("emptydb"));
    }
    SECTION("a broken config names file, line and column") {
        const auto cfg = writeConfig(ws, "[scan]\nmax_file_size = \"lots\"\n");
        const auto r = run({QKIOSK_BIN, "scan", "--image", img.string(), "--db", ws.database().string(), "--config", cfg.string()});
        oneLine(r);
        CHECK_THAT(r.err, Catch::Contains("qkiosk.toml:2:"));
    }
    SECTION("both or neither of --image and --device") {
        oneLine(run({QKIOSK_BIN, "scan", "--db", ws.database().string()}));
        oneLine(run({QKIOSK_BIN, "scan", "--image", img.string(), "--device", "/dev/null", "--db", ws.database().string()}));
    }
    SECTION("a device that is not a block device") {
        const auto r = run({QKIOSK_BIN, "scan", "--device", img.string(), "--db", ws.database().string()});
        oneLine(r);
        CHECK_THAT(r.err, Catch::Contains("not a block device"));
    }
}

TEST_CASE("An ordinary user's scan of a signature folder it may not read exits 2 with one line naming it",
          "[bad][cli]") {
    // Only root can make a folder another user may not enter and then be that user.
    if (::geteuid() != 0) {
        WARN("SKIP: needs root, to run qkiosk as nobody");
        std::exit(77);
    }
    requireTool("setpriv");
    Workspace ws;
    ws.write("tree/a.txt", "a\n");
    const auto img = makeImage(ws, "ok.img", "fat16", "none", ws.path() / "tree");
    // nobody may pass through the workspace and read the image, nothing more.
    fs::permissions(ws.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::permissions(img, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    const auto asNobody = [&](const fs::path& db) {
        return run({"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", QKIOSK_BIN, "scan", "--image",
                    img.string(), "--db", db.string()});
    };
    auto oneLineNaming = [](const RunResult& r, const fs::path& path) {
        INFO(r.out << r.err);
        CHECK(r.exitCode == 2);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK_THAT(r.err, Catch::Contains(path.string()) && Catch::Contains("Permission denied"));
        CHECK(r.out.empty());
    };
    SECTION("inside a folder only root may enter") {
        fs::create_directories(ws.path() / "root-only");
        const auto db = ws.copy(ws.database() / "test.hdb", "root-only/sigs/test.hdb").parent_path();
        fs::permissions(ws.path() / "root-only", fs::perms::owner_all);
        oneLineNaming(asNobody(db), db);
    }
    SECTION("a folder only root may read") {
        const auto db = ws.copy(ws.database() / "test.hdb", "sigs/test.hdb").parent_path();
        fs::permissions(db, fs::perms::owner_all);
        oneLineNaming(asNobody(db), db);
    }
}

TEST_CASE("Hostile names inside archives are reported as printable text", "[bad][archive]") {
    Workspace ws;
    requireTool("python3");
    // A zip whose member name holds a newline and a byte that is not UTF-8.
    const auto payload = ws.write("eicar.txt", eicar());
    const auto script = ws.write("mkzip.py",
        "import sys, zipfile\n"
        "with zipfile.ZipFile(sys.argv[2], 'w') as z:\n"
        "    z.writestr('evil\\nXname.com', open(sys.argv[1], 'rb').read())\n"
        "data = open(sys.argv[2], 'rb').read().replace(b'Xname', b'\\xffname')\n"
        "open(sys.argv[2], 'wb').write(data)\n");
    fs::create_directories(ws.path() / "tree");
    const auto r = run({"python3", script.string(), payload.string(), (ws.path() / "tree/names.zip").string()});
    REQUIRE(r.exitCode == 0);
    const auto s = expectFail(ws, makeImage(ws, "n.img", "fat16", "none", ws.path() / "tree"), "infected");
    const auto infected = reasons(s.report, "infected");
    REQUIRE(infected.size() == 1);
    CHECK(infected[0].at("path") == "/p0/names.zip!evil\\x0a\\xffname.com");
    // Nothing else went wrong: the scanner did not choke on the name.
    CHECK(reasons(s.report, "unscannable").empty());
}

TEST_CASE("Zip-like bytes inside a program are not taken for an oversized archive", "[bad][archive]") {
    // Regression: /usr/bin/sqlite3 holds bytes that libclamav parses as a zip
    // member "declaring" 1.4 GB, with a binary name and an invalid method.
    Workspace ws;
    requireTool("python3");
    const auto script = ws.write("mk.py",
        "import struct, sys, random\n"
        "r = random.Random(5)\n"
        "name = bytes([0xfe, 0xff, 0x8b, 0x54, 0x24, 0x28, 0x49, 0x89])\n"
        "hdr = b'PK\\x03\\x04' + struct.pack('<HHHHHIIIHH', 20, 0, 3840, 0, 0, 0x3d8d4800, 102505, 1418313777, len(name), 0) + name\n"
        "noise = lambda n: bytes(r.getrandbits(8) for _ in range(n))\n"
        "open(sys.argv[2], 'wb').write(open(sys.argv[1], 'rb').read() + noise(4096) + hdr + noise(200000))\n");
    fs::create_directories(ws.path() / "tree");
    REQUIRE(run({"python3", script.string(), "/bin/true", (ws.path() / "tree/tool").string()}).exitCode == 0);
    const auto s = scanImage(ws, makeImage(ws, "g.img", "fat16", "none", ws.path() / "tree"));
    INFO(s.out << s.err);
    CHECK(s.exitCode == 0);
    CHECK(s.report.at("reasons").empty());
}
