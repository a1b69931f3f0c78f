#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <variant>
#include <vector>

#include "kiosk/daemon/WhitelistWatcher.h"
#include "kiosk/policy/Policy.h"
#include "qkiosk/base/Sha256.h"

using namespace kiosk;
namespace fs = std::filesystem;

namespace {

const char* kOneApproval = R"([[device]]
vendor_id  = "0781"
product_id = "5567"
serial     = "4C530001"
interfaces = ["08:06:50"]
owner      = "Example Medical Systems K.K."
purpose    = "CT firmware maintenance"
expires    = "2099-03-31"
)";

const char* kSecondApproval = R"(
[[device]]
vendor_id  = "0781"
product_id = "5567"
serial     = "4C530002"
interfaces = ["08:06:50"]
owner      = "Example Medical Systems K.K."
purpose    = "MR firmware maintenance"
expires    = "2099-03-31"
)";

struct LoggedRecord {
    std::string kind;
    nlohmann::json data;
    bool sign;
};

// A whitelist file in a private folder, the status lines and log records a watcher of it gave.
struct WhitelistBed {
    fs::path dir;
    std::string path;
    std::vector<messages::StatusEvent> events;
    std::vector<LoggedRecord> records;
    WhitelistWatcher watcher;

    WhitelistBed() : dir(makeDir()), path((dir / "whitelist.toml").string()), watcher(path, sink(), recorder()) {}
    ~WhitelistBed() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    static fs::path makeDir() {
        std::string t = (fs::temp_directory_path() / "qkiosk-whitelist-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        return t;
    }
    StatusSink sink() {
        return [this](const messages::StatusEvent& e) { events.push_back(e); };
    }
    Recorder recorder() {
        return [this](const std::string& kind, const std::string&, const std::string& data, bool sign) -> Status {
            records.push_back({kind, nlohmann::json::parse(data), sign});
            return {};
        };
    }
    // Writes the file as an edit would, a second later than the last one.
    void write(const std::string& text) {
        std::ofstream(path, std::ios::trunc) << text;
        static auto when = fs::file_time_type::clock::now();
        when += std::chrono::seconds(1);
        fs::last_write_time(path, when);
    }
    std::vector<std::string> failures() const {
        std::vector<std::string> out;
        for (const auto& e : events)
            if (const auto* f = std::get_if<messages::Failure>(&e)) out.push_back(f->message);
        return out;
    }
};

devices::UsbDevice approvedStick() {
    devices::UsbDevice d;
    d.name = "1-1";
    d.vendorId = 0x0781;
    d.productId = 0x5567;
    d.serial = "4C530001";
    d.configurations.push_back(devices::UsbConfiguration{1, {devices::UsbInterface{0, 0, 0x08, 0x06, 0x50}}});
    return d;
}

}  // namespace

TEST_CASE("A whitelist edit is in force at the next look, without a restart, and the log says which list it was",
          "[WhitelistWatcher]") {
    WhitelistBed bed;
    bed.write(kOneApproval);
    bed.watcher.refresh();
    REQUIRE(bed.watcher.current());
    CHECK(bed.watcher.current()->devices.size() == 1);
    REQUIRE(bed.records.size() == 1);
    CHECK(bed.records[0].kind == "whitelist-loaded");
    CHECK(bed.records[0].sign);
    CHECK(bed.records[0].data["approvals"] == 1);
    CHECK(bed.records[0].data["present"] == true);
    CHECK(bed.records[0].data["sha256"] == toHex(Sha256::of(std::string_view(kOneApproval))));

    bed.write(std::string(kOneApproval) + kSecondApproval);
    bed.watcher.refresh();
    REQUIRE(bed.watcher.current());
    CHECK(bed.watcher.current()->devices.size() == 2);
    REQUIRE(bed.records.size() == 2);
    CHECK(bed.records[1].data["approvals"] == 2);
    CHECK(bed.failures().empty());
}

TEST_CASE("An unchanged whitelist is not read or recorded again", "[WhitelistWatcher]") {
    WhitelistBed bed;
    bed.write(kOneApproval);
    for (int i = 0; i < 5; ++i) bed.watcher.refresh();
    CHECK(bed.records.size() == 1);
}

TEST_CASE("A broken whitelist edit refuses every storage device and says why, until it is fixed", "[WhitelistWatcher]") {
    WhitelistBed bed;
    bed.write(kOneApproval);
    bed.watcher.refresh();
    CHECK(policy::decide(approvedStick(), bed.watcher.current(), Config{}, "2026-12-01").admit);

    bed.write(std::string(kOneApproval) + "[[device]\nvendor_id = ");
    bed.watcher.refresh();
    REQUIRE_FALSE(bed.watcher.current());
    const auto refused = policy::decide(approvedStick(), bed.watcher.current(), Config{}, "2026-12-01");
    CHECK_FALSE(refused.admit);
    REQUIRE(bed.failures().size() == 1);
    CHECK(bed.failures()[0].rfind("whitelist: ", 0) == 0);
    CHECK_THAT(bed.failures()[0], Catch::Contains("every storage device is refused until it is fixed"));
    REQUIRE(bed.records.size() == 2);
    CHECK(bed.records[1].data.contains("error"));
    CHECK_FALSE(bed.records[1].data.contains("approvals"));

    bed.write(kOneApproval);
    bed.watcher.refresh();
    REQUIRE(bed.watcher.current());
    CHECK(policy::decide(approvedStick(), bed.watcher.current(), Config{}, "2026-12-01").admit);
    CHECK(bed.failures().size() == 1);
}

TEST_CASE("Without a whitelist file no device is approved, and the log says the file is absent", "[WhitelistWatcher]") {
    WhitelistBed bed;
    bed.watcher.refresh();
    REQUIRE(bed.watcher.current());
    CHECK(bed.watcher.current()->devices.empty());
    REQUIRE(bed.records.size() == 1);
    CHECK(bed.records[0].data["present"] == false);
    CHECK_FALSE(bed.records[0].data.contains("sha256"));
    CHECK(bed.failures().empty());
}
