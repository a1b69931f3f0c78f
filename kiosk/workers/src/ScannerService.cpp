#include "kiosk/workers/ScannerService.h"

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace kiosk {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1000 * 60 * 60));
}

}  // namespace

Result<WorkerLimits> resolveWorkerLimits(const SandboxSettings& sandbox, const ScanSettings& scan, std::uint64_t mediaSize) {
    WorkerLimits w;
    if (const passwd* pw = ::getpwnam(sandbox.user.c_str())) {
        w.uid = pw->pw_uid;
        w.gid = pw->pw_gid;
    } else {
        return makeError("sandbox user \"" + sandbox.user + "\" does not exist (see [sandbox] user in the config)");
    }
    if (w.uid == 0) return makeError("sandbox user \"" + sandbox.user + "\" is root: the workers must not run as root");
    const std::uint64_t threads = scan.threads ? scan.threads : std::max(1u, std::thread::hardware_concurrency());
    // Each scan thread maps the file it scans; libclamav needs room for its
    // own work and the members it extracts on top of that.
    w.memoryBytes = sandbox.memoryLimit ? sandbox.memoryLimit : (1ull << 30) + (threads + 1) * scan.maxFileSize;
    // A backstop far above any honest scan (about 8 MiB/s of CPU), not a pace.
    w.cpuSeconds = sandbox.cpuLimitSeconds ? sandbox.cpuLimitSeconds : 600 + mediaSize / (8ull << 20);
    return w;
}

// ---- ScanWorker -------------------------------------------------------------

ScanWorker::~ScanWorker() {
    if (!service_ || ended_) return;
    kill();
    (void)wait();
}

void ScanWorker::kill() {
    if (ended_ || !pidfd_.valid()) return;
    (void)::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
}

std::optional<std::string> ScanWorker::waitFor(std::chrono::milliseconds timeout) {
    if (ended_) return ended_;
    const auto deadline = Clock::now() + timeout;
    // The pidfd becomes readable when the worker has ended; the service then
    // reports how (it is the parent that can wait for it).
    for (;;) {
        if (auto it = service_->ended_.find(pid_); it != service_->ended_.end()) {
            ended_ = it->second;
            service_->ended_.erase(it);
            return ended_;
        }
        auto got = service_->pump(std::chrono::milliseconds(remainingMs(deadline)));
        if (!got) {
            // Without the service nobody can say how the worker ended; it is
            // gone with it (it dies with its parent).
            ended_ = "ended with the scanner service (" + got.error().message + ")";
            return ended_;
        }
        if (!*got && Clock::now() >= deadline) return std::nullopt;
    }
}

std::string ScanWorker::wait() {
    if (auto how = waitFor(std::chrono::minutes(1))) return *how;
    kill();   // a worker that will not end after its channel closed is stopped
    if (auto how = waitFor(std::chrono::seconds(10))) return *how;
    // Killed, but the service never says so: do not hang the kiosk on it.
    ended_ = "killed; the scanner service did not report its end";
    return *ended_;
}

// ---- ScannerService ---------------------------------------------------------

Result<std::unique_ptr<ScannerService>> ScannerService::start(const std::string& dbDir, const std::string& tempBase) {
    // CVD files are unpacked while loading: into a private folder of the service.
    auto dir = PrivateTempDir::create(tempBase, "qkiosk-engine-");
    if (!dir) return dir.error();
    auto p = WorkerProcess::start(workerPath("qkiosk-scanner"), {"--db", dbDir, "--tmpdir", dir->path()});
    if (!p) return p.error();
    return std::unique_ptr<ScannerService>(new ScannerService(std::move(*p), std::move(*dir), dbDir));
}

ScannerService::~ScannerService() {
    // Closing the channel tells the service to end; it kills its sessions.
    process_.channel().close();
    if (!process_.waitFor(std::chrono::seconds(5))) {
        process_.kill();
        (void)process_.wait();
    }
}

std::string ScannerService::serviceGone() {
    const auto how = process_.waitFor(std::chrono::milliseconds(500));
    return "the scanner service stopped (" + (how ? (how->empty() ? std::string("exited") : *how) : "no longer answering") + ")";
}

Result<bool> ScannerService::pump(std::chrono::milliseconds timeout) {
    if (failed_) return *failed_;
    pollfd p{process_.channel().fd(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n < 0) return errno == EINTR ? Result<bool>(false) : makeError(std::string("poll: ") + std::strerror(errno));
    if (n == 0) return false;
    auto r = process_.channel().receive();
    if (!r || !r->has_value()) {
        failed_ = makeError(ready_ ? serviceGone() : "scanner failed to start (" + serviceGone() + ")");
        process_.channel().close();
        return *failed_;
    }
    auto& msg = **r;
    auto protocolError = [&](const std::string& why) -> Result<bool> {
        process_.kill();
        failed_ = makeError("the scanner service sent an invalid message: " + why);
        return *failed_;
    };
    switch (msg.frame.type) {
        case proto::MsgType::ScannerReady: {
            auto m = proto::decodeScannerReady(msg.frame);
            if (!m || ready_ || msg.fd.valid()) return protocolError(m ? "unexpected ScannerReady" : m.error().message);
            engine_ = EngineInfo{m->libclamavVersion, m->signatures, m->dbVersion, m->dbTime, m->loadMillis};
            ready_ = true;
            return true;
        }
        case proto::MsgType::Fatal: {
            auto m = proto::decodeFatal(msg.frame);
            failed_ = makeError(m ? m->message : m.error().message);
            if (!ready_) failed_ = failed_->context("scanner failed to start");
            return *failed_;
        }
        case proto::MsgType::SessionStarted: {
            auto m = proto::decodeSessionStarted(msg.frame);
            if (!m || !msg.fd.valid() || started_) return protocolError(m ? "unexpected SessionStarted" : m.error().message);
            started_.emplace(static_cast<pid_t>(m->pid), std::move(msg.fd));
            return true;
        }
        case proto::MsgType::SessionEnded: {
            auto m = proto::decodeSessionEnded(msg.frame);
            if (!m || msg.fd.valid()) return protocolError(m ? "descriptor with SessionEnded" : m.error().message);
            ended_[static_cast<pid_t>(m->pid)] = m->how;
            return true;
        }
        default: return protocolError("unexpected message type " + std::to_string(static_cast<int>(msg.frame.type)));
    }
}

Result<bool> ScannerService::poll() {
    while (!ready_) {
        auto got = pump(std::chrono::milliseconds(0));
        if (!got) return got.error();
        if (!*got) return false;
    }
    // A loaded service must still be there: it may have been killed between sessions.
    if (auto how = process_.waitFor(std::chrono::milliseconds(0)))
        return makeError("the scanner service stopped (" + (how->empty() ? std::string("exited") : *how) + ")");
    return true;
}

Status ScannerService::waitReady(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!ready_) {
        auto got = pump(std::chrono::milliseconds(remainingMs(deadline)));
        if (!got) return got.error();
        if (!*got && Clock::now() >= deadline) return makeError("the signatures took too long to load");
    }
    return {};
}

Result<ScanWorker> ScannerService::openSession(const ScanSettings& s, const WorkerLimits& limits, const std::string& tmpdir) {
    if (!ready_) return makeError("the scanner is not ready");
    auto pair = proto::Channel::socketPair();
    if (!pair) return pair.error();
    auto [ours, theirs] = std::move(*pair);
    const std::uint32_t threads = s.threads ? s.threads : std::max(1u, std::thread::hardware_concurrency());
    proto::SessionStart req{s.maxFileSize, s.maxScanSize, s.maxRecursion, s.maxFiles,
                            std::uint32_t{s.maxScanTimeSeconds} * 1000, threads, tmpdir,
                            static_cast<std::uint32_t>(limits.uid), static_cast<std::uint32_t>(limits.gid),
                            limits.memoryBytes, limits.cpuSeconds};
    process_.channel().enqueue(proto::encode(req), std::move(theirs));
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (process_.channel().hasPending()) {
        if (auto st = process_.channel().flush(); !st) return makeError(serviceGone());
        if (Clock::now() >= deadline) return makeError("the scanner service does not take requests");
        if (process_.channel().hasPending()) ::usleep(1000);
    }
    while (!started_) {
        auto got = pump(std::chrono::milliseconds(remainingMs(deadline)));
        if (!got) return got.error();
        if (!*got && Clock::now() >= deadline) return makeError("the scanner service did not start a scan worker");
    }
    auto [pid, pidfd] = std::move(*started_);
    started_.reset();
    return ScanWorker(*this, std::move(ours), pid, std::move(pidfd));
}

}  // namespace kiosk
