#include "kiosk/workers/WorkerProcess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace kiosk {

std::vector<std::string> workerEnvironment() {
    std::vector<std::string> env{"PATH=/usr/bin:/bin", "LC_ALL=C"};
    auto pass = [&env](const char* name) {
        if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
    };
    pass("QKIOSK_DEBUG");
#if defined(__SANITIZE_ADDRESS__)
    // A sanitizer build's own runtime options (the tests' leak suppressions);
    // a release build has no runtime that would read them, so they are not passed.
    pass("ASAN_OPTIONS");
    pass("UBSAN_OPTIONS");
    pass("LSAN_OPTIONS");
#endif
    return env;
}

std::string workerPath(const std::string& name) {
    if (const char* dir = std::getenv("QKIOSK_WORKER_DIR"); dir && *dir) return std::string(dir) + "/" + name;
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto beside = self.parent_path() / name;
        if (std::filesystem::exists(beside, ec)) return beside.string();
        const auto libexec = self.parent_path().parent_path() / "libexec" / "qkiosk" / name;
        if (std::filesystem::exists(libexec, ec)) return libexec.string();
    }
    return name;
}

Result<WorkerProcess> WorkerProcess::start(const std::string& executable, const std::vector<std::string>& args) {
    auto pair = proto::Channel::socketPair();
    if (!pair) return pair.error();
    auto [parentEnd, childEnd] = std::move(*pair);
    // The child's end must not already be fd 3, or dup2 would keep its close-on-exec flag.
    UniqueFd high(::fcntl(childEnd.get(), F_DUPFD_CLOEXEC, 10));
    if (!high.valid()) return makeError(std::string("fcntl: ") + std::strerror(errno));

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, high.get(), 3);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(executable.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const auto envStrings = workerEnvironment();
    std::vector<char*> envp;
    for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, executable.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return makeError("cannot start " + executable + ": " + std::strerror(rc));
    return WorkerProcess(pid, std::move(parentEnd), std::filesystem::path(executable).filename().string());
}

WorkerProcess::WorkerProcess(WorkerProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      channel_(std::move(o.channel_)),
      name_(std::move(o.name_)),
      ended_(std::move(o.ended_)),
      reaped_(o.reaped_) {}

WorkerProcess::~WorkerProcess() {
    if (pid_ > 0 && !reaped_) {
        kill();
        (void)wait();
    }
}

void WorkerProcess::kill() {
    if (pid_ > 0 && !reaped_) ::kill(pid_, SIGKILL);
}

std::string WorkerProcess::describe(int status) {
    reaped_ = true;
    if (WIFEXITED(status)) return ended_ = WEXITSTATUS(status) == 0 ? "" : "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return ended_ = "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return ended_ = "ended abnormally";
}

std::string WorkerProcess::wait() {
    if (pid_ <= 0 || reaped_) return ended_;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        reaped_ = true;
        return ended_ = std::string("cannot be waited for: ") + std::strerror(errno);
    }
    return describe(status);
}

std::optional<std::string> WorkerProcess::waitFor(std::chrono::milliseconds timeout) {
    if (pid_ <= 0 || reaped_) return ended_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) return describe(status);
        if (r < 0 && errno != EINTR) return wait();
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        ::usleep(5000);
    }
}

}  // namespace kiosk
