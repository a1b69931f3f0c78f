// qkiosk-scanner: the scan worker. Links libclamav (GPL-2) and libmagic, never
// libtsk. Loads the signature databases once, announces ScannerReady on the
// SOCK_SEQPACKET socket on fd 3, then scans each ScanRequest's sealed memfd on
// a pool of threads sharing the one engine and answers with a ScanResult.
//
//   qkiosk-scanner --db DIR --tmpdir DIR [--threads N] [--max-file-size B] [--max-scan-size B]
//                  [--max-recursion N] [--max-files N] [--max-scan-time-ms N]
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "ClamavEngine.h"
#include "FileTypeProbe.h"
#include "qkiosk/protocol/Channel.h"

namespace kiosk::scan {
namespace {

constexpr int kSocketFd = 3;
// Executable, shortcut and document headers all sit at the start of a file.
constexpr std::size_t kMagicBytes = 64 * 1024;

struct Options {
    std::string db;
    std::string tmpdir;   // private, made and removed by the front end
    unsigned threads = 0;
    ScanLimits limits;
};

Result<std::uint64_t> number(const char* flag, const char* text) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (errno || end == text || *end) return makeError(std::string(flag) + ": not a number: " + text);
    return static_cast<std::uint64_t>(v);
}

Result<Options> parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return makeError(a + ": missing value");
        const char* v = argv[++i];
        if (a == "--db" || a == "--tmpdir") {
            (a == "--db" ? o.db : o.tmpdir) = v;
            continue;
        }
        auto n = number(a.c_str(), v);
        if (!n) return n.error();
        if (a == "--threads") o.threads = static_cast<unsigned>(*n);
        else if (a == "--max-file-size") o.limits.maxFileSize = *n;
        else if (a == "--max-scan-size") o.limits.maxScanSize = *n;
        else if (a == "--max-recursion") o.limits.maxRecursion = static_cast<std::uint32_t>(*n);
        else if (a == "--max-files") o.limits.maxFiles = static_cast<std::uint32_t>(*n);
        else if (a == "--max-scan-time-ms") o.limits.maxScanTimeMs = static_cast<std::uint32_t>(*n);
        else return makeError(a + ": unknown option");
    }
    if (o.db.empty()) return makeError("--db is required");
    if (o.tmpdir.empty()) return makeError("--tmpdir is required");
    if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
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

    void loop() {
        auto probe = FileTypeProbe::open();
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
            auto result = scanOne(*engine, job, probe ? &*probe : nullptr);
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
        auto scan = engine.scan(job.fd.get(), job.request.name);
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

int run(int argc, char** argv) {
    proto::Channel ch{UniqueFd(kSocketFd)};
    // The front end reports errors; libclamav's own chatter stays out of the
    // kiosk's output unless QKIOSK_DEBUG asks for it.
    cl_set_clcb_msg(&clamavMessage);
    if (std::getenv("QKIOSK_DEBUG")) cl_debug();
    auto fatal = [&](const std::string& why) {
        if (!ch.send(proto::encode(proto::Fatal{why}))) std::fprintf(stderr, "qkiosk-scanner: %s\n", why.c_str());
        return 2;
    };
    auto opts = parse(argc, argv);
    if (!opts) return fatal(opts.error().message);
    const auto t0 = std::chrono::steady_clock::now();
    auto engine = ClamavEngine::load(opts->db, opts->limits, opts->tmpdir);
    if (!engine) return fatal(engine.error().message);
    const auto loadMs = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);

    const auto& db = (*engine)->database();
    auto s = ch.send(proto::encode(proto::ScannerReady{cl_retver(), db.signatures, db.version, db.time,
                                                       static_cast<std::uint64_t>(loadMs.count())}));
    if (!s) return 2;

    Worker worker(ch, *engine);
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < opts->threads; ++i) threads.emplace_back([&] { worker.loop(); });
    int rc = 0;
    for (;;) {
        auto r = ch.receive();
        if (!r) {
            std::fprintf(stderr, "qkiosk-scanner: %s\n", r.error().message.c_str());
            rc = 2;
            break;
        }
        if (!r->has_value()) break;   // the front end has no more work
        auto req = proto::decodeScanRequest((*r)->frame);
        if (!req || !(*r)->fd.valid()) {
            std::fprintf(stderr, "qkiosk-scanner: bad request: %s\n", req ? "no content descriptor" : req.error().message.c_str());
            rc = 2;
            break;
        }
        worker.push(Job{std::move(*req), std::move((*r)->fd)});
    }
    worker.close();
    for (auto& t : threads) t.join();
    return rc;
}

}  // namespace
}  // namespace kiosk::scan

int main(int argc, char** argv) { return kiosk::scan::run(argc, argv); }
