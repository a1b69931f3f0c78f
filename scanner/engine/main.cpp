// qkiosk-scanner: the scan service and its workers. Links libclamav (GPL-2) and
// libmagic, never libtsk. The service loads the signature databases once,
// announces ScannerReady on the SOCK_SEQPACKET socket on fd 3, and then, for
// each SessionStart, forks a scan worker that enters its sandbox and scans
// each ScanRequest's sealed memfd on a pool of threads sharing the engine.
// The engine stays warm across sessions; every session gets a fresh worker.
//
//   qkiosk-scanner --db DIR --tmpdir DIR        the service (front end on fd 3)
//   qkiosk-scanner --verify-cvd DIR             check every .cvd's official signature
//   qkiosk-scanner --sandbox-self-test          enter the sandbox, then try to open a socket
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "ClamavEngine.h"
#include "FileTypeProbe.h"
#include "LibarchiveReader.h"
#include "qkiosk/protocol/Channel.h"
#include "qkiosk/sandbox/Sandbox.h"

namespace kiosk::scan {
namespace {

constexpr int kSocketFd = 3;
// Executable, shortcut and document headers all sit at the start of a file.
constexpr std::size_t kMagicBytes = 64 * 1024;

struct Options {
    std::string db;
    std::string tmpdir;       // for loading (CVDs are unpacked there); made and removed by the front end
    std::string verifyDir;    // --verify-cvd: check the official signatures of every .cvd here, then exit
    bool selfTest = false;
    sandbox::Spec sandbox;    // --sandbox-uid/--sandbox-gid for --verify-cvd
};

Result<Options> parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--sandbox-self-test") {
            o.selfTest = true;
            continue;
        }
        auto known = sandbox::parseOption(o.sandbox, argc, argv, i);
        if (!known) return known.error();
        if (*known) continue;
        if (i + 1 >= argc) return makeError(a + ": missing value");
        const char* v = argv[++i];
        if (a == "--db") o.db = v;
        else if (a == "--tmpdir") o.tmpdir = v;
        else if (a == "--verify-cvd") o.verifyDir = v;
        else return makeError(a + ": unknown option");
    }
    if (o.selfTest) return o;
    if (!o.verifyDir.empty()) return o;
    if (o.db.empty()) return makeError("--db is required");
    if (o.tmpdir.empty()) return makeError("--tmpdir is required");
    return o;
}

struct Job {
    proto::ScanRequest request;
    UniqueFd fd;
};

class Worker {
public:
    Worker(proto::Channel& ch, std::shared_ptr<const ClamavEngine> engine) : ch_(ch), engine_(std::move(engine)) {}

    void push(Job job) {
        {
            std::lock_guard lock(mu_);
            queue_.push_back(std::move(job));
        }
        cv_.notify_one();
    }

    void close() {
        {
            std::lock_guard lock(mu_);
            closed_ = true;
        }
        cv_.notify_all();
    }

    // `probe` was opened before the sandbox closed the filesystem (it may be null).
    void loop(FileTypeProbe* probe) {
        for (;;) {
            Job job;
            std::shared_ptr<const ClamavEngine> engine;
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
                if (queue_.empty()) return;
                job = std::move(queue_.front());
                queue_.pop_front();
                engine = engine_;   // each scan keeps the engine it started with
            }
            auto result = scanOne(*engine, job, probe);
            std::lock_guard lock(sendMu_);
            if (!ch_.send(proto::encode(result))) return;   // the front end is gone
        }
    }

private:
    static proto::ScanResult scanOne(const ClamavEngine& engine, const Job& job, FileTypeProbe* probe) {
        proto::ScanResult r;
        r.id = job.request.id;
        auto unscannable = [&](std::string why) {
            r.hits.push_back({proto::Verdict::Unscannable, "", std::move(why)});
            return r;
        };
        // The content must be exactly what the reader hashed: a sealed memfd of the announced size.
        const int seals = ::fcntl(job.fd.get(), F_GET_SEALS);
        const int needed = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
        if (seals < 0 || (seals & needed) != needed) return unscannable("content was not sealed by the reader");
        struct stat st{};
        if (::fstat(job.fd.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) != job.request.size)
            return unscannable("content size does not match the file size");

        if (probe && st.st_size > 0) {
            const auto n = std::min<std::size_t>(kMagicBytes, static_cast<std::size_t>(st.st_size));
            void* map = ::mmap(nullptr, n, PROT_READ, MAP_SHARED, job.fd.get(), 0);
            if (map != MAP_FAILED) {
                const auto t = probe->identify(std::span(static_cast<const std::uint8_t*>(map), n));
                r.mime = t.mime;
                ::munmap(map, n);
            }
        }
        auto scan = engine.scan(job.fd.get(), job.request.name, job.request.media);
        r.hits = std::move(scan.hits);
        r.bytesScanned = scan.bytesScanned;
        return r;
    }

    proto::Channel& ch_;
    std::shared_ptr<const ClamavEngine> engine_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    bool closed_ = false;
    std::mutex sendMu_;
};

void clamavMessage(enum cl_msg, const char* fullmsg, const char*, void*) {
    static const bool debug = std::getenv("QKIOSK_DEBUG") != nullptr;
    if (debug && fullmsg) std::fputs(fullmsg, stderr);
}

// Errors are Result values and Fatal messages; an exception that reaches a
// process's outermost frame is a bug. It is one line and exit 2 (the front
// end reports how the process ended), never an abort.
void internalError(const char* what) {
    std::string line = what;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    std::fprintf(stderr, "qkiosk-scanner: internal error: %s\n", line.c_str());
}

// One scan session, in a process forked from the service: the engine is the
// service's, already loaded and shared copy-on-write; limits, temporary folder
// and sandbox are this session's own. Never returns.
[[noreturn]] void runSession(ClamavEngine& engine, const proto::SessionStart& req, UniqueFd socket) {
    proto::Channel ch{std::move(socket)};
    auto fail = [&](const std::string& why) {
        if (!ch.send(proto::encode(proto::Fatal{why}))) std::fprintf(stderr, "qkiosk-scanner: %s\n", why.c_str());
        std::fflush(stderr);
        ::_exit(sandbox::kSandboxFailedExit);
    };
    ScanLimits limits{req.maxFileSize, req.maxScanSize, req.maxRecursion, req.maxFiles, req.maxScanTimeMs};
    if (auto st = engine.configure(limits, req.tmpdir); !st) fail(st.error().message);
    // libmagic reads its database from disk: open one per thread before the sandbox closes the filesystem.
    std::vector<std::unique_ptr<FileTypeProbe>> probes;
    for (unsigned i = 0; i < req.threads; ++i) {
        auto p = FileTypeProbe::open();
        probes.push_back(p ? std::make_unique<FileTypeProbe>(std::move(*p)) : nullptr);
    }
    // libarchive's member names need a UTF-8 locale, a file the sandbox
    // would not let it load. Without it such names are lost, and a zip
    // member the scanner must read again is then unscannable: no need to stop.
    if (auto st = LibarchiveReader::preload(); !st) std::fprintf(stderr, "qkiosk-scanner: %s\n", st.error().message.c_str());
    sandbox::Spec spec;
    spec.profile = sandbox::Profile::Scanner;
    spec.uid = req.uid;
    spec.gid = req.gid;
    spec.writableDir = req.tmpdir;
    spec.memoryBytes = req.memoryBytes;
    spec.cpuSeconds = req.cpuSeconds;
    spec.maxFileBytes = req.maxScanSize;   // libclamav's extracted members
    auto applied = sandbox::enter(spec);
    if (!applied) fail("cannot enter the sandbox: " + applied.error().message);
    if (!ch.send(proto::encode(proto::Sandboxed{applied->summary()}))) ::_exit(2);

    // Each scan keeps a reference to the engine; this process never frees it
    // (it ends with _exit): the pages belong to the service.
    std::shared_ptr<const ClamavEngine> shared(&engine, [](const ClamavEngine*) {});
    Worker worker(ch, shared);
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < req.threads; ++i) threads.emplace_back([&worker, p = probes[i].get()] { worker.loop(p); });
    int rc = 0;
    for (;;) {
        auto r = ch.receive();
        if (!r) {
            std::fprintf(stderr, "qkiosk-scanner: %s\n", r.error().message.c_str());
            rc = 2;
            break;
        }
        if (!r->has_value()) break;   // the front end has no more work
        auto scanReq = proto::decodeScanRequest((*r)->frame);
        if (!scanReq || !(*r)->fd.valid()) {
            std::fprintf(stderr, "qkiosk-scanner: bad request: %s\n",
                         scanReq ? "no content descriptor" : scanReq.error().message.c_str());
            rc = 2;
            break;
        }
        worker.push(Job{std::move(*scanReq), std::move((*r)->fd)});
    }
    worker.close();
    for (auto& t : threads) t.join();
    std::fflush(stderr);
    ::_exit(rc);
}

std::string describeExit(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? "" : "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "ended abnormally";
}

// The service: loads the engine once, says ScannerReady, then forks a fresh
// sandboxed scan worker for every SessionStart and reports how each ended.
// It stays single-threaded, so fork() is safe. It parses no media itself.
int serve(const Options& opts) {
    proto::Channel ch{UniqueFd(kSocketFd)};
    auto fatal = [&](const std::string& why) {
        if (!ch.send(proto::encode(proto::Fatal{why}))) std::fprintf(stderr, "qkiosk-scanner: %s\n", why.c_str());
        return 2;
    };
    const auto t0 = std::chrono::steady_clock::now();
    auto engine = ClamavEngine::load(opts.db, ScanLimits{}, opts.tmpdir);
    if (!engine) return fatal(engine.error().message);
    const auto loadMs = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    // Nothing the service or its sessions do needs the network or new privileges.
    if (::geteuid() == 0) (void)::unshare(CLONE_NEWNET);
    (void)::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &chld, nullptr);
    UniqueFd sigfd(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd.valid()) return fatal(std::string("signalfd: ") + std::strerror(errno));

    const auto& db = (*engine)->database();
    if (!ch.send(proto::encode(proto::ScannerReady{cl_retver(), db.signatures, db.version, db.time,
                                                   static_cast<std::uint64_t>(loadMs.count())})))
        return 2;

    std::set<pid_t> sessions;
    auto reap = [&] {
        for (;;) {
            int status = 0;
            const pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) return;
            if (sessions.erase(pid))
                (void)ch.send(proto::encode(proto::SessionEnded{static_cast<std::uint32_t>(pid), describeExit(status)}));
        }
    };
    int rc = 0;
    for (;;) {
        pollfd fds[2] = {{ch.fd(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            rc = 2;
            break;
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info{};
            while (::read(sigfd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {}
            reap();
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        auto r = ch.receive();
        if (!r || !r->has_value()) break;   // the front end is gone (or garbled): end everything
        auto req = proto::decodeSessionStart((*r)->frame);
        if (!req || !(*r)->fd.valid()) {
            std::fprintf(stderr, "qkiosk-scanner: bad session request: %s\n",
                         req ? "no socket" : req.error().message.c_str());
            rc = 2;
            break;
        }
        const pid_t pid = ::fork();
        if (pid < 0) {
            (void)ch.send(proto::encode(proto::Fatal{std::string("cannot start a scan worker: ") + std::strerror(errno)}));
            continue;
        }
        if (pid == 0) {
            // A worker never outlives its service.
            (void)::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            if (::getppid() == 1) ::_exit(2);
            ::sigprocmask(SIG_UNBLOCK, &chld, nullptr);
            sigfd.reset();
            ch.close();
            // The child must never return into the service's loop or its exit handlers.
            try {
                runSession(**engine, *req, std::move((*r)->fd));
            } catch (const std::exception& e) {
                internalError(e.what());
            } catch (...) {
                internalError("an unknown exception");
            }
            ::_exit(2);
        }
        sessions.insert(pid);
        // A pidfd lets the front end kill this worker and see it end without
        // racing against the reuse of its pid.
        UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (!ch.send(proto::encode(proto::SessionStarted{static_cast<std::uint32_t>(pid)}), pidfd.get())) break;
    }
    for (pid_t pid : sessions) ::kill(pid, SIGKILL);
    while (!sessions.empty()) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, 0);
        if (pid < 0) break;
        sessions.erase(pid);
    }
    return rc;
}

// Official databases are signed by Cisco Talos; libclamav checks that
// signature (cl_cvdverify) the same way it does before loading. Runs in the
// sandbox with only the folder being verified reachable.
int verifyCvds(const std::string& dir, sandbox::Spec spec) {
    spec.profile = sandbox::Profile::Scanner;
    spec.writableDir = dir;
    spec.maxFileBytes = 1ull << 31;
    ::setenv("TMPDIR", dir.c_str(), 1);
    std::vector<std::string> cvds;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".cvd") cvds.push_back(it->path().string());
    if (ec) {
        std::fprintf(stderr, "%s: %s\n", dir.c_str(), ec.message().c_str());
        return 2;
    }
    if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS) return 2;
    auto applied = sandbox::enter(spec);
    if (!applied) {
        std::fprintf(stderr, "qkiosk-scanner: cannot enter the sandbox: %s\n", applied.error().message.c_str());
        return sandbox::kSandboxFailedExit;
    }
    int rc = 0;
    for (const auto& path : cvds) {
        const cl_error_t v = cl_cvdverify(path.c_str());
        if (v != CL_SUCCESS) {
            std::fprintf(stderr, "%s: not a genuine ClamAV database: %s\n", std::filesystem::path(path).filename().c_str(),
                        cl_strerror(v));
            rc = 1;
        }
    }
    return rc;
}

int run(int argc, char** argv) {
    // The front end reports errors; libclamav's own chatter stays out of the
    // kiosk's output unless QKIOSK_DEBUG asks for it.
    cl_set_clcb_msg(&clamavMessage);
    if (std::getenv("QKIOSK_DEBUG")) cl_debug();
    auto opts = parse(argc, argv);
    if (!opts) {
        std::fprintf(stderr, "qkiosk-scanner: %s\n", opts.error().message.c_str());
        return 2;
    }
    if (opts->selfTest) {
        sandbox::Spec spec;
        spec.profile = sandbox::Profile::Scanner;
        auto applied = sandbox::enter(spec);
        if (!applied) return sandbox::kSandboxFailedExit;
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        std::fprintf(stderr, "qkiosk-scanner: the sandbox let a network socket be opened (%d)\n", s);
        return 1;
    }
    if (!opts->verifyDir.empty()) return verifyCvds(opts->verifyDir, opts->sandbox);
    return serve(*opts);
}

}  // namespace
}  // namespace kiosk::scan

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer build's leak checker needs ptrace and /proc at exit, which the
// sandbox forbids; worker leaks are found by the fuzzers and the unit tests.
extern "C" const char* __lsan_default_options() { return "detect_leaks=0"; }
#endif

int main(int argc, char** argv) {
    try {
        return kiosk::scan::run(argc, argv);
    } catch (const std::exception& e) {
        kiosk::scan::internalError(e.what());
    } catch (...) {
        kiosk::scan::internalError("an unknown exception");
    }
    return 2;
}
