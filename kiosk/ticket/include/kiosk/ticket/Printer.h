// Printing a ticket: through a CUPS queue (the PDF, handed to `lp`) or
// straight to the kiosk's USB receipt printer (ESC/POS raster bytes written to
// its device node). Every step is bounded in time and every failure is an
// error value naming the printer and the reason, so that the caller can log
// it and keep the ticket for a reprint.
#pragma once

#include <chrono>
#include <string>

#include "kiosk/ticket/TicketRender.h"
#include "qkiosk/base/Result.h"

namespace kiosk::ticket {

struct Printer {
    enum Kind { None, Cups, EscPos };
    Kind kind = None;
    std::string target;           // Cups: the queue name; EscPos: the device node (an absolute path)
    std::string server;           // Cups only: "host", "host:port" or a socket path; empty = CUPS' own default
                                  // (CUPS_SERVER, client.conf, /run/cups/cups.sock)
    int dotsWide = kReceiptDots;  // EscPos only: the printer's printable width in dots
};

// The `printer` setting:
//   "none"                             no printer (print() does nothing)
//   "cups:QUEUE"                       a CUPS queue on the default server
//   "cups:QUEUE@SERVER"                ... on SERVER ("printhost", "printhost:631", "/run/cups/cups.sock")
//   "escpos:/dev/usb/lp0"              an ESC/POS printer 576 dots wide (80 mm paper)
//   "escpos:/dev/usb/lp0?dots=384"     ... another width (58 mm paper: 384), a multiple of 8
Result<Printer> parsePrinter(const std::string& spec);

// The spec again, for messages and logs.
std::string describe(const Printer& printer);

struct PrintOptions {
    // For the whole print: CUPS' checks and `lp`, or writing to the device.
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// Cups: checks the queue with `lpstat` (an unknown, stopped or rejecting queue
// is an error with CUPS' reason, and nothing is sent), then pipes the PDF to
// `lp -d QUEUE` (no shell); success means CUPS accepted the job.
// EscPos: writes renderEscPos() to the device node (O_WRONLY|O_NOCTTY|
// O_CLOEXEC|O_NONBLOCK, never created); a printer that stops taking data
// (paper out, cover open) is an error once the timeout has passed.
// None: does nothing.
Status print(const Printer& printer, const Layout& layout, const PrintOptions& options = {});

// Whether the printer can take a ticket now, without printing: the CUPS
// queue as print() checks it; the ESC/POS device node is there and writable.
// (Paper out on an ESC/POS printer shows only when a print stalls.)
Status check(const Printer& printer, std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace kiosk::ticket
