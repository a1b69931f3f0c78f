// Turning names read from hostile media into text that is safe to print, log
// and put in JSON: valid UTF-8, no control characters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiosk {

bool isValidUtf8(std::string_view s);

// Keeps valid UTF-8 as it is; writes every invalid byte, control character and
// backslash as a "\xNN" escape so that distinct names stay distinct.
std::string printableName(std::string_view raw);

// At most `maxBytes` bytes of valid UTF-8 `s`, never cutting a character in two.
std::string truncateUtf8(std::string_view s, std::size_t maxBytes);

// "3.1 KiB": sizes for people (binary units, as df -h); "512 bytes" below 1 KiB.
std::string humanBytes(std::uint64_t bytes);

}  // namespace kiosk
