// qkiosk: the kiosk's one command-line front end (docs/design.md "Command
// line"). Dispatches to one file per subcommand.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "Commands.h"

namespace {

constexpr const char* kUsage =
    "usage: qkiosk <command> [options]\n"
    "\n"
    "commands:\n"
    "  scan (--image FILE | --device /dev/sdX) [--db DIR] [--policy FILE]\n"
    "       [--config FILE] [--json FILE|-] [--ticket FILE] [--log DB] [--quiet]\n"
    "       [--evidence DIR]   on a FAIL with findings, keep the files and a media image in DIR\n"
    "      read the media in userspace and scan every file with libclamav;\n"
    "      exit 0 PASS, 1 FAIL, 2 error\n"
    "  verify --ticket FILE (--image FILE | --device DEV) [--pubkey FILE] [--config FILE]\n"
    "      check the ticket's kiosk signature and that the media's files are still\n"
    "      the ones scanned (read-only); exit 0 match and PASS, 1 mismatch, forged or FAIL\n"
    "  ticket pending|print TICKET [--printer SPEC]|render TICKET --format pdf|png|escpos|text --out FILE\n"
    "      the spool's tickets: those whose print failed, print again, render (signature checked first)\n"
    "  devices [--policy FILE] [--config FILE] [--json]\n"
    "      list attached USB devices with interfaces and the policy decision\n"
    "  run [--config FILE]\n"
    "      the kiosk daemon: watch USB, authorize, scan, write reports and tickets\n"
    "  signatures status [--config FILE] [--db DIR]\n"
    "      the signature database in use, its version and age; exit 1 if outdated\n"
    "  signatures import (--image FILE | --device DEV | --dir DIR) [--config FILE]\n"
    "      verify, test-load and install an offline update (official .cvd files or a\n"
    "      site-signed bundle in qkiosk-signatures/ on the stick)\n"
    "  signatures keygen --secret FILE --public FILE\n"
    "  signatures bundle --key SECRET --out DIR FILE...\n"
    "      make the site's update key pair, and sign a bundle of database files\n"
    "  log list|show SEQ|TICKET|export --format csv|jsonl|verify|pubkey [--log DB] [--config FILE]\n"
    "      the quarantine log: filters --from/--to YYYY-MM-DD, --verdict, --device VID:PID[:SERIAL],\n"
    "      --owner, --kind; verify checks the hash chain and the kiosk's signatures (exit 1 if tampered)\n"
    "  log prune --through YYYY-MM-DD --officer NAME [--config FILE]\n"
    "      delete records older than the retention period (log_retention_days, 365); itself logged\n"
    "  evidence list|show TICKET [--config FILE] [--vault DIR]\n"
    "  evidence export TICKET --to DIR --officer NAME [--log DB] [--config FILE] [--vault DIR]\n"
    "      the evidence vault (offending files and media images of FAILs with findings);\n"
    "      export re-checks every SHA-256 (exit 1 on a mismatch) and is recorded in the log\n"
    "  log forward [--once] [--status] [--config FILE]\n"
    "      send the records the [syslog] collector does not have yet (exit 1 if it cannot be reached)\n"
    "  ui --image FILE [--db DIR] [--policy FILE] [--config FILE] [--lang ja|en]\n"
    "      the full-screen kiosk terminal, run on a disk image as if it had just been\n"
    "      inserted (demos, training); L or F2 switches the language, Enter goes back to\n"
    "      \"insert media\", Q quits (exit 0 PASS, 1 FAIL, 2 error)\n"
    "  officer list|add NAME|remove NAME|login NAME [--config FILE]\n"
    "      security officers' accounts (Argon2id hashes; lockout after repeated failures; logged)\n"
    "  help             this text\n"
    "  version          the qkiosk version\n";

int dispatch(std::vector<std::string> args) {
    if (args.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string cmd = args.front();
    args.erase(args.begin());
    if (cmd == "scan") return kiosk::app::scanCommand(args);
    if (cmd == "devices") return kiosk::app::devicesCommand(args);
    if (cmd == "run") return kiosk::app::runCommand(args);
    if (cmd == "signatures") return kiosk::app::signaturesCommand(args);
    if (cmd == "log") return kiosk::app::logCommand(args);
    if (cmd == "verify") return kiosk::app::verifyCommand(args);
    if (cmd == "ticket") return kiosk::app::ticketCommand(args);
    if (cmd == "officer") return kiosk::app::officerCommand(args);
    if (cmd == "evidence") return kiosk::app::evidenceCommand(args);
    if (cmd == "ui") return kiosk::app::uiCommand(args);
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (cmd == "version" || cmd == "--version") {
        std::puts("qkiosk " QKIOSK_VERSION);
        return 0;
    }
    return kiosk::app::usageError("unknown command \"" + cmd + "\" (see qkiosk help)");
}

// Errors are Result values; an exception reaching this far is a bug (a
// library call that throws where its non-throwing form was meant). It is still
// one line and exit 2, as for any other error, never an abort with a core.
void internalError(const char* what) {
    std::string line = what;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    std::fprintf(stderr, "qkiosk: internal error: %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return dispatch(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        internalError(e.what());
    } catch (...) {
        internalError("an unknown exception");
    }
    return 2;
}
