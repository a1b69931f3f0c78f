// The verdict of a scan session as it accumulates, fed by hand with what the
// reader and the scanner would say: no worker, no media. Whatever was not
// read, answered and found clean must end as FAIL with a reason.
#include <catch2/catch.hpp>

#include "kiosk/session/SessionState.h"

using kiosk::FileFate;
using kiosk::Report;
using kiosk::ScanSettings;
using kiosk::SessionState;
using kiosk::proto::Content;
using kiosk::proto::ReasonCode;

namespace {

kiosk::proto::Partition volume(std::uint32_t id, std::string path) {
    kiosk::proto::Partition p;
    p.id = id;
    p.index = id;
    p.path = std::move(path);
    p.scheme = "mbr";
    p.fs = "fat32";
    return p;
}

kiosk::proto::FileEntry entry(std::uint64_t id, std::string path, std::uint64_t size, Content content = Content::Attached,
                              std::uint32_t partition = 1) {
    kiosk::proto::FileEntry e;
    e.id = id;
    e.partition = partition;
    e.path = std::move(path);
    e.size = size;
    e.content = content;
    return e;
}

kiosk::proto::ScanResult clean(std::uint64_t id, std::string mime = "text/plain") {
    kiosk::proto::ScanResult r;
    r.id = id;
    r.mime = std::move(mime);
    return r;
}

// A scanning session whose workers both said they are sandboxed, with one volume /p1/.
SessionState started(const ScanSettings& s = ScanSettings{}) {
    SessionState st(s, false);
    st.readerSandboxed();
    st.scannerReady();
    REQUIRE(st.partition(volume(1, "/p1/")).ok());
    return st;
}

bool hasReason(const Report& r, ReasonCode code, const std::string& path, const std::string& detailPart) {
    for (const auto& x : r.reasons)
        if (x.code == code && x.path == path && x.detail.find(detailPart) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("A medium read to its end with every file scanned clean is PASS", "[session]") {
    auto st = started();
    REQUIRE(*st.file(entry(1, "/p1/a.txt", 5), true) == FileFate::Scan);
    REQUIRE(*st.file(entry(2, "/p1/empty.txt", 0, Content::Empty), false) == FileFate::Done);
    CHECK_FALSE(st.finished());   // a.txt still waits for the scanner
    REQUIRE(st.result(clean(1)).ok());
    REQUIRE(st.readerFinished(2).ok());
    CHECK(st.finished());
    const Report r = st.finish(Report{});
    CHECK(r.pass);
    CHECK(r.reasons.empty());
    REQUIRE(r.files.size() == 2);
    CHECK(r.files[0].path == "/p1/a.txt");
    CHECK(r.files[0].mime == "text/plain");
    CHECK(r.filesScanned == 2);   // an empty file counts as scanned
    CHECK(r.bytesScanned == 5);
    REQUIRE(r.partitions.size() == 1);
    CHECK(r.partitions[0].path == "/p1/");
    CHECK_FALSE(r.manifestSha256.empty());
}

TEST_CASE("No files and no errors is PASS only when the whole medium was read", "[session]") {
    SECTION("the reader said it was done") {
        auto st = started();
        REQUIRE(st.readerFinished(0).ok());
        CHECK(st.finished());
        CHECK(st.finish(Report{}).pass);
    }
    SECTION("the reader hung up without saying so") {
        auto st = started();
        st.readerHungUp("media reader stopped before the end of the media (exited early)");
        CHECK(st.finished());
        const Report r = st.finish(Report{});
        CHECK_FALSE(r.pass);
        CHECK(hasReason(r, ReasonCode::Unscannable, "/", "before the end of the media"));
    }
    SECTION("a hang-up after the last message is no reason") {
        auto st = started();
        REQUIRE(st.readerFinished(0).ok());
        st.readerHungUp("never said");
        CHECK(st.finish(Report{}).pass);
    }
}

TEST_CASE("A walk that stopped early is FAIL with its reason", "[session]") {
    auto st = started();
    REQUIRE(st.file(entry(1, "/p1/a.txt", 0, Content::Empty), false).ok());
    st.stopReader(ReasonCode::ReadError, "media reader failed: bad sector");
    CHECK_FALSE(st.readerReading());
    CHECK(st.finished());
    const Report r = st.finish(Report{});
    CHECK_FALSE(r.pass);
    CHECK(hasReason(r, ReasonCode::ReadError, "/", "bad sector"));
}

TEST_CASE("The session waits for the engine to be known, even for an empty stick", "[session]") {
    SessionState st(ScanSettings{}, false);
    st.readerSandboxed();
    REQUIRE(st.readerFinished(0).ok());
    CHECK_FALSE(st.finished());
    st.scannerReady();
    CHECK(st.finished());
}

TEST_CASE("A file cut short is FAIL", "[session]") {
    SECTION("the reader reports the file it could not read to the end") {
        auto st = started();
        REQUIRE(st.file(entry(1, "/p1/big.bin", 0, Content::Empty), false).ok());
        st.reason(ReasonCode::ReadError, "/p1/big.bin", "read error at byte 4096");
        REQUIRE(st.readerFinished(1).ok());
        const Report r = st.finish(Report{});
        CHECK_FALSE(r.pass);
        CHECK(hasReason(r, ReasonCode::ReadError, "/p1/big.bin", "byte 4096"));
    }
    SECTION("the scanner could not scan all of it") {
        auto st = started();
        REQUIRE(st.file(entry(1, "/p1/deep.zip", 100), true).ok());
        auto res = clean(1, "application/zip");
        res.hits.push_back({kiosk::proto::Verdict::Unscannable, "", "recursion limit"});
        REQUIRE(st.result(res).ok());
        REQUIRE(st.readerFinished(1).ok());
        const Report r = st.finish(Report{});
        CHECK_FALSE(r.pass);
        CHECK(hasReason(r, ReasonCode::Unscannable, "/p1/deep.zip", "recursion limit"));
        CHECK(r.filesScanned == 0);   // not counted as scanned
        CHECK(r.bytesScanned == 0);
    }
    SECTION("a file over the scan limit is unscannable") {
        ScanSettings s;
        s.maxFileSize = 1024;
        auto st = started(s);
        REQUIRE(*st.file(entry(1, "/p1/huge.iso", 4096, Content::TooLarge), false) == FileFate::Done);
        const Report r = st.finish(Report{});
        CHECK(hasReason(r, ReasonCode::Unscannable, "/p1/huge.iso", "exceeds the scan limit of 1.0 KiB"));
    }
    SECTION("but a disk image over it is scanned through its own files, which follow") {
        ScanSettings s;
        s.maxFileSize = 1024;
        auto st = started(s);
        auto e = entry(1, "/p1/disk.vhd", 4096, Content::TooLarge);
        e.media = true;
        REQUIRE(st.file(e, false).ok());
        CHECK(st.finish(Report{}).pass);
    }
}

TEST_CASE("When the scanner stops, every file waiting for it is FAIL and the reader is stopped", "[session]") {
    auto st = started();
    REQUIRE(st.file(entry(1, "/p1/a.txt", 5), true).ok());
    REQUIRE(st.file(entry(2, "/p1/b.txt", 7), true).ok());
    CHECK(st.pendingSize(2) == 7);
    REQUIRE(st.result(clean(1)).ok());
    CHECK(st.scannerGone("the scanner stopped (killed by signal 9)"));   // the caller must end the reader
    CHECK_FALSE(st.scannerOpen());
    CHECK_FALSE(st.hasPending());
    CHECK(st.finished());
    const Report r = st.finish(Report{});
    CHECK_FALSE(r.pass);
    // Sorted by path, then code; otherwise in the order they came.
    REQUIRE(r.reasons.size() == 3);
    CHECK(r.reasons[0].path == "/");
    CHECK(r.reasons[0].detail == "the scanner stopped (killed by signal 9)");
    CHECK(r.reasons[1].path == "/");
    CHECK(r.reasons[1].detail == "scan stopped: the scanner stopped (killed by signal 9)");
    CHECK(r.reasons[2].path == "/p1/b.txt");
    CHECK(r.reasons[2].detail == "not scanned: the scanner stopped");
}

TEST_CASE("A scanner that stops after the media was read leaves the reader alone", "[session]") {
    auto st = started();
    REQUIRE(st.readerFinished(0).ok());
    CHECK_FALSE(st.scannerGone("the scanner stopped (exited early)"));
    CHECK_FALSE(st.finish(Report{}).pass);
}

TEST_CASE("A stalled session stops both workers and is FAIL", "[session]") {
    SECTION("while reading") {
        auto st = started();
        REQUIRE(st.file(entry(1, "/p1/a.txt", 5), true).ok());
        CHECK(st.stalled(30));
        const Report r = st.finish(Report{});
        CHECK_FALSE(r.pass);
        CHECK(hasReason(r, ReasonCode::ReadError, "/", "media reader stalled: no progress for 30 s: the scan was stopped"));
        CHECK(hasReason(r, ReasonCode::Unscannable, "/", "no progress for 30 s"));
        CHECK(hasReason(r, ReasonCode::Unscannable, "/p1/a.txt", "not scanned"));
    }
    SECTION("while waiting for the scanner only") {
        auto st = started();
        REQUIRE(st.file(entry(1, "/p1/a.txt", 5), true).ok());
        REQUIRE(st.readerFinished(1).ok());
        CHECK_FALSE(st.stalled(30));
        const Report r = st.finish(Report{});
        CHECK_FALSE(hasReason(r, ReasonCode::ReadError, "/", "stalled"));
        CHECK(hasReason(r, ReasonCode::Unscannable, "/p1/a.txt", "not scanned"));
    }
    SECTION("a manifest has no scanner to stop") {
        SessionState st(ScanSettings{}, true);
        CHECK(st.stalled(5));
        const Report r = st.finish(Report{});
        REQUIRE(r.reasons.size() == 1);
        CHECK(r.reasons[0].code == ReasonCode::ReadError);
    }
}

TEST_CASE("The reader's messages that contradict each other are refused", "[session]") {
    auto st = started();
    SECTION("partitions out of order or twice") {
        CHECK_FALSE(st.partition(volume(3, "/p3/")).ok());
        CHECK_FALSE(st.partition(volume(2, "/p1/")).ok());
        CHECK(st.partition(volume(2, "/p2/")).ok());
    }
    SECTION("a file in an unannounced partition or outside its own") {
        CHECK_FALSE(st.file(entry(1, "/p2/a.txt", 1, Content::Attached, 2), true).ok());
        CHECK_FALSE(st.file(entry(1, "/p2/a.txt", 1), true).ok());
        CHECK_FALSE(st.file(entry(1, "/p1/", 1), true).ok());
    }
    SECTION("file ids that do not increase") {
        REQUIRE(st.file(entry(5, "/p1/a.txt", 1), true).ok());
        CHECK_FALSE(st.file(entry(5, "/p1/b.txt", 1), true).ok());
        CHECK_FALSE(st.file(entry(4, "/p1/c.txt", 1), true).ok());
    }
    SECTION("content that comes without its descriptor, or a descriptor without content") {
        CHECK_FALSE(st.file(entry(1, "/p1/a.txt", 1), false).ok());
        CHECK_FALSE(st.file(entry(2, "/p1/b.txt", 0, Content::Empty), true).ok());
    }
    SECTION("a count of files that differs from what arrived") {
        REQUIRE(st.file(entry(1, "/p1/a.txt", 1), true).ok());
        const auto done = st.readerFinished(2);
        REQUIRE_FALSE(done.ok());
        CHECK_THAT(done.error().message, Catch::Contains("reader counted 2 files but announced 1"));
        CHECK_FALSE(st.readerDone());
    }
    SECTION("a scan result for a file that was not sent") {
        CHECK_FALSE(st.result(clean(9)).ok());
    }
}

TEST_CASE("Findings in a file and in its archive members are named where they are", "[session]") {
    auto st = started();
    REQUIRE(st.file(entry(1, "/p1/a.zip", 100), true).ok());
    const auto before = st.reasonCount();
    auto res = clean(1, "application/zip");
    res.hits.push_back({kiosk::proto::Verdict::Infected, "docs/x.com", "Eicar-Signature"});
    REQUIRE(st.result(res).ok());
    CHECK(st.evidenceSince(before));
    REQUIRE(st.readerFinished(1).ok());
    const Report r = st.finish(Report{});
    CHECK_FALSE(r.pass);
    CHECK(hasReason(r, ReasonCode::Infected, "/p1/a.zip!docs/x.com", "Eicar-Signature"));
    CHECK(r.filesScanned == 1);   // infected is scanned to the end
}

TEST_CASE("The file-type policy applies to names and to the types the scanner found", "[session]") {
    auto st = started();
    const auto before = st.reasonCount();
    REQUIRE(st.file(entry(1, "/p1/autorun.inf", 0, Content::Empty), false).ok());
    CHECK(st.evidenceSince(before));
    REQUIRE(st.file(entry(2, "/p1/invoice.pdf", 10), true).ok());
    REQUIRE(st.result(clean(2, "application/x-dosexec")).ok());
    const Report r = st.finish(Report{});
    CHECK(hasReason(r, ReasonCode::BlockedFileType, "/p1/autorun.inf", ""));
    CHECK(hasReason(r, ReasonCode::TypeMismatch, "/p1/invoice.pdf", ""));
}

TEST_CASE("A manifest hashes every file and judges none", "[session]") {
    SessionState st(ScanSettings{}, true);
    CHECK_FALSE(st.scannerOpen());
    REQUIRE(st.partition(volume(1, "/p1/")).ok());
    CHECK(*st.file(entry(1, "/p1/autorun.inf", 10, Content::TooLarge), false) == FileFate::Done);
    CHECK_FALSE(st.file(entry(2, "/p1/b.txt", 10), true).ok());   // content although nothing is scanned
    REQUIRE(st.readerFinished(1).ok());
    CHECK(st.finished());
    st.requireFreshSignatures(kiosk::EngineInfo{}, 7);   // no signatures needed
    const Report r = st.finish(Report{});
    CHECK(r.pass);
    CHECK(r.files.size() == 1);
    CHECK(r.filesScanned == 0);
}

TEST_CASE("Old or undated signatures are FAIL signatures-outdated", "[session]") {
    const auto now = *kiosk::parseRfc3339("2026-12-10T00:00:00Z");
    kiosk::EngineInfo engine;
    SECTION("unknown age") {
        auto st = started();
        st.requireFreshSignatures(engine, 7, now);
        const Report r = st.finish(Report{});
        CHECK(hasReason(r, ReasonCode::SignaturesOutdated, "/", "the signatures' age is unknown (the limit is 7 days)"));
    }
    SECTION("older than the limit") {
        engine.dbTime = "2026-12-01T00:00:00Z";
        auto st = started();
        st.requireFreshSignatures(engine, 7, now);
        const Report r = st.finish(Report{});
        CHECK(hasReason(r, ReasonCode::SignaturesOutdated, "/", "the signatures are 9.0 days old (the limit is 7 days)"));
    }
    SECTION("within the limit") {
        engine.dbTime = "2026-12-05T00:00:00Z";
        auto st = started();
        st.requireFreshSignatures(engine, 7, now);
        CHECK(st.finish(Report{}).pass);
    }
}
