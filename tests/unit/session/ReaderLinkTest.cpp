// The session's side of the media reader, with the test playing the reader
// over a socket pair: what it says is recorded, and whatever it does out of
// turn stops it with a reason.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include "FakeWorker.h"
#include "kiosk/session/ReaderLink.h"

using namespace kiosk;
using proto::ReasonCode;

namespace {

struct Bench {
    explicit Bench(std::optional<std::string> ended = std::string()) {
        auto pair = proto::Channel::socketPair();
        REQUIRE(pair.ok());
        WorkerLimits limits;
        limits.cpuSeconds = 60;
        link.emplace(std::make_unique<FakeWorker>(std::move(pair->first), &killed, std::move(ended)), limits);
        reader.emplace(std::move(pair->second));
    }
    // The reader says `frame` (with `fd`), and the link takes it.
    std::optional<ReaderFile> say(const proto::Frame& frame, int fd = -1) {
        REQUIRE(reader->send(frame, fd).ok());
        return link->take(state, sandbox);
    }
    void sandboxed() { CHECK_FALSE(say(proto::encode(proto::Sandboxed{"seccomp,uid=65534"}))); }

    SessionState state{ScanSettings{}, false};
    std::map<std::string, std::string> sandbox;
    bool killed = false;
    std::optional<ReaderLink> link;
    std::optional<proto::Channel> reader;
};

proto::FileEntry fileEntry(std::uint64_t id, std::string path, proto::Content content) {
    proto::FileEntry e;
    e.id = id;
    e.partition = 1;
    e.path = std::move(path);
    e.size = content == proto::Content::Empty ? 0 : 3;
    e.content = content;
    return e;
}

}  // namespace

TEST_CASE("A reader's volumes, files and last word go into the session", "[session]") {
    Bench b;
    b.sandboxed();
    CHECK(b.sandbox["reader"] == "seccomp,uid=65534");
    CHECK_FALSE(b.say(proto::encode(proto::Partition{1, 1, "/p1/", "mbr", "fat32", "STICK", 0, 1024})));

    int pipeFds[2];
    REQUIRE(::pipe(pipeFds) == 0);
    UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
    auto file = b.say(proto::encode(fileEntry(1, "/p1/a.txt", proto::Content::Attached)), readEnd.get());
    REQUIRE(file);
    CHECK(file->fate == FileFate::Scan);
    CHECK(file->entry.path == "/p1/a.txt");
    CHECK(file->content.valid());

    auto empty = b.say(proto::encode(fileEntry(2, "/p1/empty", proto::Content::Empty)));
    REQUIRE(empty);
    CHECK(empty->fate == FileFate::Done);
    CHECK_FALSE(empty->content.valid());

    CHECK_FALSE(b.say(proto::encode(proto::Finding{ReasonCode::CorruptFilesystem, "/p1/", "FAT copies differ"})));
    CHECK_FALSE(b.say(proto::encode(proto::ReaderDone{2, 3})));
    CHECK(b.state.readerDone());
    CHECK_FALSE(b.killed);
    const Report r = b.state.finish(Report{});
    CHECK(r.files.size() == 2);
    REQUIRE(r.reasons.size() == 1);
    CHECK(r.reasons[0].code == ReasonCode::CorruptFilesystem);
}

TEST_CASE("A reader that speaks before it says it is sandboxed is stopped", "[session]") {
    Bench b;
    CHECK_FALSE(b.say(proto::encode(proto::Partition{1, 1, "/p1/", "mbr", "fat32", "", 0, 1024})));
    CHECK(b.killed);
    CHECK_FALSE(b.state.readerOpen());
    CHECK(hasReason(b.state.finish(Report{}), ReasonCode::Unscannable, "/", "media reader refused: it did not say it is sandboxed"));
}

TEST_CASE("A reader that hangs up before its last message is FAIL, saying how it ended", "[session]") {
    SECTION("a clean exit too soon") {
        Bench b;
        b.sandboxed();
        b.reader->close();
        CHECK_FALSE(b.link->take(b.state, b.sandbox));
        CHECK(hasReason(b.state.finish(Report{}), ReasonCode::Unscannable, "/",
                        "media reader stopped before the end of the media (exited early)"));
    }
    SECTION("over its CPU time") {
        Bench b(std::string("killed by signal 24 (CPU time limit exceeded)"));
        b.sandboxed();
        b.reader->close();
        CHECK_FALSE(b.link->take(b.state, b.sandbox));
        CHECK(hasReason(b.state.finish(Report{}), ReasonCode::Unscannable, "/",
                        "(killed by signal 24 (CPU time limit exceeded): it exceeded its CPU time limit of 60 s)"));
    }
}

TEST_CASE("A reader that breaks the protocol is stopped and the media counts as not read", "[session]") {
    SECTION("a message that contradicts what came before") {
        Bench b;
        b.sandboxed();
        CHECK_FALSE(b.say(proto::encode(fileEntry(1, "/p1/a.txt", proto::Content::Empty))));   // no /p1/ announced
        CHECK(b.killed);
        CHECK(hasReason(b.state.finish(Report{}), ReasonCode::ReadError, "/",
                        "media reader sent an invalid message: file in an unannounced partition"));
    }
    SECTION("a count of files that differs from what arrived") {
        Bench b;
        b.sandboxed();
        CHECK_FALSE(b.say(proto::encode(proto::ReaderDone{3, 0})));
        CHECK(b.killed);
        CHECK_FALSE(b.state.readerDone());
        CHECK(hasReason(b.state.finish(Report{}), ReasonCode::ReadError, "/", "reader counted 3 files but announced 0"));
    }
    SECTION("its own failure") {
        Bench b;
        b.sandboxed();
        CHECK_FALSE(b.say(proto::encode(proto::Fatal{"cannot read sector 7"})));
        CHECK(b.killed);
        CHECK(hasReason(b.state.finish(Report{}), ReasonCode::ReadError, "/", "media reader failed: cannot read sector 7"));
    }
    SECTION("bytes that are not a frame, from a reader still running") {
        Bench b(std::nullopt);
        b.sandboxed();
        REQUIRE(::send(b.reader->fd(), "xy", 2, 0) == 2);
        CHECK_FALSE(b.link->take(b.state, b.sandbox));
        CHECK(b.killed);
        CHECK(hasReason(b.state.finish(Report{}), ReasonCode::Unscannable, "/", "media reader sent an invalid frame: "));
    }
}

TEST_CASE("After the session, a reader that said it was done but did not exit cleanly is a reason", "[session]") {
    Bench b(std::string("killed by signal 31 (Bad system call)"));
    b.sandboxed();
    CHECK_FALSE(b.say(proto::encode(proto::ReaderDone{0, 0})));
    b.link->collect(b.state);
    CHECK(hasReason(b.state.finish(Report{}), ReasonCode::Unscannable, "/",
                    "media reader killed by signal 31 (Bad system call): the sandbox stopped a forbidden system call"));
}
