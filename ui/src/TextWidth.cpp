#include "qkiosk/ui/TextWidth.h"

#include <vector>

namespace kiosk::ui {
namespace {

struct Range {
    char32_t first, last;
};

// East Asian Width W and F (Unicode 15), the blocks a Japanese kiosk meets.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},   {0x23F0, 0x23F0},
    {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},   {0x267F, 0x267F},
    {0x2693, 0x2693},   {0x26A1, 0x26A1},   {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
    {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},   {0x2728, 0x2728},
    {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},
    {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF},
    {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251},
    {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

// Combining marks and zero-width characters.
constexpr Range kZero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x3099, 0x309A},
    {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

template <std::size_t N>
bool inRanges(char32_t c, const Range (&ranges)[N]) {
    for (const auto& r : ranges)
        if (c >= r.first && c <= r.last) return true;
    return false;
}

// One character of UTF-8 from `s` at `i`; an invalid byte is U+FFFD and one byte long.
char32_t next(std::string_view s, std::size_t& i) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
        ++i;
        return 0xFFFD;
    }
    char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < len; ++k) {
        const auto cb = static_cast<unsigned char>(s[i + k]);
        if ((cb >> 6) != 2) {
            ++i;
            return 0xFFFD;
        }
        c = (c << 6) | (cb & 0x3F);
    }
    i += len;
    return c;
}

struct Piece {
    std::size_t begin, end;
    int width;
};

std::vector<Piece> pieces(std::string_view s) {
    std::vector<Piece> out;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t b = i;
        const char32_t c = next(s, i);
        out.push_back({b, i, charWidth(c)});
    }
    return out;
}

constexpr std::string_view kEllipsis = "…";

}  // namespace

int charWidth(char32_t c) {
    if (c == 0) return 0;
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 1;   // shown as a placeholder, never sent raw
    if (inRanges(c, kZero)) return 0;
    if (inRanges(c, kWide)) return 2;
    return 1;
}

int displayWidth(std::string_view s) {
    int w = 0;
    for (std::size_t i = 0; i < s.size();) w += charWidth(next(s, i));
    return w;
}

std::string fitWidth(std::string_view s, int cols) {
    if (cols <= 0) return {};
    if (displayWidth(s) <= cols) return std::string(s);
    int w = 0;
    std::size_t end = 0;
    for (const auto& p : pieces(s)) {
        if (w + p.width > cols - 1) break;
        w += p.width;
        end = p.end;
    }
    return std::string(s.substr(0, end)) + std::string(kEllipsis);
}

std::string shortenMiddle(std::string_view s, int cols) {
    if (cols <= 0) return {};
    if (displayWidth(s) <= cols) return std::string(s);
    if (cols < 3) return fitWidth(s, cols);
    const auto ps = pieces(s);
    // The end (the file name) matters most: it gets the larger half.
    const int tailBudget = (cols - 1) - (cols - 1) / 3;
    int headBudget = (cols - 1) - tailBudget;
    std::size_t tailBegin = s.size();
    int tw = 0;
    for (auto it = ps.rbegin(); it != ps.rend(); ++it) {
        if (tw + it->width > tailBudget) break;
        tw += it->width;
        tailBegin = it->begin;
    }
    headBudget += tailBudget - tw;
    std::size_t headEnd = 0;
    int hw = 0;
    for (const auto& p : ps) {
        if (hw + p.width > headBudget || p.end > tailBegin) break;
        hw += p.width;
        headEnd = p.end;
    }
    std::string out(s.substr(0, headEnd));
    out += kEllipsis;
    out += s.substr(tailBegin);
    return out;
}

std::string padTo(std::string_view s, int cols) {
    std::string out = fitWidth(s, cols);
    const int w = displayWidth(out);
    if (w < cols) out.append(static_cast<std::size_t>(cols - w), ' ');
    return out;
}

}  // namespace kiosk::ui

namespace kiosk::ui {

namespace {

// Characters that must not start a line (禁則): closing punctuation.
bool isClosing(std::string_view piece) {
    for (const std::string_view c : {"、", "。", "」", "』", "）", "ー", "…"})
        if (piece == c) return true;
    return false;
}

}  // namespace

std::vector<std::string> wrap(std::string_view s, int cols) {
    std::vector<std::string> lines;
    if (cols <= 0) return lines;
    const auto ps = pieces(s);
    auto text = [&](std::size_t k) { return s.substr(ps[k].begin, ps[k].end - ps[k].begin); };
    // Whether a line may end just before piece k.
    auto breakBefore = [&](std::size_t k) {
        if (text(k) == " " || text(k - 1) == " ") return true;
        return (ps[k].width == 2 || ps[k - 1].width == 2) && !isClosing(text(k));
    };
    std::size_t lineBegin = 0;   // index into ps
    while (lineBegin < ps.size()) {
        // Leading spaces of a continuation line are dropped.
        while (lineBegin < ps.size() && lineBegin > 0 && text(lineBegin) == " ") ++lineBegin;
        if (lineBegin >= ps.size()) break;
        int w = ps[lineBegin].width;
        std::size_t end = lineBegin + 1;   // one past the last piece that fits (at least one, however narrow)
        std::size_t lastBreak = 0;         // a good place to end the line, 0 = none
        std::size_t lastPunct = 0;         // just after 、。,: — the best place
        int punctWidth = 0;
        auto notePunct = [&](std::size_t k, int width) {
            const auto t = text(k);
            if (t == "、" || t == "。" || t == "," || t == ":") {
                lastPunct = k + 1;
                punctWidth = width;
            }
        };
        notePunct(lineBegin, w);
        while (end < ps.size() && w + ps[end].width <= cols) {
            if (breakBefore(end)) lastBreak = end;
            w += ps[end].width;
            notePunct(end, w);
            ++end;
        }
        std::size_t cut = end;
        if (end < ps.size()) {
            if (lastPunct > lineBegin && lastPunct < ps.size() && punctWidth * 3 >= cols && !isClosing(text(lastPunct)))
                cut = lastPunct;
            else if (!breakBefore(end) && lastBreak > lineBegin)
                cut = lastBreak;
        }
        std::string line(s.substr(ps[lineBegin].begin, ps[cut - 1].end - ps[lineBegin].begin));
        while (!line.empty() && line.back() == ' ') line.pop_back();
        lines.push_back(std::move(line));
        lineBegin = cut;
    }
    if (lines.empty()) lines.emplace_back();
    return lines;
}

}  // namespace kiosk::ui
