// The officer's requests on the daemon's UI socket (docs/officer-protocol.md),
// against the real daemon on a umockdev test bed: nothing before a login,
// the log and the status as the kiosk has them, the device plugged in now
// registered into the whitelist, the log written to a stick that passed, and
// every action a signed record naming the officer.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "DeviceBed.h"
#include "Harness.h"

using namespace qktest;
using nlohmann::json;

namespace {

const std::string kPassword = "correct horse 電池";

// A site with a UI socket and one officer, 山田 太郎.
struct OfficerSite {
    Workspace& ws;
    fs::path sock;
    Site site;
    explicit OfficerSite(Workspace& w, const std::string& extra = "")
        : ws(w), sock(w.path() / "ui.sock"),
          site(writeSite(w, "2099-12-31",
                         join({"ui_socket = \"", sock.string(), "\"\n", extra, "[officers]\nfile = \"",
                               (w.path() / "officers").string(), "\"\nlockout_file = \"", (w.path() / "lockout.json").string(),
                               "\"\n"}))) {
        const auto added = run({"sh", "-c", "printf '%s\\n' \"$1\" | \"$2\" officer add \"$3\" --config \"$4\"", "sh", kPassword,
                                QKIOSK_BIN, "山田 太郎", site.config.string()});
        INFO(added.out << added.err);
        REQUIRE(added.exitCode == 0);
    }
    std::string records(const std::string& kind) const {
        return run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", kind, "--config", site.config.string()}).out;
    }
};

json login(UiClient& ui) { return ui.request({{"op", "login"}, {"name", "山田 太郎"}, {"password", kPassword}}); }

std::string dayFromNow(int days) {
    std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days) * 86400;
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

}  // namespace

TEST_CASE("At the terminal an officer logs in, then reviews the log and the status, and nothing is answered without a login",
          "[devices][daemon][officer]") {
    Workspace ws;
    OfficerSite s(ws);
    ws.write("stick/readme.txt", "vendor notes\n");
    ws.write("stick/tools/eicar.com", eicar());
    const auto image = makeImage(ws, "stick.img", "fat16", "mbr", ws.path() / "stick", {"--size-mb", "14"});
    Testbed bed;
    bed.plugInStick(image);
    Process daemon({QKIOSK_BIN, "run", "--config", s.site.config.string()});
    const auto result = daemon.waitForLine("RESULT", 60);
    INFO(daemon.output());
    REQUIRE_THAT(result, Catch::StartsWith("RESULT FAIL 1-1 "));
    const std::string ticket = result.substr(result.rfind(' ') + 1);

    UiClient ui(s.sock);
    const auto before = ui.request({{"op", "status"}});
    CHECK(before.at("ok") == false);
    CHECK(before.at("code") == "not-logged-in");
    const auto wrong = ui.request({{"op", "login"}, {"name", "山田 太郎"}, {"password", "not the password"}});
    CHECK(wrong.at("code") == "refused");
    const auto ok = login(ui);
    INFO(ok.dump());
    REQUIRE(ok.at("ok") == true);
    CHECK(ok.at("officer") == "山田 太郎");

    // The status: the signatures in use, the disk, the printer, the last sessions.
    const auto status = ui.request({{"op", "status"}});
    INFO(status.dump());
    CHECK(status.at("signatures").at("signatures") == 2);
    CHECK(status.at("signatures").at("outdated") == false);
    CHECK(status.at("disk").at(0).at("free").get<std::uint64_t>() > 0);
    CHECK(status.at("printer").at("kind") == "none");
    REQUIRE(status.at("sessions").size() == 1);
    CHECK(status.at("sessions").at(0).at("ticket_id") == ticket);
    CHECK(status.at("sessions").at(0).at("reasons") == json::array({"infected"}));

    // The log, filtered, and one session in detail.
    CHECK(ui.request({{"op", "log"}, {"verdict", "fail"}}).at("total") == 1);
    CHECK(ui.request({{"op", "log"}, {"verdict", "pass"}}).at("total") == 0);
    const auto byDevice = ui.request({{"op", "log"}, {"device", "0781:5567:4C530001231118116223"}, {"owner", "Example"}});
    CHECK(byDevice.at("sessions").at(0).at("owner") == "Example Medical Systems K.K.");
    CHECK(ui.request({{"op", "log"}, {"from", "27.11.2026"}}).at("code") == "bad-request");
    const auto detail = ui.request({{"op", "session"}, {"ticket_id", ticket}});
    INFO(detail.dump());
    CHECK(detail.at("report").at("verdict") == "fail");
    CHECK(detail.at("report").at("reasons").at(0).at("path") == "/p1/tools/eicar.com");
    CHECK_FALSE(detail.at("report").contains("files"));
    CHECK(detail.at("records").at(0).at("kind") == "session-start");

    // The stick that is in: it failed, so the log is not written to it.
    const auto devices = ui.request({{"op", "devices"}});
    REQUIRE(devices.at("devices").size() == 1);
    CHECK(devices.at("devices").at(0).at("state") == "fail");
    CHECK(devices.at("devices").at(0).at("fat") == true);
    CHECK(ui.request({{"op", "export-log"}, {"port", "1-1"}, {"format", "csv"}}).at("code") == "no-device");

    CHECK(ui.request({{"op", "logout"}}).at("ok") == true);
    CHECK(ui.request({{"op", "log"}}).at("code") == "not-logged-in");

    // Another terminal is another connection: it is not logged in.
    UiClient other(s.sock);
    CHECK(other.request({{"op", "status"}}).at("code") == "not-logged-in");
    // Something that is not a request ends the connection: a line that is not
    // one, an id of more than 9 digits, a line longer than 8 KiB.
    const auto closedAfter = [&](const std::string& bytes) {
        UiClient c(s.sock);
        REQUIRE(::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
        // Read what the daemon sent on connecting, until it hangs up (or 5 s pass).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        char chunk[4096];
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{c.fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
            if (n <= 0) return n == 0;
        }
        return false;
    };
    CHECK(closedAfter("HELLO\n"));
    CHECK(closedAfter("REQUEST 1234567890 {\"op\":\"status\"}\n"));
    CHECK(closedAfter("REQUEST 1 {\"op\":\"status\",\"pad\":\"" + std::string(9000, 'x') + "\"}\n"));
    CHECK_FALSE(closedAfter("REQUEST 1 {\"op\":\"status\"}\n"));   // a request is answered, the connection stays

    CHECK(daemon.stop() == 0);
    CHECK_THAT(s.records("officer-login"), Catch::Contains("山田 太郎") && Catch::Contains("terminal uid 0"));
    CHECK_THAT(s.records("officer-login-failed"), Catch::Contains("山田 太郎"));
    CHECK_THAT(s.records("officer-logout"), Catch::Contains("\"why\":\"logged out\""));
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", s.site.config.string()}).exitCode == 0);
}

TEST_CASE("An officer approves the unknown stick that is plugged in, and plugged in again it is scanned under that approval",
          "[devices][daemon][officer]") {
    Workspace ws;
    OfficerSite s(ws, "unknown_media = \"refuse\"\n");
    ws.write("whitelist.toml", "# approved vendor devices\n");
    fs::permissions(s.site.whitelist, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    ws.write("stick/readme.txt", "vendor notes\n");
    const auto image = makeImage(ws, "stick.img", "fat16", "mbr", ws.path() / "stick", {"--size-mb", "14"});
    Testbed bed;
    bed.plugInStick(image);
    Process daemon({QKIOSK_BIN, "run", "--config", s.site.config.string()});
    INFO(daemon.output());
    REQUIRE_THAT(daemon.waitForLine("REFUSED 1-1", 60), Catch::Contains("device-not-approved"));

    UiClient ui(s.sock);
    REQUIRE(login(ui).at("ok") == true);
    const auto devices = ui.request({{"op", "devices"}});
    INFO(devices.dump());
    REQUIRE(devices.at("devices").size() == 1);
    CHECK(devices.at("devices").at(0).at("state") == "refused");
    CHECK(devices.at("devices").at(0).at("serial") == "4C530001231118116223");
    CHECK(devices.at("devices").at(0).at("approval").is_null());

    const json request = {{"op", "register"}, {"port", "1-1"}, {"owner", "東芝メディカル 保守部"}, {"purpose", "CT保守"}};
    auto with = [&](const std::string& expires) {
        json r = request;
        r["expires"] = expires;
        return ui.request(r);
    };
    CHECK(with("2026-13-01").at("code") == "bad-request");
    CHECK(with(dayFromNow(-1)).at("code") == "bad-request");
    CHECK_THAT(with(dayFromNow(400)).at("error").get<std::string>(), Catch::Contains("365 days at most"));
    json nowhere = request;
    nowhere["port"] = "3-9";
    nowhere["expires"] = dayFromNow(30);
    CHECK(ui.request(nowhere).at("code") == "no-device");
    const auto added = with(dayFromNow(30));
    INFO(added.dump());
    REQUIRE(added.at("ok") == true);
    CHECK_THAT(added.at("message").get<std::string>(), Catch::Contains("plug it in again"));
    // The file keeps what it had and the new entry, and still parses.
    const auto whitelist = slurp(s.site.whitelist);
    CHECK(fs::status(s.site.whitelist).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    CHECK_THAT(whitelist, Catch::StartsWith("# approved vendor devices\n") && Catch::Contains("owner      = \"東芝メディカル 保守部\"") &&
                              Catch::Contains("by 山田 太郎"));

    // Plugged in again: admitted under the approval, and scanned.
    bed.uevent(kUsb1 + "/1-1", "remove");
    REQUIRE_FALSE(daemon.waitForLine("REMOVED 1-1", 30).empty());
    bed.uevent(kUsb1 + "/1-1", "add");
    const auto result = daemon.waitForLine("RESULT", 60);
    REQUIRE_THAT(result, Catch::StartsWith("RESULT PASS 1-1 "));
    const std::string ticket = result.substr(result.rfind(' ') + 1);
    const auto report = json::parse(slurp(s.site.spool / (ticket + ".json")));
    CHECK(report.at("device").at("approval").at("owner") == "東芝メディカル 保守部");
    CHECK(report.at("device").at("approval").at("expires") == dayFromNow(30));

    // A stick that passed takes the log: a CSV in its FAT root folder.
    const auto exported = ui.request({{"op", "export-log"}, {"port", "1-1"}, {"format", "csv"}});
    INFO(exported.dump());
    REQUIRE(exported.at("ok") == true);
    const std::string file = exported.at("file");
    CHECK_THAT(file, Catch::StartsWith("qkiosk-log-kiosk-1-") && Catch::EndsWith(".csv"));
    const auto onStick = run({"mtype", "-i", (bed.root() / "dev/sdb").string() + "@@1048576", "::" + file});
    INFO(onStick.err);
    CHECK_THAT(onStick.out, Catch::Contains(ticket) && Catch::Contains("whitelist-approval-added"));
    CHECK(daemon.stop() == 0);

    const auto approval = json::parse(s.records("whitelist-approval-added"));
    CHECK(approval.at("data").at("serial") == "4C530001231118116223");
    CHECK_THAT(approval.at("data").at("by").get<std::string>(), Catch::StartsWith("山田 太郎 (terminal uid 0 pid "));
    CHECK_THAT(s.records("log-exported"), Catch::Contains(file) && Catch::Contains("山田 太郎"));
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", s.site.config.string()}).exitCode == 0);
}

TEST_CASE("At the real curses terminal an officer logs in with the keyboard, reviews the log, and logging out leaves the staff screen",
          "[devices][daemon][officer][ui]") {
    Workspace ws;
    OfficerSite s(ws);
    ws.write("stick/readme.txt", "vendor notes\n");
    const auto image = makeImage(ws, "stick.img", "fat16", "mbr", ws.path() / "stick", {"--size-mb", "14"});
    Testbed bed;
    bed.plugInStick(image);
    Process daemon({QKIOSK_BIN, "run", "--config", s.site.config.string()});
    INFO(daemon.output());
    const auto result = daemon.waitForLine("RESULT", 60);
    REQUIRE_FALSE(result.empty());
    const std::string ticket = result.substr(result.rfind(' ') + 1);
    bed.uevent(kUsb1 + "/1-1", "remove");
    REQUIRE_FALSE(daemon.waitForLine("REMOVED 1-1", 30).empty());

    // The terminal is an ordinary program: not under the test bed, no root.
    TmuxTerminal term(ws, "env -u LD_PRELOAD LANG=en_US.UTF-8 " + std::string(QKIOSK_BIN) + " ui --config " + s.site.config.string());
    REQUIRE_FALSE(term.waitFor("Insert the USB stick", 20).empty());
    term.keys("F12");
    REQUIRE_FALSE(term.waitFor("Security officer — log in", 10).empty());
    term.keys("C-c");   // nothing, here too
    term.type("山田 太郎");
    term.keys("Tab");
    term.type("not the password");
    term.keys("Enter");
    INFO(term.screen());
    CHECK_FALSE(term.waitFor("Wrong name or password.", 10).empty());
    term.type(kPassword);
    term.keys("Enter");
    REQUIRE_FALSE(term.waitFor("Security officer: 山田 太郎", 10).empty());

    term.keys("1");
    const auto log = term.waitFor("Review the log — 1 sessions", 10);
    CHECK_THAT(log, Catch::Contains("PASS") && Catch::Contains("0781:5567"));
    term.keys("Enter");
    const auto detail = term.waitFor("Session " + ticket, 10);
    CHECK_THAT(detail, Catch::Contains("Example Medical Systems K.K."));
    term.keys("Escape");
    REQUIRE_FALSE(term.waitFor("Review the log", 10).empty());
    term.keys("Escape");
    REQUIRE_FALSE(term.waitFor("Security officer: 山田 太郎", 10).empty());
    term.keys("5");
    // The last sessions, by the day of this one (its ticket id starts with it: 20261127-…).
    const std::string day = join({ticket.substr(0, 4), "-", ticket.substr(4, 2), "-", ticket.substr(6, 2)});
    CHECK_THAT(term.waitFor("Kiosk status — kiosk-1", 10), Catch::Contains(day));
    term.keys("Escape");
    REQUIRE_FALSE(term.waitFor("Security officer: 山田 太郎", 10).empty());
    term.keys("0");
    CHECK_FALSE(term.waitFor("Insert the USB stick", 10).empty());
    // The logout the key sent reaches the daemon.
    bool loggedOut = false;
    for (int i = 0; i < 50 && !loggedOut; ++i, ::usleep(200 * 1000))
        loggedOut = s.records("officer-logout").find("\"why\":\"logged out\"") != std::string::npos;
    CHECK(loggedOut);

    CHECK(daemon.stop() == 0);
    CHECK_THAT(s.records("officer-login-failed"), Catch::Contains("山田 太郎"));
    CHECK_THAT(s.records("officer-login"), Catch::Contains("山田 太郎"));
}

TEST_CASE("An officer imports the signature update on the stick that passed, and the daemon switches to it",
          "[devices][daemon][officer][signatures]") {
    Workspace ws;
    const auto secret = ws.path() / "site.key", publicKey = ws.path() / "site.pub";
    REQUIRE(run({QKIOSK_BIN, "signatures", "keygen", "--secret", secret.string(), "--public", publicKey.string()}).exitCode == 0);
    OfficerSite s(ws, "update_keys = [\"" + publicKey.string() + "\"]\n");
    // A site bundle: the test signatures and one for "hello world\n".
    const auto md5 = run({"sh", "-c", "printf 'hello world\\n' | md5sum | cut -c1-32"}).out.substr(0, 32);
    const auto hello = ws.write("new/site.hdb", md5 + ":12:Site.Test.Hello\n");
    const auto made = run({QKIOSK_BIN, "signatures", "bundle", "--key", secret.string(), "--out",
                           (ws.path() / "stick/qkiosk-signatures").string(), hello.string(), (ws.database() / "test.hdb").string()});
    INFO(made.err);
    REQUIRE(made.exitCode == 0);
    ws.write("stick/notes.txt", "update for the kiosk\n");
    // (the test bed's stick holds 16 MiB)
    const auto image = makeImage(ws, "stick.img", "fat16", "mbr", ws.path() / "stick", {"--size-mb", "14"});
    Testbed bed;
    bed.plugInStick(image);
    Process daemon({QKIOSK_BIN, "run", "--config", s.site.config.string()});
    INFO(daemon.output());
    const auto result = daemon.waitForLine("RESULT", 60);
    INFO(slurp(s.site.spool / (result.substr(result.rfind(' ') + 1) + ".json")));
    REQUIRE_THAT(result, Catch::StartsWith("RESULT PASS 1-1"));

    UiClient ui(s.sock);
    CHECK(ui.request({{"op", "import-signatures"}, {"port", "1-1"}}).at("code") == "not-logged-in");
    REQUIRE(login(ui).at("ok") == true);
    const auto imported = ui.request({{"op", "import-signatures"}, {"port", "1-1"}}, 120);
    INFO(imported.dump());
    REQUIRE(imported.at("ok") == true);
    CHECK(imported.at("files") == 2);
    CHECK(fs::exists(ws.database() / "site.hdb"));
    // Between sessions the daemon loads the new databases and uses them.
    CHECK_FALSE(daemon.waitForLine("ENGINE-UPDATED", 60).empty());
    CHECK(daemon.stop() == 0);
    const auto record = json::parse(s.records("signature-update"));
    CHECK_THAT(record.at("data").at("by").get<std::string>(), Catch::StartsWith("山田 太郎 (terminal uid 0 pid "));
    CHECK(record.at("data").at("source") == "/dev/sdb");
    // Still logged in when the kiosk service stopped: that ends the session, on record.
    CHECK_THAT(s.records("officer-logout"), Catch::Contains("the kiosk service stopped"));
}
