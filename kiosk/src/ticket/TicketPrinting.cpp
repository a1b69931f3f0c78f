#include "kiosk/ticket/TicketPrinting.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kiosk/AtomicFile.h"

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
    const std::string note = spoolDir + "/" + ticketId + kUnprinted;
    nlohmann::json what = {{"printer", describe(printer)}, {"reprint", reprint}};
    const Status printed = print(printer, layout);
    if (printed) {
        std::error_code ec;
        fs::remove(note, ec);
        if (auto r = log.appendSigned("ticket-printed", ticketId, what.dump()); !r) return r.error();
        return {};
    }
    what["error"] = printed.error().message;
    // The note first: even if the log cannot take the record, the reprint is not forgotten.
    (void)writeFileAtomically(note, printed.error().message + "\n");
    (void)log.appendSigned("ticket-print-failed", ticketId, what.dump());
    return printed;
}

std::vector<Unprinted> unprinted(const std::string& spoolDir) {
    std::vector<Unprinted> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(spoolDir, ec)) {
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
