// A worker that dies is a FAIL (or exit 2 when no verdict is possible), never
// a PASS and never a crash of the front end. The real workers are replaced
// through QKIOSK_WORKER_DIR by scripts that kill themselves, so the front end
// meets a real dead process, not a simulation inside it.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "Harness.h"

using namespace qktest;

namespace {

// A worker folder holding the real workers, except `broken`, which kills itself.
fs::path workerDir(Workspace& ws, const std::string& broken) {
    const auto dir = ws.path() / "workers";
    fs::create_directories(dir);
    const fs::path real = fs::path(QKIOSK_BIN).parent_path();
    for (const auto* name : {"qkiosk-reader", "qkiosk-scanner"}) {
        const auto target = dir / name;
        if (name == broken) {
            ws.write("workers/" + std::string(name), "#!/bin/sh\nkill -9 $$\n");
            fs::permissions(target, fs::perms::owner_all);
        } else {
            fs::create_symlink(real / name, target);
        }
    }
    return dir;
}

RunResult scanWith(Workspace& ws, const fs::path& workers, const fs::path& image) {
    const std::string cmd = "QKIOSK_WORKER_DIR='" + workers.string() + "' '" + QKIOSK_BIN + "' scan --image '" +
                            image.string() + "' --db '" + ws.database().string() + "' --json '" +
                            (ws.path() / "r.json").string() + "'";
    return run({"sh", "-c", cmd});
}

}  // namespace

TEST_CASE("A media reader that dies makes the scan FAIL with read-error", "[scan][workers]") {
    Workspace ws;
    ws.write("tree/a.txt", "a\n");
    const auto img = makeImage(ws, "w.img", "fat16", "none", ws.path() / "tree");
    const auto r = scanWith(ws, workerDir(ws, "qkiosk-reader"), img);
    INFO(r.out << r.err);
    CHECK(r.exitCode == 1);
    CHECK_THAT(r.out, Catch::Contains("FAIL") && Catch::Contains("read-error") && Catch::Contains("signal 9"));
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
