// The workers' sandbox, checked from outside: what the kernel says about the
// running workers (/proc), what happens when one breaks a rule, and what a
// worker that runs over its CPU or memory limit does to the verdict.
#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "Harness.h"
#include "kiosk/files/PrivateTempDir.h"
#include "kiosk/workers/ScannerService.h"
#include "kiosk/workers/WorkerProcess.h"
#include "qkiosk/sandbox/Sandbox.h"

using namespace kiosk;
using namespace qktest;

namespace {

std::map<std::string, std::string> procStatus(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::map<std::string, std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        out[line.substr(0, colon)] = value;
    }
    return out;
}

std::string netNamespace(const std::string& pid) {
    std::error_code ec;
    return fs::read_symlink("/proc/" + pid + "/ns/net", ec).string();
}

// A worker's environment as the kernel holds it (NAME=value strings).
std::vector<std::string> procEnviron(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::vector<std::string> out;
    std::string entry;
    while (std::getline(in, entry, '\0'))
        if (!entry.empty()) out.push_back(entry);
    return out;
}

// What the front end was started with that no worker may inherit: a preload
// shim (here one that does not exist: ld.so only warns), malloc tuning, a
// locale, a PATH of its own, any variable at all.
struct HostileEnvironment {
    HostileEnvironment() {
        for (const auto& [k, v] : vars) {
            if (const char* old = std::getenv(k)) saved.emplace_back(k, old);
            ::setenv(k, v, 1);
        }
    }
    ~HostileEnvironment() {
        for (const auto& [k, v] : vars) ::unsetenv(k);
        for (const auto& [k, v] : saved) ::setenv(k.c_str(), v.c_str(), 1);
    }
    static constexpr std::pair<const char*, const char*> vars[] = {
        {"LD_PRELOAD", "/nonexistent/qkiosk-shim.so"}, {"MALLOC_PERTURB_", "85"}, {"LANG", "ja_JP.UTF-8"},
        {"PATH", "/tmp/evil:/usr/bin:/bin"}, {"QKIOSK_TEST_INHERITED", "1"}};
    std::vector<std::pair<std::string, std::string>> saved;
};

// A worker's environment is the explicit one, whatever the caller had.
void checkCleanEnvironment(pid_t pid) {
    INFO("pid " << pid);
    const auto env = procEnviron(pid);
    REQUIRE_FALSE(env.empty());
    CHECK(env == workerEnvironment());
    for (const auto& e : env) {
        INFO(e);
        const auto name = e.substr(0, e.find('='));
        CHECK((name == "PATH" || name == "LC_ALL" || name == "QKIOSK_DEBUG" || name.ends_with("SAN_OPTIONS")));
    }
    CHECK(std::find(env.begin(), env.end(), "PATH=/usr/bin:/bin") != env.end());
    CHECK(std::find(env.begin(), env.end(), "LC_ALL=C") != env.end());
}

void useBuiltWorkers() { ::setenv("QKIOSK_WORKER_DIR", fs::path(QKIOSK_BIN).parent_path().c_str(), 1); }

// The kernel's view of a sandboxed worker.
void checkSandboxed(pid_t pid) {
    const auto st = procStatus(pid);
    INFO("pid " << pid);
    CHECK(st.at("Seccomp") == "2");      // filter mode
    CHECK(st.at("NoNewPrivs") == "1");
    std::istringstream uids(st.at("Uid"));
    int real = -1, effective = -1, saved = -1;
    uids >> real >> effective >> saved;
    CHECK(real != 0);
    CHECK(effective != 0);
    CHECK(saved != 0);
    CHECK(st.at("CapEff") == "0000000000000000");
    if (::geteuid() == 0) CHECK(netNamespace(std::to_string(pid)) != netNamespace("self"));
}

}  // namespace

TEST_CASE("Both workers run with seccomp, no_new_privs, no capabilities, as a non-root user, off the network, "
          "in an environment of their own",
          "[sandbox]") {
    useBuiltWorkers();
    HostileEnvironment hostile;
    Workspace ws;
    WorkerLimits limits;   // nobody, as in the default config
    // The workers' user must reach its private folder, as it does in /dev/shm.
    fs::permissions(ws.path(), fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);

    SECTION("the media reader, before it has read anything") {
        sandbox::Spec spec;
        auto reader = WorkerProcess::start(workerPath("qkiosk-reader"), sandbox::toOptions(spec));
        REQUIRE(reader);
        auto first = reader->channel().receive();   // its first word: "I am sandboxed"
        REQUIRE(first);
        REQUIRE(first->has_value());
        auto sb = proto::decodeSandboxed((*first)->frame);
        REQUIRE(sb);
        CHECK_THAT(sb->summary, Catch::Contains("seccomp") && Catch::Contains("no_new_privs"));
        checkSandboxed(reader->pid());
        checkCleanEnvironment(reader->pid());
    }

    SECTION("the scan worker of every session, a fresh one each time, while the engine stays loaded") {
        auto service = ScannerService::start(ws.database().string(), ws.path().string());
        REQUIRE(service);
        REQUIRE((*service)->waitReady(std::chrono::seconds(60)));
        const auto loaded = (*service)->engine().loadMillis;
        pid_t previous = 0;
        for (int session = 0; session < 2; ++session) {
            auto tmp = PrivateTempDir::create(ws.path().string(), "s-", limits.uid, limits.gid);
            REQUIRE(tmp);
            auto worker = (*service)->openSession(ScanSettings{}, limits, tmp->path());
            REQUIRE(worker);
            auto first = worker->channel().receive();
            REQUIRE(first);
            REQUIRE(first->has_value());
            REQUIRE(proto::decodeSandboxed((*first)->frame));
            checkSandboxed(worker->pid());
            checkCleanEnvironment(worker->pid());
            CHECK(worker->pid() != previous);
            previous = worker->pid();
            // The first session's worker is killed as a crash would; the next one still comes.
            if (session == 0) {
                worker->kill();
                CHECK_THAT(worker->wait(), Catch::Contains("signal 9"));
            }
        }
        CHECK((*service)->engine().loadMillis == loaded);   // not reloaded
    }
}

TEST_CASE("A worker that makes a forbidden system call is killed on the spot", "[sandbox]") {
    for (const char* worker : {"qkiosk-reader", "qkiosk-scanner"}) {
        const auto exe = fs::path(QKIOSK_BIN).parent_path() / worker;
        // The self-test enters the sandbox, then opens a network socket.
        const auto r = run({exe.string(), "--sandbox-self-test"});
        INFO(worker << ": " << r.err);
        CHECK(r.exitCode == 128 + SIGSYS);
        CHECK_THAT(r.err, Catch::Contains("the sandbox stopped system call 41"));   // socket(2)
    }
}

TEST_CASE("A worker over its CPU time limit makes the scan FAIL as unscannable, naming the limit", "[sandbox][scan]") {
    Workspace ws;
    // About 160 MB to scan: several seconds of CPU, against a limit of 1 s.
    for (int i = 0; i < 4; ++i)
        REQUIRE(run({"sh", "-c", "mkdir -p '" + (ws.path() / "tree").string() + "' && head -c 40M /dev/urandom > '" +
                                     (ws.path() / "tree").string() + "/data" + std::to_string(i) + ".bin'"}).exitCode == 0);
    const auto img = makeImage(ws, "cpu.img", "fat32", "none", ws.path() / "tree");
    const auto cfg = ws.write("k.toml", "[sandbox]\ncpu_limit = 1\n");
    const auto t0 = std::chrono::steady_clock::now();
    const auto s = scanImage(ws, img, {"--config", cfg.string()});
    INFO(s.out << s.err);
    CHECK(s.exitCode == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60));
    CHECK(s.report.at("verdict") == "fail");
    bool named = false;
    for (const auto& r : reasons(s.report, "unscannable"))
        named |= r.at("detail").get<std::string>().find("CPU time limit of 1 s") != std::string::npos;
    CHECK(named);
}

TEST_CASE("A worker over its memory limit makes the scan FAIL as unscannable, not a crash of the kiosk", "[sandbox][scan]") {
    Workspace ws;
    REQUIRE(run({"sh", "-c", "mkdir -p '" + (ws.path() / "tree").string() + "' && head -c 96M /dev/urandom > '" +
                                 (ws.path() / "tree").string() + "/big.bin' && echo small > '" +
                                 (ws.path() / "tree").string() + "/small.txt'"}).exitCode == 0);
    const auto img = makeImage(ws, "mem.img", "fat32", "none", ws.path() / "tree");
    const auto cfg = ws.write("k.toml", "[sandbox]\nmemory_limit = \"64MiB\"\n");
    const auto s = scanImage(ws, img, {"--config", cfg.string()});
    INFO(s.out << s.err);
    CHECK(s.exitCode == 1);
    CHECK(s.report.at("verdict") == "fail");
    bool big = false;
    for (const auto& r : reasons(s.report, "unscannable"))
        big |= r.at("path") == "/p0/big.bin" && r.at("detail").get<std::string>().find("memory") != std::string::npos;
    CHECK(big);
    // The small file was still read and scanned: the session went on.
    CHECK(s.report.at("files_scanned") == 1);
}
