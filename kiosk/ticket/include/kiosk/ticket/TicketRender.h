// A ticket as pictures: one drawing (cairo + pango, the QR code from
// libqrencode) put on three surfaces — a PDF page, a PNG image and the raster
// image of an ESC/POS receipt printer — and the QR code as text.
//
// The picture is laid out in printer dots: 576 dots is the printable width of
// an 80 mm receipt at 203 dpi. From top to bottom: the headline (PASS in a
// framed band, FAIL white on a black band), the lines (wrapped, never cut),
// and the QR code with its quiet zone. The picture grows downwards until
// everything fits.
#pragma once

#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::ticket {

// What one ticket shows, already formatted (and translated) by the caller.
struct Layout {
    bool pass = false;               // the headline's look: framed (PASS) or inverted (FAIL)
    std::string headline;            // UTF-8, e.g. "PASS  合格"; empty: "PASS  合格" / "FAIL  不合格" from `pass`
    std::vector<std::string> lines;  // UTF-8, each a paragraph; long ones wrap (continuations indented)
    std::string qrPayload;           // the signed compact form (ASCII), up to 2331 bytes
};

// Receipt printers' printable width at 203 dpi: 80 mm paper (72 mm printed).
inline constexpr int kReceiptDots = 576;
// Every QR module is at least this many dots wide, so that a phone or a
// handheld scanner still reads the code from a 203 dpi thermal print.
inline constexpr int kMinDotsPerModule = 3;
// No picture is taller than this (cairo's image limit; 4 m of receipt paper).
inline constexpr int kMaxPictureDots = 32767;

// A PDF of one page, 80 mm wide and as long as the ticket: the 576-dot
// picture at 203 dpi (so it prints 1:1 on a receipt printer's CUPS queue),
// text as real text (searchable, with the Japanese fonts embedded).
Result<std::string> renderPdf(const Layout& layout);

// A PNG `widthPx` pixels wide (grey-scale anti-aliased, white background).
Result<std::string> renderPng(const Layout& layout, int widthPx = kReceiptDots);

// The bytes for an ESC/POS receipt printer `dotsWide` dots wide (a positive
// multiple of 8): ESC @ (initialise), the picture thresholded to black and
// white as GS v 0 raster images of at most 256 rows each, then GS V 66 0
// (feed to the cutter and cut).
Result<std::string> renderEscPos(const Layout& layout, int dotsWide = kReceiptDots);

// How qrText() draws: which modules become block characters.
enum class QrTextStyle {
    DarkOnLight,  // dark modules are blocks: text files, paper, light terminals
    LightOnDark,  // light modules (quiet zone included) are blocks: dark terminals
};

// The QR code drawn with Unicode half blocks (▀ ▄ █ and spaces), two rows of
// modules per line of text, quiet zone included; lines end with '\n'. A
// 700-character payload needs 109 columns and 55 lines.
Result<std::string> qrText(const std::string& payload, QrTextStyle style = QrTextStyle::DarkOnLight);

}  // namespace kiosk::ticket
