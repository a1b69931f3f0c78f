// qkiosk ui: the full-screen kiosk terminal. Without --image it is a client
// of the daemon's ui_socket and shows what the daemon does (no root needed);
// with --image FILE it runs one whole session on a disk image as if it had
// just been inserted (demos, training, tests). This file is the controller: it runs the services, turns what they
// report into kiosk::ui screen values and the keys into intents; only
// ui/src/CursesTerminal.cpp touches the terminal.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "Commands.h"
#include "Common.h"
#include "kiosk/files/AtomicFile.h"
#include "kiosk/workers/Media.h"
#include "kiosk/model/Report.h"
#include "kiosk/session/ScanSession.h"
#include "kiosk/workers/ScannerService.h"
#include "kiosk/log/KioskKey.h"
#include "kiosk/ticket/Ticket.h"
#include "kiosk/ticket/TicketPrinting.h"
#include "qkiosk/ui/Catalog.h"
#include "qkiosk/ui/CursesTerminal.h"
#include "qkiosk/ui/DaemonFeed.h"
#include "qkiosk/ui/DaemonLink.h"
#include "qkiosk/ui/Officer.h"
#include "qkiosk/ui/Screen.h"

namespace kiosk::app {
namespace {

using Clock = std::chrono::steady_clock;

// The language asked for at start: --lang, else the locale variables in
// POSIX order of precedence (read from the environment: the process locale
// may have fallen back to C.UTF-8 where ja_JP is not installed).
ui::Language startLanguage(const std::optional<std::string>& lang, const std::vector<ui::Language>& available) {
    if (lang) return ui::languageOfLocale(*lang, available);
    for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"})
        if (const char* v = std::getenv(var); v && *v) return ui::languageOfLocale(v, available);
    return ui::kJapanese;
}

std::string baseName(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// The workers write diagnostics on stderr, which would scribble over the
// screen: while the terminal is ours, stderr goes to /dev/null.
class QuietStderr {
public:
    QuietStderr() : saved_(::dup(2)) {
        const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            ::dup2(null, 2);
            ::close(null);
        }
    }
    ~QuietStderr() {
        if (saved_ >= 0) {
            ::dup2(saved_, 2);
            ::close(saved_);
        }
    }
    QuietStderr(const QuietStderr&) = delete;
    QuietStderr& operator=(const QuietStderr&) = delete;

private:
    int saved_;
};

// The terminal and the state it shows; keys are read and acted on whenever
// the controller has a moment (also from inside the scan's progress callback).
class Kiosk {
public:
    Kiosk(ui::CursesTerminal& term, const ui::Catalogs& words, ui::State state)
        : term_(term), words_(words), state_(std::move(state)) {
        term_.draw(state_, words_);
    }

    void show(ui::Screen screen) {
        state_.screen = std::move(screen);
        term_.draw(state_, words_);
    }
    void setIdle(ui::Ready ready) { state_.idle = std::move(ready); }
    // Lets `f` change the state (what the daemon reported), then redraws.
    template <typename F>
    void change(F&& f) {
        f(state_);
        term_.draw(state_, words_);
    }

    // Handles the keys that arrive within `timeoutMs` (0: those already there).
    void keys(int timeoutMs) {
        while (auto key = term_.readKey(timeoutMs)) {
            timeoutMs = 0;
            const auto intent = ui::intentOf(*key, state_);
            if (intent == ui::Intent::None) continue;
            lastKey_ = Clock::now();   // a key that does something: somebody is there
            state_ = ui::reduce(std::move(state_), intent);
            term_.draw(state_, words_);
            if (state_.quit) return;
        }
    }

    // After the verdict: only the quit key ends the program (or SIGTERM).
    void untilQuit() {
        while (!state_.quit && !ui::terminationRequested()) keys(1000);
    }

    const ui::State& state() const { return state_; }
    // The requests the screens queued for the daemon, oldest first.
    std::vector<messages::OfficerRequest> takeOutbox() { return std::exchange(state_.outbox, {}); }
    Clock::duration sinceLastKey() const { return Clock::now() - lastKey_; }

private:
    ui::CursesTerminal& term_;
    const ui::Catalogs& words_;
    ui::State state_;
    Clock::time_point lastKey_ = Clock::now();
};

// Signs the ticket and puts it and the report into the spool, as the daemon
// does; what the screen can honestly say about it.
void spoolTicket(const Report& report, const Config& config, ui::Finished& shown) {
    shown.ticketId = report.ticketId;
    std::error_code ec;
    if (!std::filesystem::is_directory(config.spoolDir, ec) || ::access(config.spoolDir.c_str(), W_OK) != 0) {
        shown.ticketNote = "there is no spool folder";
        return;
    }
    auto key = log::KioskKey::loadOrCreate(config.kioskKey);
    if (!key) {
        shown.ticketNote = "the kiosk key is missing or unreadable";
        return;
    }
    if (!ticket::spool(config.spoolDir, ticket::issue(report, config.kioskId, *key), report)) {
        shown.ticketNote = "it could not be written";
        return;
    }
    shown.ticket = ui::TicketState::Saved;
}

ui::Finished resultScreen(const Report& report, const Config& config) {
    ui::Finished r;
    r.pass = report.pass;
    for (const auto& x : report.reasons) r.reasons.push_back({proto::reasonCodeName(x.code), x.path, x.detail});
    r.files = report.files.size();
    r.bytes = report.bytesScanned;
    spoolTicket(report, config, r);
    return r;
}

// `qkiosk ui` against the daemon: renders what the daemon reports until the
// terminal is asked to end (SIGTERM, SIGHUP: a kiosk terminal has no quit
// key); reconnects when the daemon restarts. The officer's screens ask the
// daemon over the same connection.
int daemonTerminal(Kiosk& kiosk, const std::string& socketPath, double maxSignatureAgeDays) {
    ui::DaemonFeed feed(maxSignatureAgeDays);
    ui::DaemonConnection stream;
    ui::OfficerRequests requests;
    const auto t0 = Clock::now();
    auto lastTry = t0 - std::chrono::seconds(10);
    auto lost = [&](const std::string& why) {
        requests.clear();
        kiosk.change([&](ui::State& st) {
            ui::officerConnectionLost(st);
            st.screen = ui::Unavailable{false, why};
        });
    };
    while (!ui::terminationRequested()) {
        const auto now = Clock::now();
        if (!stream.connected() && now - lastTry >= std::chrono::seconds(2)) {
            lastTry = now;
            if (auto why = stream.connect(socketPath)) lost("cannot reach the kiosk service at " + socketPath + ": " + *why);
        }
        if (stream.connected()) {
            auto lines = stream.lines();
            const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
            if (!lines) {
                lost("the kiosk service stopped");
            } else if (!lines->empty()) {
                kiosk.change([&](ui::State& st) {
                    for (const auto& line : *lines) {
                        if (auto a = requests.answer(line)) ui::applyReply(st, a->request, a->reply, a->session);
                        else feed.apply(st, line, seconds);
                    }
                });
            }
        }
        // An officer who walked away: the screens close after the daemon's
        // idle limit (it ends the session too). Not while an answer is awaited.
        if (const auto& o = kiosk.state().officer;
            o && !o->waiting && kiosk.sinceLastKey() > std::chrono::minutes(o->idleMinutes))
            kiosk.change([](ui::State& st) { ui::endOfficerSession(st); });
        if (requests.overdue(std::chrono::minutes(30), Clock::now())) {
            stream.close();
            lost("the kiosk service did not answer");
        }
        if (auto outbox = kiosk.takeOutbox(); !outbox.empty()) {
            const auto& o = kiosk.state().officer;
            if (!stream.connected() || !requests.send(stream, std::move(outbox), o ? o->session : 0, Clock::now()))
                lost("the kiosk service cannot be reached");
        }
        kiosk.keys(100);
    }
    return 0;
}

}  // namespace

int uiCommand(const std::vector<std::string>& args) {
    std::optional<std::string> image, db, configPath, policyPath, lang;
    if (auto st = readOptions("ui", args, 0,
                              {{{"--image", &image}, {"--db", &db}, {"--config", &configPath}, {"--policy", &policyPath},
                                {"--lang", &lang}},
                               {},
                               nullptr});
        !st)
        return usageError(st.error().message);
    auto loaded = loadConfigOrDefault(configPath);
    if (!loaded) return usageError(loaded.error().message);
    const Config config = std::move(*loaded);
    if (!image && config.uiSocket.empty())
        return usageError("ui: the daemon has no ui_socket in its config (or give --image FILE for a demo)");
    const std::string dbDir = db.value_or(config.dbDir);
    if (image)
        if (auto st = checkDatabaseDir(dbDir); !st) return usageError(st.error().message);
    // An image has no device to decide on; a broken policy file is still refused.
    if (policyPath)
        if (auto w = loadPolicy(*policyPath); !w) return usageError(w.error().message);
    auto words = ui::Catalogs::load(ui::defaultLocaleDir());
    if (!words) return usageError(words.error().message);
    if (lang) {
        const auto all = words->languages();
        if (std::find(all.begin(), all.end(), *lang) == all.end())
            return usageError("ui: --lang " + *lang + ": there is no catalogue for this language in " + ui::defaultLocaleDir());
    }
    if (!::isatty(0) || !::isatty(1)) return usageError("ui: needs a terminal (run it in a terminal or tmux)");

    ui::useUtf8Locale();
    ui::ignoreTerminalSignals();
    auto term = ui::CursesTerminal::open();
    if (!term) return usageError(term.error().message);
    QuietStderr quiet;

    ui::State state;
    state.languages = words->languages();
    state.language = startLanguage(lang, state.languages);
    if (!image) {
        state.screen = ui::Unavailable{true, ""};
        Kiosk kiosk(**term, *words, state);
        return daemonTerminal(kiosk, config.uiSocket, config.maxSignatureAgeDays);
    }
    state.demo = true;
    state.screen = ui::Identifying{true, baseName(*image)};
    Kiosk kiosk(**term, *words, state);

    auto fail = [&](const std::string& message) {
        kiosk.show(ui::NoVerdict{message});
        kiosk.untilQuit();
        return 2;
    };

    // The signatures load while the image is opened.
    auto scanner = ScannerService::start(dbDir, config.scan.tempDir);
    if (!scanner) return fail(scanner.error().message);
    auto media = openMedia(*image, false);
    if (!media) return fail(media.error().message);
    const auto loadUntil = Clock::now() + std::chrono::minutes(10);
    for (;;) {
        auto ready = (*scanner)->poll();
        if (!ready) return fail(ready.error().message);
        if (*ready) break;
        if (Clock::now() > loadUntil) return fail("the signatures took too long to load");
        kiosk.keys(100);
    }
    const auto& engine = (*scanner)->engine();
    const auto age = signatureAgeDays(engine);
    kiosk.setIdle(ui::Ready{signatureAgeText(engine), !age || *age > config.maxSignatureAgeDays});

    ScanOptions options{scanner->get(), config.scan, config.sandbox, config.maxSignatureAgeDays, std::nullopt, {}, {}};
    ScanSession session(std::move(options));
    const auto t0 = Clock::now();
    auto lastDraw = t0 - std::chrono::seconds(1);
    auto scanning = [&](const Progress& p) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        return ui::Scanning{p.filesDone, p.filesSeen, p.bytesDone, p.bytesSeen, p.currentPath, elapsed,
                            ui::estimateSecondsLeft(p.bytesDone, p.bytesSeen, elapsed)};
    };
    kiosk.show(scanning(Progress{}));
    // Called from the session's loop: at most ten screens a second, and the
    // keys (the language can be switched while scanning).
    session.onProgress([&](const Progress& p) {
        const auto now = Clock::now();
        if (now - lastDraw < std::chrono::milliseconds(100)) return;
        lastDraw = now;
        kiosk.show(scanning(p));
        kiosk.keys(0);
    });
    auto report = session.run(*media);
    if (!report) return fail(report.error().message);

    kiosk.show(resultScreen(*report, config));
    kiosk.untilQuit();
    return report->pass ? 0 : 1;
}

}  // namespace kiosk::app
