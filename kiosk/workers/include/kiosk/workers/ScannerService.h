// The warm engine: one qkiosk-scanner service process that loaded the
// signature databases once and forks a fresh, sandboxed scan worker for each
// session (clamd's lifecycle, with a process per session for isolation). The
// daemon keeps one across sessions and builds a replacement on the side when
// the databases change; `qkiosk scan` starts one for its single session.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "kiosk/config/Config.h"
#include "kiosk/files/PrivateTempDir.h"
#include "kiosk/model/Report.h"
#include "kiosk/workers/WorkerProcess.h"
#include "qkiosk/protocol/Channel.h"
#include "qkiosk/base/Result.h"

namespace kiosk {

// The sandbox settings resolved for one session (user looked up, limits sized).
struct WorkerLimits {
    uid_t uid = 65534;
    gid_t gid = 65534;
    std::uint64_t memoryBytes = 0;
    std::uint64_t cpuSeconds = 0;
};
Result<WorkerLimits> resolveWorkerLimits(const SandboxSettings& sandbox, const ScanSettings& scan,
                                         std::uint64_t mediaSize);

class ScannerService;

// One session's scan worker, a child of the service: its channel, and how it ended.
class ScanWorker {
public:
    ScanWorker(ScanWorker&& o) noexcept
        : service_(std::exchange(o.service_, nullptr)), channel_(std::move(o.channel_)), pid_(o.pid_),
          pidfd_(std::move(o.pidfd_)), ended_(std::move(o.ended_)) {}
    ScanWorker& operator=(ScanWorker&&) = delete;
    ~ScanWorker();

    proto::Channel& channel() { return channel_; }
    pid_t pid() const { return pid_; }
    void kill();
    // As WorkerProcess: "" for a clean exit, else how it ended.
    std::string wait();
    std::optional<std::string> waitFor(std::chrono::milliseconds timeout);

private:
    friend class ScannerService;
    ScanWorker(ScannerService& service, UniqueFd socket, pid_t pid, UniqueFd pidfd)
        : service_(&service), channel_(std::move(socket)), pid_(pid), pidfd_(std::move(pidfd)) {}
    ScannerService* service_;
    proto::Channel channel_;
    pid_t pid_;
    UniqueFd pidfd_;
    std::optional<std::string> ended_;
};

class ScannerService {
public:
    // Starts the service; the engine loads in the background (see poll/waitReady).
    static Result<std::unique_ptr<ScannerService>> start(const std::string& dbDir, const std::string& tempBase);
    ~ScannerService();
    ScannerService(const ScannerService&) = delete;
    ScannerService& operator=(const ScannerService&) = delete;

    // Non-blocking: true once the engine is loaded, false while it loads, an
    // error when loading failed or the service died.
    Result<bool> poll();
    Status waitReady(std::chrono::milliseconds timeout);
    int fd() { return process_.channel().fd(); }
    bool ready() const { return ready_; }
    const EngineInfo& engine() const { return engine_; }
    const std::string& dbDir() const { return dbDir_; }

    // A fresh scan worker with this session's limits and private folder.
    Result<ScanWorker> openSession(const ScanSettings& scan, const WorkerLimits& limits, const std::string& tmpdir);

private:
    friend class ScanWorker;
    ScannerService(WorkerProcess p, PrivateTempDir d, std::string dbDir)
        : process_(std::move(p)), loadDir_(std::move(d)), dbDir_(std::move(dbDir)) {}
    // Reads one message from the service (waiting up to `timeout`); records
    // SessionEnded reports. False on timeout.
    Result<bool> pump(std::chrono::milliseconds timeout);
    std::string serviceGone();

    WorkerProcess process_;
    PrivateTempDir loadDir_;
    std::string dbDir_;
    bool ready_ = false;
    std::optional<Error> failed_;
    EngineInfo engine_;
    std::map<pid_t, std::string> ended_;
    std::optional<std::pair<pid_t, UniqueFd>> started_;
};

}  // namespace kiosk
