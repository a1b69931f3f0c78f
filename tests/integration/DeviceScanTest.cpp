// qkiosk scan --device on a real block device: a loop device over an image,
// as a USB stick appears as /dev/sdX. The kiosk must switch the device to
// read-only in the kernel before reading it.
#include <catch2/catch.hpp>

#include <fstream>

#include "Harness.h"

using namespace qktest;

namespace {

// Attaches an image as a (writable) loop device for the test's lifetime.
class LoopDevice {
public:
    explicit LoopDevice(const fs::path& image) {
        const auto r = run({"losetup", "--find", "--show", image.string()});
        if (r.exitCode != 0) {
            WARN("SKIP: cannot create a loop device (needs root and /dev/loop-control): " << r.err);
            std::exit(77);
        }
        dev_ = r.out.substr(0, r.out.find('\n'));
        // The kernel keeps a loop device's read-only flag across reuse.
        run({"blockdev", "--setrw", dev_});
    }
    ~LoopDevice() {
        run({"blockdev", "--setrw", dev_});
        run({"losetup", "--detach", dev_});
    }
    const std::string& path() const { return dev_; }

private:
    std::string dev_;
};

}  // namespace

TEST_CASE("Scanning a block device makes it read-only and finds what is on it", "[scan][device]") {
    requireTool("losetup");
    requireTool("blockdev");
    Workspace ws;
    ws.write("tree/docs/report.txt", "quarterly figures\n");
    ws.write("tree/docs/deep/eicar.com", eicar());
    const auto img = makeImage(ws, "dev.img", "fat32", "mbr", ws.path() / "tree");
    LoopDevice loop(img);
    REQUIRE(run({"blockdev", "--getro", loop.path()}).out == "0\n");

    const auto jsonPath = ws.path() / "dev.json";
    const auto r = run({QKIOSK_BIN, "scan", "--device", loop.path(), "--db", ws.database().string(), "--json", jsonPath.string()});
    INFO(r.out << r.err);
    CHECK(r.exitCode == 1);
    // The kernel now refuses writes to the device.
    CHECK(run({"blockdev", "--getro", loop.path()}).out == "1\n");
    std::ifstream in(jsonPath);
    const auto report = json::parse(in);
    CHECK(reasons(report, "infected", "/p1/docs/deep/eicar.com").size() == 1);
    CHECK(report.at("media").at("size_bytes").get<std::uint64_t>() == fs::file_size(img));
    CHECK(report.at("media").at("source") == loop.path());
}
