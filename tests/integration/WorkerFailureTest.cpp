// A worker that dies is a FAIL (or exit 2 when no verdict is possible), never
// a PASS and never a crash of the front end. The real workers are replaced
// through QKIOSK_WORKER_DIR by scripts that kill themselves, so the front end
// meets a real dead process, not a simulation inside it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "Harness.h"

using namespace qktest;

namespace {

// A worker folder holding the real workers, except `broken`, which kills itself.
fs::path workerDir(Workspace& ws, const std::string& broken, const std::string& script = "#!/bin/sh\nkill -9 $$\n") {
    const auto dir = ws.path() / "workers";
    fs::create_directories(dir);
    const fs::path real = fs::path(QKIOSK_BIN).parent_path();
    for (const auto* name : {"qkiosk-reader", "qkiosk-scanner"}) {
        const auto target = dir / name;
        if (name == broken) {
            ws.write("workers/" + std::string(name), script);
            fs::permissions(target, fs::perms::owner_all);
        } else {
            fs::create_symlink(real / name, target);
        }
    }
    return dir;
}

RunResult scanWith(Workspace& ws, const fs::path& workers, const fs::path& image, const std::string& extra = "") {
    const std::string cmd = "QKIOSK_WORKER_DIR='" + workers.string() + "' '" + QKIOSK_BIN + "' scan --image '" +
                            image.string() + "' --db '" + ws.database().string() + "' --json '" +
                            (ws.path() / "r.json").string() + "' " + extra;
    return run({"sh", "-c", cmd});
}

}  // namespace

TEST_CASE("A media reader that dies makes the scan FAIL as unscannable, saying how it ended", "[scan][workers]") {
    Workspace ws;
    ws.write("tree/a.txt", "a\n");
    const auto img = makeImage(ws, "w.img", "fat16", "none", ws.path() / "tree");
    const auto r = scanWith(ws, workerDir(ws, "qkiosk-reader"), img);
    INFO(r.out << r.err);
    CHECK(r.exitCode == 1);
    CHECK_THAT(r.out, Catch::Contains("FAIL") && Catch::Contains("unscannable") && Catch::Contains("signal 9"));
}

TEST_CASE("A scanner that dies before it is ready is an error, not a verdict", "[scan][workers]") {
    Workspace ws;
    ws.write("tree/a.txt", "a\n");
    const auto img = makeImage(ws, "w.img", "fat16", "none", ws.path() / "tree");
    const auto r = scanWith(ws, workerDir(ws, "qkiosk-scanner"), img);
    INFO(r.out << r.err);
    CHECK(r.exitCode == 2);
    CHECK_THAT(r.err, Catch::Contains("scanner failed to start") && Catch::Contains("signal 9"));
    CHECK_FALSE(fs::exists(ws.path() / "r.json"));
}

TEST_CASE("A scanner killed in mid-scan makes the scan FAIL at once, every unanswered file unscannable", "[scan][workers]") {
    Workspace ws;
    requireTool("pgrep");
    // Enough content that the scan is still running when the scanner is killed.
    for (int i = 0; i < 4; ++i)
        REQUIRE(run({"sh", "-c", "mkdir -p '" + (ws.path() / "tree").string() + "' && head -c 80M /dev/urandom > '" +
                                     (ws.path() / "tree").string() + "/data" + std::to_string(i) + ".bin'"}).exitCode == 0);
    const auto img = makeImage(ws, "big.img", "fat32", "none", ws.path() / "tree");
    const auto jsonPath = ws.path() / "r.json";
    fs::create_directories(ws.path() / "shm");
    const auto cfg = ws.write("k.toml", "[scan]\ntemp_dir = \"" + (ws.path() / "shm").string() + "\"\n");
    const auto t0 = std::chrono::steady_clock::now();
    Process scan({QKIOSK_BIN, "scan", "--image", img.string(), "--db", ws.database().string(), "--json", jsonPath.string(),
                  "--config", cfg.string()});
    // Wait until this session's scan worker (a child of the scanner service)
    // is busy, then kill it as a crash would.
    auto childOf = [](const std::string& parent) {
        const auto r = run({"pgrep", "-x", "qkiosk-scanner", "-P", parent});
        return r.exitCode == 0 ? r.out.substr(0, r.out.find('\n')) : std::string();
    };
    std::string pid;
    for (int i = 0; i < 500 && pid.empty(); ++i) {
        if (const auto service = childOf(std::to_string(scan.pid())); !service.empty()) pid = childOf(service);
        if (pid.empty()) ::usleep(10000);
    }
    REQUIRE_FALSE(pid.empty());
    ::usleep(300000);
    REQUIRE(run({"kill", "-9", pid}).exitCode == 0);
    const int rc = scan.wait();
    const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(scan.output());
    CHECK(rc == 1);
    CHECK(secs < 60);   // no waiting for the stall timeout
    std::ifstream in(jsonPath);
    const auto report = json::parse(in);
    CHECK(report.at("verdict") == "fail");
    const auto unscannable = reasons(report, "unscannable");
    REQUIRE_FALSE(unscannable.empty());
    CHECK_THAT(unscannable.front().at("detail").get<std::string>(), Catch::Contains("signal 9"));
    // The killed scanner's private folder in RAM is gone too.
    CHECK(fs::is_empty(ws.path() / "shm"));
}

TEST_CASE("A media reader that hangs is stopped after the stall timeout: FAIL, not a hang", "[scan][workers]") {
    Workspace ws;
    ws.write("tree/a.txt", "a\n");
    const auto img = makeImage(ws, "w.img", "fat16", "none", ws.path() / "tree");
    const auto cfg = ws.write("k.toml", "[scan]\nstall_timeout = 5\n");
    const auto t0 = std::chrono::steady_clock::now();
    // A reader that holds its socket open and never says a word.
    const auto r = scanWith(ws, workerDir(ws, "qkiosk-reader", "#!/bin/sh\nexec sleep 60\n"), img,
                            "--config '" + cfg.string() + "'");
    const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(r.out << r.err);
    CHECK(r.exitCode == 1);
    CHECK_THAT(r.out, Catch::Contains("FAIL") && Catch::Contains("stalled") && Catch::Contains("no progress for 5 s"));
    CHECK(secs >= 5);
    CHECK(secs < 30);
}
