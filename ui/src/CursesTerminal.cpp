#include "qkiosk/ui/CursesTerminal.h"

#include <langinfo.h>
#include <signal.h>

#include <clocale>
#include <cstring>
#include <string>

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <ncursesw/curses.h>

#include "qkiosk/ui/TextRenderer.h"

namespace kiosk::ui {
namespace {

bool isUtf8() {
    const char* cs = ::nl_langinfo(CODESET);
    return cs && (std::strcmp(cs, "UTF-8") == 0 || std::strcmp(cs, "utf8") == 0);
}

void doNothing(int) {}

volatile sig_atomic_t gTerminate = 0;
void noteTermination(int) { gTerminate = 1; }

enum Pair : short { kPass = 1, kFail = 2, kWarn = 3, kHeader = 4 };

}  // namespace

std::string useUtf8Locale() {
    const char* got = std::setlocale(LC_ALL, "");
    if (!got || !isUtf8()) got = std::setlocale(LC_ALL, "C.UTF-8");
    return got ? got : "C";
}

void ignoreTerminalSignals() {
    struct sigaction sa {};
    sa.sa_handler = doNothing;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (const int sig : {SIGINT, SIGTSTP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
    // Asked to end (shutdown, the session closing): noted, so that the
    // program leaves the terminal as it found it instead of dying in raw mode.
    sa.sa_handler = noteTermination;
    for (const int sig : {SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

bool terminationRequested() { return gTerminate != 0; }

kiosk::Result<std::unique_ptr<CursesTerminal>> CursesTerminal::open() {
    if (!isUtf8()) return makeError("the terminal needs a UTF-8 locale (C.UTF-8 is not available)");
    // newterm rather than initscr: initscr exits the process on a bad TERM.
    SCREEN* screen = newterm(nullptr, stdout, stdin);
    if (!screen) return makeError("cannot start the terminal (is TERM set?)");
    set_term(screen);
    std::unique_ptr<CursesTerminal> t(new CursesTerminal());
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
        init_pair(kPass, COLOR_WHITE, COLOR_GREEN);
        init_pair(kFail, COLOR_WHITE, COLOR_RED);
        init_pair(kWarn, COLOR_YELLOW, -1);
        init_pair(kHeader, COLOR_WHITE, COLOR_BLUE);
        t->colours_ = true;
    }
    return t;
}

CursesTerminal::~CursesTerminal() {
    curs_set(1);
    endwin();
}

void CursesTerminal::draw(const State& state, const Catalogs& words) {
    int rows = 0, cols = 0;
    getmaxyx(stdscr, rows, cols);
    const auto lines = renderStyled(state, cols, rows, words);
    erase();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        attr_t attr = A_NORMAL;
        switch (lines[i].tone) {
            case Tone::Normal:
            case Tone::Progress: break;
            case Tone::Header: attr = colours_ ? COLOR_PAIR(kHeader) : A_REVERSE; break;
            case Tone::Pass: attr = A_BOLD | (colours_ ? COLOR_PAIR(kPass) : A_NORMAL); break;
            case Tone::Fail: attr = A_BOLD | (colours_ ? COLOR_PAIR(kFail) : A_REVERSE); break;
            case Tone::Warn: attr = A_BOLD | (colours_ ? COLOR_PAIR(kWarn) : A_NORMAL); break;
        }
        attrset(attr);
        // Header and footer bands run the whole width.
        if (lines[i].tone == Tone::Header) mvhline(static_cast<int>(i), 0, static_cast<chtype>(' ') | attr, cols);
        mvaddstr(static_cast<int>(i), 0, lines[i].text.c_str());
    }
    attrset(A_NORMAL);
    refresh();
}

std::optional<Key> CursesTerminal::readKey(int timeoutMs) {
    timeout(timeoutMs);
    wint_t ch = 0;
    const int got = get_wch(&ch);
    if (got == ERR) return std::nullopt;
    if (got == KEY_CODE_YES) {
        if (ch == KEY_RESIZE) return Key{Key::Resize, 0};
        if (ch == static_cast<wint_t>(KEY_F(2))) return Key{Key::F2, 0};
        if (ch == static_cast<wint_t>(KEY_F(12))) return Key{Key::F12, 0};
        if (ch == KEY_ENTER) return Key{Key::Enter, 0};
        if (ch == KEY_BACKSPACE) return Key{Key::Backspace, 0};
        if (ch == KEY_UP) return Key{Key::Up, 0};
        if (ch == KEY_DOWN) return Key{Key::Down, 0};
        if (ch == KEY_PPAGE) return Key{Key::PageUp, 0};
        if (ch == KEY_NPAGE) return Key{Key::PageDown, 0};
        if (ch == KEY_BTAB) return Key{Key::Up, 0};   // Shift-Tab: the field before
        return Key{Key::Other, 0};
    }
    if (ch == L'\r' || ch == L'\n') return Key{Key::Enter, 0};
    // A lone Esc (keypad() turns the sequences of known keys into KEY_* codes;
    // set_escdelay keeps the wait for the rest of one short).
    if (ch == 27) return Key{Key::Esc, 0};
    if (ch == L'\t') return Key{Key::Tab, 0};
    // Backspace arrives as DEL (127) or Ctrl-H (8), depending on the terminal.
    if (ch == 0x7F || ch == 8) return Key{Key::Backspace, 0};
    // Control characters (Ctrl-C is 3, Ctrl-Z 26, Ctrl-\ 28) and escape sequences mean nothing.
    if (ch < 0x20 || ch == 0x7F) return Key{Key::Other, 0};
    return Key{Key::Char, static_cast<char32_t>(ch)};
}

}  // namespace kiosk::ui
