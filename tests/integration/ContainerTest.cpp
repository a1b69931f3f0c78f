// Every container on a stick is opened or named: what libclamav cannot open
// completely (7z coders, zip methods, zstd/lz4/lzip/lzma streams, ar, zisofs)
// is opened by the scanner itself and its members scanned; what nobody can
// open (squashfs, WIM, Inno Setup, disk images inside archives) is
// `unscannable` with the format named; clean containers and everyday files
// raise no alarm. The infected members carry a payload that only a hash
// signature of its own matches: a PASS could only mean it was never
// extracted. Each test case builds its fixtures once, puts them all on one
// stick and scans it once.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <set>

#include "Harness.h"
#include "qkiosk/protocol/Channel.h"
#include "qkiosk/protocol/Messages.h"

extern char** environ;

using namespace qktest;

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kPayloadSignature = "Qkiosk.Test.Payload";

// Runs a shell command in the workspace; the test fails with its stderr.
void sh(Workspace& ws, const std::string& cmd) {
    const auto r = run({"sh", "-c", "cd '" + ws.path().string() + "' && " + cmd});
    INFO(cmd << "\n" << r.err);
    REQUIRE(r.exitCode == 0);
}


// Two source folders: `inf/` with the payload and a clean note, `cln/` with
// clean files only. Text that compresses well, so that every format really
// compresses it (zisofs leaves incompressible files as they are).
void makeSources(Workspace& ws) {
    std::string payload, notes, other;
    for (int i = 0; i < 3000; ++i) payload += "Ward 7 discharge summary, line " + std::to_string(i) + ": infected payload\n";
    for (int i = 0; i < 2000; ++i) notes += "meeting notes " + std::to_string(i) + "\n";
    for (int i = 0; i < 1500; ++i) other += "ordinary text " + std::to_string(i * 7) + "\n";
    ws.write("inf/payload.txt", payload);
    ws.write("inf/notes.txt", notes);
    ws.write("cln/notes.txt", notes);
    ws.write("cln/other.txt", other);
    // A name in UTF-8 through every container (libarchive drops such names in the C locale).
    ws.write("inf/検査結果.txt", other);
    ws.write("cln/検査結果.txt", other);
    // The payload's own hash signature, beside the harness's test.hdb.
    const auto db = ws.database();
    auto r = run({"md5sum", (ws.path() / "inf/payload.txt").string()});
    REQUIRE(r.exitCode == 0);
    ws.write("db/payload.hdb", r.out.substr(0, 32) + ":" + std::to_string(payload.size()) + ":" + kPayloadSignature + "\n");
}

struct Container {
    std::string name;      // the file on the stick
    std::string command;   // makes $OUT from $SRC or $ONE (see build), run in the workspace
};

// The containers the scanner opens itself or checks libclamav's work on.
const std::vector<Container>& openedContainers() {
    static const std::vector<Container> list = {
        // 7z: libclamav extracts LZMA/LZMA2/PPMd members only.
        {"bzip2.7z", "(cd $SRC && 7z a -bd -bso0 -m0=BZip2 $OUT .)"},
        {"deflate.7z", "(cd $SRC && 7z a -bd -bso0 -m0=Deflate $OUT .)"},
        {"lzma2.7z", "(cd $SRC && 7z a -bd -bso0 $OUT .)"},
        // zip: libclamav skips PPMd and LZMA members without a word.
        {"ppmd.zip", "(cd $SRC && 7z a -bd -bso0 -tzip -mm=PPMd $OUT .)"},
        {"lzma.zip", "(cd $SRC && 7z a -bd -bso0 -tzip -mm=LZMA $OUT .)"},
        {"deflate.zip", "(cd $SRC && zip -q -r $OUT .)"},
        {"bzip2.zip", "(cd $SRC && zip -q -r -Z bzip2 $OUT .)"},
        // Streams libclamav does not decompress, and the tars in them.
        {"t.tar.zst", "tar -cf - -C $SRC . | zstd -q -o $OUT"},
        {"t.tar.lz4", "tar -cf - -C $SRC . | lz4 -q > $OUT"},
        {"t.tar.lz", "tar -cf - -C $SRC . | lzip > $OUT"},
        {"t.tar.lzma", "tar -cf - -C $SRC . | xz --format=lzma > $OUT"},
        {"file.zst", "zstd -q -c $ONE > $OUT"},
        // ar and a Debian package (ar holding tar.xz).
        {"a.ar", "(cd $SRC && ar rcD $OUT *)"},
        {"pkg.deb", "rm -rf $OUT.d && mkdir -p $OUT.d/DEBIAN $OUT.d/usr/share/doc/t && cp $SRC/* $OUT.d/usr/share/doc/t/ && "
                    "printf 'Package: t\\nVersion: 1\\nArchitecture: all\\nMaintainer: t <t@example.org>\\nDescription: t\\n' "
                    "> $OUT.d/DEBIAN/control && dpkg-deb -Zxz --build $OUT.d $OUT >/dev/null && rm -rf $OUT.d"},
        // ISO 9660 with zisofs-compressed files: libclamav extracts the compressed bytes.
        {"zisofs.iso", "xorriso -report_about FAILURE -outdev $OUT -map $SRC / -set_filter_r --zisofs / -- -commit"},
        {"rr.iso", "xorriso -report_about FAILURE -as mkisofs -R -J -o $OUT $SRC"},
        // What libclamav always opened, still checked.
        {"t.tar.gz", "tar -czf $OUT -C $SRC ."},
        {"t.tar.xz", "tar -cJf $OUT -C $SRC ."},
        {"newc.cpio", "(cd $SRC && ls | cpio --quiet -o -H newc > $OUT)"},
        // Self-extracting archives: a program with the archive appended
        // (zip -A: offsets from the start of the file).
        {"sfx-ppmd.exe", "(cd $SRC && 7z a -bd -bso0 -tzip -mm=PPMd $OUT.zip .) && cat $STUB $OUT.zip > $OUT && rm $OUT.zip"},
        {"sfx-bzip2.exe", "(cd $SRC && 7z a -bd -bso0 -m0=BZip2 $OUT.7z .) && cat $STUB $OUT.7z > $OUT && rm $OUT.7z"},
        {"sfx-adjusted.exe", "(cd $SRC && 7z a -bd -bso0 -tzip -mm=LZMA $OUT.zip .) && cat $STUB $OUT.zip > $OUT && "
                             "rm $OUT.zip && zip -q -A $OUT"},
        // Nesting: a tar.zst inside a zip, a zip (PPMd) inside a 7z (BZip2) holding a tar.lz4.
        {"nested.zip", "rm -rf $OUT.d && mkdir $OUT.d && tar -cf - -C $SRC . | zstd -q -o $OUT.d/inner.tar.zst && "
                       "(cd $OUT.d && zip -q $OUT inner.tar.zst) && rm -rf $OUT.d"},
        {"deep.7z", "rm -rf $OUT.d && mkdir -p $OUT.d/z && tar -cf - -C $SRC . | lz4 -q > $OUT.d/z/inner.tar.lz4 && "
                    "(cd $OUT.d/z && 7z a -bd -bso0 -tzip -mm=PPMd ../middle.zip inner.tar.lz4) && "
                    "(cd $OUT.d && 7z a -bd -bso0 -m0=BZip2 $OUT middle.zip) && rm -rf $OUT.d"},
    };
    return list;
}

// $SRC: the source folder; $ONE: one file of it (the payload, or a clean
// one); $STUB: a program to append archives to; $OUT: the container.
void build(Workspace& ws, const Container& c, const std::string& src, const std::string& stick, const fs::path& stub) {
    const auto folder = ws.path() / src;
    const auto one = folder / (src == "inf" ? "payload.txt" : "other.txt");
    sh(ws, "SRC='" + folder.string() + "' ONE='" + one.string() + "' STUB='" + stub.string() + "' OUT='" +
               (ws.path() / stick / c.name).string() + "' && " + c.command);
}

std::vector<json> reasonsUnder(const json& report, const std::string& file) {
    std::vector<json> out;
    for (const auto& r : report.at("reasons")) {
        const std::string path = r.at("path");
        if (path == file || path.starts_with(file + "!")) out.push_back(r);
    }
    return out;
}

std::string describe(const json& report) {
    std::string s;
    for (const auto& r : report.at("reasons"))
        s += r.at("code").get<std::string>() + " " + r.at("path").get<std::string>() + ": " + r.at("detail").get<std::string>() + "\n";
    return s;
}

// A scan that FAILs, with the time it took in the test's log.
Scan scanFail(Workspace& ws, const fs::path& image, const std::vector<std::string>& extra = {}) {
    const auto t0 = Clock::now();
    auto s = scanImage(ws, image, extra);
    WARN("scan of " << image.filename().string() << ": " << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    REQUIRE(s.report.at("verdict") == "fail");
    return s;
}

void requireFixtureTools() {
    for (const char* t : {"7z", "zip", "zstd", "lz4", "lzip", "xz", "ar", "dpkg-deb", "xorriso", "cpio", "md5sum"})
        requireTool(t);
}

// The synthetic installers of tests/fuzz/make-container-seeds.py (no Inno
// Setup compiler runs on Linux), carrying `payload`.
fs::path makeInstallers(Workspace& ws, const fs::path& payload) {
    requireTool("python3");
    const auto out = ws.path() / "installers";
    const auto script = fs::path(QKIOSK_FIXTURES).parent_path() / "fuzz" / "make-container-seeds.py";
    const auto r = run({"python3", script.string(), out.string(), "--payload", payload.string()});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return out / "fuzz_installers";
}

// A FAT filesystem image holding `file`, made without mounting anything.
void makeFatImage(Workspace& ws, const std::string& image, const std::string& file) {
    requireTool("mkfs.vfat");
    requireTool("mcopy");
    sh(ws, "rm -f " + image + " && mkfs.vfat -C " + image + " 2048 >/dev/null && mcopy -i " + image + " " + file + " ::/");
}

// The scanner service driven over its protocol, as the front end drives it:
// the media flag is the media reader's to set, and this is the one way a test
// can set it without a reader that opens disk images.
class ScannerSession {
public:
    ScannerSession(Workspace& ws) {
        // The worker's private folder, as the front end makes it: reachable
        // by the sandbox user (the workspace is not).
        std::string tmpl = (fs::temp_directory_path() / "qkiosk-scan-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        tmp_ = tmpl;
        const fs::path tmp = tmp_;
        if (::geteuid() == 0) REQUIRE(::chown(tmp.c_str(), 65534, 65534) == 0);
        auto pair = kiosk::proto::Channel::socketPair();
        REQUIRE(pair.ok());
        auto [ours, theirs] = std::move(*pair);
        const std::string bin = (fs::path(QKIOSK_BIN).parent_path() / "qkiosk-scanner").string();
        const std::string db = ws.database().string();
        const std::string engineTmp = (ws.path() / "engine-tmp").string();
        fs::create_directories(engineTmp);
        std::vector<std::string> argv = {bin, "--db", db, "--tmpdir", engineTmp};
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, theirs.get(), 3);
        REQUIRE(::posix_spawn(&pid_, bin.c_str(), &fa, nullptr, args.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&fa);
        theirs.reset();
        service_.emplace(std::move(ours));
        auto ready = expect(*service_, kiosk::proto::MsgType::ScannerReady);
        REQUIRE(kiosk::proto::decodeScannerReady(ready.frame).ok());

        auto session = kiosk::proto::Channel::socketPair();
        REQUIRE(session.ok());
        auto [mine, worker] = std::move(*session);
        kiosk::proto::SessionStart start{64ull << 20, 256ull << 20, 17, 10000, 60000, 1, tmp.string(),
                                         65534, 65534, 0, 0};
        REQUIRE(service_->send(kiosk::proto::encode(start), worker.get()).ok());
        worker.reset();
        expect(*service_, kiosk::proto::MsgType::SessionStarted);
        session_.emplace(std::move(mine));
        expect(*session_, kiosk::proto::MsgType::Sandboxed);
    }
    ~ScannerSession() {
        session_.reset();
        service_.reset();   // the service ends when its front end is gone
        int status = 0;
        if (pid_ > 0) ::waitpid(pid_, &status, 0);
        std::error_code ec;
        fs::remove_all(tmp_, ec);
    }
    ScannerSession(const ScannerSession&) = delete;
    ScannerSession& operator=(const ScannerSession&) = delete;

    kiosk::proto::ScanResult scan(const fs::path& file, bool media) {
        const std::string content = slurp(file);
        kiosk::UniqueFd fd(::memfd_create("content", MFD_CLOEXEC | MFD_ALLOW_SEALING));
        REQUIRE(fd.valid());
        REQUIRE(::write(fd.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        REQUIRE(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
        kiosk::proto::ScanRequest req{++id_, content.size(), file.filename().string(), media};
        REQUIRE(session_->send(kiosk::proto::encode(req), fd.get()).ok());
        auto reply = expect(*session_, kiosk::proto::MsgType::ScanResult);
        auto result = kiosk::proto::decodeScanResult(reply.frame);
        REQUIRE(result.ok());
        return *result;
    }

private:
    static kiosk::proto::Received expect(kiosk::proto::Channel& ch, kiosk::proto::MsgType type) {
        auto r = ch.receive();
        REQUIRE(r.ok());
        REQUIRE(r->has_value());
        if ((*r)->frame.type == kiosk::proto::MsgType::Fatal) {
            auto f = kiosk::proto::decodeFatal((*r)->frame);
            FAIL("the scanner failed: " << (f ? f->message : f.error().message));
        }
        REQUIRE((*r)->frame.type == type);
        return std::move(**r);
    }

    pid_t pid_ = -1;
    fs::path tmp_;
    std::optional<kiosk::proto::Channel> service_, session_;
    std::uint64_t id_ = 0;
};

std::string details(const kiosk::proto::ScanResult& r) {
    std::string s;
    for (const auto& h : r.hits) s += h.member + ": " + h.detail + "\n";
    return s;
}

}  // namespace

TEST_CASE("Every container the scanner opens yields its infected member and passes with clean members", "[scan][container]") {
    requireFixtureTools();
    Workspace ws;
    makeSources(ws);
    const auto stub = makeInstallers(ws, ws.path() / "cln/notes.txt") / "program.exe";
    for (const auto& c : openedContainers()) {
        build(ws, c, "inf", "infected", stub);
        build(ws, c, "cln", "clean", stub);
    }
    // Second copies: libclamav's clean cache skips the same bytes seen
    // before; each copy must still get its own reasons (or pass).
    for (const std::string set : {"infected", "clean"})
        sh(ws, "mkdir -p " + set + "/copies && cp " + set + "/ppmd.zip " + set + "/copies/ppmd-copy.zip && cp " + set +
                   "/bzip2.7z " + set + "/copies/bzip2-copy.7z && cp " + set + "/t.tar.zst " + set + "/copies/t-copy.tar.zst");

    // infected: each container FAILs infected, the payload found inside it
    const auto s = scanFail(ws, makeImage(ws, "infected.img", "fat32", "none", ws.path() / "infected"));
    {
        INFO(describe(s.report));
        for (const auto& c : openedContainers()) {
            INFO(c.name);
            bool found = false;
            // An ISO 9660 image is read by the media reader as media of its
            // own ("//"), every other container by the scanner ("!").
            const std::string inside = "/p0/" + c.name + (c.name.ends_with(".iso") ? "//" : "!");
            for (const auto& r : s.report.at("reasons"))
                found |= r.at("code") == "infected" && r.at("detail").get<std::string>().find(kPayloadSignature) != std::string::npos &&
                         r.at("path").get<std::string>().starts_with(inside);
            CHECK(found);
        }
        // Members are named through every layer: outer!member!entry. (A
        // stream's one entry is named after the stream; where the same bytes
        // were met before, as the one tar.zst is here three times, the
        // reasons name it as the first copy did.)
        auto infectedAt = [&](const std::string& prefix, const std::string& suffix) {
            for (const auto& r : reasons(s.report, "infected")) {
                const std::string path = r.at("path");
                if (path.starts_with(prefix) && path.ends_with(suffix)) return true;
            }
            return false;
        };
        CHECK(infectedAt("/p0/nested.zip!inner.tar.zst!", ".tar!./payload.txt"));
        CHECK(infectedAt("/p0/deep.7z!middle.zip!inner.tar.lz4!", ".tar!./payload.txt"));
        CHECK_FALSE(reasons(s.report, "infected", "/p0/bzip2.7z!payload.txt").empty());
        CHECK_FALSE(reasons(s.report, "infected", "/p0/copies/ppmd-copy.zip!payload.txt").empty());
        CHECK_FALSE(reasons(s.report, "infected", "/p0/copies/bzip2-copy.7z!payload.txt").empty());
        CHECK(infectedAt("/p0/copies/t-copy.tar.zst!", ".tar!./payload.txt"));
        CHECK(reasons(s.report, "unscannable").empty());
    }
    // clean: the same containers with clean members PASS without a reason
    const auto img = makeImage(ws, "clean.img", "fat32", "none", ws.path() / "clean");
    const auto t0 = Clock::now();
    const auto c = scanImage(ws, img);
    WARN("scan of clean.img: " << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
    INFO(c.out << c.err << describe(c.report));
    CHECK(c.exitCode == 0);
    CHECK(c.report.at("reasons").empty());
    // The containers, the three copies, and the files of the two ISO images
    // (three each), which the media reader lists as files of their own.
    CHECK(c.report.at("files").size() == openedContainers().size() + 3 + 2 * 3);
}

TEST_CASE("Containers nobody can open are unscannable with their format named", "[scan][container]") {
    requireFixtureTools();
    for (const char* t : {"mksquashfs", "wimcapture", "qemu-img"}) requireTool(t);
    Workspace ws;
    makeSources(ws);
    fs::create_directories(ws.path() / "stick");
    sh(ws, "mksquashfs inf stick/image.squashfs -quiet -noappend >/dev/null");
    sh(ws, "wimcapture inf stick/backup.wim >/dev/null");
    sh(ws, "mkdir -p z && cp stick/image.squashfs z/ && (cd z && zip -q ../stick/squashfs-inside.zip image.squashfs)");
    makeFatImage(ws, "z/fat.img", "inf/payload.txt");
    sh(ws, "(cd z && zip -q ../stick/disk-inside.zip fat.img)");
    sh(ws, "qemu-img convert -q -f raw -O vpc z/fat.img z/disk.vhd && (cd z && 7z a -bd -bso0 -m0=BZip2 ../stick/vhd-inside.7z disk.vhd)");
    sh(ws, "cp z/fat.img stick/floppy.img");
    const auto installers = makeInstallers(ws, ws.path() / "inf/payload.txt");
    fs::copy_file(installers / "inno-5.exe", ws.path() / "stick/setup.exe");
    fs::copy_file(installers / "inno-4.exe", ws.path() / "stick/old-setup.exe");

    const auto s = scanFail(ws, makeImage(ws, "nobody.img", "fat32", "none", ws.path() / "stick"));
    INFO(describe(s.report));
    auto detail = [&](const std::string& path) {
        const auto r = reasons(s.report, "unscannable", path);
        return r.empty() ? std::string("(no unscannable reason)") : r[0].at("detail").get<std::string>();
    };
    CHECK(detail("/p0/image.squashfs") == "a squashfs image the scanner cannot open: nothing inside it was scanned");
    CHECK_THAT(detail("/p0/backup.wim"), Catch::Contains("WIM") && Catch::Contains("cannot open"));
    CHECK_THAT(detail("/p0/squashfs-inside.zip!image.squashfs"), Catch::Contains("squashfs image the scanner cannot open"));
    CHECK_THAT(detail("/p0/disk-inside.zip!fat.img"),
               Catch::Contains("FAT filesystem image inside an archive") && Catch::Contains("files on the media"));
    CHECK_THAT(detail("/p0/vhd-inside.7z!disk.vhd"), Catch::Contains("VHD virtual disk inside an archive"));
    CHECK_THAT(detail("/p0/setup.exe"), Catch::Contains("Inno Setup installer the scanner cannot unpack"));
    CHECK_THAT(detail("/p0/old-setup.exe"), Catch::Contains("Inno Setup installer"));
    // A disk image that is a file on the stick is the media reader's: it
    // opens it as media of its own, and the payload in it is found.
    CHECK(reasons(s.report, "infected", "/p0/floppy.img//p0/payload.txt").size() == 1);
    CHECK(reasons(s.report, "infected").size() == 1);
}

TEST_CASE("The limits hold inside what the scanner extracts itself", "[scan][container][limits]") {
    requireFixtureTools();
    Workspace ws;
    makeSources(ws);
    fs::create_directories(ws.path() / "stick");
    // Members over max_file_size, in containers small enough themselves
    // (text compresses): never extracted whole, always unscannable.
    std::string log;
    while (log.size() < (3u << 20)) log += "a line of a large log file " + std::to_string(log.size()) + "\n";
    log.resize(3u << 20);
    ws.write("big/big.bin", log);
    ws.write("big/notes.txt", "a small clean note\n");
    // In a 7z (BZip2: libarchive's coder); libclamav reads its sizes too.
    sh(ws, "(cd big && 7z a -bd -bso0 -m0=BZip2 ../stick/big.7z .)");
    // zisofs declares the size: not decoded at all. (Inside a zip: an ISO
    // image that is a file on the stick is the media reader's.)
    sh(ws, "xorriso -report_about FAILURE -outdev big.iso -map big / -set_filter_r --zisofs / -- -commit && "
           "zip -q -0 stick/big-iso.zip big.iso");
    // A bare stream declares nothing: decompressed up to the limit, then given up.
    sh(ws, "zstd -q -c big/big.bin > stick/big.bin.zst");
    // Nested deeper than max_recursion: each tar.zst is two levels (the stream, the tar).
    sh(ws, "mkdir -p n && cp inf/payload.txt n/l0 && for i in $(seq 1 12); do "
           "tar -cf - -C n l$((i-1)) | zstd -q -o n/l$i && rm n/l$((i-1)); done && mv n/l12 stick/deep.tar.zst");
    // More members than max_files in an ar archive.
    sh(ws, "mkdir -p many && for i in $(seq 1 40); do echo member $i > many/m$i.txt; done && (cd many && ar rcD ../stick/many.a *)");
    const auto cfg = ws.write("qkiosk.toml", "[scan]\nmax_file_size = \"2MiB\"\nmax_files = 30\n");

    const auto t0 = Clock::now();
    const auto s = scanFail(ws, makeImage(ws, "limits.img", "fat32", "none", ws.path() / "stick"), {"--config", cfg.string()});
    CHECK(std::chrono::duration<double>(Clock::now() - t0).count() < 30);
    INFO(describe(s.report));
    auto unscannableUnder = [&](const std::string& file, const std::string& text) {
        for (const auto& r : reasonsUnder(s.report, file))
            if (r.at("code") == "unscannable" && r.at("detail").get<std::string>().find(text) != std::string::npos) return true;
        return false;
    };
    CHECK((unscannableUnder("/p0/big.7z", "exceeds the scan limit") || unscannableUnder("/p0/big.7z", "MaxFileSize")));
    CHECK_THAT(reasons(s.report, "unscannable", "/p0/big-iso.zip!big.iso!BIG.BIN").at(0).at("detail").get<std::string>(),
               Catch::Contains("archive member of 3145728 bytes exceeds the scan limit of 2097152 bytes"));
    CHECK_THAT(reasons(s.report, "unscannable", "/p0/big.bin.zst!big.bin").at(0).at("detail").get<std::string>(),
               Catch::Contains("larger than the scan limit of 2097152 bytes"));
    bool deep = false;
    for (const auto& r : reasonsUnder(s.report, "/p0/deep.tar.zst")) {
        const std::string d = r.at("detail");
        deep |= r.at("code") == "unscannable" && (d.find("max_recursion") != std::string::npos || d.find("MaxRecursion") != std::string::npos);
    }
    CHECK(deep);
    CHECK(reasons(s.report, "infected").empty());
    CHECK_THAT(reasons(s.report, "unscannable", "/p0/many.a").at(0).at("detail").get<std::string>(), Catch::Contains("max_files"));
}

TEST_CASE("NSIS and MSI installers are unpacked and checked while Inno Setup installers are unscannable",
          "[scan][container][installer]") {
    requireFixtureTools();
    requireTool("makensis");
    requireTool("msibuild");
    Workspace ws;
    makeSources(ws);
    fs::create_directories(ws.path() / "stick");
    for (const std::string set : {"inf", "cln"}) {
        std::string files;
        for (const auto& e : fs::directory_iterator(ws.path() / set)) files += "File \"" + e.path().string() + "\"\n";
        ws.write(set + ".nsi", "SetCompressor /SOLID lzma\nOutFile \"" + (ws.path() / "stick" / (set + "-setup.exe")).string() +
                                   "\"\nInstallDir $TEMP\\qk\nSection\nSetOutPath $INSTDIR\n" + files + "SectionEnd\n");
        sh(ws, "makensis -V1 " + set + ".nsi");
        const std::string msi = "stick/" + set + ".msi";
        sh(ws, "msibuild " + msi + " -s Test qkiosk ';1033' '{6A0F4E2B-3C1D-4E5F-8A9B-0C1D2E3F4A5B}'");
        for (const auto& e : fs::directory_iterator(ws.path() / set)) sh(ws, "msibuild " + msi + " -a " + e.path().stem().string() + " " + e.path().string());
    }
    // The same installer twice (libclamav's cache skips the second copy: it must neither pass nor fail by that).
    fs::create_directories(ws.path() / "stick/again");
    for (const std::string f : {"inf-setup.exe", "cln-setup.exe", "inf.msi", "cln.msi"})
        fs::copy_file(ws.path() / "stick" / f, ws.path() / "stick/again" / f);
    const auto installers = makeInstallers(ws, ws.path() / "cln/notes.txt");
    fs::copy_file(installers / "inno-5.exe", ws.path() / "stick/inno-setup.exe");
    // A program with data appended that merely mentions Inno Setup's signature is no installer.
    fs::copy_file(installers / "appended.exe", ws.path() / "stick/appended.exe");
    const bool clamNsis = fs::exists("/usr/share/clamav-testfiles/clam-nsis.exe");
    if (clamNsis) fs::copy_file("/usr/share/clamav-testfiles/clam-nsis.exe", ws.path() / "stick/clam-nsis.exe");

    const auto s = scanFail(ws, makeImage(ws, "installers.img", "fat32", "none", ws.path() / "stick"));
    INFO(describe(s.report));
    auto infectedWith = [&](const std::string& file, const std::string& sig) {
        for (const auto& r : reasonsUnder(s.report, file))
            if (r.at("code") == "infected" && r.at("detail").get<std::string>().find(sig) != std::string::npos) return true;
        return false;
    };
    CHECK(infectedWith("/p0/inf-setup.exe", kPayloadSignature));
    CHECK(infectedWith("/p0/inf.msi", kPayloadSignature));
    if (clamNsis) CHECK(infectedWith("/p0/clam-nsis.exe", "Qkiosk.Test.ClamExe"));
    CHECK(reasonsUnder(s.report, "/p0/cln-setup.exe").empty());
    CHECK(reasonsUnder(s.report, "/p0/cln.msi").empty());
    CHECK(infectedWith("/p0/again/inf-setup.exe", kPayloadSignature));
    CHECK(infectedWith("/p0/again/inf.msi", kPayloadSignature));
    CHECK(reasonsUnder(s.report, "/p0/again/cln-setup.exe").empty());
    CHECK(reasonsUnder(s.report, "/p0/again/cln.msi").empty());
    CHECK(reasonsUnder(s.report, "/p0/appended.exe").empty());
    CHECK_THAT(reasons(s.report, "unscannable", "/p0/inno-setup.exe").at(0).at("detail").get<std::string>(),
               Catch::Contains("Inno Setup"));
}

TEST_CASE("Clean everyday files raise no alarm", "[scan][container][clean]") {
    requireTool("zip");
    Workspace ws;
    const std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    // Office documents, OpenDocument, Java and Android packages are zips.
    ws.write("docx/[Content_Types].xml", xml + "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
             "<Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>\n");
    ws.write("docx/_rels/.rels", xml + "<Relationships/>\n");
    ws.write("docx/word/document.xml", xml + "<w:document><w:body><w:p><w:r><w:t>Discharge letter</w:t></w:r></w:p></w:body></w:document>\n");
    ws.write("docx/word/media/image1.bin", randomBytes(40000, 3));
    ws.write("xlsx/[Content_Types].xml", xml + "<Types/>\n");
    ws.write("xlsx/xl/workbook.xml", xml + "<workbook/>\n");
    ws.write("xlsx/xl/worksheets/sheet1.xml", xml + "<worksheet><sheetData/></worksheet>\n");
    ws.write("odt/mimetype", "application/vnd.oasis.opendocument.text");
    ws.write("odt/content.xml", xml + "<office:document-content/>\n");
    ws.write("odt/META-INF/manifest.xml", xml + "<manifest:manifest/>\n");
    ws.write("jar/META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n");
    ws.write("jar/org/example/Main.class", std::string("\xCA\xFE\xBA\xBE", 4) + randomBytes(2000, 4));
    ws.write("apk/AndroidManifest.xml", randomBytes(3000, 5));
    ws.write("apk/classes.dex", "dex\n035" + randomBytes(20000, 6));
    ws.write("apk/res/raw/empty.txt", "");
    fs::create_directories(ws.path() / "stick");
    sh(ws, "(cd docx && zip -q -X -r ../stick/letter.docx '[Content_Types].xml' _rels word)");
    sh(ws, "(cd xlsx && zip -q -X -r ../stick/budget.xlsx .)");
    sh(ws, "(cd odt && zip -q -X -0 ../stick/report.odt mimetype && zip -q -X -r ../stick/report.odt content.xml META-INF)");
    sh(ws, "(cd jar && zip -q -r ../stick/tool.jar .)");
    sh(ws, "(cd apk && zip -q -r ../stick/app.apk .)");
    sh(ws, "cp stick/letter.docx 'stick/letter copy.docx'");   // the same document twice
    ws.write("stick/notes.txt", "Bring this stick to the ward office.\n");
    ws.write("stick/dates.csv", "070701,070702,070707\n2001-07-07,admission\n");   // starts like a cpio header
    ws.write("stick/random.bin", randomBytes(200000, 7));
    const auto installers = makeInstallers(ws, ws.path() / "stick/notes.txt");
    fs::copy_file(installers / "appended.exe", ws.path() / "stick/program.exe");
    // System files: pictures, documentation, compressed changelogs, shared libraries.
    std::size_t copied = 0;
    auto take = [&](const fs::path& dir, const std::string& ext, std::size_t count, std::uintmax_t maxSize) {
        std::error_code ec;
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) break;
            if (it->is_regular_file(ec) && !it->is_symlink(ec) && it->path().string().ends_with(ext) && it->file_size(ec) <= maxSize)
                found.push_back(it->path());
        }
        std::sort(found.begin(), found.end());
        for (std::size_t i = 0; i < found.size() && i < count; ++i) {
            ws.copy(found[i], "stick/system/" + std::to_string(copied++) + "-" + found[i].filename().string());
        }
    };
    take("/usr/share/doc", ".pdf", 4, 4 << 20);
    take("/usr/share/doc", ".gz", 40, 1 << 20);
    take("/usr/share/icons", ".png", 20, 1 << 20);
    take("/usr/share/pixmaps", ".png", 10, 1 << 20);
    take("/usr/share/pixmaps", ".jpg", 5, 1 << 20);
    take("/usr/lib/x86_64-linux-gnu", ".so.1", 20, 2 << 20);
    take("/usr/share/java", ".jar", 5, 4 << 20);
    take("/usr/share/fonts", ".ttf", 3, 4 << 20);
    REQUIRE(copied >= 20);

    const auto img = makeImage(ws, "everyday.img", "fat32", "none", ws.path() / "stick");
    const auto t0 = Clock::now();
    const auto s = scanImage(ws, img);
    WARN("scan of everyday.img (" << s.report.value("files", json::array()).size() << " files): "
                                  << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
    INFO(s.out << s.err << describe(s.report));
    CHECK(s.exitCode == 0);
    CHECK(s.report.at("reasons").empty());
}

TEST_CASE("Debian's ClamAV test files are detected without any container left unaccounted", "[scan][container][clamav]") {
    const fs::path dir = "/usr/share/clamav-testfiles";
    if (!fs::is_directory(dir)) {
        WARN("SKIP: clamav-testfiles is not installed");
        std::exit(77);
    }
    Workspace ws;
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        ws.copy(e.path(), "tree/" + e.path().filename().string());
        names.insert(e.path().filename().string());
    }
    const auto s = scanFail(ws, makeImage(ws, "testfiles.img", "ext4", "none", ws.path() / "tree"));
    INFO(describe(s.report));
    for (const auto& n : names) {
        INFO(n);
        const auto found = reasonsUnder(s.report, "/p0/" + n);
        bool infected = false;
        for (const auto& r : found) infected |= r.at("code") == "infected";
        CHECK(infected);
    }
    // Nothing the scanner added itself: every reason is a signature or libclamav's own heuristic.
    for (const auto& r : reasons(s.report, "unscannable")) CHECK_THAT(r.at("detail").get<std::string>(), Catch::StartsWith("Heuristics."));
}

TEST_CASE("A disk image is left to the media reader only when the reader opens it", "[scan][container][media]") {
    requireTool("zip");
    Workspace ws;
    makeSources(ws);
    requireTool("7z");
    sh(ws, "(cd inf && 7z a -bd -bso0 -m0=BZip2 ../packed.7z payload.txt)");
    makeFatImage(ws, "fat.img", "packed.7z");
    sh(ws, "zip -q fat.zip fat.img");
    ScannerSession scanner(ws);

    // A disk image the reader opens as media is its business.
    const auto opened = scanner.scan(ws.path() / "fat.img", true);
    CHECK(opened.hits.empty());
    INFO(details(opened));
    // A disk image the reader did not open is unscannable.
    const auto unopened = scanner.scan(ws.path() / "fat.img", false);
    INFO(details(unopened));
    REQUIRE(unopened.hits.size() == 1);
    CHECK(unopened.hits[0].kind == kiosk::proto::Verdict::Unscannable);
    CHECK(unopened.hits[0].member.empty());
    CHECK_THAT(unopened.hits[0].detail, Catch::Contains("FAT filesystem image that the media reader did not open"));
    // The reader then sends the image's files: each is scanned in full,
    // never taken for something libclamav already saw inside the raw image.
    const auto file = scanner.scan(ws.path() / "packed.7z", false);
    INFO(details(file));
    REQUIRE(file.hits.size() == 1);
    CHECK(file.hits[0].kind == kiosk::proto::Verdict::Infected);
    CHECK(file.hits[0].member == "payload.txt");
    // The flag covers the file itself, never a disk image inside it.
    const auto inside = scanner.scan(ws.path() / "fat.zip", true);
    INFO(details(inside));
    REQUIRE(inside.hits.size() == 1);
    CHECK(inside.hits[0].member == "fat.img");
    CHECK_THAT(inside.hits[0].detail, Catch::Contains("inside an archive"));
}
