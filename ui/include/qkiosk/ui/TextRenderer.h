// Every screen of the kiosk terminal as lines of text: the one layout that
// both the curses terminal and the golden-screen tests draw. Exactly `rows`
// lines, none wider than `cols` columns (display width: 日本語 counts two
// each); long paths are shortened in the middle and long lists cut with
// "and N more", never wrapped past the edge.
#pragma once

#include <string>
#include <vector>

#include "qkiosk/ui/Catalog.h"
#include "qkiosk/ui/Screen.h"

namespace kiosk::ui {

// How a line is drawn where the terminal has colours.
enum class Tone { Normal, Header, Progress, Pass, Fail, Warn };

struct StyledLine {
    std::string text;
    Tone tone = Tone::Normal;
};

// The smallest terminal the layout is made for.
inline constexpr int kMinCols = 80, kMinRows = 24;

std::vector<StyledLine> renderStyled(const State& state, int cols, int rows, const Catalogs& words);
std::vector<std::string> renderText(const State& state, int cols, int rows, const Catalogs& words);

// The reason code in plain words ("infected" → "malware found"), translated.
std::string plainWords(const std::string& code, const Language& lang, const Catalogs& words);

// The big block-letter word ("PASS" / "FAIL"), 5 lines.
std::vector<std::string> bannerLines(const std::string& word);

}  // namespace kiosk::ui
