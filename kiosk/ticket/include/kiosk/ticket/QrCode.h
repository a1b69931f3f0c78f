// The QR code of a ticket: libqrencode's symbol as a plain matrix of modules,
// so that every output (pictures, receipt printers, text) draws the same one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::ticket {

// Modules of white around the symbol that every drawing keeps (ISO/IEC 18004).
inline constexpr int kQrQuietZone = 4;
// What version 40 holds in 8-bit mode at error correction level M.
inline constexpr std::size_t kQrMaxBytes = 2331;

struct QrCode {
    int version = 0;               // 1..40, the smallest that holds the payload
    int size = 0;                  // modules per side, without the quiet zone
    std::vector<std::uint8_t> dark;  // size × size, row by row: 1 = dark module

    bool at(int x, int y) const { return dark[static_cast<std::size_t>(y) * size + x] != 0; }
};

// Error correction level M, 8-bit mode, the version chosen automatically.
// Any bytes are taken (NUL included); an empty payload or one too long for
// version 40 (2331 bytes at level M) is an error.
Result<QrCode> encodeQr(const std::string& payload);

}  // namespace kiosk::ticket
