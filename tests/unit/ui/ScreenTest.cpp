// The kiosk terminal's screens as text: a golden 80×24 screen for every state
// in every language (tests/ui/golden/<state>.<lang>.txt), the layout at other
// sizes, the keys and the message catalogues.
//
// QKIOSK_UPDATE_GOLDEN=1 ./ui_tests writes the golden files anew (then read
// the diff before committing it).
#include <catch2/catch.hpp>

#include "UiTestSupport.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "qkiosk/ui/Catalog.h"
#include "qkiosk/ui/Screen.h"
#include "qkiosk/ui/TextRenderer.h"
#include "qkiosk/ui/TextWidth.h"

using namespace kiosk::ui;
namespace fs = std::filesystem;

namespace {

using uitest::joined;
using uitest::slurp;
using uitest::words;

State stateOf(Screen screen, const Language& lang) {
    State s;
    s.screen = std::move(screen);
    s.language = lang;
    s.demo = true;
    s.languages = words().languages();
    return s;
}

ReasonLine reason(const std::string& code, const std::string& path, const std::string& detail) {
    return ReasonLine{code, path, detail};
}

// One example of every state, as the app would build it.
std::vector<std::pair<std::string, Screen>> examples() {
    return {
        {"ready", Ready{"1.2", false}},
        {"ready-outdated", Ready{"9.4", true}},
        {"identifying", Identifying{true, "vendor-stick.img"}},
        {"refused", Refused{{reason("device-not-approved", "/", "0781:5567 serial 4C530001 is not on the whitelist"),
                             reason("badusb", "/", "interfaces 08:06:50 03:01:01: it is also a keyboard")}}},
        {"scanning", Scanning{12, 25, 1288490, 2621440, "/p1/書類/診療予定/2026/患者一覧_最新版_2026年11月分.xlsx", 12.0, 13.0}},
        {"scanning-start", Scanning{0, 1, 0, 4096, "/p1/handover.txt", 0.2, std::nullopt}},
        {"result-pass", Finished{true, {}, 5, 2560, "20261127-101349-ffd40097", TicketState::Printed, ""}},
        {"result-fail",
         Finished{false,
                {reason("infected", "/p1/書類/attachments.zip!attachments/2026/invoice.com", "Qkiosk.Test.EICAR.UNOFFICIAL"),
                 reason("type-mismatch", "/p1/写真/IMG_0001.jpg", "executable (PE32) named like an image"),
                 reason("blocked-file-type", "/p1/autorun.inf", "autorun.inf is blocked")},
                6, 3174, "20261127-034324-aa3c0044", TicketState::Saved, ""}},
        {"result-unsaved", Finished{true, {}, 5, 2560, "20261127-101349-ffd40097", TicketState::NotSaved, "there is no spool folder"}},
        {"error", NoVerdict{"/media/stick.img: cannot open: No such file or directory"}},
        {"unavailable-starting", Unavailable{true, ""}},
        {"unavailable", Unavailable{false, "cannot reach the kiosk service at /run/qkiosk/ui.sock: Connection refused"}},
    };
}

void checkFits(const std::vector<std::string>& lines, int cols, int rows) {
    REQUIRE(static_cast<int>(lines.size()) == rows);
    for (const auto& l : lines) {
        INFO(l);
        CHECK(displayWidth(l) <= cols);
        CHECK(l.find('\n') == std::string::npos);
    }
}

}  // namespace

TEST_CASE("Golden 80x24 screens: every state in Japanese and English", "[ui][golden]") {
    for (const auto& [name, screen] : examples())
        for (const Language& lang : {kJapanese, kEnglish}) uitest::checkGolden(name, stateOf(screen, lang));
}

TEST_CASE("The result screen says PASS or FAIL in words", "[ui]") {
    const auto text = [](bool pass, const Language& lang) {
        Finished r;
        r.pass = pass;
        r.ticketId = "t";
        if (!pass) r.reasons = {reason("infected", "/p1/a.com", "EICAR")};
        return joined(renderText(stateOf(r, lang), 80, 24, words()));
    };
    CHECK(text(true, kEnglish).find("PASS") != std::string::npos);
    CHECK(text(false, kEnglish).find("FAIL") != std::string::npos);
    CHECK(text(true, kJapanese).find("合格") != std::string::npos);
    CHECK(text(false, kJapanese).find("不合格") != std::string::npos);
    CHECK(text(false, kJapanese).find("マルウェアを検出") != std::string::npos);
    CHECK(text(false, kEnglish).find("malware found: /p1/a.com\n      EICAR\n") != std::string::npos);
}

TEST_CASE("Larger terminals show everything, nothing clipped", "[ui]") {
    for (const auto& [name, screen] : examples()) {
        for (const Language& lang : {kJapanese, kEnglish}) {
            INFO(name << "." << lang);
            const auto big = renderText(stateOf(screen, lang), 120, 40, words());
            checkFits(big, 120, 40);
            // Nothing is cut at this size: every path and detail is there whole.
            const std::string all = joined(big);
            if (const auto* r = std::get_if<Finished>(&screen))
                for (const auto& x : r->reasons) {
                    CHECK(all.find(x.path) != std::string::npos);
                    CHECK(all.find(x.detail) != std::string::npos);
                }
            if (const auto* s = std::get_if<Scanning>(&screen)) CHECK(all.find(s->currentPath) != std::string::npos);
        }
    }
}

TEST_CASE("At 80x24 a long path and a long list are shortened, never wrapped", "[ui]") {
    Finished r;
    r.pass = false;
    r.ticketId = "20261127-034324-aa3c0044";
    r.ticket = TicketState::Saved;
    std::string deep = "/p1";
    for (int i = 0; i < 20; ++i) deep += "/とても長いフォルダの名前" + std::to_string(i);
    deep += "/最後のファイル.exe";
    for (int i = 0; i < 40; ++i) r.reasons.push_back(reason("infected", deep + std::to_string(i), "Win.Trojan.Agent-" + std::to_string(i)));
    for (const Language& lang : {kJapanese, kEnglish}) {
        const auto lines = renderText(stateOf(r, lang), 80, 24, words());
        checkFits(lines, 80, 24);
        const std::string all = joined(lines);
        CHECK(all.find("…") != std::string::npos);
        // The end of the list says how many more there are, and the way out is still on screen.
        CHECK(all.find(lang == kEnglish ? "more (all of them are on the ticket)" : "件(すべてチケットに記載)") != std::string::npos);
        CHECK(all.find(lang == kEnglish ? "[Enter] Next" : "[Enter] 次へ") != std::string::npos);
        CHECK(all.find(lang == kEnglish ? "Ticket 20261127-034324-aa3c0044 saved." : "チケット 20261127-034324-aa3c0044 を保存しました。") !=
              std::string::npos);
    }
    Scanning s{1, 2, 3, 4, deep, 1.0, 2.0};
    const auto lines = renderText(stateOf(s, kJapanese), 80, 24, words());
    checkFits(lines, 80, 24);
    CHECK(joined(lines).find("最後のファイル.exe") != std::string::npos);
}

TEST_CASE("Tiny terminals still get exactly their size", "[ui]") {
    for (const auto& [name, screen] : examples())
        for (auto [cols, rows] : {std::pair{20, 5}, std::pair{1, 1}, std::pair{40, 10}}) checkFits(renderText(stateOf(screen, kJapanese), cols, rows, words()), cols, rows);
}

TEST_CASE("The progress bar follows the bytes", "[ui]") {
    const auto bar = [](std::uint64_t done, std::uint64_t total) {
        for (const auto& l : renderText(stateOf(Scanning{1, 2, done, total, "/p1/a", 5, 5}, kEnglish), 80, 24, words()))
            if (l.find('[') != std::string::npos && l.find('%') != std::string::npos) return l;
        return std::string();
    };
    CHECK(bar(0, 100).find("] 0%") != std::string::npos);
    CHECK(bar(48, 100).find("] 48%") != std::string::npos);
    CHECK(bar(100, 100).find("] 100%") != std::string::npos);
    CHECK(bar(100, 100).find("░") == std::string::npos);
}

TEST_CASE("Keys become intents; control keys do nothing", "[ui][keys]") {
    State scanning = stateOf(Scanning{}, kJapanese);
    State result = stateOf(Finished{}, kJapanese);
    const Key ctrlC{Key::Other, 0}, q{Key::Char, U'q'}, l{Key::Char, U'L'}, enter{Key::Enter, 0};
    SECTION("Ctrl-C, Ctrl-Z, Ctrl-\\ and unknown keys are nothing, everywhere") {
        for (const State* s : {&scanning, &result}) {
            CHECK(intentOf(ctrlC, *s) == Intent::None);
            CHECK(intentOf(Key{Key::Char, U'x'}, *s) == Intent::None);
        }
    }
    SECTION("the language key works on every screen, also while scanning") {
        CHECK(intentOf(l, scanning) == Intent::SwitchLanguage);
        CHECK(intentOf(Key{Key::F2, 0}, result) == Intent::SwitchLanguage);
        CHECK(reduce(scanning, Intent::SwitchLanguage).language == kEnglish);
        CHECK(reduce(reduce(scanning, Intent::SwitchLanguage), Intent::SwitchLanguage).language == kJapanese);
    }
    SECTION("quit only in the demo, and only when no scan is running") {
        CHECK(intentOf(q, result) == Intent::Quit);
        CHECK(intentOf(q, scanning) == Intent::None);
        State kiosk = result;
        kiosk.demo = false;
        CHECK(intentOf(q, kiosk) == Intent::None);
        CHECK(reduce(result, Intent::Quit).quit);
    }
    SECTION("Enter on the result goes back to insert media") {
        result.idle = Ready{"2.0", false};
        CHECK(intentOf(enter, scanning) == Intent::None);
        REQUIRE(intentOf(enter, result) == Intent::Dismiss);
        const auto after = reduce(result, Intent::Dismiss);
        REQUIRE(std::holds_alternative<Ready>(after.screen));
        CHECK(std::get<Ready>(after.screen).signatureAgeDays == "2.0");
    }
    SECTION("a resize redraws") { CHECK(intentOf(Key{Key::Resize, 0}, scanning) == Intent::Redraw); }
}

TEST_CASE("The start language follows the locale name", "[ui]") {
    const std::vector<Language> all{kJapanese, kEnglish};
    CHECK(languageOfLocale("en_US.UTF-8", all) == kEnglish);
    CHECK(languageOfLocale("ja_JP.UTF-8", all) == kJapanese);
    CHECK(languageOfLocale("C.UTF-8", all) == kJapanese);
    CHECK(languageOfLocale("de_DE.UTF-8", all) == kJapanese);
    CHECK(languageOfLocale("en", all) == kEnglish);
}

TEST_CASE("Message catalogues: the compiled .mo files and a damaged one", "[ui][catalog]") {
    SECTION("both languages are there, English names itself") {
        CHECK(words().tr(kJapanese, "PASS") == "合格");
        CHECK(words().tr(kJapanese, "FAIL") == "不合格");
        CHECK(words().tr(kEnglish, "PASS") == "PASS");
        CHECK(words().tr(kJapanese, "not in the catalogue") == "not in the catalogue");
        CHECK(words().nameOf(kJapanese) == "日本語");
        CHECK(words().nameOf(kEnglish) == "English");
    }
    SECTION("every reason code has plain words in Japanese") {
        for (const char* code : {"infected", "unscannable", "encrypted-volume", "unknown-filesystem", "read-error", "blocked-file-type",
                                 "type-mismatch", "device-not-approved", "device-expired", "badusb", "signatures-outdated",
                                 "corrupt-filesystem", "ambiguous-layout", "deceptive-name"}) {
            INFO(code);
            CHECK(plainWords(code, kJapanese, words()) != plainWords(code, kEnglish, words()));
        }
    }
    SECTION("a third language is a file") {
        const fs::path dir = fs::temp_directory_path() / ("qkiosk-ui-test-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        fs::copy(fs::path(QKIOSK_LOCALE_DIR), dir, fs::copy_options::recursive);
        fs::create_directories(dir / "fr" / "LC_MESSAGES");
        fs::copy_file(dir / "en" / "LC_MESSAGES" / "qkiosk.mo", dir / "fr" / "LC_MESSAGES" / "qkiosk.mo");
        auto three = Catalogs::load(dir.string());
        REQUIRE(three);
        CHECK(three->languages() == std::vector<Language>{kJapanese, kEnglish, "fr"});
        fs::remove_all(dir);
    }
    SECTION("damage is an error naming the file, never a crash") {
        const std::string good = slurp(fs::path(QKIOSK_LOCALE_DIR) / "ja" / "LC_MESSAGES" / "qkiosk.mo");
        REQUIRE(MessageCatalog::parse(good, "ja.mo"));
        CHECK(MessageCatalog::parse(good, "ja.mo")->size() > 40);
        CHECK_FALSE(MessageCatalog::parse("", "x.mo"));
        CHECK_FALSE(MessageCatalog::parse(std::string(20, '\0'), "x.mo"));
        for (std::size_t cut = 0; cut < good.size(); cut += 97) (void)MessageCatalog::parse(good.substr(0, cut), "cut.mo");
        std::string bent = good;
        bent[12] = '\x7f';   // the table of msgids far out of bounds
        auto r = MessageCatalog::parse(bent, "bent.mo");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("bent.mo") != std::string::npos);
    }
}

TEST_CASE("Translations keep their %s placeholders", "[ui][catalog]") {
    CHECK(format("Ticket %s saved.", {"x"}) == "Ticket x saved.");
    CHECK(format("%s of %s, 100%%", {"1", "2"}) == "1 of 2, 100%");
    CHECK(format("%s %s", {"only"}) == "only ");
}

TEST_CASE("The user guide shows the golden screens as they are", "[ui][golden]") {
    const std::string guide = slurp(fs::path(QKIOSK_DOCS_DIR) / "user-guide.md");
    REQUIRE_FALSE(guide.empty());
    for (const char* name : {"ready", "ready-outdated", "identifying", "scanning", "result-pass", "result-fail", "refused", "error"})
        for (const Language& lang : {kJapanese, kEnglish}) {
            std::string screen = slurp(fs::path(QKIOSK_GOLDEN_DIR) / (std::string(name) + "." + lang + ".txt"));
            while (!screen.empty() && screen.back() == '\n') screen.pop_back();
            INFO(name << "." << lang << " is not in docs/user-guide.md as it is now (regenerate the guide's captures)");
            CHECK(guide.find("```\n" + screen + "\n```") != std::string::npos);
        }
}
