#include "kiosk/ticket/TicketPrinting.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kiosk/files/AtomicFile.h"

namespace kiosk::ticket {
namespace {

namespace fs = std::filesystem;
constexpr const char* kUnprinted = ".unprinted";

}  // namespace

Status spool(const std::string& spoolDir, const Ticket& ticket, const Report& report) {
    const std::string base = spoolDir + "/" + report.ticketId;
    if (auto st = writeFileAtomically(base + ".ticket", ticket.text); !st) return st;
    return writeFileAtomically(base + ".json", toJson(report));
}

Status printRecorded(const Printer& printer, const Layout& layout, const std::string& spoolDir, const std::string& ticketId,
                     log::SignedLog& log, bool reprint) {
    if (printer.kind == Printer::None) return {};
    // The id names a spool file: a signed one that is a path is refused.
    if (!isPlainFileName(ticketId)) return makeError("\"" + ticketId + "\" is not a ticket id: nothing was printed");
    const std::string note = spoolDir + "/" + ticketId + kUnprinted;
    nlohmann::json what = {{"printer", describe(printer)}, {"reprint", reprint}};
    const Status printed = print(printer, layout);
    if (printed) {
        // On paper: recorded, then no longer pending. A record that cannot be
        // written leaves the note, and the error says the paper came out.
        if (auto r = log.appendSigned("ticket-printed", ticketId, what.dump()); !r)
            return makeError("the ticket was printed but the print could not be recorded: " + r.error().message);
        std::error_code ec;
        fs::remove(note, ec);
        return {};
    }
    what["error"] = printed.error().message;
    // The note first: even if the log cannot take the record, the reprint is not forgotten.
    (void)writeFileAtomically(note, printed.error().message + "\n");
    (void)log.appendSigned("ticket-print-failed", ticketId, what.dump());
    return printed;
}

Result<std::vector<Unprinted>> unprinted(const std::string& spoolDir) {
    std::vector<Unprinted> out;
    std::error_code ec;
    fs::directory_iterator it(spoolDir, ec);
    // An unreadable spool is not an empty one: nothing could be said pending.
    if (ec) return makeError(spoolDir + ": " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) return makeError(spoolDir + ": " + ec.message());
        const auto& e = *it;
        if (e.path().extension() != kUnprinted) continue;
        auto why = readTextFile(e.path().string());
        std::string text = why ? *why : "";
        while (!text.empty() && text.back() == '\n') text.pop_back();
        out.push_back({e.path().stem().string(), text});
    }
    // Ticket ids begin with the time: sorting them sorts by age.
    std::sort(out.begin(), out.end(), [](const Unprinted& a, const Unprinted& b) { return a.ticketId < b.ticketId; });
    return out;
}

}  // namespace kiosk::ticket
