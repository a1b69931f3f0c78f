#include <catch2/catch.hpp>

#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <variant>
#include <vector>

#include "kiosk/daemon/EngineKeeper.h"

using namespace kiosk;

namespace {

// What a test says a fake engine does: still loading, loaded, or failed.
struct EngineScript {
    Result<bool> poll = true;
    Status ready{};
    EngineInfo info;
};

class FakeEngine final : public Engine {
public:
    explicit FakeEngine(std::shared_ptr<EngineScript> s) : s_(std::move(s)) {}
    Result<bool> poll() override { return s_->poll; }
    Status waitReady(std::chrono::milliseconds) override { return s_->ready; }
    const EngineInfo& info() const override { return s_->info; }
    ScannerService* service() override { return nullptr; }

private:
    std::shared_ptr<EngineScript> s_;
};

std::shared_ptr<EngineScript> engineWith(std::uint64_t signatures, std::string version) {
    auto s = std::make_shared<EngineScript>();
    s->info.signatures = signatures;
    s->info.dbVersion = std::move(version);
    return s;
}

// A keeper over a database folder the test changes by hand, with engines it scripts.
struct KeeperBed {
    std::string stamp = "main.cvd:1";
    std::deque<Result<std::shared_ptr<EngineScript>>> engines;   // what the next starts give
    int starts = 0;
    std::vector<messages::StatusEvent> events;
    std::vector<std::pair<std::string, nlohmann::json>> records;
    EngineKeeper keeper{"/var/lib/clamav",
                        [this]() -> Result<std::unique_ptr<Engine>> {
                            ++starts;
                            REQUIRE_FALSE(engines.empty());
                            auto next = engines.front();
                            engines.pop_front();
                            if (!next) return next.error();
                            return std::unique_ptr<Engine>(std::make_unique<FakeEngine>(*next));
                        },
                        [this] { return stamp; },
                        [this](const messages::StatusEvent& e) { events.push_back(e); },
                        [this](const std::string& kind, const std::string&, const std::string& data, bool) -> Status {
                            records.emplace_back(kind, nlohmann::json::parse(data));
                            return {};
                        },
                        [] { return TimePoint{}; }};

    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        for (const auto& e : events) out.push_back(messages::encode(e));
        return out;
    }
    std::uint64_t inUse() const { return keeper.current()->info().signatures; }
};

}  // namespace

TEST_CASE("At start the kiosk waits for its signatures, then says it is ready with their count", "[EngineKeeper]") {
    KeeperBed bed;
    bed.engines.push_back(engineWith(8700000, "27100"));
    bed.keeper.maintain();
    REQUIRE(bed.keeper.current());
    CHECK(bed.inUse() == 8700000);
    CHECK(bed.lines() == std::vector<std::string>{"LOADING /var/lib/clamav", "READY signatures=8700000 version=27100 age_days=unknown"});
    bed.keeper.maintain();   // nothing changed: nothing loads again
    CHECK(bed.starts == 1);
    CHECK(bed.events.size() == 2);
}

TEST_CASE("Signatures that cannot be loaded at start leave the kiosk without an engine, and say why", "[EngineKeeper]") {
    KeeperBed bed;
    auto broken = engineWith(0, "");
    broken->ready = makeError("main.cvd: malformed database");
    bed.engines.push_back(broken);
    bed.keeper.maintain();
    CHECK_FALSE(bed.keeper.current());
    REQUIRE(bed.events.size() == 2);
    CHECK(messages::encode(bed.events[1]) == "ERROR signatures cannot be loaded: main.cvd: malformed database");
}

TEST_CASE("New signatures load on the side and are swapped in only once ready, the old ones in use meanwhile",
          "[EngineKeeper]") {
    KeeperBed bed;
    bed.engines.push_back(engineWith(100, "1"));
    bed.keeper.maintain();
    bed.events.clear();

    auto update = engineWith(200, "2");
    update->poll = false;   // still loading
    bed.engines.push_back(update);
    bed.stamp = "main.cvd:2";
    bed.keeper.maintain();
    bed.keeper.maintain();
    CHECK(bed.starts == 2);   // one update, not one per look
    CHECK(bed.inUse() == 100);
    CHECK(bed.events.empty());

    update->poll = true;
    bed.keeper.maintain();
    CHECK(bed.inUse() == 200);
    CHECK(bed.lines() == std::vector<std::string>{"ENGINE-UPDATED signatures=200 version=2",
                                                  "READY signatures=200 version=2 age_days=unknown"});
    REQUIRE(bed.records.size() == 1);
    CHECK(bed.records[0].first == "engine-updated");
    CHECK(bed.records[0].second["signatures"] == 200);
}

TEST_CASE("New signatures that fail to load keep the old ones in use, say why, and are not tried again",
          "[EngineKeeper]") {
    KeeperBed bed;
    bed.engines.push_back(engineWith(100, "1"));
    bed.keeper.maintain();
    bed.events.clear();

    auto update = engineWith(0, "");
    update->poll = makeError("daily.cld: bad signature");
    bed.engines.push_back(update);
    bed.stamp = "daily.cld:broken";
    bed.keeper.maintain();
    CHECK(bed.inUse() == 100);
    CHECK(bed.lines() == std::vector<std::string>{
                             "ENGINE-UPDATE-FAILED daily.cld: bad signature (the previous signatures stay in use)",
                             "READY signatures=100 version=1 age_days=unknown"});
    REQUIRE(bed.records.size() == 1);
    CHECK(bed.records[0].first == "engine-update-failed");
    CHECK(bed.records[0].second["error"] == "daily.cld: bad signature");

    bed.keeper.maintain();   // the same broken files
    CHECK(bed.starts == 2);

    bed.engines.push_back(engineWith(300, "3"));   // fixed files
    bed.stamp = "daily.cld:fixed";
    bed.keeper.maintain();
    CHECK(bed.starts == 3);
    CHECK(bed.inUse() == 300);
}

TEST_CASE("An update whose engine cannot even start is said once, and the old signatures stay", "[EngineKeeper]") {
    KeeperBed bed;
    bed.engines.push_back(engineWith(100, "1"));
    bed.keeper.maintain();
    bed.events.clear();
    bed.engines.push_back(Result<std::shared_ptr<EngineScript>>(makeError("qkiosk-scanner: cannot start")));
    bed.stamp = "main.cvd:2";
    bed.keeper.maintain();
    bed.keeper.maintain();
    CHECK(bed.starts == 2);
    CHECK(bed.inUse() == 100);
    CHECK(bed.lines() == std::vector<std::string>{"ENGINE-UPDATE-FAILED qkiosk-scanner: cannot start"});
}

TEST_CASE("An engine that died between sessions is reported, logged and loaded again", "[EngineKeeper]") {
    KeeperBed bed;
    auto first = engineWith(100, "1");
    bed.engines.push_back(first);
    bed.keeper.maintain();
    bed.events.clear();

    first->poll = makeError("the scanner service ended (killed by signal 9)");
    bed.engines.push_back(engineWith(100, "1"));
    bed.keeper.maintain();
    REQUIRE(bed.keeper.current());
    CHECK(bed.starts == 2);
    CHECK(bed.lines() == std::vector<std::string>{
                             "ERROR the scanner service ended (killed by signal 9); loading the signatures again",
                             "LOADING /var/lib/clamav", "READY signatures=100 version=1 age_days=unknown"});
    REQUIRE(bed.records.size() == 1);
    CHECK(bed.records[0].first == "engine-died");
}

TEST_CASE("An engine that dies while an update loads, before the update fails, is loaded again, not used dead",
          "[EngineKeeper]") {
    KeeperBed bed;
    auto first = engineWith(100, "1");
    bed.engines.push_back(first);
    bed.keeper.maintain();
    auto update = engineWith(0, "");
    update->poll = false;
    bed.engines.push_back(update);
    bed.stamp = "main.cvd:2";
    bed.keeper.maintain();

    first->poll = makeError("the scanner service ended");
    update->poll = makeError("main.cvd: malformed database");
    bed.keeper.maintain();
    CHECK_FALSE(bed.keeper.current());
    bed.engines.push_back(engineWith(100, "1"));
    bed.keeper.maintain();
    REQUIRE(bed.keeper.current());
    CHECK(bed.inUse() == 100);
}
