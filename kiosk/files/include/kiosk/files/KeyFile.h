// Keys and signatures as text: "<tag> <hex>" lines, so that a key can be
// printed, mailed and compared by eye, and a file says what it holds. Used for
// the kiosk's key, the site's update-signing keys and bundle signatures.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk {

// "<tag> <hex of bytes>\n"
std::string taggedHexLine(std::string_view tag, const unsigned char* bytes, std::size_t n);

// Every "<tag> <hex>" line of the file at `path`, each exactly `bytes` long.
// Blank lines and '#' comments are skipped; anything else, or no line at all,
// is an error naming the file. `single`: exactly one line is allowed.
Result<std::vector<std::vector<unsigned char>>> readTaggedHex(const std::string& path, std::string_view tag,
                                                              std::size_t bytes, bool single);

// Signatures in tickets and QR codes: base64url without padding (RFC 4648 §5),
// and back (nullopt if `text` is not exactly that).
std::string base64url(std::string_view bytes);
std::optional<std::string> unbase64url(std::string_view text);

}  // namespace kiosk
