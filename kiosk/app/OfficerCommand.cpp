// qkiosk officer: the security officers' accounts (root on the kiosk).
//
//   qkiosk officer list [--config FILE]
//   qkiosk officer add NAME [--config FILE]      the password twice from the terminal (or one line on stdin)
//   qkiosk officer remove NAME [--config FILE]
//   qkiosk officer login NAME [--config FILE]    checks a password (from the terminal or stdin); exit 0 accepted,
//                                                1 refused or locked out; recorded in the log
// Adding and removing an officer are records in the log, naming who did it.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sodium.h>

#include "Commands.h"
#include "Common.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/officer/Officers.h"

namespace kiosk::app {
namespace {

// One line from stdin; without echo when it is a terminal.
std::optional<std::string> readSecret(const char* prompt) {
    const bool tty = ::isatty(0);
    termios old{};
    if (tty) {
        std::fprintf(stderr, "%s", prompt);
        ::tcgetattr(0, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(0, TCSANOW, &quiet);
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (tty) {
        ::tcsetattr(0, TCSANOW, &old);
        std::fprintf(stderr, "\n");
    }
    if (!got) return std::nullopt;
    return line;
}

}  // namespace

int officerCommand(const std::vector<std::string>& args) {
    if (args.empty()) return usageError("officer: give list, add, remove or login (see qkiosk help)");
    const std::string sub = args[0];
    std::optional<std::string> name, configPath;
    if (auto st = readOptions("officer " + sub, args, 1, {{{"--config", &configPath}}, {}, sub == "list" ? nullptr : &name}); !st)
        return usageError(st.error().message);
    auto config = loadConfigOrDefault(configPath);
    if (!config) return usageError(config.error().message);
    const auto& settings = config->officers;

    if (sub == "list") {
        auto names = officer::list(settings);
        if (!names) return usageError(names.error().message);
        for (const auto& n : *names) std::printf("%s\n", n.c_str());
        return 0;
    }
    if (sub != "add" && sub != "remove" && sub != "login") return usageError("officer: unknown subcommand \"" + sub + "\"");
    if (!name) return usageError("officer " + sub + ": give the officer's name");
    auto log = log::openSignedLog(config->logPath, config->kioskKey);
    if (!log) return usageError(log.error().message);

    if (sub == "login") {
        auto password = readSecret("Password: ");
        if (!password) return usageError("officer login: no password given");
        auto answer = officer::login(settings, *name, *password, *log, "command line");
        sodium_memzero(password->data(), password->size());
        if (!answer) return usageError(answer.error().message);
        std::printf("%s\n", answer->message.c_str());
        return answer->outcome == officer::Outcome::Accepted ? 0 : 1;
    }
    if (sub == "add") {
        auto first = readSecret("New password: ");
        if (!first) return usageError("officer add: no password given");
        if (::isatty(0)) {
            auto again = readSecret("The same again: ");
            if (!again || *again != *first) return usageError("officer add: the two passwords differ");
        }
        auto st = officer::setPassword(settings, *name, *first);
        sodium_memzero(first->data(), first->size());
        if (!st) return usageError(st.error().message);
    } else if (auto st = officer::remove(settings, *name); !st) {
        return usageError(st.error().message);
    }
    const nlohmann::json what = {{"name", *name}, {"by", personOf(std::nullopt)}};
    if (auto r = log->appendSigned(sub == "add" ? "officer-added" : "officer-removed", "", what.dump()); !r)
        return usageError(r.error().context("the change was made but could not be recorded").message);
    std::printf("%s %s\n", sub == "add" ? "Officer set:" : "Officer removed:", name->c_str());
    return 0;
}

}  // namespace kiosk::app
