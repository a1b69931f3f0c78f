// Running a helper program with a deadline and no shell. See kiosk/files/RunProgram.h.
#include "kiosk/files/RunProgram.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <string_view>

#include "qkiosk/base/UniqueFd.h"

extern char** environ;

namespace kiosk {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> defaultEnvironment() {
    // Messages in English whatever the kiosk's locale: they are parsed, and they go to the log.
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view v(*e);
        if (v.starts_with("LC_ALL=") || v.starts_with("LC_MESSAGES=") || v.starts_with("LANGUAGE=")) continue;
        env.emplace_back(v);
    }
    env.emplace_back("LC_ALL=C");
    return env;
}

// posix_spawnp() searches the caller's PATH, not the child's: with an
// environment of its own, the program is found in that environment's PATH.
std::string resolve(const std::string& name, const std::vector<std::string>& env) {
    if (name.find('/') != std::string::npos) return name;
    std::string path = "/usr/bin:/bin";
    for (const auto& e : env)
        if (e.starts_with("PATH=")) path = e.substr(5);
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (dir.empty() || dir.front() != '/') continue;   // never the current folder
        std::string candidate = dir;
        candidate.append("/").append(name);
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

}  // namespace

std::string oneLine(const std::string& text) {
    std::string out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos) continue;
        if (!out.empty()) out.append("; ");
        out.append(line, start);
    }
    return out;
}

std::string firstLine(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (auto one = oneLine(line); !one.empty()) return one;
    }
    return "";
}

int millisecondsLeft(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

std::string secondsText(std::chrono::milliseconds d) {
    std::ostringstream s;
    s << static_cast<double>(d.count()) / 1000.0 << " s";
    return s.str();
}

Result<ProgramResult> runProgram(const ProgramRun& run) {
    if (run.argv.empty() || run.argv.front().empty()) return makeError("runProgram: no program given");
    const std::string& name = run.argv.front();
    const auto& input = run.input;
    const auto& deadline = run.deadline;
    auto missing = [&](int e) {
        std::string msg = "cannot run ";
        msg.append(name).append(": ").append(std::strerror(e));
        if (e == ENOENT && !run.package.empty()) msg.append(" (is ").append(run.package).append(" installed?)");
        return makeError(msg);
    };
    const auto envStrings = run.environment ? *run.environment : defaultEnvironment();
    std::string program = name;
    if (run.environment) {
        program = resolve(name, envStrings);
        if (program.empty()) return missing(ENOENT);
    }

    int in[2], out[2], err[2];
    // stdin is a socket so that a program that stops reading gives EPIPE, never SIGPIPE.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0)
        return makeError(name + ": cannot create a socket: " + std::strerror(errno));
    UniqueFd inParent(in[0]), inChild(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) return makeError(name + ": cannot create a pipe: " + std::strerror(errno));
    UniqueFd outParent(out[0]), outChild(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) return makeError(name + ": cannot create a pipe: " + std::strerror(errno));
    UniqueFd errParent(err[0]), errChild(err[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, inChild.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, outChild.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, errChild.get(), 2);
    if (run.passFd >= 0) posix_spawn_file_actions_adddup2(&actions, run.passFd, 3);
    posix_spawn_file_actions_addclosefrom_np(&actions, run.passFd >= 0 ? 4 : 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group (killed as a whole), default signal handling and
    // an empty mask whatever the daemon blocks for itself.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGALRM}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    std::vector<char*> args;
    for (const auto& a : run.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    pid_t pid = -1;
    const int rc = run.environment ? ::posix_spawn(&pid, program.c_str(), &actions, &attr, args.data(), envp.data())
                                   : ::posix_spawnp(&pid, program.c_str(), &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return missing(rc);
    inChild.reset();
    outChild.reset();
    errChild.reset();

    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    ProgramResult result;
    std::size_t written = 0;
    if (input.empty()) inParent.reset();
    bool exited = false;
    int status = 0;
    char buf[16384];
    auto keep = [&](std::string& sink, ssize_t n) {
        if (sink.size() < run.maxCapture)
            sink.append(buf, std::min(static_cast<std::size_t>(n), run.maxCapture - sink.size()));
    };
    for (;;) {
        if (!exited) {
            const pid_t w = ::waitpid(pid, &status, WNOHANG);
            if (w == pid) exited = true;
            // Reaped elsewhere (SIGCHLD ignored): how it ended cannot be known, so it did not succeed.
            if (w < 0 && errno == ECHILD) return makeError(name + ": its exit status was lost (is SIGCHLD ignored?)");
        }
        if (exited && !outParent.valid() && !errParent.valid()) break;
        if (exited) {
            // It is gone; take what is left in the pipes without waiting for
            // anything it may have left running.
            for (UniqueFd* fd : {&outParent, &errParent}) {
                if (!fd->valid()) continue;
                ::fcntl(fd->get(), F_SETFL, O_NONBLOCK);
                ssize_t n;
                std::string& sink = fd == &outParent ? result.out : result.err;
                while ((n = ::read(fd->get(), buf, sizeof buf)) > 0) keep(sink, n);
                fd->reset();
            }
            break;
        }
        auto stop = [&] {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
        };
        const int left = millisecondsLeft(deadline);
        if (left == 0) {
            stop();
            std::string msg = name + " did not finish within " + secondsText(run.timeout) + " and was stopped";
            if (const auto e = oneLine(result.err); !e.empty()) msg.append(": ").append(e);
            return makeError(msg);
        }
        std::vector<pollfd> fds;
        if (inParent.valid()) fds.push_back({inParent.get(), POLLOUT, 0});
        if (outParent.valid()) fds.push_back({outParent.get(), POLLIN, 0});
        if (errParent.valid()) fds.push_back({errParent.get(), POLLIN, 0});
        if (pidfd.valid()) fds.push_back({pidfd.get(), POLLIN, 0});
        // Without a pidfd (kernels before 5.3) the exit is noticed within 20 ms.
        const int wait = pidfd.valid() ? left : std::min(left, 20);
        if (::poll(fds.data(), fds.size(), wait) < 0 && errno != EINTR) {
            const int e = errno;
            stop();
            return makeError(name + ": poll: " + std::strerror(e));
        }
        for (const auto& p : fds) {
            if (!p.revents) continue;
            if (inParent.valid() && p.fd == inParent.get()) {
                const ssize_t n = ::send(p.fd, input.data() + written, std::min<std::size_t>(input.size() - written, 65536),
                                         MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0) written += static_cast<std::size_t>(n);
                if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) inParent.reset();
            } else if ((outParent.valid() && p.fd == outParent.get()) || (errParent.valid() && p.fd == errParent.get())) {
                UniqueFd& fd = p.fd == outParent.get() ? outParent : errParent;
                std::string& sink = &fd == &outParent ? result.out : result.err;
                const ssize_t n = ::read(p.fd, buf, sizeof buf);
                if (n > 0) {
                    keep(sink, n);
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    fd.reset();
                }
            }
        }
    }
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (WIFSIGNALED(status)) {
        std::string msg = name + " was killed by signal " + std::to_string(WTERMSIG(status));
        if (const auto e = oneLine(result.err); !e.empty()) msg.append(": ").append(e);
        return makeError(msg);
    }
    if (written < input.size() && result.exitCode == 0)
        return makeError(name + " ended before it had read the whole document (" + std::to_string(written) + " of " +
                         std::to_string(input.size()) + " bytes)");
    return result;
}

}  // namespace kiosk
