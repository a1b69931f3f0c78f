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
#include "kiosk/session/ReaderLink.h"
#include "kiosk/session/ScannerLink.h"
#include "kiosk/session/SessionState.h"
#include "kiosk/session/WorkerLink.h"
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
    std::optional<ScannerLink> scanner;
    if (scanning) {
        report.engine = options_.scanner->engine();
        auto dir = PrivateTempDir::create(s.tempDir, "qkiosk-scan-", limits->uid, limits->gid);
        if (!dir) return dir.error();
        tmp.emplace(std::move(*dir));
        auto worker = ScannerLink::open(*options_.scanner, s, *limits, tmp->path());
        if (!worker) return worker.error();
        scanner.emplace(std::move(*worker));
    }
    auto reader = ReaderLink::start(media, s, options_.sandbox, *limits, scanning);
    if (!reader) return reader.error();

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

    auto endScanner = [&] {
        if (scanner) scanner->end();
        held.clear();
    };
    // The scanner is gone or unusable: nothing sent to it will be answered,
    // and the reader would wait for acknowledgements forever. End both.
    auto scannerGone = [&](const std::string& why) {
        endScanner();
        if (c.scannerGone(why)) reader->end();
    };

    for (;;) {
        if (c.finished()) break;
        reader->flush(c);
        if (const auto why = scanning ? scanner->flush(c) : std::string(); !why.empty()) {
            scannerGone(why);
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
            if (c.stalled(s.stallTimeoutSeconds)) reader->end();
            if (scanning) endScanner();
            break;
        }

        if (c.readerOpen() && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            lastWord = Clock::now();
            auto file = reader->take(c, report.sandbox);
            if (file) {
                const auto& e = file->entry;
                const FileRecord record{e.path, e.size, toHex(e.sha256), ""};
                const bool scan = file->fate == FileFate::Scan;
                if (options_.evidence && scan) {
                    held.emplace(e.id, Held{UniqueFd(::fcntl(file->content.get(), F_DUPFD_CLOEXEC, 3)), record,
                                            c.evidenceSince(file->reasonsBefore)});
                } else if (options_.evidence && c.evidenceSince(file->reasonsBefore)) {
                    // Found by its name alone (empty, or over the scan limit): no content to hold.
                    if (auto kept = options_.evidence->keep(-1, record); !kept)
                        c.reason(ReasonCode::ReadError, e.path, kept.error().message);
                }
                ++progress.filesSeen;
                progress.bytesSeen += e.size;
                progress.currentPath = e.path;
                if (scan && options_.keep && options_.keep(e.path)) {
                    auto kept = copyToNewFile(file->content.get(), e.size, e.path, options_.keepDir + "/" + baseName(e.path), 0600);
                    if (!kept) c.reason(ReasonCode::ReadError, e.path, kept.error().message);
                    else if (toHex(*kept) != record.sha256)
                        c.reason(ReasonCode::ReadError, e.path, "the copy does not match the SHA-256 the media reader reported");
                }
                if (scan) {
                    scanner->send(e, baseName(e.path), std::move(file->content));
                } else {
                    ++progress.filesDone;
                    progress.bytesDone += e.size;
                }
                if (progress_) progress_(progress);
            }
        }

        if (c.scannerOpen() && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            lastWord = Clock::now();
            const auto word = scanner->take(c, report.sandbox);
            if (word.kind == ScannerWord::Kind::Gone) {
                scannerGone(word.why);
            } else if (word.kind == ScannerWord::Kind::Answer) {
                if (auto h = held.find(word.id); h != held.end()) {
                    // Kept as evidence if it has a finding; let go of it at once if not.
                    if (h->second.flagged || c.evidenceSince(word.reasonsBefore))
                        if (auto kept = options_.evidence->keep(h->second.fd.get(), h->second.file); !kept)
                            c.reason(ReasonCode::ReadError, h->second.file.path, kept.error().message);
                    held.erase(h);
                }
                ++progress.filesDone;
                progress.bytesDone += word.size;
                if (progress_) progress_(progress);
                if (c.readerReading()) reader->acknowledge(word.id);
            }
        }
    }

    // Tell the scanner there is no more work, then collect both workers.
    if (scanner) scanner->hangUp();
    reader->collect(c);
    if (scanner) scanner->collect(c);

    // Current signatures are part of "scanned": old ones cannot PASS.
    c.requireFreshSignatures(report.engine, options_.maxSignatureAgeDays);

    report.finished = rfc3339Now();
    report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return c.finish(std::move(report));
}

}  // namespace kiosk
