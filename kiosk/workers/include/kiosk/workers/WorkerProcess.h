// Starts a worker executable (qkiosk-reader, qkiosk-scanner) with one end of a
// SOCK_SEQPACKET pair as its fd 3, stdin from /dev/null, stderr inherited,
// and nothing else: every other descriptor is close-on-exec. Its environment
// is workerEnvironment(), never the caller's: nothing the front end was
// started with (LD_PRELOAD, MALLOC_*, a locale, a PATH) reaches a process
// that parses hostile bytes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "qkiosk/protocol/Channel.h"
#include "qkiosk/base/Result.h"

namespace kiosk {

class WorkerProcess {
public:
    static Result<WorkerProcess> start(const std::string& executable, const std::vector<std::string>& args);

    WorkerProcess(WorkerProcess&& o) noexcept;
    WorkerProcess& operator=(WorkerProcess&&) = delete;
    WorkerProcess(const WorkerProcess&) = delete;
    ~WorkerProcess();

    proto::Channel& channel() { return channel_; }
    pid_t pid() const { return pid_; }
    const std::string& name() const { return name_; }

    void kill();
    // Waits for the process to end; describes how it ended ("exited with status 2",
    // "killed by signal 11 (Segmentation fault)"). Empty for a clean exit 0.
    std::string wait();
    // Like wait(), but gives up after `timeout`: std::nullopt while it still runs.
    std::optional<std::string> waitFor(std::chrono::milliseconds timeout);

private:
    WorkerProcess(pid_t pid, UniqueFd socket, std::string name)
        : pid_(pid), channel_(std::move(socket)), name_(std::move(name)) {}
    pid_t pid_ = -1;
    proto::Channel channel_;
    std::string name_;
    std::string describe(int status);
    std::string ended_;
    bool reaped_ = false;
};

// A worker's whole environment: PATH=/usr/bin:/bin, LC_ALL=C, and
// QKIOSK_DEBUG if the caller has it (libclamav's debug output); in a
// sanitizer build also the sanitizers' own *SAN_OPTIONS.
std::vector<std::string> workerEnvironment();

// Where the worker executables are: $QKIOSK_WORKER_DIR, else next to the
// running qkiosk, else ../libexec/qkiosk relative to it.
std::string workerPath(const std::string& name);

}  // namespace kiosk
