// qkiosk-reader: the media reader worker. Links libtsk (CPL-1.0/IPL-1.0) and
// never libclamav. Talks to the front end over the SOCK_SEQPACKET socket on
// fd 3: receives ReadStart with the read-only media descriptor, sends one
// Partition per volume, one FileEntry per file (with a sealed memfd holding
// the bytes, hashed on the way), Findings, and ReaderDone.
//
// It enters its sandbox (qkiosk/sandbox/Sandbox.h) before it reads its first
// message, so not one media byte is parsed outside it.
//   qkiosk-reader --sandbox-uid N --sandbox-gid N --sandbox-memory B --sandbox-cpu S
//   qkiosk-reader --sandbox-self-test     (enters the sandbox, then tries to open a socket)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <unordered_map>

#include "MediaReader.h"
#include "qkiosk/protocol/Channel.h"
#include "qkiosk/base/Sha256.h"
#include "qkiosk/base/Text.h"
#include "qkiosk/sandbox/Sandbox.h"

namespace kiosk::scan {
namespace {

constexpr int kSocketFd = 3;
constexpr std::size_t kChunk = 1 << 20;

class ProtocolSink : public MediaSink {
public:
    ProtocolSink(proto::Channel& channel, const proto::ReadStart& start) : ch_(channel), start_(start) {}

    Status partition(const proto::Partition& p) override { return ch_.send(proto::encode(p)); }

    Status finding(proto::ReasonCode code, const std::string& path, const std::string& detail) override {
        return ch_.send(proto::encode(proto::Finding{code, path, truncateUtf8(detail, proto::kMaxText)}));
    }

    Status file(std::uint32_t partition, const std::string& path, std::uint64_t size, bool media,
                const ContentReader& read) override {
        if (path.size() > proto::kMaxPath)
            return finding(proto::ReasonCode::Unscannable, truncateUtf8(path, 256) + "...", "path too long to report");
        proto::FileEntry entry{nextId_++, partition, path, size, {}, proto::Content::Attached, media};
        if (size == 0) {
            entry.content = proto::Content::Empty;
            entry.sha256 = Sha256().finish();
            files_++;
            return ch_.send(proto::encode(entry));
        }
        if (size > start_.maxFileSize) {
            // Too large to scan: still read every byte for the manifest, so the
            // ticket describes the whole media.
            entry.content = proto::Content::TooLarge;
            auto digest = hashOnly(path, size, read);
            if (!digest) return finding(proto::ReasonCode::ReadError, path, digest.error().message);
            entry.sha256 = *digest;
            files_++;
            bytes_ += size;
            return ch_.send(proto::encode(entry));
        }
        auto wait = waitForRoom(size);
        if (!wait) return wait;
        bool outOfMemory = false;
        auto memfd = copyToMemfd(path, size, read, entry.sha256, outOfMemory);
        if (!memfd)
            return finding(outOfMemory ? proto::ReasonCode::Unscannable : proto::ReasonCode::ReadError, path,
                           memfd.error().message);
        inflight_[entry.id] = size;
        inflightBytes_ += size;
        files_++;
        bytes_ += size;
        return ch_.send(proto::encode(entry), memfd->get());
    }

    std::uint64_t files() const { return files_; }
    std::uint64_t bytes() const { return bytes_; }

private:
    // Back-pressure: memory held by unscanned content stays under the budget,
    // except that minInflightFiles files (one per scan thread) may always be
    // in flight however large: at most max(budget, threads x max file size).
    Status waitForRoom(std::uint64_t size) {
        while (inflight_.size() >= start_.minInflightFiles &&
               (inflight_.size() >= start_.inflightFiles || inflightBytes_ + size > start_.inflightBytes)) {
            auto r = ch_.receive();
            if (!r) return r.error();
            if (!r->has_value()) return makeError("front end closed the channel");
            auto ack = proto::decodeFileAck((*r)->frame);
            if (!ack) return ack.error();
            auto it = inflight_.find(ack->fileId);
            if (it == inflight_.end()) return makeError("acknowledgement for an unknown file");
            inflightBytes_ -= it->second;
            inflight_.erase(it);
        }
        return {};
    }

    Result<Digest> hashOnly(const std::string&, std::uint64_t size, const ContentReader& read) {
        std::vector<std::uint8_t> buf(kChunk);
        Sha256 h;
        std::uint64_t off = 0;
        while (off < size) {
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - off));
            auto n = read(off, std::span(buf.data(), want));
            if (!n) return n.error();
            if (*n == 0) return makeError("file ends early (" + std::to_string(off) + " of " + std::to_string(size) + " bytes)");
            h.update(std::span(buf.data(), *n));
            off += *n;
        }
        return h.finish();
    }

    // Reads the file straight into a memfd mapping (one copy), hashing each
    // chunk, then seals it so the scanner sees exactly the bytes we hashed.
    Result<UniqueFd> copyToMemfd(const std::string&, std::uint64_t size, const ContentReader& read, Digest& digest,
                                 bool& outOfMemory) {
        UniqueFd fd(::memfd_create("qkiosk-file", MFD_CLOEXEC | MFD_ALLOW_SEALING));
        if (!fd.valid()) return makeError(std::string("memfd_create: ") + std::strerror(errno));
        void* map = MAP_FAILED;
        if (::ftruncate(fd.get(), static_cast<off_t>(size)) == 0)
            map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (map == MAP_FAILED) {
            // The sandbox's memory limit (or the machine's RAM): not scanned, so not clean.
            outOfMemory = true;
            return makeError("the media reader could not hold this file of " + std::to_string(size) +
                             " bytes in memory (" + std::strerror(errno) + "): its memory limit, or the kiosk's RAM");
        }
        auto* bytes = static_cast<std::uint8_t*>(map);
        Sha256 h;
        std::uint64_t off = 0;
        Status status{};
        while (off < size) {
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - off));
            auto n = read(off, std::span(bytes + off, want));
            if (!n) {
                status = n.error();
                break;
            }
            if (*n == 0) {
                status = makeError("file ends early (" + std::to_string(off) + " of " + std::to_string(size) + " bytes)");
                break;
            }
            h.update(std::span(bytes + off, *n));
            off += *n;
        }
        ::munmap(map, size);
        if (!status) return status.error();
        digest = h.finish();
        if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
            return makeError(std::string("cannot seal memfd: ") + std::strerror(errno));
        return fd;
    }

    proto::Channel& ch_;
    proto::ReadStart start_;
    std::uint64_t nextId_ = 1;
    std::unordered_map<std::uint64_t, std::uint64_t> inflight_;
    std::uint64_t inflightBytes_ = 0;
    std::uint64_t files_ = 0;
    std::uint64_t bytes_ = 0;
};

int run(int argc, char** argv) {
    sandbox::Spec spec;
    spec.profile = sandbox::Profile::Reader;
    bool selfTest = false;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--sandbox-self-test") {
            selfTest = true;
            continue;
        }
        auto known = sandbox::parseOption(spec, argc, argv, i);
        if (!known || !*known) {
            std::fprintf(stderr, "qkiosk-reader: %s\n", known ? (std::string(argv[i]) + ": unknown option").c_str()
                                                             : known.error().message.c_str());
            return 2;
        }
    }
    // The reader writes no files: RLIMIT_FSIZE stays 0.
    auto applied = sandbox::enter(spec);
    if (!applied) {
        std::fprintf(stderr, "qkiosk-reader: cannot enter the sandbox: %s\n", applied.error().message.c_str());
        return sandbox::kSandboxFailedExit;
    }
    if (selfTest) {
        // Must not return: the sandbox kills the process on the first forbidden call.
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        std::fprintf(stderr, "qkiosk-reader: the sandbox let a network socket be opened (%d)\n", s);
        return 1;
    }

    proto::Channel ch{UniqueFd(kSocketFd)};
    if (!ch.send(proto::encode(proto::Sandboxed{applied->summary()}))) return 2;
    auto first = ch.receive();
    if (!first || !first->has_value()) {
        std::fprintf(stderr, "qkiosk-reader: no start message: %s\n", first ? "channel closed" : first.error().message.c_str());
        return 2;
    }
    auto start = proto::decodeReadStart((*first)->frame);
    if (!start || !(*first)->fd.valid()) {
        std::fprintf(stderr, "qkiosk-reader: bad start message: %s\n", start ? "no media descriptor" : start.error().message.c_str());
        return 2;
    }
    UniqueFd media = std::move((*first)->fd);
    // The descriptor must be read-only: the reader never needs to write media.
    const int mode = ::fcntl(media.get(), F_GETFL);
    if (mode < 0 || (mode & O_ACCMODE) != O_RDONLY) {
        (void)ch.send(proto::encode(proto::Fatal{"media descriptor is not read-only"}));
        return 2;
    }

    ProtocolSink sink(ch, *start);
    FdSource source(media.get(), start->mediaSize);
    MediaReader reader(source, ImageLimits{start->maxImageDepth, start->maxImageBytes}, start->sectorSize);
    auto s = reader.run(sink);
    if (!s) {
        (void)ch.send(proto::encode(proto::Fatal{s.error().message}));
        return 2;
    }
    s = ch.send(proto::encode(proto::ReaderDone{sink.files(), sink.bytes()}));
    if (!s) return 2;
    // Wait for the front end to hang up: closing with its acknowledgements
    // still unread would reset the connection and could drop our last messages.
    for (;;) {
        auto r = ch.receive();
        if (!r || !r->has_value()) break;
    }
    return 0;
}

}  // namespace
}  // namespace kiosk::scan

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer build's leak checker needs ptrace and /proc at exit, which the
// sandbox forbids; worker leaks are found by the fuzzers and the unit tests.
extern "C" const char* __lsan_default_options() { return "detect_leaks=0"; }
#endif

// Errors are Result values and Fatal messages; an exception reaching this far
// is a bug. It is one line and exit 2 (the front end reports how the reader
// ended and fails the session), never an abort.
int main(int argc, char** argv) {
    const auto internalError = [](const char* what) {
        std::string line = what;
        for (char& c : line)
            if (c == '\n' || c == '\r') c = ' ';
        std::fprintf(stderr, "qkiosk-reader: internal error: %s\n", line.c_str());
    };
    try {
        return kiosk::scan::run(argc, argv);
    } catch (const std::exception& e) {
        internalError(e.what());
    } catch (...) {
        internalError("an unknown exception");
    }
    return 2;
}
