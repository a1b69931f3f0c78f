// Printing a ticket through CUPS (`lpstat`, `lp`) or to an ESC/POS device
// node, every step bounded in time. See kiosk/ticket/Printer.h.
#include "kiosk/ticket/Printer.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <vector>

#include "kiosk/files/RunProgram.h"
#include "qkiosk/base/UniqueFd.h"

namespace kiosk::ticket {

namespace {

using Clock = std::chrono::steady_clock;

bool validQueueName(const std::string& q) {
    // What lpadmin accepts as a name (no '@': CUPS itself reads it as "at server").
    if (q.empty() || q.size() > 127 || q.front() == '-') return false;
    return std::none_of(q.begin(), q.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= ' ' || u == 127 || c == '/' || c == '\\' || c == '?' || c == '\'' || c == '"' || c == '#' ||
               c == '@';
    });
}

bool validServer(const std::string& s) {
    if (s.empty() || s.size() > 1024 || s.front() == '-') return false;
    return std::none_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= ' ' || u == 127;
    });
}

// ---------------------------------------------------------------------------
// CUPS

std::vector<std::string> cupsCommand(const char* program, const Printer& printer) {
    std::vector<std::string> argv{program};
    if (!printer.server.empty()) {
        argv.emplace_back("-h");
        argv.push_back(printer.server);
    }
    return argv;
}

// lp and lpstat, in the caller's environment (CUPS_SERVER, a client.conf of
// the site's) with English messages: they are parsed, and they go to the log.
Result<ProgramResult> runCups(std::vector<std::string> argv, const std::string& input, Clock::time_point deadline,
                              std::chrono::milliseconds timeout) {
    ProgramRun run;
    run.argv = std::move(argv);
    run.input = input;
    run.deadline = deadline;
    run.timeout = timeout;
    run.package = "cups-client";
    return runProgram(run);
}

// The reason lines lpstat prints under a printer's state (indented with a tab).
std::string reasonAfter(const std::vector<std::string>& lines, std::size_t i) {
    std::string reason;
    for (++i; i < lines.size() && !lines[i].empty() && (lines[i][0] == '\t' || lines[i][0] == ' '); ++i) {
        if (!reason.empty()) reason.append("; ");
        reason.append(oneLine(lines[i]));
    }
    return reason;
}

Status checkQueue(const Printer& printer, const std::string& where, Clock::time_point deadline,
                  std::chrono::milliseconds timeout) {
    auto argv = cupsCommand("lpstat", printer);
    for (const char* a : {"-r", "-p"}) argv.emplace_back(a);
    argv.push_back(printer.target);
    argv.emplace_back("-a");
    argv.push_back(printer.target);
    auto r = runCups(std::move(argv), "", deadline, timeout);
    if (!r) return r.error().context(where);
    if (r->out.find("scheduler is not running") != std::string::npos)
        return makeError(where + ": the CUPS scheduler is not running" +
                         (printer.server.empty() ? std::string() : std::string(" at ") + printer.server));
    std::vector<std::string> lines;
    {
        std::istringstream in(r->out);
        for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    const std::string& q = printer.target;
    // CUPS compares queue names without case and prints its own spelling.
    auto startsWith = [](const std::string& line, const std::string& prefix) {
        return line.size() >= prefix.size() && ::strncasecmp(line.c_str(), prefix.c_str(), prefix.size()) == 0;
    };
    bool seen = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        std::string printerLine("printer ");
        printerLine.append(q).append(" ");
        if (startsWith(line, printerLine)) {
            seen = true;
            if (line.find(" disabled") != std::string::npos) {
                std::string msg = where + ": the queue is stopped";
                if (const auto why = reasonAfter(lines, i); !why.empty()) msg.append(" (").append(why).append(")");
                msg.append("; an administrator restarts it with cupsenable ").append(q);
                return makeError(msg);
            }
        }
        std::string rejecting(q);
        rejecting.append(" not accepting requests");
        if (startsWith(line, rejecting)) {
            std::string msg = where + ": the queue is not accepting jobs";
            if (const auto why = reasonAfter(lines, i); !why.empty()) msg.append(" (").append(why).append(")");
            msg.append("; an administrator opens it with cupsaccept ").append(q);
            return makeError(msg);
        }
    }
    if (r->exitCode != 0 || !seen) {
        const auto e = oneLine(r->err);
        if (e.find("Invalid destination") != std::string::npos || e.find("does not exist") != std::string::npos ||
            (r->exitCode == 0 && !seen))
            return makeError(where + ": no such queue" + (e.empty() ? std::string() : " (" + e + ")"));
        return makeError(where + ": lpstat failed" + (e.empty() ? std::string() : ": " + e));
    }
    return {};
}

Status printCups(const Printer& printer, const Layout& layout, const PrintOptions& options) {
    const std::string where = "CUPS queue " + describe(printer);
    const auto deadline = Clock::now() + options.timeout;
    auto pdf = renderPdf(layout);
    if (!pdf) return pdf.error().context(where);
    if (auto s = checkQueue(printer, where, deadline, options.timeout); !s) return s;
    auto argv = cupsCommand("lp", printer);
    argv.emplace_back("-d");
    argv.push_back(printer.target);
    argv.emplace_back("-t");
    argv.emplace_back("qkiosk ticket");
    auto r = runCups(std::move(argv), *pdf, deadline, options.timeout);
    if (!r) return r.error().context(where);
    if (r->exitCode != 0) {
        const auto e = oneLine(r->err);
        return makeError(where + ": lp failed with status " + std::to_string(r->exitCode) +
                         (e.empty() ? std::string() : ": " + e));
    }
    return {};
}

// ---------------------------------------------------------------------------
// ESC/POS

// Writing to a FIFO or a device whose reader went away raises SIGPIPE, which
// would end the daemon: it is blocked on this thread while writing, and one
// that arrived is taken back before the mask is restored.
class SigpipeBlock {
public:
    SigpipeBlock() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set_, &old_);
        wasBlocked_ = sigismember(&old_, SIGPIPE) == 1;
    }
    ~SigpipeBlock() {
        if (wasBlocked_) return;
        const timespec zero{};
        while (::sigtimedwait(&set_, nullptr, &zero) > 0) {}
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
    sigset_t set_{}, old_{};
    bool wasBlocked_ = false;
};

Status printEscPos(const Printer& printer, const Layout& layout, const PrintOptions& options) {
    const std::string where = "ESC/POS printer " + printer.target;
    const auto deadline = Clock::now() + options.timeout;
    auto bytes = renderEscPos(layout, printer.dotsWide);
    if (!bytes) return bytes.error().context(where);

    // Never O_CREAT: a printer that is not plugged in must not become a file in /dev.
    UniqueFd fd(::open(printer.target.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
        const int e = errno;
        std::string msg = where + ": cannot open: " + std::strerror(e);
        if (e == ENOENT) msg.append(" (is the printer plugged in and switched on?)");
        if (e == ENXIO || e == ENODEV) msg.append(" (nothing is attached to it)");
        return makeError(msg);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return makeError(where + ": cannot stat: " + std::strerror(errno));
    // A printer is a character device (/dev/usb/lp0); a FIFO or a file serve for tests and captures.
    // Anything else (a disk!) is refused before a byte is written.
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode))
        return makeError(where + ": not a printer device");

    SigpipeBlock noSigpipe;
    const std::string& data = *bytes;
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd.get(), data.data() + done, std::min<std::size_t>(data.size() - done, 4096));
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) {
            const int e = errno;
            return makeError(where + ": write failed after " + std::to_string(done) + " of " +
                             std::to_string(data.size()) + " bytes: " + std::strerror(e) +
                             (e == EPIPE ? " (the reader went away)" : ""));
        }
        // Full: wait until it takes more. (An error or hang-up shows in the next write.)
        const int left = millisecondsLeft(deadline);
        pollfd p{fd.get(), POLLOUT, 0};
        if (left == 0 || ::poll(&p, 1, left) == 0)
            return makeError(where + ": the printer took no more data for " + secondsText(options.timeout) + " (" +
                             std::to_string(done) + " of " + std::to_string(data.size()) +
                             " bytes written; out of paper, cover open or offline?)");
    }
    if (::close(fd.release()) != 0 && errno != EINTR)
        return makeError(where + ": close failed: " + std::strerror(errno));
    return {};
}

}  // namespace

Result<Printer> parsePrinter(const std::string& spec) {
    auto bad = [&](const std::string& why) {
        return makeError("printer \"" + spec + "\": " + why);
    };
    Printer p;
    if (spec == "none") return p;
    if (spec.starts_with("cups:")) {
        const std::string rest = spec.substr(5);
        const auto at = rest.find('@');
        p.kind = Printer::Cups;
        p.target = rest.substr(0, at);
        if (at != std::string::npos) {
            p.server = rest.substr(at + 1);
            if (!validServer(p.server)) return bad("expected cups:QUEUE@SERVER with a server name, host:port or socket path");
        }
        if (!validQueueName(p.target))
            return bad("not a CUPS queue name (printable characters, no spaces, / \\ ? ' \" # @)");
        return p;
    }
    if (spec.starts_with("escpos:")) {
        std::string rest = spec.substr(7);
        p.kind = Printer::EscPos;
        if (const auto q = rest.find('?'); q != std::string::npos) {
            const std::string query = rest.substr(q + 1);
            rest.resize(q);
            if (!query.starts_with("dots=")) return bad("the only option is ?dots=N");
            const char* first = query.data() + 5;
            const char* last = query.data() + query.size();
            int dots = 0;
            const auto [ptr, ec] = std::from_chars(first, last, dots);
            if (ec != std::errc() || ptr != last || first == last || dots < 64 || dots > 4096 || dots % 8 != 0)
                return bad("dots must be a multiple of 8 from 64 to 4096 (576 for 80 mm paper, 384 for 58 mm)");
            p.dotsWide = dots;
        }
        if (rest.empty() || rest.front() != '/' || rest.find('\0') != std::string::npos)
            return bad("expected escpos: and the device's absolute path, e.g. escpos:/dev/usb/lp0");
        p.target = rest;
        return p;
    }
    return bad("expected none, cups:QUEUE, cups:QUEUE@SERVER or escpos:/dev/usb/lpN");
}

std::string describe(const Printer& printer) {
    std::string s;
    switch (printer.kind) {
    case Printer::None:
        return "none";
    case Printer::Cups:
        s = "cups:";
        s.append(printer.target);
        if (!printer.server.empty()) s.append("@").append(printer.server);
        return s;
    case Printer::EscPos:
        s = "escpos:";
        s.append(printer.target);
        if (printer.dotsWide != kReceiptDots) s.append("?dots=").append(std::to_string(printer.dotsWide));
        return s;
    }
    return "?";
}

Status check(const Printer& printer, std::chrono::milliseconds timeout) {
    switch (printer.kind) {
    case Printer::None:
        return {};
    case Printer::Cups:
        return checkQueue(printer, "CUPS queue " + describe(printer), Clock::now() + timeout, timeout);
    case Printer::EscPos: {
        struct stat st{};
        if (::stat(printer.target.c_str(), &st) != 0) return makeError(printer.target + ": " + std::strerror(errno) + " (unplugged?)");
        if (!S_ISCHR(st.st_mode)) return makeError(printer.target + ": not a printer device");
        if (::access(printer.target.c_str(), W_OK) != 0) return makeError(printer.target + ": " + std::strerror(errno));
        return {};
    }
    }
    return makeError("printer: unknown kind");
}

Status print(const Printer& printer, const Layout& layout, const PrintOptions& options) {
    switch (printer.kind) {
    case Printer::None:
        return {};
    case Printer::Cups:
        return printCups(printer, layout, options);
    case Printer::EscPos:
        return printEscPos(printer, layout, options);
    }
    return makeError("printer: unknown kind");
}

}  // namespace kiosk::ticket
