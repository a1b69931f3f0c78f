#include "qkiosk/ui/TextRenderer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <string_view>

#include "Layout.h"
#include "qkiosk/ui/TextWidth.h"

namespace kiosk::ui {
namespace {

using namespace layout;

// A 5×5 font for the letters of PASS and FAIL; each dot is drawn two columns
// wide so that the word reads from across the room.
const std::map<char, std::vector<std::string>>& font() {
    static const std::map<char, std::vector<std::string>> f = {
        {'P', {"####.", "#...#", "####.", "#....", "#...."}},
        {'A', {".###.", "#...#", "#####", "#...#", "#...#"}},
        {'S', {".####", "#....", ".###.", "....#", "####."}},
        {'F', {"#####", "#....", "####.", "#....", "#...."}},
        {'I', {"###", ".#.", ".#.", ".#.", "###"}},
        {'L', {"#....", "#....", "#....", "#....", "#####"}},
    };
    return f;
}

void readyBody(Body& b, const Ready& r) {
    b.blank();
    b.para(b.t("Insert the USB stick or media"), Tone::Warn);
    b.blank();
    b.para(b.t("The check starts by itself. Do not open the media on any other computer before it has passed."));
    b.blank();
    if (r.signatureAgeDays == "unknown" || r.signatureAgeDays.empty()) b.line(b.t("Signatures: age unknown"));
    else b.line(b.t("Signatures: %s days old", {r.signatureAgeDays}));
    if (r.signaturesOutdated) {
        b.blank();
        b.para(b.t("The signatures are out of date: no media can pass. Call the security officer."), Tone::Fail);
    }
}

void identifyingBody(Body& b, const Identifying& i) {
    b.blank();
    b.para(b.t("Checking the media…"), Tone::Warn);
    b.blank();
    if (i.diskImage) b.line(b.t("Disk image, no USB device: %s", {shortenMiddle(i.source, b.width() / 2)}));
    else b.line(b.t("Device: %s", {shortenMiddle(i.source, b.width() / 2)}));
    b.blank();
    b.para(b.t("Getting ready to scan. Do not remove the media."));
}

void refusedBody(Body& b, const Refused& r) {
    b.blank();
    b.para(b.t("This device is not accepted"), Tone::Fail);
    b.blank();
    b.line(b.t("Why:"));
    const auto todo = wrap(b.t("What to do: remove the device. Nothing on it was read. If it is needed, ask the security officer to register it."),
                           b.width());
    b.reasons(r.reasons, std::max(1, b.left() - 1 - static_cast<int>(todo.size())));
    b.blank();
    for (const auto& l : todo) b.line(l, Tone::Warn);
}

void scanningBody(Body& b, const Scanning& s) {
    b.blank();
    b.para(b.t("Scanning — do not remove the media"), Tone::Warn);
    b.blank();
    const double fraction = s.bytesFound ? std::min(1.0, static_cast<double>(s.bytesDone) / static_cast<double>(s.bytesFound))
                                         : (s.filesFound ? static_cast<double>(s.filesDone) / static_cast<double>(s.filesFound) : 0.0);
    const int percent = static_cast<int>(std::floor(fraction * 100.0));
    const int barWidth = std::min(60, b.width() - 7);
    const int filled = static_cast<int>(std::floor(fraction * barWidth));
    std::string bar = "[";
    bar += repeat("█", filled);
    bar += repeat("░", barWidth - filled);
    bar += "] ";
    bar += std::to_string(percent);
    bar += '%';
    b.line(bar, Tone::Progress);
    b.blank();
    b.line(b.t("Files: %s scanned of %s found so far", {std::to_string(s.filesDone), std::to_string(s.filesFound)}));
    b.line(b.t("Data: %s of %s", {humanBytes(s.bytesDone), humanBytes(s.bytesFound)}));
    const std::string now = b.t("Now: %s", {""});
    b.line(now + shortenMiddle(s.currentPath, b.width() - displayWidth(now)));
    b.blank();
    if (s.secondsLeft) b.line(b.t("Elapsed %s   Time left about %s", {clockText(s.elapsedSeconds), clockText(*s.secondsLeft)}));
    else b.line(b.t("Elapsed %s   Time left: estimating…", {clockText(s.elapsedSeconds)}));
}

void resultBody(Body& b, const Finished& r) {
    const std::string word = r.pass ? "PASS" : "FAIL";
    const Tone tone = r.pass ? Tone::Pass : Tone::Fail;
    const auto banner = bannerLines(word);
    // The translated word beside the banner (合格 / 不合格; PASS / FAIL in English).
    const std::string said = b.t(word);
    const int bannerWidth = displayWidth(banner[0]);
    if (bannerWidth + 4 + displayWidth(said) <= b.width()) {
        for (std::size_t i = 0; i < banner.size(); ++i) {
            std::string l = banner[i];
            if (i == 2) l = concat({l, "    ", said});
            b.line(l, tone);
        }
    } else {
        b.line(said, tone);
    }
    b.blank();
    std::vector<std::string> tail;
    if (r.pass) {
        tail = wrap(b.t("Remove the media and take the ticket."), b.width());
    } else {
        tail = wrap(b.t("Remove the media. Do not use it: hand it and the ticket to the security officer."), b.width());
    }
    std::string ticket;
    switch (r.ticket) {
        case TicketState::Printed: ticket = b.t("Ticket %s printed.", {r.ticketId}); break;
        case TicketState::Saved: ticket = b.t("Ticket %s saved.", {r.ticketId}); break;
        case TicketState::NotSaved: ticket = b.t("Ticket %s not saved: %s", {r.ticketId, r.ticketNote}); break;
    }
    const std::string files = b.t("Files: %s scanned (%s)", {std::to_string(r.files), humanBytes(r.bytes)});
    if (r.pass) {
        b.line(b.t("No problems were found."), tone);
    } else {
        b.line(b.t("Do not use this media. Problems found:"), tone);
        // Everything below the reasons needs: files, ticket, a blank, the advice.
        const int after = 3 + static_cast<int>(tail.size());
        b.reasons(r.reasons, std::max(1, b.left() - after));
    }
    b.line(files);
    b.line(ticket);
    b.blank();
    for (const auto& l : tail) b.line(l, Tone::Warn);
}

void unavailableBody(Body& b, const Unavailable& u) {
    b.blank();
    if (u.starting) {
        b.para(b.t("The kiosk is starting. Please wait."), Tone::Warn);
        b.blank();
        b.para(b.t("Do not insert media yet."));
        return;
    }
    b.para(b.t("The kiosk is not available"), Tone::Fail);
    b.blank();
    if (!u.detail.empty()) {
        b.line(fitWidth(u.detail, b.width()));
        b.blank();
    }
    b.para(b.t("Do not insert media now. Call the security officer if this does not change."), Tone::Warn);
}

void errorBody(Body& b, const NoVerdict& e) {
    b.blank();
    b.para(b.t("The media could not be checked"), Tone::Fail);
    b.blank();
    b.line(e.message);
    b.blank();
    b.para(b.t("It has not passed. Remove the media and call the security officer."), Tone::Warn);
}

std::string footer(const State& st, const Catalogs& words) {
    const Language& lang = st.language;
    std::vector<std::string> keys;
    const bool finished = std::holds_alternative<Finished>(st.screen) || std::holds_alternative<Refused>(st.screen) ||
                          std::holds_alternative<NoVerdict>(st.screen);
    if (finished) keys.push_back(words.tr(lang, "[Enter] Next"));
    // The next language, named in itself.
    keys.push_back(concat({"[L] ", words.nameOf(nextLanguage(st))}));
    if (st.demo && (finished || std::holds_alternative<Ready>(st.screen))) keys.push_back(words.tr(lang, "[Q] Quit (demo)"));
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : "   ") + k;
    return out;
}

}  // namespace

std::vector<std::string> bannerLines(const std::string& word) {
    std::vector<std::string> rows(5);
    bool first = true;
    for (const char ch : word) {
        const auto it = font().find(ch);
        if (it == font().end()) continue;
        for (std::size_t r = 0; r < 5; ++r) {
            if (!first) rows[r] += "  ";
            for (const char dot : it->second[r]) rows[r] += dot == '#' ? "██" : "  ";
        }
        first = false;
    }
    for (auto& r : rows)
        while (!r.empty() && r.back() == ' ') r.pop_back();
    // Every row as wide as the widest, so a colour band is even.
    int w = 0;
    for (const auto& r : rows) w = std::max(w, displayWidth(r));
    for (auto& r : rows) r = padTo(r, w);
    return rows;
}

std::string plainWords(const std::string& code, const Language& lang, const Catalogs& words) {
    static const std::map<std::string, std::string> english = {
        {"infected", "malware found"},
        {"unscannable", "could not be fully scanned"},
        {"encrypted-volume", "encrypted volume"},
        {"unknown-filesystem", "unknown filesystem"},
        {"read-error", "read error"},
        {"blocked-file-type", "blocked file type"},
        {"type-mismatch", "content does not match its name"},
        {"device-not-approved", "device not approved"},
        {"device-expired", "approval expired"},
        {"badusb", "not only a storage device (BadUSB)"},
        {"signatures-outdated", "signatures out of date"},
        {"corrupt-filesystem", "corrupt filesystem"},
        {"ambiguous-layout", "media that can be read in more than one way"},
        {"deceptive-name", "deceptive file name"},
    };
    const auto it = english.find(code);
    return it == english.end() ? code : words.tr(lang, it->second);
}

std::vector<StyledLine> renderStyled(const State& st, int cols, int rows, const Catalogs& words) {
    std::vector<StyledLine> out;
    if (rows <= 0 || cols <= 0) return out;
    const std::string rule = repeat("─", cols);
    std::string title = concat({" ", words.tr(st.language, "qkiosk — USB quarantine kiosk")});
    if (st.officer) title = concat({title, " — ", words.tr(st.language, "security officer")});
    out.push_back({fitWidth(title, cols), Tone::Header});
    out.push_back({rule, Tone::Normal});
    const int width = std::max(1, cols - 2 * kMargin);
    const int room = std::max(0, rows - 4);
    Body b(st, words, width, room);
    // The officer's page hides the staff screen (which the feed keeps current underneath).
    if (st.officer) officerBody(b, st, *st.officer, words);
    else std::visit(
        [&](const auto& s) {
            using T = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<T, Ready>) readyBody(b, s);
            else if constexpr (std::is_same_v<T, Identifying>) identifyingBody(b, s);
            else if constexpr (std::is_same_v<T, Refused>) refusedBody(b, s);
            else if constexpr (std::is_same_v<T, Scanning>) scanningBody(b, s);
            else if constexpr (std::is_same_v<T, Finished>) resultBody(b, s);
            else if constexpr (std::is_same_v<T, Unavailable>) unavailableBody(b, s);
            else errorBody(b, s);
        },
        st.screen);
    // Too small a terminal still gets the first lines rather than a wrapped mess.
    auto& body = b.lines;
    if (static_cast<int>(body.size()) > room) body.resize(static_cast<std::size_t>(room));
    const std::string margin(kMargin, ' ');
    for (auto& l : body) out.push_back({l.text.empty() ? std::string() : fitWidth(concat({margin, l.text}), cols), l.tone});
    while (static_cast<int>(out.size()) < rows - 2) out.push_back({});
    out.push_back({rule, Tone::Normal});
    out.push_back({fitWidth(concat({" ", st.officer ? officerFooter(st, *st.officer, words) : footer(st, words)}), cols), Tone::Header});
    out.resize(static_cast<std::size_t>(rows));
    return out;
}

std::vector<std::string> renderText(const State& st, int cols, int rows, const Catalogs& words) {
    std::vector<std::string> out;
    for (auto& l : renderStyled(st, cols, rows, words)) {
        // The banner's padding is there for its colour band only.
        while (!l.text.empty() && l.text.back() == ' ') l.text.pop_back();
        out.push_back(std::move(l.text));
    }
    return out;
}

}  // namespace kiosk::ui
