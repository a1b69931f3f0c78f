#include "qkiosk/protocol/Wire.h"

#include <cstring>

namespace kiosk::proto {

void Encoder::u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Encoder::u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Encoder::str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
}

Result<std::uint8_t> Decoder::u8() {
    if (bytes_.size() - pos_ < 1) return makeError("truncated message (u8)");
    return bytes_[pos_++];
}

Result<std::uint32_t> Decoder::u32() {
    if (bytes_.size() - pos_ < 4) return makeError("truncated message (u32)");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{bytes_[pos_ + i]} << (8 * i);
    pos_ += 4;
    return v;
}

Result<std::uint64_t> Decoder::u64() {
    if (bytes_.size() - pos_ < 8) return makeError("truncated message (u64)");
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{bytes_[pos_ + i]} << (8 * i);
    pos_ += 8;
    return v;
}

Result<std::string> Decoder::str(std::size_t maxLen) {
    auto len = u32();
    if (!len) return len.error();
    if (*len > maxLen) return makeError("string of " + std::to_string(*len) + " bytes exceeds limit " + std::to_string(maxLen));
    if (bytes_.size() - pos_ < *len) return makeError("truncated message (string)");
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), *len);
    pos_ += *len;
    if (!isValidUtf8(s)) return makeError("string is not valid UTF-8");
    return s;
}

Status Decoder::raw(std::span<std::uint8_t> out) {
    if (bytes_.size() - pos_ < out.size()) return makeError("truncated message (bytes)");
    std::memcpy(out.data(), bytes_.data() + pos_, out.size());
    pos_ += out.size();
    return {};
}

Status Decoder::finish() const {
    if (pos_ != bytes_.size()) return makeError(std::to_string(bytes_.size() - pos_) + " trailing bytes in message");
    return {};
}


}  // namespace kiosk::proto
