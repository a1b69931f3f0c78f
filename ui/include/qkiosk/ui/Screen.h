// The kiosk terminal's model: what one screen shows, as a value, and what a
// key means on it. No curses here (the renderers in TextRenderer.h and
// CursesTerminal.h draw it); the app turns what the services report into
// these values and never lets a screen call a service.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "qkiosk/ui/Officer.h"

namespace kiosk::ui {

// A language is its catalogue's code ("ja", "en", …): the screens can show
// every language there is a catalogue for, without code for each.
using Language = std::string;
inline const Language kJapanese = "ja";
inline const Language kEnglish = "en";

// The language a locale name asks for ("en_US.UTF-8" → "en") if it is one of
// `available`; Japanese, the kiosk's default, otherwise.
Language languageOfLocale(const std::string& localeName, const std::vector<Language>& available);

// One finding in plain words: a reason code (docs/design.md), where, and the detail.
struct ReasonLine {
    std::string code;      // "infected", "badusb", …
    std::string path;      // "/p1/a.zip!b.exe"; "/" or "" for the whole device
    std::string detail;    // signature name or explanation (not translated)
};

// Waiting for media.
struct Ready {
    std::string signatureAgeDays;   // "1.2", or "unknown"
    bool signaturesOutdated = false;
};

// Media inserted; the device is being looked at and the signatures load.
struct Identifying {
    bool diskImage = false;         // `qkiosk ui --image`: no USB device at all
    std::string source;             // the image file name, or "VID:PID product"
};

// The device was not admitted (whitelist, BadUSB): nothing was read.
struct Refused {
    std::vector<ReasonLine> reasons;
};

struct Scanning {
    std::uint64_t filesDone = 0, filesFound = 0;
    std::uint64_t bytesDone = 0, bytesFound = 0;
    std::string currentPath;
    double elapsedSeconds = 0;
    std::optional<double> secondsLeft;   // unknown until there is a rate to go by
};

enum class TicketState {
    Printed,     // on paper
    Saved,       // signed, in the spool (no printer)
    NotSaved,    // the id only: no spool or no kiosk key (ticketNote says why)
};

// The scan is over: PASS or FAIL, and the ticket.
struct Finished {
    bool pass = false;
    std::vector<ReasonLine> reasons;
    std::uint64_t files = 0, bytes = 0;
    std::string ticketId;
    TicketState ticket = TicketState::NotSaved;
    std::string ticketNote;          // why not saved, in English (shown as a detail)
};

// No verdict could be reached (unreadable image, signatures do not load).
struct NoVerdict {
    std::string message;             // one line from the system, in English
};

// The kiosk terminal has no kiosk behind it: the daemon is starting (loading
// its signatures) or cannot be reached. Media must not be inserted now.
struct Unavailable {
    bool starting = false;
    std::string detail;              // why, from the system, in English ("" while starting)
};

using Screen = std::variant<Ready, Identifying, Refused, Scanning, Finished, NoVerdict, Unavailable>;

// The state of the whole terminal: the screen and the language it is shown in.
struct State {
    Screen screen = Ready{};
    Ready idle;                      // what Dismiss goes back to
    Language language = kJapanese;
    std::vector<Language> languages{kJapanese, kEnglish};   // what the language key cycles through
    bool demo = false;               // `--image`: the quit key works
    bool quit = false;
    // The security officer's screens (F12 on Ready), drawn instead of
    // `screen` while present; `screen` keeps following the daemon meanwhile.
    std::optional<Officer> officer;
    std::uint64_t officerSessions = 0;   // how many times the officer's screens were opened
    // Requests for the daemon (docs/officer-protocol.md), oldest first: the
    // controller takes them out, sends them and calls applyReply() with each reply.
    std::vector<messages::OfficerRequest> outbox;
};

// A key, already told apart from the terminal's codes by the renderer.
struct Key {
    enum Kind { Char, F2, Enter, Resize, Other, Esc, Backspace, Tab, Up, Down, PageUp, PageDown, F12 } kind = Other;
    char32_t ch = 0;                 // for Char
};

// What a key means on the screen shown. The officer's screens get the keys
// nearly as they are (a character to type, a move, Enter, Esc) and give them
// their meaning in reduce(), by page and field.
struct Intent {
    enum Kind {
        None,            // unknown keys, Ctrl-C, Ctrl-Z, Ctrl-\ … do nothing
        SwitchLanguage,  // F2 everywhere; L or l except in an officer's text field: the next language
        Dismiss,         // Enter on the result, refused and error screens: back to Ready
        Quit,            // Q or q, only with --image, on the result, error and ready screens
        Redraw,          // the terminal was resized
        OpenOfficer,     // F12 on Ready, not in the demo: the officer's login
        // Officer screens only:
        Type,            // a printable character (`ch`): into a field, or a page's letter key
        Erase,           // Backspace
        NextField,       // Tab
        Up, Down, PageUp, PageDown,
        Submit,          // Enter
        Back,            // Esc
    } kind = None;
    char32_t ch = 0;     // for Type

    Intent(Kind k = None, char32_t c = 0) : kind(k), ch(c) {}
    friend bool operator==(const Intent& a, const Intent& b) { return a.kind == b.kind && a.ch == b.ch; }
    friend bool operator==(const Intent& a, Kind k) { return a.kind == k; }
};

Intent intentOf(const Key& key, const State& state);

// The language the language key switches to (after the last, the first).
Language nextLanguage(const State& state);

// The state after an intent (Redraw and None change nothing). Pure: an
// officer screen that needs the daemon queues its request in `outbox`.
State reduce(State state, Intent intent);

// The officer's part of reduce(), for the intents on an officer screen.
void reduceOfficer(State& state, const Intent& intent);
// Whether an officer's text field has the keys (letters type instead of
// switching the language).
bool officerTyping(const Officer& officer);

// A rough time left from the bytes done so far; nullopt until a second has passed.
std::optional<double> estimateSecondsLeft(std::uint64_t bytesDone, std::uint64_t bytesTotal, double elapsedSeconds);

}  // namespace kiosk::ui
