// The quarantine log through the real `qkiosk`: scan --log records each
// verdict, log verify finds an edited record and names it.
#include <catch2/catch.hpp>

#include "Harness.h"

using namespace qktest;

TEST_CASE("scan --log records every verdict in the signed log; an edited record is named by log verify", "[log]") {
    Workspace ws;
    const auto cfg = ws.write("k.toml", "log = \"" + (ws.path() / "log.db").string() + "\"\nkiosk_key = \"" +
                                            (ws.path() / "kiosk.key").string() + "\"\n");
    ws.write("clean/a.txt", "a\n");
    ws.write("dirty/eicar.com", eicar());
    const auto clean = makeImage(ws, "clean.img", "fat16", "none", ws.path() / "clean");
    const auto dirty = makeImage(ws, "dirty.img", "fat16", "none", ws.path() / "dirty");
    const std::vector<std::string> opts = {"--config", cfg.string(), "--log", (ws.path() / "log.db").string()};
    CHECK(scanImage(ws, clean, opts).exitCode == 0);
    const auto infected = scanImage(ws, dirty, opts);
    CHECK(infected.exitCode == 1);

    const auto verify = [&] { return run({QKIOSK_BIN, "log", "verify", "--config", cfg.string()}); };
    auto v = verify();
    INFO(v.out << v.err);
    CHECK(v.exitCode == 0);
    CHECK_THAT(v.out, Catch::Contains("OK: 2 records"));
    const auto fails = run({QKIOSK_BIN, "log", "list", "--verdict", "fail", "--config", cfg.string()});
    CHECK_THAT(fails.out, Catch::Contains(infected.report.at("ticket_id").get<std::string>()));
    CHECK(fails.out.find("pass") == std::string::npos);

    // Somebody turns the FAIL into a PASS in the database file.
    REQUIRE(run({"python3", "-c",
                 "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                 "c.execute(\"UPDATE records SET data=replace(data,'\\\"fail\\\"','\\\"pass\\\"') WHERE seq=2\"); c.commit()",
                 (ws.path() / "log.db").string()}).exitCode == 0);
    v = verify();
    CHECK(v.exitCode == 1);
    CHECK_THAT(v.out, Catch::Contains("TAMPERED") && Catch::Contains("record 2 was changed"));
}
