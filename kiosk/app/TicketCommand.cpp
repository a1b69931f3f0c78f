// qkiosk ticket: the spool's tickets after the session.
//
//   qkiosk ticket pending [--config FILE]
//       tickets whose print failed, oldest first, with why
//   qkiosk ticket print TICKET|FILE [--printer SPEC] [--config FILE]
//       prints (again) a spooled ticket; recorded in the log
//   qkiosk ticket render TICKET|FILE --format pdf|png|escpos|text --out FILE [--pubkey FILE] [--config FILE]
//       the ticket as a picture, printer bytes, or text with its QR code
//
// A ticket is printed or rendered only if its signature verifies: a spool
// file edited after the session is refused (exit 1), never reproduced.
#include <cstdio>
#include <optional>

#include "Commands.h"
#include "Common.h"
#include "kiosk/files/AtomicFile.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/ticket/Ticket.h"
#include "kiosk/ticket/TicketPrinting.h"

namespace kiosk::app {
namespace {

// A ticket id names the spool's file; anything with a '/' or ".ticket" is a path.
std::string ticketFile(const std::string& arg, const Config& config) {
    if (arg.find('/') != std::string::npos || arg.ends_with(".ticket")) return arg;
    return config.spoolDir + "/" + arg + ".ticket";
}

}  // namespace

int ticketCommand(const std::vector<std::string>& args) {
    if (args.empty()) return usageError("ticket: give pending, print or render (see qkiosk help)");
    const std::string sub = args.front();
    std::optional<std::string> target, printerSpec, format, out, pubkey, configPath;
    if (auto st = readOptions("ticket " + sub, args, 1,
                              {{{"--printer", &printerSpec}, {"--format", &format}, {"--out", &out}, {"--pubkey", &pubkey},
                                {"--config", &configPath}},
                               {},
                               sub == "pending" ? nullptr : &target});
        !st)
        return usageError(st.error().message);
    auto config = loadConfigOrDefault(configPath);
    if (!config) return usageError(config.error().message);

    if (sub == "pending") {
        auto pending = ticket::unprinted(config->spoolDir);
        if (!pending) return usageError(pending.error().message);
        for (const auto& t : *pending) std::printf("%s  %s\n", t.ticketId.c_str(), t.why.c_str());
        return 0;
    }
    if (sub != "print" && sub != "render") return usageError("ticket: unknown subcommand \"" + sub + "\"");
    if (!target) return usageError("ticket " + sub + ": give a ticket id or a ticket file");

    // Only this kiosk's own tickets are printed on its printer and recorded
    // in its log; another kiosk's key is for rendering a picture of one.
    if (sub == "print" && pubkey) return usageError("ticket print: prints this kiosk's own tickets only (--pubkey is for render)");
    auto keys = trustedKioskKeys(pubkey, *config);
    if (!keys) return usageError(keys.error().message);
    const std::string path = ticketFile(*target, *config);
    auto text = readTextFile(path);
    if (!text) return usageError(text.error().message);
    auto checked = ticket::check(*text, *keys);
    if (!checked) {
        std::printf("MISMATCH: %s: %s\n", path.c_str(), checked.error().message.c_str());
        return 1;
    }
    const auto layout = ticket::layoutOf(*checked);

    if (sub == "print") {
        auto printer = ticket::parsePrinter(printerSpec.value_or(config->ticket.printer));
        if (!printer) return usageError(printer.error().message);
        if (printer->kind == ticket::Printer::None)
            return usageError("ticket print: no printer is configured ([ticket] printer, or --printer SPEC)");
        auto log = log::openSignedLog(config->logPath, config->kioskKey);
        if (!log) return usageError(log.error().message);
        if (auto st = ticket::printRecorded(*printer, layout, config->spoolDir, checked->facts.ticketId, *log, true); !st)
            return usageError(st.error().message + " (the ticket stays pending)");
        std::printf("Printed %s on %s\n", checked->facts.ticketId.c_str(), ticket::describe(*printer).c_str());
        return 0;
    }

    if (!format || !out) return usageError("ticket render: --format pdf|png|escpos|text and --out FILE are required");
    Result<std::string> bytes = makeError("ticket render: --format must be pdf, png, escpos or text");
    if (*format == "pdf") bytes = ticket::renderPdf(layout);
    else if (*format == "png") bytes = ticket::renderPng(layout);
    else if (*format == "escpos") bytes = ticket::renderEscPos(layout);
    else if (*format == "text") {
        std::string all;
        for (const auto& line : layout.lines) all += line + "\n";
        auto qr = ticket::qrText(layout.qrPayload);
        bytes = qr ? Result<std::string>(all + "\n" + *qr) : Result<std::string>(qr.error());
    }
    if (!bytes) return usageError(bytes.error().message);
    if (*out == "-") {
        std::fwrite(bytes->data(), 1, bytes->size(), stdout);
        return 0;
    }
    if (auto st = writeFileAtomically(*out, *bytes); !st) return usageError(st.error().message);
    return 0;
}

}  // namespace kiosk::app
