// SHA-256 (FIPS 180-4), our own implementation so that every executable can
// hash without pulling a crypto library's licence into the GPL-2 / CPL split.
// Uses the x86 SHA extensions when the CPU has them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kiosk {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
public:
    Sha256();
    void update(std::span<const std::uint8_t> data);
    void update(std::string_view text);
    Digest finish();

    static Digest of(std::span<const std::uint8_t> data);
    static Digest of(std::string_view text);

    // Tests and benchmarks switch the SHA-NI path off to check the portable
    // one. Returns whether the hardware path is now in use.
    static bool useHardware(bool allowed);

private:
    void compress(const std::uint8_t* blocks, std::size_t count);

    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t length_ = 0;
};

std::string toHex(std::span<const std::uint8_t> bytes);

}  // namespace kiosk
