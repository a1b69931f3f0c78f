// Byte-level encoding of protocol payloads: little-endian integers and
// length-prefixed strings. The decoder treats its input as hostile: every read
// is bounds-checked and every string length is capped.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qkiosk/base/Result.h"
#include "qkiosk/base/Text.h"

namespace kiosk::proto {

class Encoder {
public:
    void u8(std::uint8_t v) { bytes_.push_back(v); }
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void str(std::string_view s);
    void raw(std::span<const std::uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }

    const std::vector<std::uint8_t>& bytes() const { return bytes_; }
    std::vector<std::uint8_t> take() { return std::move(bytes_); }

private:
    std::vector<std::uint8_t> bytes_;
};

class Decoder {
public:
    explicit Decoder(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    Result<std::uint8_t> u8();
    Result<std::uint32_t> u32();
    Result<std::uint64_t> u64();
    // A string of at most `maxLen` bytes that must be valid UTF-8 without NUL.
    Result<std::string> str(std::size_t maxLen);
    Status raw(std::span<std::uint8_t> out);
    // The whole payload must have been consumed: trailing bytes are an error.
    Status finish() const;

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

// isValidUtf8 (qkiosk/base/Text.h): what every string on the wire must be.
using kiosk::isValidUtf8;

}  // namespace kiosk::proto
