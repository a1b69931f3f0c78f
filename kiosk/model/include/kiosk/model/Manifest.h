// The manifest hash: one SHA-256 that identifies the exact content of the media.
// Defined in docs/report-format.md: SHA-256 over the lines
// "<sha256-hex> <size> <path>\n" of every file, sorted by path (byte order).
#pragma once

#include <string>
#include <vector>

#include "kiosk/model/Report.h"

namespace kiosk {

std::string manifestSha256(std::vector<FileRecord> files);

}  // namespace kiosk
