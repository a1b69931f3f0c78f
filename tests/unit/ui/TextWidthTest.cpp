// Display widths, shortening and wrapping of the kiosk terminal's text, with
// no help from the C library's locale (the kiosk may only have C.UTF-8).
#include <catch2/catch.hpp>

#include <clocale>
#include <cstdlib>
#include <cwchar>
#include <string>

#include "qkiosk/ui/TextWidth.h"

using namespace kiosk::ui;

TEST_CASE("Display width counts Japanese as two columns", "[ui][width]") {
    CHECK(displayWidth("PASS") == 4);
    CHECK(displayWidth("合格") == 4);
    CHECK(displayWidth("不合格") == 6);
    CHECK(displayWidth("ｶﾀｶﾅ") == 4);            // half-width katakana: one column each
    CHECK(displayWidth("ＡＢ") == 4);              // full-width Latin: two
    CHECK(displayWidth("媒体を抜いてください。") == 22);
    CHECK(displayWidth("が") == 2);
    CHECK(displayWidth("か\xE3\x82\x99") == 2);   // か + combining dakuten: still two
    CHECK(displayWidth("█░─…") == 4);             // ambiguous width: one, as glibc's wcwidth
    CHECK(displayWidth("\xff") == 1);              // an invalid byte is one replacement character
}

TEST_CASE("Display width agrees with glibc's wcwidth where a UTF-8 locale exists", "[ui][width]") {
    const char* old = std::setlocale(LC_CTYPE, nullptr);
    const std::string saved = old ? old : "C";
    if (!std::setlocale(LC_CTYPE, "C.UTF-8")) {
        WARN("no C.UTF-8 locale: nothing to compare with");
        return;
    }
    for (const char* s : {"検疫キオスク", "USBメモリ", "ウイルス定義: 1.2 日前のもの", "/p1/書類/診療予定.txt", "＃全角", "한국어"}) {
        std::wstring w(64, L'\0');
        const std::size_t n = std::mbstowcs(w.data(), s, w.size());
        REQUIRE(n != static_cast<std::size_t>(-1));
        w.resize(n);
        INFO(s);
        CHECK(::wcswidth(w.c_str(), w.size()) == displayWidth(s));
    }
    std::setlocale(LC_CTYPE, saved.c_str());
}

TEST_CASE("Text is cut to a width, never past it", "[ui][width]") {
    SECTION("what fits is unchanged") { CHECK(fitWidth("合格", 4) == "合格"); }
    SECTION("a cut ends with an ellipsis") {
        CHECK(fitWidth("abcdef", 4) == "abc…");
        CHECK(fitWidth("合格です", 5) == "合格…");
        CHECK(displayWidth(fitWidth("合格です", 6)) <= 6);
    }
    SECTION("padding fills to the exact width") {
        CHECK(padTo("合", 5) == "合   ");
        CHECK(displayWidth(padTo("合格です合格です", 7)) == 7);
    }
}

TEST_CASE("Long paths are shortened in the middle, keeping the file name", "[ui][width]") {
    const std::string path = "/p1/書類/診療予定/2026/11月/患者一覧_最新版_確定.xlsx";
    for (int cols : {10, 20, 30, 41}) {
        const auto s = shortenMiddle(path, cols);
        INFO(cols << ": " << s);
        CHECK(displayWidth(s) <= cols);
        CHECK(s.find("…") != std::string::npos);
        CHECK(s.rfind("xlsx") == s.size() - 4);
        CHECK(s.rfind("/p1", 0) == 0);
    }
    CHECK(shortenMiddle("/p1/a.txt", 20) == "/p1/a.txt");
}

TEST_CASE("Paragraphs wrap at spaces and between Japanese characters", "[ui][width]") {
    SECTION("English at spaces") {
        const auto lines = wrap("Remove the media. Do not use it: hand it to the officer.", 20);
        for (const auto& l : lines) {
            CHECK(displayWidth(l) <= 20);
            CHECK(l.front() != ' ');
        }
        CHECK(lines.front() == "Remove the media. Do");
    }
    SECTION("Japanese after punctuation when it is far enough along") {
        const auto lines = wrap("媒体を抜いてください。使わずに、チケットと一緒に担当者に渡してください。", 40);
        REQUIRE(lines.size() == 2);
        CHECK(lines[0] == "媒体を抜いてください。使わずに、");
        for (const auto& l : lines) CHECK(displayWidth(l) <= 40);
    }
    SECTION("closing punctuation never starts a line") {
        for (int cols = 6; cols < 30; ++cols)
            for (const auto& l : wrap("ファイルを検査しました。問題は、見つかりませんでした。", cols)) {
                INFO(cols << ": " << l);
                CHECK(l.rfind("。", 0) != 0);
                CHECK(l.rfind("、", 0) != 0);
            }
    }
    SECTION("a word longer than the line is broken inside") {
        const auto lines = wrap("aaaaaaaaaaaaaaaaaaaaaaaaa", 10);
        CHECK(lines.size() == 3);
    }
}
