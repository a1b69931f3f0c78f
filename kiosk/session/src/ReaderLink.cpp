#include "kiosk/session/ReaderLink.h"

#include <fcntl.h>

#include <algorithm>
#include <thread>

#include "kiosk/workers/WorkerProcess.h"
#include "qkiosk/protocol/SandboxSpec.h"

namespace kiosk {

using proto::ReasonCode;

namespace {
constexpr std::uint32_t kInflightFiles = 64;
}  // namespace

Result<ReaderLink> ReaderLink::start(const Media& media, const ScanSettings& s, const SandboxSettings& sandbox,
                                     const WorkerLimits& limits, bool scanning) {
    sandbox::Spec spec;
    spec.uid = limits.uid;
    spec.gid = limits.gid;
    // The reader maps one file at a time while it copies it; what libtsk
    // needs besides is small, unless a hostile filesystem makes it
    // allocate what its metadata claims (fuzz_media_reader found 1.8 GB
    // for a 75 KB ext4 image).
    spec.memoryBytes = sandbox.memoryLimit ? limits.memoryBytes : (512ull << 20) + s.maxFileSize;
    spec.cpuSeconds = limits.cpuSeconds;
    spec.maxFileBytes = s.maxFileSize;   // its memfds: one per file, never larger
    auto process = WorkerProcess::start(workerPath("qkiosk-reader"), sandbox::toOptions(spec));
    if (!process) return process.error();
    ReaderLink link(asWorker(std::move(*process)), limits);

    // The reader gets its own descriptor of the media, read-only, and nothing else.
    const std::uint32_t scanThreads = s.threads ? s.threads : std::max(1u, std::thread::hardware_concurrency());
    // Without a scanner no content is sent: every file is only hashed (its "scan limit" is 0).
    link.channel().enqueue(proto::encode(proto::ReadStart{media.size, scanning ? s.maxFileSize : 0, s.inflightBytes, kInflightFiles,
                                                          std::min(scanThreads, kInflightFiles), s.maxImageDepth,
                                                          s.maxImageBytes, media.sectorSize}),
                           UniqueFd(::fcntl(media.fd.get(), F_DUPFD_CLOEXEC, 3)));
    return link;
}

void ReaderLink::flush(SessionState& state) {
    if (auto st = channel().flush(); !st && state.readerReading())
        stop(state, ReasonCode::Unscannable, explainBreak(*worker_, "media reader", st.error().message, limits_) + " before the end of the media");
}

void ReaderLink::acknowledge(std::uint64_t id) { channel().enqueue(proto::encode(proto::FileAck{id})); }

void ReaderLink::end() {
    worker_->kill();
    channel().close();
}

void ReaderLink::stop(SessionState& state, ReasonCode code, const std::string& why) {
    end();
    state.stopReader(code, why);
}

std::optional<ReaderFile> ReaderLink::take(SessionState& state, std::map<std::string, std::string>& sandbox) {
    auto in = receiveFrom(channel());
    if (in.kind == Incoming::Kind::Broken) {
        stop(state, ReasonCode::Unscannable, explainBreak(*worker_, "media reader", in.error, limits_));
        return std::nullopt;
    }
    if (in.kind == Incoming::Kind::Closed) {
        channel().close();
        const auto how = worker_->wait();
        state.readerHungUp("media reader stopped before the end of the media (" + explainEarlyEnd(how, limits_) + ")");
        return std::nullopt;
    }
    auto& msg = in.message;
    if (!state.readerIsSandboxed()) {
        // Its first message says it is sandboxed; nothing else is taken before it.
        auto sb = msg.frame.type == proto::MsgType::Sandboxed ? proto::decodeSandboxed(msg.frame)
                                                              : Result<proto::Sandboxed>(makeError("it did not say it is sandboxed"));
        if (sb) {
            state.readerSandboxed();
            sandbox["reader"] = sb->summary;
        } else {
            stop(state, ReasonCode::Unscannable, "media reader refused: " + sb.error().message);
        }
        return std::nullopt;
    }
    Status st{};
    auto file = apply(state, msg, st);
    if (!st) stop(state, ReasonCode::ReadError, "media reader sent an invalid message: " + st.error().message);
    return file;
}

std::optional<ReaderFile> ReaderLink::apply(SessionState& state, proto::Received& msg, Status& st) {
    switch (msg.frame.type) {
        case proto::MsgType::Partition: {
            auto p = proto::decodePartition(msg.frame);
            st = p ? state.partition(*p) : Status(p.error());
            return std::nullopt;
        }
        case proto::MsgType::FileEntry: {
            auto e = proto::decodeFileEntry(msg.frame);
            if (!e) {
                st = e.error();
                return std::nullopt;
            }
            const auto reasonsBefore = state.reasonCount();
            auto fate = state.file(*e, msg.fd.valid());
            if (!fate) {
                st = fate.error();
                return std::nullopt;
            }
            return ReaderFile{std::move(*e), std::move(msg.fd), *fate, reasonsBefore};
        }
        case proto::MsgType::Finding: {
            auto f = proto::decodeFinding(msg.frame);
            if (f) state.reason(f->code, f->path, f->detail);
            else st = f.error();
            return std::nullopt;
        }
        case proto::MsgType::ReaderDone: {
            auto d = proto::decodeReaderDone(msg.frame);
            st = d ? state.readerFinished(d->files) : Status(d.error());
            // The last message: hanging up lets the reader exit.
            if (st) channel().close();
            return std::nullopt;
        }
        case proto::MsgType::Fatal: {
            auto f = proto::decodeFatal(msg.frame);
            stop(state, ReasonCode::ReadError, "media reader failed: " + (f ? f->message : f.error().message));
            return std::nullopt;
        }
        default: st = makeError("unexpected message type"); return std::nullopt;
    }
}

void ReaderLink::collect(SessionState& state) {
    channel().close();
    if (const auto how = worker_->wait(); !how.empty() && state.readerDone())
        state.reason(ReasonCode::Unscannable, "/", "media reader " + explainEnd(how, limits_));
}

}  // namespace kiosk
