#include "SyslogCollector.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace qktest {
namespace {

[[noreturn]] void skip(const std::string& why) {
    WARN("SKIP: " << why);
    std::exit(77);
}

// rsyslogd lives in /usr/sbin, which a test's PATH may lack.
std::string rsyslogd() {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    path.append(":/usr/sbin:/sbin");
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const auto candidate = fs::path(dir.empty() ? "." : dir) / "rsyslogd";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    skip("rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls)");
}

int freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Whether something listens on 127.0.0.1:port, from /proc/net/tcp (no
// connection is made, so the collector logs nothing about it).
bool listening(int port) {
    std::istringstream in(slurp("/proc/net/tcp"));
    std::string line;
    std::getline(in, line);
    char want[32];
    std::snprintf(want, sizeof want, "0100007F:%04X", port);
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string slot, local, remote, state;
        f >> slot >> local >> remote >> state;
        if (local == want && state == "0A") return true;
    }
    return false;
}

// Starts argv with stdout and stderr appended to `log`, without LD_PRELOAD
// (the device tests run under umockdev's preload, which rsyslogd must not get).
int spawn(const std::vector<std::string>& argv, const fs::path& log) {
    std::vector<char*> env;
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).rfind("LD_PRELOAD=", 0) != 0) env.push_back(*e);
    env.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    return pid;
}

}  // namespace

TestPki makeTestPki(Workspace& ws) {
    requireTool("openssl");
    const auto d = ws.path() / "pki";
    fs::create_directories(d);
    TestPki p{d / "ca.pem", d / "server.pem", d / "server.key", d / "other-ca.pem"};
    const auto ok = [](const RunResult& r) {
        INFO(r.out << r.err);
        REQUIRE(r.exitCode == 0);
    };
    const std::vector<std::string> key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};
    auto req = [&](std::vector<std::string> argv) {
        argv.insert(argv.begin() + 2, key.begin(), key.end());
        ok(run(argv));
    };
    req({"openssl", "req", "-x509", "-keyout", (d / "ca.key").string(), "-out", p.ca.string(), "-subj", "/CN=qkiosk test CA",
         "-days", "2"});
    req({"openssl", "req", "-x509", "-keyout", (d / "other-ca.key").string(), "-out", p.otherCa.string(), "-subj",
         "/CN=qkiosk other CA", "-days", "2"});
    req({"openssl", "req", "-keyout", p.serverKey.string(), "-out", (d / "server.csr").string(), "-subj", "/CN=localhost"});
    ws.write("pki/server.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                               "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
    ok(run({"openssl", "x509", "-req", "-in", (d / "server.csr").string(), "-CA", p.ca.string(), "-CAkey",
            (d / "ca.key").string(), "-CAcreateserial", "-out", p.serverCert.string(), "-days", "2", "-extfile",
            (d / "server.ext").string()}));
    return p;
}

SyslogCollector::SyslogCollector(Workspace& ws, const std::optional<TestPki>& tls)
    : dir_(ws.path() / "collector"), out_(dir_ / "received.log"), port_(freePort()) {
    const std::string exe = rsyslogd();
    fs::create_directories(dir_);
    std::string conf = "global(workDirectory=\"" + dir_.string() + "\"";
    if (tls)
        conf += " defaultNetstreamDriverCAFile=\"" + tls->ca.string() + "\" defaultNetstreamDriverCertFile=\"" +
                tls->serverCert.string() + "\" defaultNetstreamDriverKeyFile=\"" + tls->serverKey.string() + "\"";
    conf += ")\n";
    conf += tls ? "module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n"
                : "module(load=\"imtcp\")\n";
    // The raw message as it came (the octet count taken off), one per line.
    conf += "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n";
    conf += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + std::to_string(port_) + "\")\n";
    conf += "if $app-name == \"qkiosk\" then action(type=\"omfile\" file=\"" + out_.string() + "\" template=\"raw\")\n";
    std::ofstream(dir_ / "rsyslog.conf") << conf;
    const auto check = run({exe, "-N1", "-f", (dir_ / "rsyslog.conf").string()});
    if (check.exitCode != 0) {
        if (tls && (check.out + check.err).find("gtls") != std::string::npos)
            skip("rsyslog's GnuTLS driver is not installed (apt-get install rsyslog-gnutls)");
        FAIL("rsyslogd does not take the test config: " << check.out << check.err);
    }
}

SyslogCollector::~SyslogCollector() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        ::usleep(10000);
    }
    kill();
}

void SyslogCollector::start() {
    REQUIRE(pid_ <= 0);
    pid_ = spawn({rsyslogd(), "-n", "-f", (dir_ / "rsyslog.conf").string(), "-i", (dir_ / "rsyslogd.pid").string()},
                 dir_ / "rsyslogd.out");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!listening(port_)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            FAIL("rsyslogd ended at start: " << slurp(dir_ / "rsyslogd.out"));
        }
        if (std::chrono::steady_clock::now() > deadline) FAIL("rsyslogd does not listen: " << slurp(dir_ / "rsyslogd.out"));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void SyslogCollector::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

std::vector<std::string> SyslogCollector::messages() const {
    std::vector<std::string> out;
    std::istringstream in(slurp(out_));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

std::vector<std::int64_t> SyslogCollector::seqs() const {
    std::vector<std::int64_t> out;
    for (const auto& m : messages()) {
        const auto at = m.find("seq=\"");
        if (at == std::string::npos) continue;
        out.push_back(std::strtoll(m.c_str() + at + 5, nullptr, 10));
    }
    return out;
}

bool SyslogCollector::waitForAll(std::int64_t upTo, double seconds) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        const auto s = seqs();
        const std::set<std::int64_t> have(s.begin(), s.end());
        bool all = true;
        for (std::int64_t i = 1; i <= upTo && all; ++i) all = have.count(i) > 0;
        if (all) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::string SyslogCollector::diagnostics() const {
    std::string out = "rsyslogd said:\n";
    out.append(slurp(dir_ / "rsyslogd.out")).append("received:\n").append(slurp(out_));
    return out;
}

bool allInOrder(const std::vector<std::int64_t>& seqs, std::int64_t n) {
    std::vector<std::int64_t> first;
    std::set<std::int64_t> seen;
    for (auto s : seqs)
        if (seen.insert(s).second) first.push_back(s);
    if (static_cast<std::int64_t>(first.size()) != n) return false;
    for (std::int64_t i = 0; i < n; ++i)
        if (first[static_cast<std::size_t>(i)] != i + 1) return false;
    return true;
}

}  // namespace qktest
