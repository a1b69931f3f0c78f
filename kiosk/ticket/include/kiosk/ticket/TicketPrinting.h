// Printing a spooled ticket, with its outcome in the quarantine log. A ticket
// is printed only once it is in the spool and the log; a failed print (paper
// out, printer unplugged, queue stopped) loses nothing: it is recorded, the
// spool keeps a `<ticket_id>.unprinted` note with the reason, and
// `qkiosk ticket print` prints it again.
#pragma once

#include <string>
#include <vector>

#include "kiosk/model/Report.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/ticket/Printer.h"
#include "kiosk/ticket/Ticket.h"
#include "kiosk/ticket/TicketRender.h"
#include "qkiosk/base/Result.h"

namespace kiosk::ticket {

// Puts a session's signed ticket and its JSON report into the spool as
// <ticket_id>.ticket and <ticket_id>.json, each atomically, the ticket first:
// a report in the spool always has its ticket.
Status spool(const std::string& spoolDir, const Ticket& ticket, const Report& report);

// Prints, then records `ticket-printed` or `ticket-print-failed` (`reprint`
// says which kind of print it was) and keeps or clears the spool's note.
// The error is the printer's, for the caller to show.
Status printRecorded(const Printer& printer, const Layout& layout, const std::string& spoolDir, const std::string& ticketId,
                     log::SignedLog& log, bool reprint);

// The tickets of the spool that wait for a reprint, oldest first, with why.
struct Unprinted {
    std::string ticketId, why;
};
// An unreadable spool is an error, never "nothing pending".
Result<std::vector<Unprinted>> unprinted(const std::string& spoolDir);

}  // namespace kiosk::ticket
