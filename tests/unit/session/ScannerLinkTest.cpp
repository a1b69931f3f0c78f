// The session's side of the scan worker, with the test playing the scanner
// over a socket pair: its answers are recorded, and whatever it does out of
// turn makes it gone, with the words the report will carry.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include "FakeWorker.h"
#include "kiosk/session/ScannerLink.h"

using namespace kiosk;
using proto::ReasonCode;

namespace {

struct Bench {
    explicit Bench(std::optional<std::string> ended = std::string()) {
        auto pair = proto::Channel::socketPair();
        REQUIRE(pair.ok());
        WorkerLimits limits;
        limits.memoryBytes = 1ull << 30;
        link.emplace(std::make_unique<FakeWorker>(std::move(pair->first), &killed, std::move(ended)), limits);
        scanner.emplace(std::move(pair->second));
        state.readerSandboxed();
        REQUIRE(state.partition(proto::Partition{1, 1, "/p1/", "mbr", "fat32", "", 0, 1024}).ok());
    }
    ScannerWord say(const proto::Frame& frame, int fd = -1) {
        REQUIRE(scanner->send(frame, fd).ok());
        return link->take(state, sandbox);
    }
    void ready() { CHECK(say(proto::encode(proto::Sandboxed{"seccomp,landlock"})).kind == ScannerWord::Kind::Nothing); }
    // The reader announces file `id` with content, and the link sends it on.
    void sendFile(std::uint64_t id, std::string path, std::uint64_t size) {
        proto::FileEntry e;
        e.id = id;
        e.partition = 1;
        e.path = std::move(path);
        e.size = size;
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        UniqueFd r(fds[0]), w(fds[1]);
        REQUIRE(state.file(e, true).ok());
        link->send(e, "a.txt", std::move(r));
    }

    SessionState state{ScanSettings{}, false};
    std::map<std::string, std::string> sandbox;
    bool killed = false;
    std::optional<ScannerLink> link;
    std::optional<proto::Channel> scanner;
};

}  // namespace

TEST_CASE("Files go to the scanner and its answers come back into the session", "[session]") {
    Bench b;
    b.ready();
    CHECK(b.state.scannerIsReady());
    CHECK(b.sandbox["scanner"] == "seccomp,landlock");

    b.sendFile(7, "/p1/a.txt", 3);
    CHECK(b.link->flush(b.state).empty());
    auto got = b.scanner->receive();
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    auto req = proto::decodeScanRequest((*got)->frame);
    REQUIRE(req.ok());
    CHECK(req->id == 7);
    CHECK(req->name == "a.txt");
    CHECK((*got)->fd.valid());

    proto::ScanResult res;
    res.id = 7;
    res.mime = "text/plain";
    res.hits.push_back({proto::Verdict::Infected, "", "Eicar-Signature"});
    const auto word = b.say(proto::encode(res));
    REQUIRE(word.kind == ScannerWord::Kind::Answer);
    CHECK(word.id == 7);
    CHECK(word.size == 3);
    CHECK(b.state.evidenceSince(word.reasonsBefore));
    CHECK_FALSE(b.state.hasPending());
    CHECK(hasReason(b.state.finish(Report{}), ReasonCode::Infected, "/p1/a.txt", "Eicar-Signature"));
}

TEST_CASE("A scanner that answers out of turn is gone", "[session]") {
    SECTION("a result before it said it is sandboxed") {
        Bench b;
        proto::ScanResult res;
        res.id = 1;
        const auto word = b.say(proto::encode(res));
        CHECK(word.kind == ScannerWord::Kind::Gone);
        CHECK(word.why == "unexpected message type 31");
    }
    SECTION("a result for a file that was not sent") {
        Bench b;
        b.ready();
        proto::ScanResult res;
        res.id = 9;
        const auto word = b.say(proto::encode(res));
        CHECK(word.kind == ScannerWord::Kind::Gone);
        CHECK(word.why == "result for a file that was not sent");
    }
    SECTION("a descriptor") {
        Bench b;
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        UniqueFd r(fds[0]), w(fds[1]);
        const auto word = b.say(proto::encode(proto::Sandboxed{"x"}), r.get());
        CHECK(word.kind == ScannerWord::Kind::Gone);
        CHECK(word.why == "scanner sent a descriptor");
        CHECK_FALSE(b.state.scannerIsReady());
    }
    SECTION("its own failure") {
        Bench b;
        b.ready();
        const auto word = b.say(proto::encode(proto::Fatal{"engine out of memory"}));
        CHECK(word.kind == ScannerWord::Kind::Gone);
        CHECK(word.why == "scanner failed: engine out of memory");
    }
}

TEST_CASE("A scanner that stops says how it ended", "[session]") {
    SECTION("it hung up") {
        Bench b(std::string("killed by signal 6 (Aborted)"));
        b.ready();
        b.scanner->close();
        const auto word = b.link->take(b.state, b.sandbox);
        CHECK(word.kind == ScannerWord::Kind::Gone);
        CHECK(word.why == "the scanner stopped (killed by signal 6 (Aborted): it aborted, possibly out of memory (limit 1.0 GiB))");
        CHECK_FALSE(b.killed);
    }
    SECTION("it sent bytes that are not a frame and still runs: it is killed") {
        Bench b(std::nullopt);
        REQUIRE(::send(b.scanner->fd(), "xy", 2, 0) == 2);
        const auto word = b.link->take(b.state, b.sandbox);
        CHECK(word.kind == ScannerWord::Kind::Gone);
        CHECK(b.killed);
        CHECK(word.why == "the scanner stopped (killed by signal 9 (Killed))");
    }
}

TEST_CASE("After the session, a scanner still counted on that did not exit cleanly is a reason", "[session]") {
    Bench b(std::string("exited with status 3"));
    b.ready();
    b.link->hangUp();
    b.link->collect(b.state);
    CHECK(hasReason(b.state.finish(Report{}), ReasonCode::Unscannable, "/",
                    "the scanner exited with status 3: it could not enter its sandbox"));
}
