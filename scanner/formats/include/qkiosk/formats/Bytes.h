// Fields read from untrusted bytes, little- or big-endian: every reader of a
// format's headers (the format identifier, the zip directory, installers,
// the media's layout) reads through these. A field that does not lie wholly
// inside the bytes reads as 0 (and a signature there as absent), so no
// offset from a hostile header can read out of bounds.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace kiosk::formats::bytes {

using Bytes = std::span<const std::uint8_t>;

inline bool fits(Bytes b, std::uint64_t offset, std::uint64_t n) { return offset <= b.size() && b.size() - offset >= n; }

inline bool hasAt(Bytes b, std::uint64_t offset, std::string_view magic) {
    return fits(b, offset, magic.size()) && std::memcmp(b.data() + offset, magic.data(), magic.size()) == 0;
}

inline std::uint16_t le16(Bytes b, std::uint64_t o) {
    return fits(b, o, 2) ? static_cast<std::uint16_t>(b[o] | (b[o + 1] << 8)) : 0;
}
inline std::uint32_t le32(Bytes b, std::uint64_t o) {
    if (!fits(b, o, 4)) return 0;
    return static_cast<std::uint32_t>(b[o]) | (static_cast<std::uint32_t>(b[o + 1]) << 8) |
           (static_cast<std::uint32_t>(b[o + 2]) << 16) | (static_cast<std::uint32_t>(b[o + 3]) << 24);
}
inline std::uint64_t le64(Bytes b, std::uint64_t o) {
    return fits(b, o, 8) ? static_cast<std::uint64_t>(le32(b, o)) | (static_cast<std::uint64_t>(le32(b, o + 4)) << 32) : 0;
}
inline std::uint16_t be16(Bytes b, std::uint64_t o) {
    return fits(b, o, 2) ? static_cast<std::uint16_t>((b[o] << 8) | b[o + 1]) : 0;
}
inline std::uint32_t be32(Bytes b, std::uint64_t o) {
    return fits(b, o, 4) ? (static_cast<std::uint32_t>(be16(b, o)) << 16) | be16(b, o + 2) : 0;
}

}  // namespace kiosk::formats::bytes
