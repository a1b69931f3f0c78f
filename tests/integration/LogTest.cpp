// The quarantine log through the real `qkiosk`: scan --log records each
// verdict, log verify finds an edited record and names it.
#include <catch2/catch.hpp>

#include "Harness.h"

using namespace qktest;

TEST_CASE("scan --log records every verdict in the signed log, and log verify names an edited record", "[log]") {
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

    // Taking the log out is itself recorded, with who did it and what was taken.
    const auto exported = run({QKIOSK_BIN, "log", "export", "--format", "csv", "--verdict", "fail", "--officer", "佐藤 花子",
                               "--out", (ws.path() / "fails.csv").string(), "--config", cfg.string()});
    INFO(exported.err);
    REQUIRE(exported.exitCode == 0);
    const auto exports = run({QKIOSK_BIN, "log", "show", "3", "--config", cfg.string()});
    const auto rec = json::parse(exports.out);
    CHECK(rec.at("kind") == "log-exported");
    CHECK(rec.at("data").at("by") == "佐藤 花子");
    CHECK(rec.at("data").at("filter").at("verdict") == "fail");
    v = verify();
    CHECK_THAT(v.out, Catch::Contains("OK: 3 records"));

    // Somebody turns the FAIL into a PASS in the database file.
    REQUIRE(run({"python3", "-c",
                 "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                 "c.execute(\"UPDATE records SET data=replace(data,'\\\"fail\\\"','\\\"pass\\\"') WHERE seq=2\"); c.commit()",
                 (ws.path() / "log.db").string()}).exitCode == 0);
    v = verify();
    CHECK(v.exitCode == 1);
    CHECK_THAT(v.out, Catch::Contains("TAMPERED") && Catch::Contains("record 2 was changed"));
}

TEST_CASE("log prune keeps the retention period, names the officer, and leaves a log that verifies", "[log]") {
    Workspace ws;
    const auto logDb = (ws.path() / "log.db").string();
    const auto strict = ws.write("strict.toml", "log = \"" + logDb + "\"\nkiosk_key = \"" + (ws.path() / "kiosk.key").string() + "\"\n");
    const auto lax = ws.write("lax.toml", "log = \"" + logDb + "\"\nkiosk_key = \"" + (ws.path() / "kiosk.key").string() +
                                              "\"\nlog_retention_days = 0\n");
    ws.write("clean/a.txt", "a\n");
    const auto img = makeImage(ws, "clean.img", "fat16", "none", ws.path() / "clean");
    for (int i = 0; i < 3; ++i) REQUIRE(scanImage(ws, img, {"--config", strict.string(), "--log", logDb}).exitCode == 0);

    // Today's records are younger than a year: refused, nothing changes.
    const auto refused = run({QKIOSK_BIN, "log", "prune", "--through", "2999-01-01", "--officer", "山田", "--config", strict.string()});
    CHECK(refused.exitCode == 2);
    CHECK_THAT(refused.err, Catch::Contains("must be kept 365 days"));

    // With no retention period (a test site), today's records may go; the last one always stays.
    const auto today = run({"date", "-u", "+%Y-%m-%d"}).out.substr(0, 10);
    const auto pruned = run({QKIOSK_BIN, "log", "prune", "--through", today, "--officer", "山田", "--config", lax.string()});
    INFO(pruned.out << pruned.err);
    CHECK(pruned.exitCode == 0);
    const auto list = run({QKIOSK_BIN, "log", "list", "--config", lax.string()});
    CHECK_THAT(list.out, Catch::Contains("log-pruned"));
    CHECK(run({QKIOSK_BIN, "log", "show", "4", "--config", lax.string()}).out.find("山田") != std::string::npos);
    const auto v = run({QKIOSK_BIN, "log", "verify", "--config", lax.string()});
    CHECK(v.exitCode == 0);
    CHECK_THAT(v.out, Catch::Contains("OK: 2 records"));
}

TEST_CASE("log list and log export refuse a filter that could never match, naming the option", "[log]") {
    Workspace ws;
    const auto cfg = ws.write("k.toml", "log = \"" + (ws.path() / "log.db").string() + "\"\nkiosk_key = \"" +
                                            (ws.path() / "kiosk.key").string() + "\"\n");
    struct Bad {
        std::vector<std::string> args;
        std::string named;
    };
    for (const auto& bad : {Bad{{"list", "--from", "2026-13-01"}, "--from"}, Bad{{"list", "--to", "27.11.2026"}, "--to"},
                            Bad{{"export", "--format", "csv", "--verdict", "passed"}, "--verdict"},
                            Bad{{"export", "--format", "jsonl", "--device", "0781-5567"}, "--device"}}) {
        std::vector<std::string> argv = {QKIOSK_BIN, "log"};
        argv.insert(argv.end(), bad.args.begin(), bad.args.end());
        argv.insert(argv.end(), {"--config", cfg.string()});
        const auto r = run(argv);
        INFO(r.out << r.err);
        CHECK(r.exitCode == 2);
        CHECK_THAT(r.err, Catch::Contains(join({"log ", bad.args.front(), ": ", bad.named, ": \""})));
        CHECK(r.out.empty());
    }
    // Nothing was exported, so nothing was recorded as exported.
    const auto list = run({QKIOSK_BIN, "log", "list", "--from", "2000-01-01", "--config", cfg.string()});
    CHECK(list.exitCode == 0);
    CHECK(list.out.find("log-exported") == std::string::npos);
}
