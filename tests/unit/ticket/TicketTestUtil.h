// Helpers for the ticket tests: read what the renderers made with real tools
// (zbarimg, pdftotext) and parse ESC/POS bytes back into a bitmap.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kiosk/ticket/TicketRender.h"

namespace tickettest {

namespace fs = std::filesystem;

// A signed compact form's shape: "QKT1.<payload>.<signature>", `size` characters of base64url.
std::string compactForm(std::size_t size);

kiosk::ticket::Layout sampleLayout(bool pass, const std::string& payload);

// Ends the test process with 77 (SKIP) when a tool is missing.
void requireTools(const std::vector<std::string>& tools);

// zbarimg's reading of the QR code in an image file ("" if none).
std::string decodeQr(const fs::path& image);
// pdftotext's text of a PDF.
std::string pdfText(const fs::path& pdf);
// Whether `line` is in pdftotext's output, maybe wrapped over several lines
// (pdftotext joins a line that ends in a hyphen to the next and drops the hyphen).
bool containsWrapped(const std::string& text, const std::string& line);

struct Bitmap {
    int width = 0, height = 0;            // in dots
    std::vector<std::uint8_t> rows;       // packed, 1 = black, leftmost dot in the high bit
    bool black(int x, int y) const {
        return (rows[static_cast<std::size_t>(y) * ((width + 7) / 8) + x / 8] >> (7 - x % 8)) & 1;
    }
};

// ESC/POS bytes as renderEscPos() writes them, checked command by command
// (Catch REQUIREs): ESC @, GS v 0 bands, GS V 66 0. Returns the raster.
Bitmap parseEscPos(const std::string& bytes);

// A binary PBM of the bitmap, each dot `scale` × `scale` pixels.
void writePbm(const Bitmap& bitmap, const fs::path& path, int scale = 1);

// The QR code text of qrText() as a bitmap (one dot per module).
Bitmap parseQrText(const std::string& text, bool darkOnLight);

void writeFile(const fs::path& path, const std::string& bytes);
std::string readFile(const fs::path& path);

}  // namespace tickettest
