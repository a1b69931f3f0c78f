// The pieces every screen's layout is built of (TextRenderer.cpp draws the
// staff screens, OfficerView.cpp the officer's): private to ui/src.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "qkiosk/base/Text.h"
#include "qkiosk/ui/Catalog.h"
#include "qkiosk/ui/TextRenderer.h"
#include "qkiosk/ui/TextWidth.h"

namespace kiosk::ui::layout {

constexpr int kMargin = 2;

using kiosk::humanBytes;   // "3.1 KiB"

inline std::string clockText(double seconds) {
    const long s = std::lround(std::max(0.0, seconds));
    char buf[32];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

// Appends rather than `"literal" + std::string`, which g++ 12 misreads (-Wrestrict).
inline std::string concat(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (const auto p : parts) out += p;
    return out;
}

inline std::string repeat(std::string_view piece, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += piece;
    return out;
}

// The body of one screen, built for `width` columns and at most `room` lines.
class Body {
public:
    Body(const State& st, const Catalogs& w, int width, int room) : st_(st), words_(w), width_(width), room_(room) {}

    std::string t(const std::string& msgid) const { return words_.tr(st_.language, msgid); }
    std::string t(const std::string& msgid, const std::vector<std::string>& args) const {
        return format(t(msgid), args);
    }

    void line(std::string text, Tone tone = Tone::Normal) { lines.push_back({fitWidth(text, width_), tone}); }
    void para(const std::string& text, Tone tone = Tone::Normal) {
        for (auto& l : wrap(text, width_)) lines.push_back({std::move(l), tone});
    }
    void blank() { lines.push_back({}); }
    int left() const { return room_ - static_cast<int>(lines.size()); }
    int width() const { return width_; }

    // The findings, as many as fit in `maxLines` (one line each; the path
    // shortened in the middle), then "and N more".
    void reasons(const std::vector<ReasonLine>& rs, int maxLines) {
        const int shown = static_cast<int>(rs.size()) <= maxLines ? static_cast<int>(rs.size()) : std::max(0, maxLines - 1);
        // With room to spare, each finding takes two lines: the words and
        // the path, then the detail indented below, both whole if they fit.
        if (2 * rs.size() <= static_cast<std::size_t>(std::max(0, maxLines))) {
            for (const auto& r : rs) {
                const std::string head = concat({"・", plainWords(r.code, st_.language, words_)});
                if (r.path.empty() || r.path == "/") {
                    line(head);
                } else {
                    const std::string start = concat({head, ": "});
                    line(concat({start, shortenMiddle(r.path, width_ - displayWidth(start))}));
                }
                if (!r.detail.empty()) line(concat({"    ", r.detail}));
            }
            return;
        }
        for (int i = 0; i < shown; ++i) {
            const auto& r = rs[static_cast<std::size_t>(i)];
            const std::string head = concat({"・", plainWords(r.code, st_.language, words_)});
            const std::string detail = r.detail.empty() ? std::string() : concat({" (", r.detail, ")"});
            if (r.path.empty() || r.path == "/") {
                line(head + detail);
                continue;
            }
            // The path first (the staff need the file name; shortened in the
            // middle if it must be), the detail gets what is left.
            const std::string start = concat({head, ": "});
            const int free = width_ - displayWidth(start);
            const int pathRoom = std::max(std::min(displayWidth(r.path), free - std::min(displayWidth(detail), 16)), free / 2);
            const std::string d = fitWidth(detail, std::max(0, free - std::min(pathRoom, displayWidth(r.path))));
            line(start + shortenMiddle(r.path, pathRoom) + d, Tone::Normal);
        }
        if (shown < static_cast<int>(rs.size()))
            line(t("… and %s more (all of them are on the ticket)", {std::to_string(rs.size() - static_cast<std::size_t>(shown))}));
    }

    std::vector<StyledLine> lines;

private:
    const State& st_;
    const Catalogs& words_;
    int width_, room_;
};

// The body of an officer page and its footer's keys.
void officerBody(Body& b, const State& st, const Officer& o, const Catalogs& words);
std::string officerFooter(const State& st, const Officer& o, const Catalogs& words);

}  // namespace kiosk::ui::layout
