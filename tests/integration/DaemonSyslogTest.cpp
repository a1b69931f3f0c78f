// The daemon forwards its quarantine log to a real rsyslogd in the
// background (umockdev test bed, no device): it says once when the
// collector is down and when it is back, and every record that was made
// meanwhile arrives, in order, the last one (daemon-stop) included.
#include <catch2/catch.hpp>
#include <umockdev.h>

#include <fstream>
#include <sstream>

#include "DeviceBed.h"
#include "Harness.h"
#include "SyslogCollector.h"

using namespace qktest;

namespace {

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("The daemon forwards its log to a syslog collector in the background, and while the collector is down nothing is lost",
          "[devices][daemon][syslog]") {
    Workspace ws;
    SyslogCollector collector(ws);   // down at first
    const auto whitelist = ws.write("whitelist.toml", "# nothing approved yet\n");
    const auto config = ws.write(
        "qkiosk.toml", join({"db_dir = \"", ws.database().string(), "\"\npolicy = \"", whitelist.string(), "\"\nspool_dir = \"",
                             (ws.path() / "spool").string(), "\"\nlog = \"", (ws.path() / "log.db").string(), "\"\nkiosk_key = \"",
                             (ws.path() / "kiosk.key").string(), "\"\n[syslog]\ntarget = \"", collector.target(), "\"\n"}));
    UMockdevTestbed* bed = umockdev_testbed_new();
    REQUIRE(bed);
    struct Unref {
        UMockdevTestbed* b;
        ~Unref() { g_object_unref(b); }
    } unref{bed};
    REQUIRE(umockdev_testbed_add_from_string(bed, rootOnly("approved-stick").c_str(), nullptr));

    Process daemon({QKIOSK_BIN, "run", "--config", config.string()});
    // Every record up to `n` at the collector, or a failure that shows both sides.
    const auto requireAll = [&](std::int64_t n, double seconds) {
        if (collector.waitForAll(n, seconds)) return;
        (void)daemon.waitForLine("(reads what the daemon printed meanwhile)", 0.1);
        FAIL("records 1 to " << n << " did not all arrive\ndaemon:\n" << daemon.output() << collector.diagnostics());
    };
    // Down from the start: said once, and the kiosk works on (its records wait in the log).
    CHECK_THAT(daemon.waitForLine("SYSLOG-DOWN", 30),
               Catch::StartsWith(join({"SYSLOG-DOWN ", collector.target(), ": cannot connect"})) &&
                   Catch::Contains("pending; retrying)"));

    collector.start();
    CHECK_THAT(daemon.waitForLine("SYSLOG-UP", 30), Catch::StartsWith(join({"SYSLOG-UP ", collector.target(), " forwarded up to record"})));
    requireAll(2, 10);   // daemon-start, whitelist-loaded
    CHECK(count(daemon.output(), "READY") >= 1);

    // The collector crashes; the officer changes the whitelist meanwhile (a record).
    collector.kill();
    ws.write("whitelist.toml", "# still nothing approved\n");
    CHECK_THAT(daemon.waitForLine("SYSLOG-DOWN", 30), Catch::Contains("(1 record pending; retrying)"));
    collector.start();
    CHECK_FALSE(daemon.waitForLine("SYSLOG-UP", 30).empty());
    requireAll(3, 10);

    // At the end the daemon-stop record goes out too.
    CHECK(daemon.stop() == 0);
    requireAll(4, 5);
    CHECK(allInOrder(collector.seqs(), 4));
    INFO(daemon.output());
    CHECK(count(daemon.output(), "SYSLOG-DOWN") == 2);
    CHECK(count(daemon.output(), "SYSLOG-UP") == 2);
    CHECK_THAT(collector.messages().back(), Catch::Contains("daemon-stop [qkiosk@32473 seq=\"4\""));
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", config.string()}).exitCode == 0);
}
