// The security officer's screens, as an officer at the kiosk would notice
// them: the keys pressed, the requests the terminal queues for the daemon
// (docs/officer-protocol.md), what a reply shows; and a golden 80×24 screen
// of every officer page in Japanese and English (tests/ui/golden/officer-*).
//
// QKIOSK_UPDATE_GOLDEN=1 ./ui_tests writes the golden files anew.
#include <catch2/catch.hpp>

#include "UiTestSupport.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "qkiosk/ui/Catalog.h"
#include "qkiosk/ui/DaemonFeed.h"
#include "qkiosk/ui/Screen.h"
#include "qkiosk/ui/TextRenderer.h"
#include "qkiosk/ui/TextWidth.h"

using namespace kiosk::ui;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using uitest::slurp;
using uitest::words;

// The kiosk's terminal (not the demo), on Ready.
State onReady(const Language& lang = kEnglish) {
    State s;
    s.screen = Ready{"1.2", false};
    s.idle = Ready{"1.2", false};
    s.language = lang;
    s.languages = words().languages();
    return s;
}

State press(State s, const Key& k) { return reduce(std::move(s), intentOf(k, s)); }
State press(State s, Key::Kind kind) { return press(std::move(s), Key{kind, 0}); }
State type(State s, const std::u32string& text) {
    for (const char32_t c : text) s = press(std::move(s), Key{Key::Char, c});
    return s;
}

// The one request the terminal queued, taken out as the controller would,
// as the JSON the daemon gets.
json takeRequest(State& s) {
    REQUIRE(s.outbox.size() == 1);
    json r = kiosk::messages::toJson(s.outbox.front());
    s.outbox.clear();
    return r;
}

// The daemon's reply to `request` (both as the JSON on the wire), read as the
// controller reads it, handed to the screens.
void replyTo(State& s, const json& request, const json& answer) {
    auto asked = kiosk::messages::parseOfficerRequest(request);
    REQUIRE(asked);
    applyReply(s, *asked, kiosk::messages::readReply(*asked, answer));
}
// The same, for a request asked in officer session `session`.
void replyTo(State& s, const json& request, const json& answer, std::uint64_t session) {
    auto asked = kiosk::messages::parseOfficerRequest(request);
    REQUIRE(asked);
    applyReply(s, *asked, kiosk::messages::readReply(*asked, answer), session);
}

std::string screenText(const State& s, int cols = 80, int rows = 24) {
    std::string out;
    for (const auto& l : renderText(s, cols, rows, words())) {
        out += l;
        out += '\n';
    }
    return out;
}

bool shows(const State& s, const std::string& text) { return screenText(s).find(text) != std::string::npos; }

const json kLogReply = json::parse(R"({"ok":true,"total":57,"sessions":[
  {"seq":812,"time":"2026-11-27T03:43:24Z","ticket_id":"20261127-034324-aa3c0044","verdict":"fail",
   "device":"0781:5567:4C530001","owner":"Example Medical Systems K.K.","reasons":["infected","type-mismatch"]},
  {"seq":790,"time":"2026-11-26T09:12:05Z","ticket_id":"20261126-091205-0b1c2d3e","verdict":"pass",
   "device":"0930:6545:AA0011","owner":"循環器内科 田中","reasons":[]}]})");

const json kStatusReply = json::parse(R"({"ok":true,"kiosk_id":"kiosk-01",
  "signatures":{"version":"daily:27412 main:62 bytecode:335","signatures":8712345,"age_days":"1.2","outdated":false},
  "disk":[{"dir":"/var/lib/qkiosk","free":5368709120,"min_free":67108864},
          {"dir":"/var/spool/qkiosk","free":123456789,"min_free":67108864}],
  "printer":{"kind":"cups","target":"cups:ticket","ready":true,"state":"ready"},
  "unprinted":0, "syslog":"SYSLOG-UP 192.0.2.10:6514", "log":{"records":1234},
  "sessions":[{"time":"2026-11-27T03:43:24Z","ticket_id":"20261127-034324-aa3c0044","verdict":"fail","device":"0781:5567:4C530001","owner":"","reasons":["infected"]},
              {"time":"2026-11-26T09:12:05Z","ticket_id":"20261126-091205-0b1c2d3e","verdict":"pass","device":"0930:6545:AA0011","owner":"","reasons":[]}]})");

const json kDevicesReply = json::parse(R"({"ok":true,"devices":[
  {"port":"1-1","vendor_id":"0781","product_id":"5567","serial":"4C530001","product":"Cruzer Blade","interfaces":["08:06:50"],
   "approval":null,"state":"refused","ticket_id":"20261127-110002-12ab34cd","reasons":["device-not-approved"],"fat":false},
  {"port":"1-2","vendor_id":"0930","product_id":"6545","serial":"AA0011","product":"TransMemory","interfaces":["08:06:50"],
   "approval":{"owner":"循環器内科 田中","purpose":"学会資料","expires":"2027-03-31"},"state":"pass","ticket_id":"20261127-110502-99aa88bb",
   "reasons":[],"fat":true}]})");

const json kSessionReply = json::parse(R"({"ok":true,"report":{"format_version":1,"verdict":"fail",
  "reasons":[{"code":"infected","path":"/p1/書類/attachments.zip!attachments/2026/invoice.com","detail":"Qkiosk.Test.EICAR.UNOFFICIAL"},
             {"code":"type-mismatch","path":"/p1/写真/IMG_0001.jpg","detail":"executable (PE32) named like an image"}],
  "device":{"vendor_id":"0781","product_id":"5567","serial":"4C530001","interfaces":["08:06:50"],
            "approval":{"owner":"Example Medical Systems K.K.","purpose":"firmware update","expires":"2027-03-31"}},
  "files_total":6,"bytes_scanned":3174,"manifest_sha256":"02a64b9bc57fb3ac6b8f6730445e3ab9e590d2962ca07d3da973c9ef6ff6a126",
  "engine":{"db_version":"daily:27412 main:62 bytecode:335"},"ticket_id":"20261127-034324-aa3c0044",
  "started":"2026-11-27T03:43:24Z","finished":"2026-11-27T03:43:31Z",
  "evidence":{"case":"/var/lib/qkiosk/evidence/20261127-034324-aa3c0044"}},
  "records":[{"seq":810,"time":"2026-11-27T03:43:24Z","kind":"device"}]})");

// Logged in as 山田 太郎, on the menu, the outbox empty.
State loggedIn(const Language& lang = kEnglish) {
    State s = press(onReady(lang), Key::F12);
    s = type(std::move(s), U"山田 太郎");
    s = press(std::move(s), Key::Tab);
    s = type(std::move(s), U"secret");
    s = press(std::move(s), Key::Enter);
    const json login = takeRequest(s);
    replyTo(s, login, json{{"ok", true}, {"officer", "山田 太郎"}, {"idle_minutes", 5}});
    return s;
}

// On the log review with the first page shown.
State onLog(const Language& lang = kEnglish) {
    State s = press(loggedIn(lang), Key{Key::Char, U'1'});
    const json req = takeRequest(s);
    replyTo(s, req, kLogReply);
    return s;
}

// The status reply with its ten last sessions, as the daemon sends them.
json statusWithTenSessions() {
    json r = kStatusReply;
    for (int i = 2; i < 10; ++i) {
        // Appends, not "literal" + std::string (g++ 12 -Wrestrict).
        std::string time = "2026-11-2", device = "0930:6545:AA00";
        time += std::to_string(6 - i / 4);
        time += "T0";
        time += std::to_string(i);
        time += ":00:00Z";
        device += std::to_string(10 + i);
        r["sessions"].push_back(json{{"time", time}, {"ticket_id", std::to_string(i)}, {"verdict", i % 3 ? "pass" : "fail"},
                                     {"device", device}, {"owner", ""}, {"reasons", json::array()}});
    }
    return r;
}

State onPage(char32_t item, const json& reply, const Language& lang = kEnglish) {
    State s = press(loggedIn(lang), Key{Key::Char, item});
    const json req = takeRequest(s);
    replyTo(s, req, reply);
    return s;
}

}  // namespace

TEST_CASE("F12 on Ready opens the officer login, not in the demo and not over a scan", "[ui][officer]") {
    State s = press(onReady(), Key::F12);
    REQUIRE(s.officer);
    CHECK(s.officer->page == Officer::Page::Login);
    CHECK(shows(s, "Security officer — log in"));

    State demo = onReady();
    demo.demo = true;
    CHECK_FALSE(press(demo, Key::F12).officer);
    State scanning = onReady();
    scanning.screen = Scanning{};
    CHECK_FALSE(press(scanning, Key::F12).officer);
    State unavailable = onReady();
    unavailable.screen = Unavailable{false, "down"};
    CHECK_FALSE(press(unavailable, Key::F12).officer);

    SECTION("Esc from the login goes back to the staff screen and tells the daemon nothing") {
        s = press(std::move(s), Key::Esc);
        CHECK_FALSE(s.officer);
        CHECK(s.outbox.empty());
        CHECK(shows(s, "Insert the USB stick or media"));
    }
}

TEST_CASE("The typed name and password make exactly one login request", "[ui][officer]") {
    State s = press(onReady(), Key::F12);
    s = type(std::move(s), U"山田 太郎x");
    s = press(std::move(s), Key::Backspace);   // the x
    s = press(std::move(s), Key::Tab);
    s = type(std::move(s), U"pässwörd L");      // L types into the field here
    CHECK(s.language == kEnglish);
    CHECK(shows(s, "**********_"));
    CHECK_FALSE(shows(s, "pässwörd"));
    s = press(std::move(s), Key::Enter);
    const json req = takeRequest(s);
    CHECK(req == json{{"op", "login"}, {"name", "山田 太郎"}, {"password", "pässwörd L"}});
    CHECK(shows(s, "Waiting for the kiosk service…"));
    SECTION("while it is out, keys do nothing and nothing more is sent") {
        s = press(std::move(s), Key::Enter);
        s = press(std::move(s), Key::Esc);
        s = type(std::move(s), U"abc");
        CHECK(s.outbox.empty());
        REQUIRE(s.officer);
        CHECK(s.officer->password == "pässwörd L");
    }
    SECTION("a refused reply says so and clears the password") {
        replyTo(s, req, json{{"ok", false}, {"code", "refused"}, {"error", "wrong name or password"}});
        CHECK(shows(s, "Wrong name or password."));
        CHECK(s.officer->password.empty());
        CHECK(s.officer->loginName == "山田 太郎");
        CHECK(s.officer->page == Officer::Page::Login);
    }
    SECTION("a locked-out reply says so") {
        replyTo(s, req, json{{"ok", false}, {"code", "locked-out"}, {"error", "locked for 15 minutes"}});
        CHECK(shows(s, "Too many failed attempts"));
    }
    SECTION("an ok reply shows the menu with the officer's name") {
        replyTo(s, req, json{{"ok", true}, {"officer", "山田 太郎"}, {"idle_minutes", 5}});
        CHECK(s.officer->page == Officer::Page::Menu);
        CHECK(shows(s, "Security officer: 山田 太郎"));
        CHECK(s.officer->password.empty());
    }
}

TEST_CASE("Text fields: limits and what is not typed", "[ui][officer]") {
    State s = press(onReady(), Key::F12);
    s = type(std::move(s), std::u32string(70, U'名'));
    CHECK(charCount(s.officer->loginName) == kMaxNameChars);
    s = press(std::move(s), Key::Tab);
    s = type(std::move(s), std::u32string(200, U'a'));
    CHECK(charCount(s.officer->password) == kMaxPasswordChars);
    std::string t = "aé名";
    eraseLastChar(t);
    CHECK(t == "aé");
    eraseLastChar(t);
    CHECK(t == "a");
    appendChar(t, 0x1B, 10);
    appendChar(t, 0x9B, 10);
    CHECK(t == "a");
}

TEST_CASE("Ctrl-C and unknown keys do nothing on the officer screens", "[ui][officer][keys]") {
    for (State s : std::vector<State>{press(onReady(), Key::F12), loggedIn(), onLog()}) {
        const auto before = screenText(s);
        const Key ctrlC{Key::Other, 0};
        CHECK(intentOf(ctrlC, s) == Intent::None);
        CHECK(intentOf(Key{Key::F12, 0}, s) == Intent::None);
        s = press(std::move(s), ctrlC);
        CHECK(s.officer);
        CHECK(s.outbox.empty());
        CHECK(screenText(s) == before);
    }
    SECTION("F2 switches the language everywhere, L only where no field takes letters") {
        State login = press(onReady(), Key::F12);
        CHECK(press(login, Key::F2).language == kJapanese);
        CHECK(press(login, Key{Key::Char, U'L'}).language == kEnglish);
        CHECK(press(loggedIn(), Key{Key::Char, U'l'}).language == kJapanese);
    }
}

TEST_CASE("Menu: 5 asks for the status and shows its values", "[ui][officer]") {
    State s = press(loggedIn(), Key{Key::Char, U'5'});
    const json req = takeRequest(s);
    CHECK(req == json{{"op", "status"}});
    replyTo(s, req, kStatusReply);
    const std::string text = screenText(s);
    CHECK(text.find("Kiosk status — kiosk-01") != std::string::npos);
    CHECK(text.find("daily:27412 main:62 bytecode:335, 1.2 days old") != std::string::npos);
    CHECK(text.find("/var/spool/qkiosk  117.7 MiB free (at least 64.0 MiB needed)") != std::string::npos);
    CHECK(text.find("1234 records") != std::string::npos);
    CHECK(text.find("2026-11-27 03:43  FAIL  0781:5567:4C530001") != std::string::npos);
    SECTION("r asks again, outdated signatures say OUTDATED") {
        s = press(std::move(s), Key{Key::Char, U'r'});
        const json again = takeRequest(s);
        json outdated = kStatusReply;
        outdated["signatures"]["outdated"] = true;
        replyTo(s, again, outdated);
        CHECK(shows(s, "OUTDATED"));
    }
    SECTION("Up/Down and Enter open the same pages as the numbers") {
        State m = loggedIn();
        for (int i = 0; i < 4; ++i) m = press(std::move(m), Key::Down);
        m = press(std::move(m), Key::Enter);
        CHECK(takeRequest(m) == json{{"op", "status"}});
    }
}

TEST_CASE("Log review: filters, paging and a session's detail", "[ui][officer]") {
    State s = press(loggedIn(), Key{Key::Char, U'1'});
    CHECK(takeRequest(s) == json{{"op", "log"}, {"offset", 0}, {"limit", 15}});
    replyTo(s, json{{"op", "log"}, {"offset", 0}, {"limit", 15}}, kLogReply);
    CHECK(shows(s, "57 sessions, page 1 of 4"));
    CHECK(shows(s, "malware found +1"));

    SECTION("the filter form makes a log request with the filters, from the first page") {
        s = press(std::move(s), Key{Key::Char, U'f'});
        s = type(std::move(s), U"2026-11-01");
        s = press(std::move(s), Key::Tab);
        s = type(std::move(s), U"2026-11-30");
        s = press(std::move(s), Key::Tab);
        s = type(std::move(s), U"f");   // the verdict: fail
        s = press(std::move(s), Key::Tab);
        s = type(std::move(s), U"0781:5567");
        s = press(std::move(s), Key::Tab);
        s = type(std::move(s), U"Example");
        s = press(std::move(s), Key::Enter);
        CHECK(takeRequest(s) == json{{"op", "log"},        {"from", "2026-11-01"}, {"to", "2026-11-30"}, {"verdict", "fail"},
                                     {"device", "0781:5567"}, {"owner", "Example"},  {"offset", 0},        {"limit", 15}});
    }
    SECTION("a bad date in the filters is refused here, without a request") {
        s = press(std::move(s), Key{Key::Char, U'f'});
        s = type(std::move(s), U"27.11.2026");
        s = press(std::move(s), Key::Enter);
        CHECK(s.outbox.empty());
        CHECK(shows(s, "YYYY-MM-DD"));
    }
    SECTION("the next page asks for offset 15, with n as with PgDn") {
        State n = press(s, Key{Key::Char, U'n'});
        CHECK(takeRequest(n)["offset"] == 15);
        s = press(std::move(s), Key::PageDown);
        const json req = takeRequest(s);
        CHECK(req == json{{"op", "log"}, {"offset", 15}, {"limit", 15}});
        replyTo(s, req, kLogReply);
        CHECK(shows(s, "page 2 of 4"));
        s = press(std::move(s), Key::PageUp);
        CHECK(takeRequest(s)["offset"] == 0);
    }
    SECTION("Enter on a row asks for that session; Esc goes back to the same row") {
        s = press(std::move(s), Key::Down);
        s = press(std::move(s), Key::Enter);
        CHECK(takeRequest(s) == json{{"op", "session"}, {"ticket_id", "20261126-091205-0b1c2d3e"}});
        s.officer->waiting = false;
        s = press(std::move(s), Key::Up);
        s = press(std::move(s), Key::Enter);
        const json req = takeRequest(s);
        CHECK(req == json{{"op", "session"}, {"ticket_id", "20261127-034324-aa3c0044"}});
        replyTo(s, req, kSessionReply);
        const std::string text = screenText(s);
        CHECK(text.find("Session 20261127-034324-aa3c0044") != std::string::npos);
        CHECK(text.find("0781:5567  serial 4C530001") != std::string::npos);
        CHECK(text.find("Example Medical Systems K.K.") != std::string::npos);
        CHECK(text.find("firmware update, until 2027-03-31") != std::string::npos);
        CHECK(text.find("2026-11-27 03:43:24 – 03:43:31") != std::string::npos);
        CHECK(text.find("FAIL") != std::string::npos);
        CHECK(text.find("6 (3.1 KiB)") != std::string::npos);
        CHECK(text.find("・malware found: /p1/書類/attachments.zip!attachments/2026/invoice.com") != std::string::npos);
        s = press(std::move(s), Key::Esc);
        CHECK(s.officer->page == Officer::Page::Log);
        CHECK(s.officer->log.selected == 0);
        CHECK(shows(s, "page 1 of 4"));
    }
}

TEST_CASE("Register: checks the fields here, then sends the request of the contract", "[ui][officer]") {
    State s = press(loggedIn(), Key{Key::Char, U'2'});
    CHECK(takeRequest(s) == json{{"op", "devices"}});
    replyTo(s, json{{"op", "devices"}}, kDevicesReply);
    CHECK(shows(s, "0781:5567  serial 4C530001  Cruzer Blade  (port 1-1)"));
    CHECK(shows(s, "refused; not approved"));
    s = press(std::move(s), Key::Down);   // the second device
    s = press(std::move(s), Key::Tab);
    s = type(std::move(s), U"Example Medical Systems K.K.");
    s = press(std::move(s), Key::Enter);
    s = type(std::move(s), U"firmware update");
    s = press(std::move(s), Key::Enter);
    s = type(std::move(s), U"2027-3-31");
    s = press(std::move(s), Key::Enter);
    CHECK(s.outbox.empty());
    CHECK(shows(s, "Write the expiry date as YYYY-MM-DD"));
    SECTION("in Japanese too") {
        s = press(std::move(s), Key::F2);
        CHECK(shows(s, "YYYY-MM-DD"));
        CHECK_FALSE(shows(s, "Write the expiry date"));
    }
    for (int i = 0; i < 4; ++i) s = press(std::move(s), Key::Backspace);
    s = type(std::move(s), U"03-31");
    s = press(std::move(s), Key::Enter);
    const json req = takeRequest(s);
    CHECK(req == json{{"op", "register"}, {"port", "1-2"}, {"owner", "Example Medical Systems K.K."}, {"purpose", "firmware update"},
                      {"expires", "2027-03-31"}});
    replyTo(s, req, json{{"ok", true}, {"message", "0930:6545 AA0011 approved until 2027-03-31; plug it in again"}});
    CHECK(shows(s, "0930:6545 AA0011 approved until 2027-03-31; plug it in again"));
    SECTION("an empty field is refused without a request") {
        s = press(std::move(s), Key::Tab);
        s = press(std::move(s), Key::Enter);
        s = press(std::move(s), Key::Enter);
        s = press(std::move(s), Key::Enter);
        CHECK(s.outbox.empty());
        CHECK(shows(s, "Fill in the owner, the purpose and the expiry date."));
    }
}

TEST_CASE("Import and export send the chosen stick's port", "[ui][officer]") {
    SECTION("import") {
        State s = onPage(U'3', kDevicesReply);
        s = press(std::move(s), Key::Enter);
        const json req = takeRequest(s);
        CHECK(req == json{{"op", "import-signatures"}, {"port", "1-1"}});
        CHECK(shows(s, "Importing… this can take a minute."));
        replyTo(s, req, json{{"ok", true}, {"version", "daily:27413 main:62 bytecode:335"}, {"signatures", 8712400}, {"files", 3}});
        CHECK(shows(s, "Signatures imported: version daily:27413 main:62 bytecode:335,"));
        CHECK(shows(s, "8712400 signatures."));
    }
    SECTION("export: only a stick that passed, with FAT; t switches to jsonl") {
        State s = onPage(U'4', kDevicesReply);
        CHECK(shows(s, "cannot take the log: it has not passed a scan now (refused)"));
        s = press(std::move(s), Key::Up);   // the refused one
        s = press(std::move(s), Key::Enter);
        CHECK(s.outbox.empty());
        s = press(std::move(s), Key::Down);
        s = press(std::move(s), Key{Key::Char, U't'});
        s = press(std::move(s), Key::Tab);
        s = type(std::move(s), U"2026-11-01");
        s = press(std::move(s), Key::Enter);
        const json req = takeRequest(s);
        CHECK(req == json{{"op", "export-log"}, {"port", "1-2"}, {"format", "jsonl"}, {"from", "2026-11-01"}});
        replyTo(s, req, json{{"ok", true}, {"file", "qkiosk-log-kiosk-01-20261127-111500.jsonl"}, {"records", 57}, {"bytes", 40960}});
        CHECK(shows(s, "Written to the stick: qkiosk-log-kiosk-01-20261127-111500.jsonl (57\n  records)."));
    }
    SECTION("an error reply shows the daemon's sentence") {
        State s = onPage(U'3', kDevicesReply);
        s = press(std::move(s), Key::Enter);
        const json req = takeRequest(s);
        replyTo(s, req, json{{"ok", false}, {"code", "failed"}, {"error", "no qkiosk-signatures folder on the stick"}});
        CHECK(shows(s, "no qkiosk-signatures folder on the stick"));
    }
}

TEST_CASE("The session ends: not-logged-in, logout, idle, a lost connection", "[ui][officer]") {
    SECTION("a not-logged-in reply returns to the login with the daemon's text") {
        State s = press(loggedIn(), Key{Key::Char, U'5'});
        const json req = takeRequest(s);
        replyTo(s, req, json{{"ok", false}, {"code", "not-logged-in"}, {"error", "the session ended after 5 idle minutes"}});
        REQUIRE(s.officer);
        CHECK(s.officer->page == Officer::Page::Login);
        CHECK(shows(s, "the session ended after 5 idle minutes"));
    }
    SECTION("the staff screen the feed updated meanwhile is back after logging out") {
        DaemonFeed feed(7);
        State s = loggedIn();
        feed.apply(s, "IDENTIFYING 1-1", 1);
        feed.apply(s, "SCANNING 1-1 /dev/sdb", 2);
        CHECK(shows(s, "Security officer: 山田 太郎"));
        s = press(std::move(s), Key{Key::Char, U'0'});
        CHECK(takeRequest(s) == json{{"op", "logout"}});
        CHECK_FALSE(s.officer);
        CHECK(std::holds_alternative<Scanning>(s.screen));
        CHECK(shows(s, "Scanning — do not remove the media"));
    }
    SECTION("Esc on the menu logs out too") {
        State s = press(loggedIn(), Key::Esc);
        CHECK(takeRequest(s) == json{{"op", "logout"}});
        CHECK_FALSE(s.officer);
    }
    SECTION("the controller ends it (idle): a logout is queued; a late reply changes nothing") {
        State s = press(loggedIn(), Key{Key::Char, U'5'});
        const json req = takeRequest(s);
        endOfficerSession(s);
        CHECK_FALSE(s.officer);
        CHECK(takeRequest(s) == json{{"op", "logout"}});
        replyTo(s, req, kStatusReply);
        CHECK_FALSE(s.officer);
        CHECK(shows(s, "Insert the USB stick or media"));
    }
    SECTION("a reply asked for in an ended session never reaches the next officer's screens") {
        State s = onLog();
        s = press(std::move(s), Key::Enter);   // the first row's detail is asked for...
        const json req = takeRequest(s);
        const std::uint64_t asked = s.officer->session;
        endOfficerSession(s);                  // ...and the officer walks away
        s.outbox.clear();
        s = press(std::move(s), Key::F12);     // somebody else opens the login
        REQUIRE(s.officer);
        CHECK(s.officer->session != asked);
        replyTo(s, req, kSessionReply, asked);
        CHECK(s.officer->page == Officer::Page::Login);
        CHECK_FALSE(shows(s, "Example Medical Systems K.K."));
        CHECK_FALSE(shows(s, "20261127-034324-aa3c0044"));
    }
    SECTION("the connection drops: back to the staff screen, nothing left to send") {
        State s = press(loggedIn(), Key{Key::Char, U'5'});
        officerConnectionLost(s);
        CHECK_FALSE(s.officer);
        CHECK(s.outbox.empty());
    }
    SECTION("a reply that is not what the contract says does not throw") {
        State s = press(loggedIn(), Key{Key::Char, U'5'});
        const json req = takeRequest(s);
        replyTo(s, req, json::parse(R"({"ok":true,"signatures":"x","disk":{"a":1},"log":[1],"sessions":7})"));
        CHECK(s.officer->status.loaded);
        replyTo(s, req, json("not an object"));
        CHECK(shows(s, "The kiosk service did not say why."));
    }
}

namespace {

// One example of every officer page, as an officer would reach it.
std::vector<std::pair<std::string, State>> officerExamples(const Language& lang) {
    std::vector<std::pair<std::string, State>> out;
    State login = press(onReady(lang), Key::F12);
    login = type(std::move(login), U"山田 太郎");
    login = press(std::move(login), Key::Tab);
    login = type(std::move(login), U"secret");
    out.emplace_back("officer-login", login);
    State refused = press(login, Key::Enter);
    applyReply(refused, refused.outbox.front(), kiosk::messages::readReply(refused.outbox.front(), json{{"ok", false}, {"code", "refused"}, {"error", "wrong name or password"}}));
    refused.outbox.clear();
    out.emplace_back("officer-login-refused", refused);
    out.emplace_back("officer-menu", loggedIn(lang));
    State log = onLog(lang);
    out.emplace_back("officer-log", log);
    State filters = press(log, Key{Key::Char, U'f'});
    filters = type(std::move(filters), U"2026-11-01");
    filters = press(std::move(filters), Key::Tab);
    filters = press(std::move(filters), Key::Tab);
    out.emplace_back("officer-log-filters", filters);
    State detail = log;
    detail = press(std::move(detail), Key::Enter);
    applyReply(detail, detail.outbox.front(), kiosk::messages::readReply(detail.outbox.front(), kSessionReply));
    detail.outbox.clear();
    out.emplace_back("officer-session", detail);
    State reg = onPage(U'2', kDevicesReply, lang);
    reg = press(std::move(reg), Key::Tab);
    reg = type(std::move(reg), U"Example Medical Systems K.K.");
    out.emplace_back("officer-register", reg);
    State import = onPage(U'3', kDevicesReply, lang);
    import = press(std::move(import), Key::Enter);
    import.outbox.clear();
    out.emplace_back("officer-import-waiting", import);
    out.emplace_back("officer-export", onPage(U'4', kDevicesReply, lang));
    out.emplace_back("officer-status", onPage(U'5', statusWithTenSessions(), lang));
    return out;
}

}  // namespace

TEST_CASE("Golden 80x24 screens: every officer page in Japanese and English", "[ui][golden][officer]") {
    for (const Language& lang : {kJapanese, kEnglish})
        for (const auto& [name, state] : officerExamples(lang)) uitest::checkGolden(name, state);
}

TEST_CASE("A session's detail says how many findings the daemon did not send", "[ui][officer]") {
    State s = onLog();
    s = press(std::move(s), Key::Enter);
    json reply = kSessionReply;
    reply["report"]["reasons_total"] = 120;
    replyTo(s, takeRequest(s), reply);
    REQUIRE(s.officer->page == Officer::Page::Detail);
    for (int i = 0; i < 10; ++i) s = press(std::move(s), Key::Down);
    CHECK(shows(s, "… and 118 more (all of them are on the ticket)"));
}

TEST_CASE("A session's detail scrolls to its last finding on a small terminal, and every key moves it", "[ui][officer]") {
    State s = onLog();
    s = press(std::move(s), Key::Enter);
    replyTo(s, takeRequest(s), kSessionReply);
    REQUIRE(s.officer->page == Officer::Page::Detail);
    const auto text = [&] {
        std::string out;
        for (const auto& l : renderText(s, 80, 20, words())) out.append(l).append("\n");
        return out;
    };
    CHECK(text().find("executable (PE32) named like an image") == std::string::npos);   // below the window at 80×20
    std::string before = text();
    for (int i = 0; i < detailLineCount(s.officer->detail) && text().find("executable (PE32) named like an image") == std::string::npos; ++i) {
        s = press(std::move(s), Key::Down);
        CHECK(text() != before);   // no key is swallowed
        before = text();
    }
    CHECK(text().find("executable (PE32) named like an image") != std::string::npos);
    s = press(std::move(s), Key::Up);
    CHECK(text() != before);
}

TEST_CASE("Officer pages at other sizes: exact size, nothing cut when there is room", "[ui][officer]") {
    for (const Language& lang : {kJapanese, kEnglish})
        for (const auto& [name, state] : officerExamples(lang)) {
            INFO(name << "." << lang);
            for (auto [cols, rows] : {std::pair{120, 40}, std::pair{20, 5}, std::pair{1, 1}}) {
                const auto lines = renderText(state, cols, rows, words());
                REQUIRE(static_cast<int>(lines.size()) == rows);
                for (const auto& l : lines) CHECK(displayWidth(l) <= cols);
            }
            // "…" is where something was cut (the waiting notice says it as a word).
            if (!state.officer->waiting) CHECK(screenText(state, 120, 40).find("…") == std::string::npos);
        }
}

TEST_CASE("The officer guide shows the officer's golden screens as they are", "[ui][golden][officer]") {
    const std::string guide = slurp(fs::path(QKIOSK_DOCS_DIR) / "officer-guide.md");
    REQUIRE_FALSE(guide.empty());
    for (const char* name : {"officer-menu.ja", "officer-log.en", "officer-register.ja"}) {
        std::string screen = slurp(fs::path(QKIOSK_GOLDEN_DIR) / (std::string(name) + ".txt"));
        while (!screen.empty() && screen.back() == '\n') screen.pop_back();
        INFO(name << " is not in docs/officer-guide.md as it is now (copy the golden file into the guide)");
        std::string fenced = "```\n";
        fenced += screen;
        fenced += "\n```";
        CHECK(guide.find(fenced) != std::string::npos);
    }
}
