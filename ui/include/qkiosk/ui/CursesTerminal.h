// The real kiosk terminal: ncursesw draws the lines of TextRenderer.h and
// reads keys. The only place in qkiosk that calls curses.
//
// Hardened for a public terminal: raw mode, so Ctrl-C, Ctrl-Z and Ctrl-\ (backslash)
// arrive as ordinary keys (which mean nothing) instead of signals; SIGINT,
// SIGTSTP and SIGQUIT from elsewhere are caught and ignored too; nothing
// leads to a shell.
#pragma once

#include <memory>
#include <optional>

#include "qkiosk/base/Result.h"
#include "qkiosk/ui/Catalog.h"
#include "qkiosk/ui/Screen.h"

namespace kiosk::ui {

// Makes the process locale a UTF-8 one: the environment's if it is UTF-8 and
// installed, else C.UTF-8 (always there in glibc ≥ 2.35). Returns its name.
std::string useUtf8Locale();

// Catches SIGINT, SIGTSTP and SIGQUIT with a handler that does nothing (a
// handler, not SIG_IGN, so that the workers qkiosk starts get the defaults back).
// SIGTERM and SIGHUP are noted instead (terminationRequested()), so that the
// program can end and give the terminal back in its normal mode.
void ignoreTerminalSignals();
bool terminationRequested();

class CursesTerminal {
public:
    // Takes over the terminal (stdin/stdout). Call useUtf8Locale() first.
    static kiosk::Result<std::unique_ptr<CursesTerminal>> open();
    ~CursesTerminal();
    CursesTerminal(const CursesTerminal&) = delete;
    CursesTerminal& operator=(const CursesTerminal&) = delete;

    // Draws the state at the terminal's current size.
    void draw(const State& state, const Catalogs& words);
    // The next key, waiting at most `timeoutMs` (0: only what is already there).
    std::optional<Key> readKey(int timeoutMs);

private:
    CursesTerminal() = default;
    bool colours_ = false;
};

}  // namespace kiosk::ui
