#include <catch2/catch.hpp>

#include <variant>
#include <vector>

#include "kiosk/daemon/ProgressReporter.h"

using namespace kiosk;
using namespace std::chrono_literals;

namespace {

struct ManualClock {
    std::chrono::steady_clock::time_point t{};
    SteadyTime fn() {
        return [this] { return t; };
    }
};

std::vector<messages::Progress> progressLines(const std::vector<messages::StatusEvent>& events) {
    std::vector<messages::Progress> out;
    for (const auto& e : events)
        if (const auto* p = std::get_if<messages::Progress>(&e)) out.push_back(*p);
    return out;
}

}  // namespace

TEST_CASE("A scan shows its progress from the start, before any file is read", "[ProgressReporter]") {
    ManualClock clock;
    std::vector<messages::StatusEvent> events;
    ProgressReporter progress("1-1", 4096, [&](const messages::StatusEvent& e) { events.push_back(e); }, clock.fn());
    progress.start();
    REQUIRE(events.size() == 1);
    CHECK(messages::encode(events[0]) == "PROGRESS 1-1 files=0/0 bytes=0/0 media=4096 ");
}

TEST_CASE("Progress lines are sent at most 4 times a second", "[ProgressReporter]") {
    ManualClock clock;
    std::vector<messages::StatusEvent> events;
    ProgressReporter progress("1-2", 1 << 20, [&](const messages::StatusEvent& e) { events.push_back(e); }, clock.fn());
    progress.start();
    // The scan reports every 10 ms for two seconds: 200 updates.
    for (int i = 1; i <= 200; ++i) {
        clock.t += 10ms;
        progress(Progress{static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(i), 0, 0, "/f" + std::to_string(i)});
    }
    const auto lines = progressLines(events);
    REQUIRE(lines.size() == 1 + 8);   // the first, then one each 250 ms
    CHECK(lines[1].filesDone == 25);
    CHECK(lines[1].currentPath == "/f25");
    CHECK(lines.back().filesDone == 200);
    for (const auto& l : lines) {
        CHECK(l.port == "1-2");
        CHECK(l.mediaBytes == (1u << 20));
    }
}

TEST_CASE("A slow scan shows every update it makes", "[ProgressReporter]") {
    ManualClock clock;
    std::vector<messages::StatusEvent> events;
    ProgressReporter progress("1-3", 0, [&](const messages::StatusEvent& e) { events.push_back(e); }, clock.fn());
    for (int i = 1; i <= 5; ++i) {
        clock.t += 1s;
        progress(Progress{1, static_cast<std::uint64_t>(i), 0, 0, ""});
    }
    CHECK(progressLines(events).size() == 5);
}
