#include "Harness.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include "qkiosk/base/Sha256.h"

extern char** environ;

namespace qktest {

std::string eicar() {
    // Assembled at run time so this source file itself is not flagged.
    return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

RunResult run(const std::vector<std::string>& argv) {
    int outPipe[2], errPipe[2];
    REQUIRE(::pipe2(outPipe, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(errPipe, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outPipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errPipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid;
    const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(outPipe[1]);
    ::close(errPipe[1]);
    RunResult r;
    if (rc != 0) {
        ::close(outPipe[0]);
        ::close(errPipe[0]);
        FAIL("cannot start " << argv[0]);
        return r;
    }
    pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    int open = 2;
    char buf[65536];
    while (open > 0) {
        if (::poll(fds, 2, -1) < 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

Process::Process(const std::vector<std::string>& argv) {
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    fd_ = out[0];
    REQUIRE(rc == 0);
}

Process::~Process() {
    if (pid_ > 0) stop();
    if (fd_ >= 0) ::close(fd_);
}

bool Process::readSome(int timeoutMs) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    all_.append(buf, static_cast<std::size_t>(n));
    return true;
}

std::string Process::waitForLine(const std::string& needle, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        std::size_t nl;
        while ((nl = buffer_.find('\n')) != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            if (line.find(needle) != std::string::npos) return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return "";
        if (!readSome(static_cast<int>(left))) {
            if (std::chrono::steady_clock::now() >= deadline) return "";
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 0) > 0 && (p.revents & POLLHUP)) return "";  // the process is gone
        }
    }
}

int Process::wait() {
    if (pid_ <= 0) return -1;
    while (readSome(1000) || ::kill(pid_, 0) == 0) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            while (readSome(0)) {}
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
    return -1;
}

int Process::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 1000; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            while (readSome(0)) {}
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        ::usleep(10000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return 137;
}

Workspace::Workspace() {
    std::string tmpl = (fs::temp_directory_path() / "qkiosk-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
}

Workspace::~Workspace() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

fs::path Workspace::write(const std::string& rel, const std::string& content) {
    const auto p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << content;
    REQUIRE(out.good());
    return p;
}

fs::path Workspace::copy(const fs::path& from, const std::string& rel) {
    const auto p = dir_ / rel;
    fs::create_directories(p.parent_path());
    fs::copy_file(from, p, fs::copy_options::overwrite_existing);
    return p;
}

fs::path Workspace::database() {
    const auto db = dir_ / "db";
    if (fs::exists(db / "test.hdb")) return db;
    const std::string e = eicar();
    std::string md5;
    {
        // md5sum is in coreutils, which every Debian system has.
        write("db/.eicar", e);
        auto r = run({"md5sum", (db / ".eicar").string()});
        REQUIRE(r.exitCode == 0);
        md5 = r.out.substr(0, 32);
        fs::remove(db / ".eicar");
    }
    std::string hdb = md5 + ":" + std::to_string(e.size()) + ":Qkiosk.Test.EICAR\n";
    const fs::path clamExe = "/usr/share/clamav-testfiles/clam.exe";
    if (fs::exists(clamExe)) {
        auto r = run({"md5sum", clamExe.string()});
        REQUIRE(r.exitCode == 0);
        hdb += r.out.substr(0, 32) + ":" + std::to_string(fs::file_size(clamExe)) + ":Qkiosk.Test.ClamExe\n";
    }
    write("db/test.hdb", hdb);
    return db;
}

void requireTool(const std::string& tool) {
    if (run({"sh", "-c", "command -v " + tool + " >/dev/null"}).exitCode != 0) {
        WARN("SKIP: " << tool << " is not installed");
        std::exit(77);
    }
}

fs::path makeImage(Workspace& ws, const std::string& name, const std::string& fsType, const std::string& table,
                   const fs::path& srcDir, const std::vector<std::string>& extra) {
    const auto out = ws.path() / name;
    std::vector<std::string> argv = {std::string(QKIOSK_FIXTURES) + "/make-image.sh", out.string(), "--fs", fsType,
                                     "--table", table};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(srcDir.string());
    const auto r = run(argv);
    if (r.exitCode == 77) {
        WARN("SKIP: " << r.err);
        std::exit(77);
    }
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return out;
}

Scan scanImage(Workspace& ws, const fs::path& image, const std::vector<std::string>& extra) {
    const auto jsonPath = ws.path() / (image.filename().string() + ".json");
    std::vector<std::string> argv = {QKIOSK_BIN, "scan", "--image", image.string(), "--db", ws.database().string(),
                                     "--json", jsonPath.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto r = run(argv);
    Scan s{r.exitCode, json(), r.out, r.err};
    if (fs::exists(jsonPath)) {
        std::ifstream in(jsonPath);
        s.report = json::parse(in);
    }
    return s;
}

std::vector<json> reasons(const json& report, const std::string& code, const std::string& path) {
    std::vector<json> out;
    for (const auto& r : report.at("reasons"))
        if (r.at("code") == code && (path.empty() || r.at("path") == path)) out.push_back(r);
    return out;
}

SmallDisk::SmallDisk(const fs::path& where, const std::string& size) : path_(where) {
    fs::create_directories(where);
    if (run({"mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", where.string()}).exitCode != 0) {
        WARN("SKIP: cannot mount a tmpfs (not root?)");
        std::exit(77);
    }
}

SmallDisk::~SmallDisk() { (void)run({"umount", "-l", path_.string()}); }

void SmallDisk::fill() const {
    for (const char* bs : {"64k", "1"})
        (void)run({"dd", "if=/dev/zero", "of=" + (path_ / ("fill-" + std::string(bs))).string(), "bs=" + std::string(bs)});
}

std::string join(std::initializer_list<std::string> parts) {
    std::string out;
    for (const auto& p : parts) out.append(p);
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string sha256File(const fs::path& p) {
    return kiosk::toHex(kiosk::Sha256::of(slurp(p)));
}

std::string randomBytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

}  // namespace qktest
