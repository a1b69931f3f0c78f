#include "kiosk/session/ScanSession.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "kiosk/evidence/Evidence.h"
#include "kiosk/session/SessionState.h"
#include "kiosk/files/HashedCopy.h"
#include "kiosk/model/Manifest.h"
#include "kiosk/files/PrivateTempDir.h"
#include "kiosk/workers/ScannerService.h"
#include "kiosk/workers/WorkerProcess.h"
#include "qkiosk/base/Sha256.h"
#include "qkiosk/base/Text.h"
#include "qkiosk/protocol/SandboxSpec.h"

namespace kiosk {
namespace {

using proto::ReasonCode;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kInflightFiles = 64;

// How a worker ended, in words an officer can act on.
std::string explainEnd(const std::string& how, const WorkerLimits& limits) {
    if (how.find("signal 24 ") != std::string::npos)
        return how + ": it exceeded its CPU time limit of " + std::to_string(limits.cpuSeconds) + " s";
    if (how.find("signal 31 ") != std::string::npos) return how + ": the sandbox stopped a forbidden system call";
    if (how.find("signal 6 ") != std::string::npos) return how + ": it aborted, possibly out of memory (limit " + humanBytes(limits.memoryBytes) + ")";
    if (how == "exited with status 3") return how + ": it could not enter its sandbox";
    return how;
}

std::string baseName(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<Report> ScanSession::run(Media& media) {
    const auto& s = options_.settings;
    Report report;
    report.source = printableName(media.path);
    report.mediaSize = media.size;
    report.device = options_.device;
    report.ticketId = newTicketId();
    report.started = rfc3339Now();
    const auto t0 = Clock::now();

    const bool scanning = !options_.manifestOnly;
    if (scanning && (!options_.scanner || !options_.scanner->ready())) return makeError("the scanner is not ready");
    auto limits = resolveWorkerLimits(options_.sandbox, s, media.size);
    if (!limits) return limits.error();

    // libclamav's extractions go to a private folder that the front end makes
    // (for the sandboxed worker's user) and removes: a scanner that is killed
    // cannot leave files in RAM behind.
    std::optional<PrivateTempDir> tmp;
    std::optional<ScanWorker> scanner;
    if (scanning) {
        report.engine = options_.scanner->engine();
        auto dir = PrivateTempDir::create(s.tempDir, "qkiosk-scan-", limits->uid, limits->gid);
        if (!dir) return dir.error();
        tmp.emplace(std::move(*dir));
        auto worker = options_.scanner->openSession(s, *limits, tmp->path());
        if (!worker) return worker.error();
        scanner.emplace(std::move(*worker));
    }
    std::vector<std::string> readerArgs;
    {
        sandbox::Spec spec;
        spec.uid = limits->uid;
        spec.gid = limits->gid;
        // The reader maps one file at a time while it copies it; what libtsk
        // needs besides is small, unless a hostile filesystem makes it
        // allocate what its metadata claims (fuzz_media_reader found 1.8 GB
        // for a 75 KB ext4 image).
        spec.memoryBytes = options_.sandbox.memoryLimit ? limits->memoryBytes : (512ull << 20) + s.maxFileSize;
        spec.cpuSeconds = limits->cpuSeconds;
        spec.maxFileBytes = s.maxFileSize;   // its memfds: one per file, never larger
        readerArgs = sandbox::toOptions(spec);
    }
    auto reader = WorkerProcess::start(workerPath("qkiosk-reader"), readerArgs);
    if (!reader) return reader.error();

    // The reader gets its own descriptor of the media, read-only, and nothing else.
    const std::uint32_t scanThreads = s.threads ? s.threads : std::max(1u, std::thread::hardware_concurrency());
    // Without a scanner no content is sent: every file is only hashed (its "scan limit" is 0).
    reader->channel().enqueue(proto::encode(proto::ReadStart{media.size, scanning ? s.maxFileSize : 0, s.inflightBytes, kInflightFiles,
                                                             std::min(scanThreads, kInflightFiles), s.maxImageDepth,
                                                             s.maxImageBytes, media.sectorSize}),
                              UniqueFd(::fcntl(media.fd.get(), F_DUPFD_CLOEXEC, 3)));

    SessionState c(s, !scanning);
    Progress progress;
    // With evidence on: each file's content while its scan result is pending.
    struct Held {
        UniqueFd fd;
        FileRecord file;
        bool flagged = false;   // its name alone already calls for evidence (deceptive-name)
    };
    std::map<std::uint64_t, Held> held;
    auto lastWord = Clock::now();
    const auto stall = std::chrono::seconds(s.stallTimeoutSeconds);

    auto endReader = [&] {
        reader->kill();
        reader->channel().close();
    };
    auto stopReader = [&](ReasonCode code, const std::string& why) {
        endReader();
        c.stopReader(code, why);
    };
    auto endScanner = [&] {
        if (scanner) {
            scanner->kill();
            scanner->channel().close();
        }
        held.clear();
    };
    // The scanner is gone or unusable: nothing sent to it will be answered,
    // and the reader would wait for acknowledgements forever. End both.
    auto scannerGone = [&](const std::string& why) {
        endScanner();
        if (c.scannerGone(why)) endReader();
    };
    // A broken channel usually means the worker died: say how, rather than
    // blaming its messages. Only a worker still running is misbehaving.
    auto explain = [&](auto& w, const std::string& name, const std::string& error) {
        if (auto how = w.waitFor(std::chrono::milliseconds(500)))
            return name + " stopped (" + (how->empty() ? std::string("exited early") : explainEnd(*how, *limits)) + ")";
        return name + " sent an invalid frame: " + error;
    };

    for (;;) {
        if (c.finished()) break;
        if (auto st = reader->channel().flush(); !st && c.readerReading())
            stopReader(ReasonCode::Unscannable, explain(*reader, "media reader", st.error().message) + " before the end of the media");
        if (auto st = scanning ? scanner->channel().flush() : Status{}; !st && c.scannerOpen()) {
            scannerGone(explain(*scanner, "the scanner", st.error().message));
            continue;
        }

        pollfd fds[2] = {{-1, 0, 0}, {-1, 0, 0}};
        if (c.readerOpen()) fds[0] = {reader->channel().fd(), static_cast<short>(POLLIN | (reader->channel().hasPending() ? POLLOUT : 0)), 0};
        if (c.scannerOpen()) fds[1] = {scanner->channel().fd(), static_cast<short>(POLLIN | (scanner->channel().hasPending() ? POLLOUT : 0)), 0};
        const auto left = stall - (Clock::now() - lastWord);
        const int timeoutMs = static_cast<int>(std::max<long long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
        const int n = ::poll(fds, 2, timeoutMs);
        if (n < 0) {
            if (errno == EINTR) continue;
            return makeError(std::string("poll: ") + std::strerror(errno));
        }
        if (n == 0) {
            if (c.stalled(s.stallTimeoutSeconds)) endReader();
            if (scanning) endScanner();
            break;
        }

        if (c.readerOpen() && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            lastWord = Clock::now();
            auto r = reader->channel().receive();
            if (!r) {
                stopReader(ReasonCode::Unscannable, explain(*reader, "media reader", r.error().message));
            } else if (!r->has_value()) {
                reader->channel().close();
                const auto how = reader->wait();
                c.readerHungUp("media reader stopped before the end of the media (" +
                               (how.empty() ? std::string("exited early") : explainEnd(how, *limits)) + ")");
            } else if (!c.readerIsSandboxed()) {
                auto sb = (**r).frame.type == proto::MsgType::Sandboxed ? proto::decodeSandboxed((**r).frame)
                                                                         : Result<proto::Sandboxed>(makeError("it did not say it is sandboxed"));
                if (sb) {
                    c.readerSandboxed();
                    report.sandbox["reader"] = sb->summary;
                } else {
                    stopReader(ReasonCode::Unscannable, "media reader refused: " + sb.error().message);
                }
            } else {
                auto& msg = **r;
                Status st{};
                switch (msg.frame.type) {
                    case proto::MsgType::Partition: {
                        auto p = proto::decodePartition(msg.frame);
                        st = p ? c.partition(*p) : Status(p.error());
                        break;
                    }
                    case proto::MsgType::FileEntry: {
                        auto e = proto::decodeFileEntry(msg.frame);
                        if (!e) {
                            st = e.error();
                            break;
                        }
                        const auto reasonsBefore = c.reasonCount();
                        auto toScan = c.file(*e, msg.fd.valid());
                        if (!toScan) {
                            st = toScan.error();
                            break;
                        }
                        const FileRecord record{e->path, e->size, toHex(e->sha256), ""};
                        const bool scan = *toScan == FileFate::Scan;
                        if (options_.evidence && scan) {
                            held.emplace(e->id, Held{UniqueFd(::fcntl(msg.fd.get(), F_DUPFD_CLOEXEC, 3)), record,
                                                     c.evidenceSince(reasonsBefore)});
                        } else if (options_.evidence && c.evidenceSince(reasonsBefore)) {
                            // Found by its name alone (empty, or over the scan limit): no content to hold.
                            if (auto kept = options_.evidence->keep(-1, record); !kept)
                                c.reason(ReasonCode::ReadError, e->path, kept.error().message);
                        }
                        ++progress.filesSeen;
                        progress.bytesSeen += e->size;
                        progress.currentPath = e->path;
                        if (scan && options_.keep && options_.keep(e->path)) {
                            auto kept = copyToNewFile(msg.fd.get(), e->size, e->path, options_.keepDir + "/" + baseName(e->path), 0600);
                            if (!kept) c.reason(ReasonCode::ReadError, e->path, kept.error().message);
                            else if (toHex(*kept) != record.sha256)
                                c.reason(ReasonCode::ReadError, e->path, "the copy does not match the SHA-256 the media reader reported");
                        }
                        if (scan) {
                            scanner->channel().enqueue(proto::encode(proto::ScanRequest{e->id, e->size, baseName(e->path), e->media}),
                                                       std::move(msg.fd));
                        } else {
                            ++progress.filesDone;
                            progress.bytesDone += e->size;
                        }
                        if (progress_) progress_(progress);
                        break;
                    }
                    case proto::MsgType::Finding: {
                        auto f = proto::decodeFinding(msg.frame);
                        if (f) c.reason(f->code, f->path, f->detail);
                        else st = f.error();
                        break;
                    }
                    case proto::MsgType::ReaderDone: {
                        auto d = proto::decodeReaderDone(msg.frame);
                        st = d ? c.readerFinished(d->files) : Status(d.error());
                        // The last message: hanging up lets the reader exit.
                        if (st) reader->channel().close();
                        break;
                    }
                    case proto::MsgType::Fatal: {
                        auto f = proto::decodeFatal(msg.frame);
                        stopReader(ReasonCode::ReadError, "media reader failed: " + (f ? f->message : f.error().message));
                        break;
                    }
                    default: st = makeError("unexpected message type"); break;
                }
                if (!st) stopReader(ReasonCode::ReadError, "media reader sent an invalid message: " + st.error().message);
            }
        }

        if (c.scannerOpen() && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            lastWord = Clock::now();
            auto r = scanner->channel().receive();
            if (!r || !r->has_value()) {
                scanner->channel().close();
                if (!r && !scanner->waitFor(std::chrono::milliseconds(500))) scanner->kill();  // alive but garbled
                const auto how = scanner->wait();
                scannerGone("the scanner stopped (" + (how.empty() ? std::string("exited early") : explainEnd(how, *limits)) + ")");
                continue;
            }
            auto& msg = **r;
            Status st{};
            if (msg.fd.valid()) {
                st = makeError("scanner sent a descriptor");
            } else if (msg.frame.type == proto::MsgType::Sandboxed && !c.scannerIsReady()) {
                auto sb = proto::decodeSandboxed(msg.frame);
                if (sb) {
                    c.scannerReady();
                    report.sandbox["scanner"] = sb->summary;
                } else {
                    st = sb.error();
                }
            } else if (msg.frame.type == proto::MsgType::ScanResult && c.scannerIsReady()) {
                auto res = proto::decodeScanResult(msg.frame);
                if (res) {
                    const auto reasonsBefore = c.reasonCount();
                    const auto size = c.pendingSize(res->id);
                    st = c.result(*res);
                    if (auto h = held.find(res->id); st && h != held.end()) {
                        // Kept as evidence if it has a finding; let go of it at once if not.
                        if (h->second.flagged || c.evidenceSince(reasonsBefore))
                            if (auto kept = options_.evidence->keep(h->second.fd.get(), h->second.file); !kept)
                                c.reason(ReasonCode::ReadError, h->second.file.path, kept.error().message);
                        held.erase(h);
                    }
                    if (st) {
                        ++progress.filesDone;
                        progress.bytesDone += size;
                        if (progress_) progress_(progress);
                        if (c.readerReading()) reader->channel().enqueue(proto::encode(proto::FileAck{res->id}));
                    }
                } else {
                    st = res.error();
                }
            } else if (msg.frame.type == proto::MsgType::Fatal) {
                auto f = proto::decodeFatal(msg.frame);
                st = makeError("scanner failed: " + (f ? f->message : f.error().message));
            } else {
                st = makeError("unexpected message type " + std::to_string(static_cast<int>(msg.frame.type)));
            }
            if (!st) scannerGone(st.error().message);
        }
    }

    // Tell the scanner there is no more work, then collect both workers.
    if (scanner) scanner->channel().close();
    reader->channel().close();
    if (const auto how = reader->wait(); !how.empty() && c.readerDone())
        c.reason(ReasonCode::Unscannable, "/", "media reader " + explainEnd(how, *limits));
    if (const auto how = scanner ? scanner->wait() : std::string(); !how.empty() && c.scannerOpen())
        c.reason(ReasonCode::Unscannable, "/", "the scanner " + explainEnd(how, *limits));

    // Current signatures are part of "scanned": old ones cannot PASS.
    c.requireFreshSignatures(report.engine, options_.maxSignatureAgeDays);

    report.finished = rfc3339Now();
    report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return c.finish(std::move(report));
}

}  // namespace kiosk
