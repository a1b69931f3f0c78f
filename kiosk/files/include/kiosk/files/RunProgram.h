// Running a helper program of the system (lp, lpstat, mcopy, …) without a
// shell: argv as given, stdin fed from memory, stdout and stderr captured,
// the whole process group killed when the deadline passes. The one place the
// kiosk starts such programs, so that every caller gets the same care: no
// SIGPIPE, signals reset, English messages, an exit status that cannot be lost.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk {

struct ProgramResult {
    int exitCode = -1;      // how it exited (a program killed by a signal is an error instead)
    std::string out, err;   // each at most ProgramRun::maxCapture bytes
};

struct ProgramRun {
    std::vector<std::string> argv;   // argv[0]: a name looked up in PATH, or a path
    std::string input;               // its stdin (empty: stdin is closed at once)
    std::chrono::steady_clock::time_point deadline;
    std::chrono::milliseconds timeout{0};   // only for the message when the deadline passes
    // The child's whole environment, replacing the caller's (then argv[0] is
    // looked up in its PATH=, else in /usr/bin:/bin). Unset: the caller's
    // environment with LC_ALL=C.
    std::optional<std::vector<std::string>> environment;
    std::string package;                      // named when the program is missing: "(is P installed?)"
    int passFd = -1;                          // an open file the program gets as its fd 3 (/proc/self/fd/3)
    std::size_t maxCapture = 64 * 1024;       // of stdout and of stderr each; the rest is read and dropped
};

// Runs it to its end or to the deadline. An error: it could not be started,
// it was killed by a signal, the deadline passed (it was stopped), or it
// exited 0 before it had read all of `input`. A non-zero exit is not an
// error: the caller reads exitCode and err.
Result<ProgramResult> runProgram(const ProgramRun& run);

// Milliseconds until `deadline` (0 once passed), for poll().
int millisecondsLeft(std::chrono::steady_clock::time_point deadline);
// "1.5 s", for messages.
std::string secondsText(std::chrono::milliseconds d);

// A program's message on one line: its non-empty lines, trimmed, joined by "; ".
std::string oneLine(const std::string& text);

// The first non-empty line of a program's message, trimmed.
std::string firstLine(const std::string& text);

}  // namespace kiosk
