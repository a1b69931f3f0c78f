#include "qkiosk/base/Text.h"

#include <cstdio>

namespace kiosk {

bool isValidUtf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0) return false;
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) { ++i; continue; }
        if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
        else return false;
        if (i + n >= s.size()) return false;  // the sequence runs past the end
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Reject overlong forms, surrogates and code points past U+10FFFF.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}
namespace {

void escapeByte(std::string& out, unsigned char c) {
    char buf[5];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid.
std::size_t validSequence(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    return isValidUtf8(s.substr(i, n)) ? n : 0;
}

}  // namespace

std::string printableName(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    std::size_t i = 0;
    while (i < raw.size()) {
        const auto c = static_cast<unsigned char>(raw[i]);
        if (c < 0x20 || c == 0x7f || c == '\\') {
            escapeByte(out, c);
            ++i;
            continue;
        }
        const std::size_t n = validSequence(raw, i);
        if (n == 0) {
            escapeByte(out, c);
            ++i;
            continue;
        }
        // C1 control characters (U+0080..U+009F) and bidi overrides would let
        // a name disguise itself on screen ("gpj.exe" shown as "exe.jpg").
        const std::string_view seq = raw.substr(i, n);
        const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(seq[1]) < 0xA0;
        const bool bidi = n == 3 && c == 0xE2 &&
                          ((static_cast<unsigned char>(seq[1]) == 0x80 &&
                            (static_cast<unsigned char>(seq[2]) >= 0xAA && static_cast<unsigned char>(seq[2]) <= 0xAE)) ||
                           (static_cast<unsigned char>(seq[1]) == 0x81 &&
                            (static_cast<unsigned char>(seq[2]) >= 0xA6 && static_cast<unsigned char>(seq[2]) <= 0xA9)));
        if (c1 || bidi) {
            for (const char b : seq) escapeByte(out, static_cast<unsigned char>(b));
        } else {
            out.append(seq);
        }
        i += n;
    }
    return out;
}

std::string truncateUtf8(std::string_view s, std::size_t maxBytes) {
    if (s.size() <= maxBytes) return std::string(s);
    std::size_t end = maxBytes;
    // Step back over continuation bytes to the start of the cut character.
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    return std::string(s.substr(0, end));
}

std::string humanBytes(std::uint64_t bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

}  // namespace kiosk
