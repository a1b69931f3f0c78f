// Display width of UTF-8 text in terminal columns, without asking the C
// library: the kiosk must lay out Japanese correctly even where only the
// C.UTF-8 locale is installed. East Asian Wide and Fullwidth characters take
// two columns, combining marks and zero-width characters none, everything
// else (ambiguous ones such as █ ─ … included, as glibc's wcwidth has them) one.
#pragma once

#include <string>
#include <string_view>

namespace kiosk::ui {

int charWidth(char32_t c);
int displayWidth(std::string_view utf8);

// The longest prefix that fits `cols` columns, with "…" at the end if it was cut.
std::string fitWidth(std::string_view utf8, int cols);
// Cut in the middle: "/p1/very/long/…/name.exe", keeping the file name's end.
std::string shortenMiddle(std::string_view utf8, int cols);
// Pads with spaces to exactly `cols` columns (cutting first if needed).
std::string padTo(std::string_view utf8, int cols);

}  // namespace kiosk::ui

#include <vector>

namespace kiosk::ui {

// Splits a paragraph into lines of at most `cols` columns: at spaces where
// there are any, anywhere between Japanese characters, and inside a word
// only when the word alone is longer than a line.
std::vector<std::string> wrap(std::string_view utf8, int cols);

}  // namespace kiosk::ui
