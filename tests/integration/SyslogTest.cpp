// Forwarding of the quarantine log to a real rsyslogd through the real
// `qkiosk log forward`: every record arrives as RFC 5424 with its seq, a
// collector that is down or crashes loses nothing (the records wait in the
// log and arrive, in order, when it is back), and TLS delivers only to a
// collector whose certificate the configured CA vouches for.
#include <catch2/catch.hpp>

#include <algorithm>

#include "Harness.h"
#include "SyslogCollector.h"

using namespace qktest;

namespace {

struct Kiosk {
    Workspace& ws;
    fs::path config;
    fs::path clean, dirty;

    Kiosk(Workspace& w, const std::string& syslogTable) : ws(w) {
        config = ws.write("k.toml", join({"kiosk_id = \"ward-3\"\nlog = \"", (ws.path() / "log.db").string(), "\"\nkiosk_key = \"",
                                          (ws.path() / "kiosk.key").string(), "\"\n[syslog]\n", syslogTable}));
        ws.write("clean/a.txt", "a\n");
        ws.write("dirty/eicar.com", eicar());
        clean = makeImage(ws, "clean.img", "fat16", "none", ws.path() / "clean");
        dirty = makeImage(ws, "dirty.img", "fat16", "none", ws.path() / "dirty");
    }
    // One session record in the log: a scan with --log.
    std::string scan(bool infected = false) {
        const auto s = scanImage(ws, infected ? dirty : clean, {"--config", config.string(), "--log", (ws.path() / "log.db").string()});
        REQUIRE(s.exitCode == (infected ? 1 : 0));
        return s.report.at("ticket_id").get<std::string>();
    }
    RunResult forward(const std::vector<std::string>& extra = {"--once"}) {
        std::vector<std::string> argv = {QKIOSK_BIN, "log", "forward", "--config", config.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run(argv);
    }
};

std::string targetTable(const SyslogCollector& c) { return join({"target = \"", c.target(), "\"\n"}); }

}  // namespace

TEST_CASE("log forward sends every record to a real rsyslogd as RFC 5424 with its seq, once each, in order", "[log][syslog]") {
    Workspace ws;
    SyslogCollector collector(ws);
    collector.start();
    Kiosk k(ws, targetTable(collector));
    const auto pass = k.scan();
    const auto fail = k.scan(true);
    k.scan();

    auto st = k.forward({"--status"});
    CHECK(st.exitCode == 1);
    CHECK_THAT(st.out, Catch::Contains("forwarded up to record 0, 3 pending"));
    const auto r = k.forward();
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
    CHECK_THAT(r.out, Catch::Contains("up to record 3"));
    REQUIRE(collector.waitForAll(3, 5));
    CHECK(collector.seqs() == std::vector<std::int64_t>{1, 2, 3});

    const auto m = collector.messages();
    // local0.info for a PASS, local0.warning for a FAIL; the record's own time; HOSTNAME = kiosk_id.
    CHECK_THAT(m[0], Catch::StartsWith("<134>1 20") && Catch::Contains(" ward-3 qkiosk - session [qkiosk@32473 seq=\"1\"") &&
                         Catch::Contains(join({"ticket=\"", pass, "\" verdict=\"pass\""})) && Catch::Contains("kiosk=\"ward-3\"]"));
    CHECK_THAT(m[1], Catch::StartsWith("<132>1 ") && Catch::Contains(join({"ticket=\"", fail, "\" verdict=\"fail\""})));
    // The data after a UTF-8 byte order mark, as JSON on one line.
    CHECK_THAT(m[1], Catch::Contains("] \xEF\xBB\xBF{") && Catch::Contains("\"code\":\"infected\""));
    // Each record's hash, as the kiosk's log has it.
    const auto show = run({QKIOSK_BIN, "log", "show", "2", "--config", k.config.string()});
    CHECK_THAT(m[1], Catch::Contains(join({"hash=\"", json::parse(show.out).at("hash").get<std::string>(), "\""})));

    // Nothing pending, nothing sent again; the forwarding cursor is not part of the chain.
    st = k.forward({"--status"});
    CHECK(st.exitCode == 0);
    CHECK_THAT(st.out, Catch::Contains("forwarded up to record 3, 0 pending"));
    CHECK(k.forward().exitCode == 0);
    CHECK(collector.seqs().size() == 3);
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", k.config.string()}).exitCode == 0);
}

TEST_CASE("log forward: an unreachable syslog collector that comes back gets every record, nothing lost, in order",
          "[log][syslog]") {
    Workspace ws;
    SyslogCollector collector(ws);   // not started: down
    Kiosk k(ws, targetTable(collector));
    k.scan();
    k.scan(true);

    // Down: one clear line, exit 1, and the records stay pending.
    auto r = k.forward();
    CHECK(r.exitCode == 1);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::StartsWith(join({"qkiosk: log forward: syslog collector ", collector.target(), ": cannot connect"})) &&
                          Catch::Contains("(2 records pending)"));
    CHECK(k.forward({"--status"}).exitCode == 1);

    // It comes back: everything that waited arrives.
    collector.start();
    r = k.forward();
    INFO(r.out << r.err);
    CHECK(r.exitCode == 0);
    REQUIRE(collector.waitForAll(2, 5));

    // It crashes; records are made meanwhile; it comes back.
    collector.kill();
    k.scan();
    k.scan();
    r = k.forward();
    CHECK(r.exitCode == 1);
    CHECK_THAT(r.err, Catch::Contains("(2 records pending)"));
    collector.start();
    k.scan();
    r = k.forward();
    CHECK(r.exitCode == 0);
    REQUIRE(collector.waitForAll(5, 5));
    INFO(collector.messages().size() << " messages");
    CHECK(allInOrder(collector.seqs(), 5));
    CHECK(k.forward({"--status"}).exitCode == 0);
}

TEST_CASE("log forward over TLS delivers only to a collector the configured CA vouches for, under the right name",
          "[log][syslog]") {
    Workspace ws;
    const auto pki = makeTestPki(ws);
    SyslogCollector collector(ws, pki);
    collector.start();
    const auto port = std::to_string(collector.port());

    SECTION("a wrong CA: refused, nothing sent, nothing marked forwarded") {
        Kiosk k(ws, join({"target = \"localhost:", port, "\"\ntls = true\nca_file = \"", pki.otherCa.string(), "\"\n"}));
        k.scan();
        const auto r = k.forward();
        CHECK(r.exitCode == 1);
        CHECK_THAT(r.err, Catch::Contains("certificate is refused") && Catch::Contains("NOT trusted") &&
                              Catch::Contains("(1 record pending)"));
        CHECK(k.forward({"--status"}).exitCode == 1);
        CHECK(collector.messages().empty());
    }
    SECTION("the right CA, but a name the certificate does not carry: refused") {
        Kiosk k(ws, join({"target = \"127.0.0.1:", port, "\"\ntls = true\nca_file = \"", pki.ca.string(),
                          "\"\nserver_name = \"collector.other.example\"\n"}));
        k.scan();
        const auto r = k.forward();
        CHECK(r.exitCode == 1);
        CHECK_THAT(r.err, Catch::Contains("collector.other.example") && Catch::Contains("does not match"));
        CHECK(collector.messages().empty());
    }
    SECTION("plain TCP to the TLS port: the collector closes the connection, nothing is marked forwarded") {
        Kiosk k(ws, join({"target = \"127.0.0.1:", port, "\"\n"}));
        k.scan();
        const auto r = k.forward();
        CHECK(r.exitCode == 1);
        CHECK_THAT(r.err, Catch::Contains("tls = true"));
        CHECK(k.forward({"--status"}).exitCode == 1);
    }
    SECTION("the right CA and name: delivered") {
        Kiosk k(ws, join({"target = \"localhost:", port, "\"\ntls = true\nca_file = \"", pki.ca.string(), "\"\n"}));
        k.scan();
        k.scan(true);
        const auto r = k.forward();
        INFO(r.out << r.err);
        CHECK(r.exitCode == 0);
        REQUIRE(collector.waitForAll(2, 5));
        CHECK(collector.seqs() == std::vector<std::int64_t>{1, 2});
    }
}

TEST_CASE("log prune deletes nothing the syslog collector does not have yet", "[log][syslog]") {
    Workspace ws;
    SyslogCollector collector(ws);   // down
    Kiosk k(ws, targetTable(collector));
    // A test site without a retention period, so that today's records may go.
    ws.write("k.toml", join({"log = \"", (ws.path() / "log.db").string(), "\"\nkiosk_key = \"", (ws.path() / "kiosk.key").string(),
                             "\"\nlog_retention_days = 0\n[syslog]\n", targetTable(collector)}));
    k.scan();
    k.scan();
    const auto today = run({"date", "-u", "+%Y-%m-%d"}).out.substr(0, 10);
    const auto prune = [&] { return run({QKIOSK_BIN, "log", "prune", "--through", today, "--officer", "山田", "--config", k.config.string()}); };
    auto r = prune();
    CHECK(r.exitCode == 2);
    CHECK_THAT(r.err, Catch::Contains(join({"the syslog collector ", collector.target(), " has the records up to 0 only"})));

    collector.start();
    REQUIRE(k.forward().exitCode == 0);
    r = prune();
    INFO(r.out << r.err);
    CHECK(r.exitCode == 0);
    // The officer's pruning record is forwarded like any other.
    CHECK(k.forward().exitCode == 0);
    REQUIRE(collector.waitForAll(3, 5));
    CHECK_THAT(collector.messages().back(), Catch::StartsWith("<133>1 ") && Catch::Contains("log-pruned") &&
                                                Catch::Contains("山田"));
}
