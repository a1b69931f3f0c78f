// Device admission against umockdev test beds (tests/umockdev/): the real
// libudev/libusb/sysfs code of `qkiosk devices`, `qkiosk scan --device` and
// `qkiosk run` sees fake devices, and the tests read back what the kiosk
// wrote to the sysfs `authorized` files.
#include <catch2/catch.hpp>
#include <umockdev.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "DeviceBed.h"
#include "Harness.h"

using namespace qktest;

namespace {

json devicesJson(const Site& site) {
    const auto r = run({QKIOSK_BIN, "devices", "--json", "--config", site.config.string()});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return json::parse(r.out);
}

json onlyDevice(const json& list, const std::string& port) {
    for (const auto& d : list)
        if (d.at("sysfs") == port) return d;
    FAIL("no device at " << port);
    return {};
}

std::vector<json> spoolReports(const fs::path& spool) {
    std::vector<json> out;
    for (const auto& e : fs::directory_iterator(spool))
        if (e.path().extension() == ".json") {
            out.push_back(json::parse(slurp(e.path())));
            CHECK(fs::exists(fs::path(e.path()).replace_extension(".ticket")));
        }
    return out;
}

// A 16 MiB stick image with an MBR partition holding EICAR in a folder.
fs::path infectedStick(Workspace& ws) {
    ws.write("stick/readme.txt", "vendor notes\n");
    ws.write("stick/tools/eicar.com", eicar());
    return makeImage(ws, "stick.img", "fat16", "mbr", ws.path() / "stick", {"--size-mb", "14"});
}

}  // namespace

TEST_CASE("qkiosk devices decides each test bed as the policy says", "[devices]") {
    Workspace ws;
    const auto site = writeSite(ws);
    Testbed bed;
    SECTION("the approved stick is admitted with its approval") {
        bed.load("approved-stick");
        const auto d = onlyDevice(devicesJson(site), "1-1");
        CHECK(d.at("decision") == "admit");
        CHECK(d.at("vendor_id") == "0781");
        CHECK(d.at("serial") == "4C530001231118116223");
        CHECK(d.at("interfaces") == json::array({"08:06:50"}));
        CHECK(d.at("approval").at("owner") == "Example Medical Systems K.K.");
        CHECK(d.at("block_devices") == json::array({"/dev/sdb"}));
    }
    SECTION("a clone of it with a keyboard interface is BadUSB") {
        bed.load("composite-badusb");
        const auto d = onlyDevice(devicesJson(site), "1-3");
        CHECK(d.at("decision") == "refuse");
        CHECK(d.at("reasons") == json::array({"badusb"}));
        CHECK(d.at("approval").is_null());
    }
    SECTION("the approved stick with bytes smuggled after its descriptors is BadUSB, though libusb reads it fine") {
        // libusb reads the one configuration by its wTotalLength and ignores the
        // rest; our own parser of the same sysfs blob refuses what is left over.
        std::string text = slurp(kBeds / "approved-stick.umockdev");
        const std::string descriptors = "H: descriptors=1201000200000040810767550001010203010902200001010080320904000002080650000705810200020007050202000200";
        const auto at = text.find(descriptors);
        REQUIRE(at != std::string::npos);
        text.insert(at + descriptors.size(), "0904010001030101");   // an interface descriptor nobody declared: a keyboard
        bed.addString(text);
        const auto d = onlyDevice(devicesJson(site), "1-1");
        CHECK(d.at("decision") == "refuse");
        CHECK(d.at("reasons") == json::array({"badusb"}));
        CHECK_THAT(d.at("details").dump(), Catch::Contains("malformed USB descriptors"));
    }
    SECTION("a keyboard alone is refused") {
        bed.load("keyboard-only");
        CHECK(onlyDevice(devicesJson(site), "1-4").at("reasons") == json::array({"badusb"}));
    }
    SECTION("a network adapter is refused, whichever configuration") {
        bed.load("network-adapter");
        const auto d = onlyDevice(devicesJson(site), "1-8");
        CHECK(d.at("decision") == "refuse");
        CHECK(d.at("interfaces").size() == 3);
    }
    SECTION("a hub is admitted and the stick behind it is judged on its own") {
        bed.load("hub-stick");
        const auto list = devicesJson(site);
        CHECK(onlyDevice(list, "1-2").at("role") == "hub");
        CHECK(onlyDevice(list, "1-2.3").at("role") == "storage");
        CHECK(onlyDevice(list, "1-2.3").at("serial") == "AA00000000000489");
    }
    SECTION("a UAS dock offers only storage") {
        bed.load("uas-disk");
        const auto d = onlyDevice(devicesJson(site), "1-7");
        CHECK(d.at("decision") == "admit");
        CHECK(d.at("interfaces") == json::array({"08:06:50", "08:06:62"}));
    }
    SECTION("a stick without serial is unknown media, refused where the site says so") {
        bed.load("no-serial-stick");
        const auto refuse = writeSite(ws, "2099-12-31", "unknown_media = \"refuse\"\n");
        const auto d = onlyDevice(devicesJson(refuse), "1-6");
        CHECK(d.at("serial") == "");
        CHECK(d.at("reasons") == json::array({"device-not-approved"}));
    }
    SECTION("an expired approval") {
        bed.load("approved-stick");
        const auto expired = writeSite(ws, "2020-01-31");
        CHECK(onlyDevice(devicesJson(expired), "1-1").at("reasons") == json::array({"device-expired"}));
    }
    SECTION("a broken whitelist is an error, never allow-all") {
        bed.load("approved-stick");
        ws.write("whitelist.toml", "[[device]]\nvendor_id = \"0781\n");
        const auto r = run({QKIOSK_BIN, "devices", "--json", "--config", site.config.string()});
        CHECK(r.exitCode == 2);
        CHECK_THAT(r.err, Catch::Contains("whitelist.toml:2:"));
    }
}

TEST_CASE("scan --device names the USB device behind the block device", "[devices][scan]") {
    Workspace ws;
    const auto site = writeSite(ws);
    const auto image = infectedStick(ws);
    Testbed bed;
    bed.load("approved-stick");
    bed.backDisk(image);
    const auto jsonPath = ws.path() / "r.json";
    const auto r = run({QKIOSK_BIN, "scan", "--device", "/dev/sdb", "--db", ws.database().string(), "--config",
                        site.config.string(), "--json", jsonPath.string()});
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 1);
    const auto report = json::parse(slurp(jsonPath));
    CHECK(report.at("device").at("serial") == "4C530001231118116223");
    CHECK(report.at("device").at("approval").at("purpose") == "CT firmware maintenance");
    CHECK(reasons(report, "infected", "/p1/tools/eicar.com").size() == 1);
}

TEST_CASE("The daemon authorizes only the storage interface of an admitted stick, then scans it", "[devices][daemon]") {
    Workspace ws;
    const auto site = writeSite(ws);
    const auto image = infectedStick(ws);
    Testbed bed;
    bed.load("approved-stick");
    bed.backDisk(image);
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    const auto result = daemon.waitForLine("RESULT", 60);
    INFO(daemon.output());
    REQUIRE_THAT(result, Catch::StartsWith("RESULT FAIL 1-1 "));
    CHECK_FALSE(daemon.waitForLine("REMOVE-MEDIA 1-1", 5).empty());
    CHECK(daemon.stop() == 0);

    // The buses are locked down; the device and its storage interface were authorized and bound.
    CHECK(bed.attr(kUsb1 + "/authorized_default") == "0");
    CHECK(bed.attr(kUsb1 + "/interface_authorized_default") == "0");
    CHECK(bed.attr(kUsb1 + "/1-1/authorized") == "1");
    CHECK(bed.attr(kUsb1 + "/1-1/1-1:1.0/authorized") == "1");
    CHECK(trimmed(slurp(bed.root() / "sys/bus/usb/drivers_probe")) == "1-1:1.0");

    const auto reports = spoolReports(site.spool);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].at("device").at("approval").at("owner") == "Example Medical Systems K.K.");
    CHECK(reasons(reports[0], "infected", "/p1/tools/eicar.com").size() == 1);

    // The quarantine log has all of it, chained and signed.
    const std::string ticket = reports[0].at("ticket_id");
    const auto list = run({QKIOSK_BIN, "log", "list", "--config", site.config.string(), "--owner", "Example Medical"});
    INFO(list.out << list.err);
    CHECK(list.exitCode == 0);
    CHECK_THAT(list.out, Catch::Contains(ticket) && Catch::Contains("fail") && Catch::Contains("0781:5567:4C530001231118116223"));
    const auto verify = run({QKIOSK_BIN, "log", "verify", "--config", site.config.string()});
    CHECK(verify.exitCode == 0);
    // daemon start, whitelist loaded, the device, its session start, its evidence, its session, daemon stop
    CHECK_THAT(verify.out, Catch::Contains("OK: 7 records") && Catch::Contains("up to record 7"));
    const auto csv = run({QKIOSK_BIN, "log", "export", "--format", "csv", "--config", site.config.string()});
    CHECK(csv.out.rfind("\xEF\xBB\xBFseq,time,kind,ticket_id", 0) == 0);
    CHECK_THAT(csv.out, Catch::Contains(ticket) && Catch::Contains("infected /p1/tools/eicar.com"));
    const auto show = run({QKIOSK_BIN, "log", "show", ticket, "--config", site.config.string()});
    const auto session = json::parse(show.out);   // the session's records: its start, its evidence, its verdict
    REQUIRE(session.size() == 3);
    CHECK(session[0].at("kind") == "session-start");
    CHECK(session[0].at("data").at("devnode") == "/dev/sdb");
    CHECK(session[1].at("kind") == "evidence-collected");
    CHECK(session[2].at("kind") == "session");
    CHECK(session[2].at("data").at("manifest_sha256") == reports[0].at("manifest_sha256"));

    // Its ticket is signed by the kiosk, and says what the report says.
    const auto checked = run({QKIOSK_BIN, "verify", "--ticket", (site.spool / (ticket + ".ticket")).string(), "--image",
                              image.string(), "--config", site.config.string()});
    INFO(checked.out << checked.err);
    CHECK(checked.exitCode == 1);
    CHECK_THAT(checked.out, Catch::Contains("signature OK") && Catch::Contains("FAIL: the ticket says FAIL"));
    CHECK_THAT(slurp(site.spool / (ticket + ".ticket")),
               Catch::Contains("承認 Approval: Example Medical Systems K.K. / CT firmware maintenance / 期限 until 2099-12-31") &&
                   Catch::Contains("機器 Device: 0781:5567 シリアル serial 4C530001231118116223"));

    // The FAIL with a finding left a case in the vault: the infected file and the whole stick's image.
    CHECK_THAT(daemon.output(), Catch::Contains("EVIDENCE 1-1 " + ticket + " stored"));
    const auto caseDir = ws.path() / "evidence" / ticket;
    CHECK(reports[0].at("evidence").at("case") == caseDir.string());
    CHECK(sha256File(caseDir / "media.img") == sha256File(image));
    CHECK(slurp(caseDir / sha256File(ws.path() / "stick/tools/eicar.com")) == eicar());
    const auto custody = run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", "evidence-collected", "--config",
                              site.config.string()});
    CHECK(json::parse(custody.out).at("data").at("image").at("sha256") == sha256File(image));
}

TEST_CASE("The daemon refuses a stick that is also a keyboard and never authorizes it", "[devices][daemon]") {
    Workspace ws;
    const auto site = writeSite(ws);
    Testbed bed;
    bed.load("composite-badusb");
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    const auto refused = daemon.waitForLine("REFUSED", 30);
    INFO(daemon.output());
    CHECK_THAT(refused, Catch::StartsWith("REFUSED 1-3 ") && Catch::Contains("badusb") && Catch::Contains("keyboard"));
    CHECK(daemon.stop() == 0);
    CHECK(bed.attr(kUsb1 + "/1-3/authorized") == "0");
    CHECK(bed.attr(kUsb1 + "/1-3/1-3:1.0/authorized") == "0");
    CHECK(bed.attr(kUsb1 + "/1-3/1-3:1.1/authorized") == "0");
    CHECK(trimmed(slurp(bed.root() / "sys/bus/usb/drivers_probe")).empty());
    const auto reports = spoolReports(site.spool);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].at("verdict") == "fail");
    CHECK(reasons(reports[0], "badusb").size() == 1);
    CHECK(reports[0].at("device").at("interfaces") == json::array({"03:01:01", "08:06:50"}));
}

TEST_CASE("Every ticket is archived and printed, and a failed print is recorded, kept and printed again later",
          "[devices][daemon][ticket]") {
    Workspace ws;
    const auto printerFile = ws.write("printer.bin", "");   // stands for /dev/usb/lp0
    std::string printer = "escpos:" + printerFile.string();
    bool jammed = false;
    SECTION("the printer works") {}
    SECTION("the printer is unplugged") {
        printer = "escpos:" + (ws.path() / "unplugged/lp0").string();
        jammed = true;
    }
    const auto site = writeSite(ws, "2099-12-31", "[ticket]\nprinter = \"" + printer + "\"\narchive = [\"pdf\", \"png\"]\n");
    Testbed bed;
    bed.load("composite-badusb");
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    const auto refused = daemon.waitForLine("REFUSED", 30);
    INFO(daemon.output());
    REQUIRE_FALSE(refused.empty());
    CHECK(daemon.stop() == 0);
    const auto reports = spoolReports(site.spool);
    REQUIRE(reports.size() == 1);
    const std::string ticket = reports[0].at("ticket_id");
    CHECK(slurp(site.spool / (ticket + ".pdf")).rfind("%PDF-", 0) == 0);
    CHECK(slurp(site.spool / (ticket + ".png")).rfind("\x89PNG", 0) == 0);
    const auto cfg = site.config.string();
    const auto pending = [&] { return run({QKIOSK_BIN, "ticket", "pending", "--config", cfg}).out; };
    const auto printed = [&] { return run({QKIOSK_BIN, "log", "list", "--kind", "ticket-printed", "--config", cfg}).out; };

    if (!jammed) {
        CHECK(slurp(printerFile).rfind("\x1b@", 0) == 0);   // ESC @, then the raster
        CHECK_THAT(printed(), Catch::Contains(ticket));
        CHECK(pending().empty());
        return;
    }
    CHECK_THAT(daemon.output(), Catch::Contains("PRINT-FAILED " + ticket) && Catch::Contains("qkiosk ticket print " + ticket));
    CHECK_THAT(pending(), Catch::StartsWith(ticket) && Catch::Contains("unplugged/lp0"));
    // A spool that cannot be read is not "nothing pending".
    const auto noSpool = run({QKIOSK_BIN, "ticket", "pending", "--config",
                              ws.write("nospool.toml", "spool_dir = \"" + (ws.path() / "no-such-spool").string() + "\"\n").string()});
    CHECK(noSpool.exitCode == 2);
    CHECK_THAT(noSpool.err, Catch::Contains("no-such-spool"));
    CHECK_THAT(run({QKIOSK_BIN, "log", "list", "--kind", "ticket-print-failed", "--config", cfg}).out, Catch::Contains(ticket));

    // Somebody edits the spool's ticket: it is not reproduced.
    const auto original = slurp(site.spool / (ticket + ".ticket"));
    auto edited = original;
    edited.replace(edited.find("不合格 FAIL"), std::string("不合格 FAIL").size(), "合格 PASS");
    ws.write("spool/" + ticket + ".ticket", edited);
    const auto refusedReprint = run({QKIOSK_BIN, "ticket", "print", ticket, "--printer", "escpos:" + printerFile.string(), "--config", cfg});
    CHECK(refusedReprint.exitCode == 1);
    CHECK(slurp(printerFile).empty());

    // Only this kiosk's tickets go on its paper and into its log: another key is for render.
    const auto foreign = run({QKIOSK_BIN, "ticket", "print", ticket, "--printer", "escpos:" + printerFile.string(), "--pubkey",
                              (ws.path() / "other.pub").string(), "--config", cfg});
    CHECK(foreign.exitCode == 2);
    CHECK_THAT(foreign.err, Catch::Contains("--pubkey is for render"));

    // The printer is back: the officer prints the kept ticket.
    ws.write("spool/" + ticket + ".ticket", original);
    const auto reprint = run({QKIOSK_BIN, "ticket", "print", ticket, "--printer", "escpos:" + printerFile.string(), "--config", cfg});
    INFO(reprint.out << reprint.err);
    CHECK(reprint.exitCode == 0);
    CHECK(slurp(printerFile).rfind("\x1b@", 0) == 0);
    CHECK(pending().empty());
    const auto shown = json::parse(run({QKIOSK_BIN, "log", "show", ticket, "--config", cfg}).out);
    CHECK(shown.back().at("kind") == "ticket-printed");
    CHECK(shown.back().at("data").at("reprint") == true);
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", cfg}).exitCode == 0);
}

TEST_CASE("Hotplug: a stick plugged in while the daemon runs is scanned, and its removal is seen", "[devices][daemon]") {
    Workspace ws;
    const auto site = writeSite(ws);
    const auto image = infectedStick(ws);
    Testbed bed;
    bed.addString(rootOnly("approved-stick"));   // controller and root hub only
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    REQUIRE_FALSE(daemon.waitForLine("READY", 30).empty());

    bed.addString(deviceOnly("approved-stick"));   // sends the "add" uevents, as the kernel would
    bed.backDisk(image);
    const auto result = daemon.waitForLine("RESULT", 60);
    INFO(daemon.output());
    CHECK_THAT(result, Catch::StartsWith("RESULT FAIL 1-1 "));
    CHECK(bed.attr(kUsb1 + "/1-1/authorized") == "1");

    bed.uevent(kUsb1 + "/1-1", "remove");
    CHECK_FALSE(daemon.waitForLine("REMOVED 1-1", 30).empty());
    CHECK(daemon.stop() == 0);
}

TEST_CASE("A scanner service that dies between sessions is recorded and restarted, and the next stick is scanned",
          "[devices][daemon]") {
    Workspace ws;
    const auto site = writeSite(ws);
    const auto image = infectedStick(ws);
    Testbed bed;
    bed.addString(rootOnly("approved-stick"));
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    REQUIRE_FALSE(daemon.waitForLine("READY", 30).empty());

    REQUIRE(run({"pkill", "-KILL", "-P", std::to_string(daemon.pid()), "-x", "qkiosk-scanner"}).exitCode == 0);
    const auto died = daemon.waitForLine("loading the signatures again", 10);
    INFO(daemon.output());
    CHECK_THAT(died, Catch::StartsWith("ERROR "));
    REQUIRE_FALSE(daemon.waitForLine("READY", 30).empty());

    bed.addString(deviceOnly("approved-stick"));
    bed.backDisk(image);
    CHECK_THAT(daemon.waitForLine("RESULT", 60), Catch::StartsWith("RESULT FAIL 1-1 "));
    CHECK(daemon.stop() == 0);
    const auto records = run({QKIOSK_BIN, "log", "list", "--kind", "engine-died", "--config", site.config.string()});
    CHECK_THAT(records.out, Catch::Contains("engine-died"));
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", site.config.string()}).exitCode == 0);
}

TEST_CASE("The kiosk terminal's socket streams the daemon's state and its scan progress, and only root may read it",
          "[devices][daemon][ui]") {
    Workspace ws;
    const auto sock = ws.path() / "run" / "ui.sock";
    const auto site = writeSite(ws, "2099-12-31", "ui_socket = \"" + sock.string() + "\"\n");
    const auto image = infectedStick(ws);
    Testbed bed;
    bed.addString(rootOnly("approved-stick"));
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    REQUIRE_FALSE(daemon.waitForLine("READY", 30).empty());
    struct stat st{};
    REQUIRE(::stat(sock.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);   // no ui_socket_group: root only

    // A terminal that starts now learns at once what the kiosk is doing.
    UiClient ui(sock);
    CHECK_THAT(ui.waitFor("READY", 5), Catch::Contains("signatures=2"));
    bed.addString(deviceOnly("approved-stick"));
    bed.backDisk(image);
    CHECK_FALSE(ui.waitFor("IDENTIFYING 1-1", 30).empty());
    CHECK_FALSE(ui.waitFor("SCANNING 1-1", 30).empty());
    INFO(ui.all);
    const auto progress = ui.waitFor("PROGRESS 1-1 ", 30);
    CHECK_THAT(progress, Catch::StartsWith("PROGRESS 1-1 files=0/0 bytes=0/0 media="));   // from the first moment
    const auto verdict = ui.waitFor("VERDICT ", 60);
    const auto result = ui.waitFor("RESULT", 5);
    CHECK_THAT(result, Catch::StartsWith("RESULT FAIL 1-1 "));
    REQUIRE(verdict.size() > 8);
    const auto v = json::parse(verdict.substr(8));
    CHECK(v.at("pass") == false);
    CHECK(v.at("port") == "1-1");
    CHECK(result.find(v.at("ticket_id").get<std::string>()) != std::string::npos);
    CHECK(v.at("reasons_total") == v.at("reasons").size());
    // A terminal that (re)starts now, with the media still in, sees the verdict, not "insert media".
    UiClient late(sock);
    CHECK_FALSE(late.waitFor("READY", 5).empty());
    CHECK(late.waitFor("VERDICT ", 5) == verdict);
    CHECK(late.waitFor("RESULT", 5) == result);
    CHECK(daemon.stop() == 0);
    INFO(daemon.output());
    // stdout stays one line per event
    CHECK(daemon.output().find("PROGRESS") == std::string::npos);
    CHECK(daemon.output().find("VERDICT") == std::string::npos);
    CHECK_FALSE(fs::exists(sock));
}

TEST_CASE("The kiosk terminal shows what the daemon does: ready, a stick's verdict, ready again once it is out",
          "[devices][daemon][ui]") {
    Workspace ws;
    const auto sock = ws.path() / "ui.sock";
    const auto site = writeSite(ws, "2099-12-31", "ui_socket = \"" + sock.string() + "\"\n");
    const auto image = infectedStick(ws);
    Testbed bed;
    bed.addString(rootOnly("approved-stick"));
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    REQUIRE_FALSE(daemon.waitForLine("READY", 60).empty());

    // The terminal is an ordinary program: not under the test bed, and it needs no root.
    TmuxTerminal term(ws, "env -u LD_PRELOAD LANG=en_US.UTF-8 " + std::string(QKIOSK_BIN) + " ui --config " + site.config.string());
    INFO(daemon.output());
    CHECK_THAT(term.waitFor("Insert the USB stick", 20), Catch::Contains("Signatures: 0.0 days old"));
    term.keys("C-c");
    ::usleep(300 * 1000);
    CHECK_THAT(term.screen(), Catch::Contains("Insert the USB stick"));   // Ctrl-C does nothing

    bed.addString(deviceOnly("approved-stick"));
    bed.backDisk(image);
    const auto result = daemon.waitForLine("RESULT", 60);
    REQUIRE_FALSE(result.empty());
    const std::string ticket = result.substr(result.rfind(' ') + 1);
    // (the test bed's disk may still be filling when it is read: PASS or FAIL, the ticket is the daemon's)
    const auto shown = term.waitFor("Ticket " + ticket, 20);
    INFO(term.screen());
    CHECK_THAT(shown, Catch::Contains(result.rfind("RESULT PASS", 0) == 0 ? "PASS" : "FAIL") && Catch::Contains("Remove the media"));
    term.keys("L");
    CHECK_FALSE(term.waitFor("媒体を抜いて", 10).empty());

    bed.uevent(kUsb1 + "/1-1", "remove");
    REQUIRE_FALSE(daemon.waitForLine("REMOVED 1-1", 30).empty());
    CHECK_FALSE(term.waitFor("USBメモリ・媒体を差し込んでください", 10).empty());

    CHECK(daemon.stop() == 0);
    // The daemon is gone: the terminal says so rather than inviting media.
    CHECK_FALSE(term.waitFor("キオスクは現在使えません", 10).empty());
}

TEST_CASE("A session interrupted by a crash is recorded as FAIL at the next start", "[devices][daemon]") {
    Workspace ws;
    const auto site = writeSite(ws);
    Testbed bed;
    bed.addString(rootOnly("approved-stick"));
    fs::create_directories(site.spool);
    ws.write("spool/20261127-101500-abcdef01.session",
             R"({"ticket_id":"20261127-101500-abcdef01","started":"2026-11-27T10:15:00Z",)"
             R"("device":{"vendor_id":"0781","product_id":"5567","serial":"4C530001231118116223","port":"1-1"}})");
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    REQUIRE_FALSE(daemon.waitForLine("READY", 30).empty());
    CHECK(daemon.stop() == 0);
    CHECK_FALSE(fs::exists(site.spool / "20261127-101500-abcdef01.session"));
    const auto report = json::parse(slurp(site.spool / "20261127-101500-abcdef01.json"));
    CHECK(report.at("verdict") == "fail");
    CHECK_THAT(report.at("reasons").at(0).at("detail").get<std::string>(), Catch::Contains("interrupted"));
    CHECK(report.at("device").at("serial") == "4C530001231118116223");
    CHECK(fs::exists(site.spool / "20261127-101500-abcdef01.ticket"));
}

TEST_CASE("A broken whitelist refuses every stick until it is fixed, without a restart", "[devices][daemon]") {
    Workspace ws;
    const auto site = writeSite(ws, "2099-12-31", "unknown_media = \"refuse\"\n");
    const auto good = slurp(site.whitelist);
    ws.write("whitelist.toml", "[[device]]\nvendor_id = \"0781\"\nserial = \n");
    const auto image = infectedStick(ws);
    Testbed bed;
    bed.addString(rootOnly("approved-stick"));
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    CHECK_THAT(daemon.waitForLine("ERROR whitelist", 30), Catch::Contains("whitelist.toml:3:"));
    REQUIRE_FALSE(daemon.waitForLine("READY", 30).empty());

    bed.addString(deviceOnly("approved-stick"));
    CHECK_THAT(daemon.waitForLine("REFUSED 1-1", 30), Catch::Contains("device-not-approved") && Catch::Contains("whitelist"));
    CHECK(bed.attr(kUsb1 + "/1-1/authorized") == "0");
    bed.uevent(kUsb1 + "/1-1", "remove");
    REQUIRE_FALSE(daemon.waitForLine("REMOVED 1-1", 30).empty());

    ws.write("whitelist.toml", good);   // the officer fixes the file; no restart
    bed.backDisk(image);
    bed.uevent(kUsb1 + "/1-1", "add");
    const auto result = daemon.waitForLine("RESULT", 60);
    INFO(daemon.output());
    CHECK_THAT(result, Catch::StartsWith("RESULT FAIL 1-1 "));   // admitted and scanned: EICAR on it
    CHECK(bed.attr(kUsb1 + "/1-1/authorized") == "1");
    CHECK(daemon.stop() == 0);
    // Both versions of the whitelist are in the quarantine log: the broken one with its error, the fixed one.
    const auto loads = run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", "whitelist-loaded", "--config",
                            site.config.string()});
    CHECK_THAT(loads.out, Catch::Contains("whitelist.toml:3:") && Catch::Contains("\"approvals\":1"));
}

TEST_CASE("The daemon swaps in new signatures between sessions and keeps the old ones when new ones fail to load",
          "[devices][daemon][signatures]") {
    Workspace ws;
    const auto db = ws.path() / "kioskdb";
    fs::create_directories(db);
    for (const auto& e : fs::directory_iterator(ws.database())) fs::copy_file(e.path(), db / e.path().filename());
    const auto site = writeSite(ws, "2099-12-31", "");
    // The site's config, but with a database folder of its own that this test changes.
    ws.write("qkiosk.toml", "db_dir = \"" + db.string() + "\"\npolicy = \"" + site.whitelist.string() +
                                "\"\nspool_dir = \"" + site.spool.string() + "\"\nlog = \"" + (ws.path() / "log.db").string() +
                                "\"\nkiosk_key = \"" + (ws.path() / "kiosk.key").string() + "\"\n");
    Testbed bed;
    bed.addString(rootOnly("approved-stick"));
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    CHECK_THAT(daemon.waitForLine("READY", 30), Catch::Contains("signatures=2"));

    // A new database file appears (as freshclam or an import would put it).
    const auto md5 = run({"sh", "-c", "printf 'hello world\\n' | md5sum | cut -c1-32"}).out.substr(0, 32);
    ws.write("site.hdb.tmp", md5 + ":12:Site.Test.Hello\n");
    fs::rename(ws.path() / "site.hdb.tmp", db / "site.hdb");
    CHECK_THAT(daemon.waitForLine("ENGINE-UPDATED", 30), Catch::Contains("signatures=3"));

    // Then a broken one: it does not load, and the daemon says so and keeps the engine it has.
    ws.write("broken.tmp", "this is not a signature\n");
    fs::rename(ws.path() / "broken.tmp", db / "broken.ndb");
    CHECK_THAT(daemon.waitForLine("ENGINE-UPDATE-FAILED", 30), Catch::Contains("previous signatures stay in use"));
    // Still ready, on the updated engine: not the broken update, not the original.
    std::string out;
    std::size_t readyAfter = std::string::npos;
    for (int i = 0; i < 100 && readyAfter == std::string::npos; ++i) {
        (void)daemon.waitForLine("this line never comes", 0.1);   // reads what the daemon printed meanwhile
        out = daemon.output();
        const auto failedLine = out.find('\n', out.find("ENGINE-UPDATE-FAILED"));
        if (failedLine != std::string::npos) readyAfter = out.find("READY", failedLine);
    }
    REQUIRE(readyAfter != std::string::npos);
    CHECK(out.substr(readyAfter, out.find('\n', readyAfter) - readyAfter).find("signatures=3") != std::string::npos);
    CHECK(daemon.stop() == 0);
}

TEST_CASE("A kiosk whose disk is full accepts no device and says why", "[devices][daemon][log]") {
    Workspace ws;
    // The log, or the spool of tickets and reports, lives on its own small filesystem, which then fills up.
    const SmallDisk disk(ws.path() / "smallfs", "4m");
    const auto& smallfs = disk.path();
    const auto site = writeSite(ws, "2099-12-31", "");
    std::string logPath = (ws.path() / "log.db").string(), spool = site.spool.string(), expected;
    SECTION("the quarantine log's disk") {
        logPath = (smallfs / "log.db").string();
        expected = "REFUSED 1-1 - unscannable: the quarantine log cannot be written";
    }
    SECTION("the spool's disk") {
        spool = (smallfs / "spool").string();
        expected = "REFUSED 1-1 - unscannable: the kiosk's disk is full (";
    }
    ws.write("qkiosk.toml", "db_dir = \"" + ws.database().string() + "\"\npolicy = \"" + site.whitelist.string() +
                                "\"\nspool_dir = \"" + spool + "\"\nlog = \"" + logPath + "\"\nkiosk_key = \"" +
                                (ws.path() / "kiosk.key").string() + "\"\nmin_free_space = \"1 MiB\"\n");
    Testbed bed;
    bed.addString(rootOnly("approved-stick"));
    bed.addDriversProbe();
    Process daemon({QKIOSK_BIN, "run", "--config", site.config.string()});
    REQUIRE_FALSE(daemon.waitForLine("READY", 30).empty());
    disk.fill();

    bed.addString(deviceOnly("approved-stick"));
    const auto refused = daemon.waitForLine("REFUSED", 30);
    INFO(daemon.output());
    CHECK_THAT(refused, Catch::StartsWith(expected) && Catch::Contains("call the security officer"));
    CHECK(bed.attr(kUsb1 + "/1-1/authorized") == "0");   // its storage was never touched
    CHECK(daemon.output().find("SCANNING") == std::string::npos);
    CHECK(daemon.stop() == 0);
}
