#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "qkiosk/base/Sha256.h"

using kiosk::Sha256;
using kiosk::toHex;

namespace {
std::string hexOf(std::string_view s) { return toHex(Sha256::of(s)); }
}

TEST_CASE("SHA-256 matches the FIPS 180-4 test vectors", "[Sha256]") {
    for (const bool hw : {true, false}) {
        Sha256::useHardware(hw);
        SECTION(std::string("with the ") + (hw ? "hardware" : "portable") + " path") {
            CHECK(hexOf("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
            CHECK(hexOf("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            CHECK(hexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
            Sha256 h;
            const std::string chunk(1000, 'a');
            for (int i = 0; i < 1000; ++i) h.update(chunk);
            CHECK(toHex(h.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        }
    }
    Sha256::useHardware(true);
}

TEST_CASE("SHA-256 gives the same digest however the input is split", "[Sha256]") {
    std::mt19937 rng(42);
    std::vector<std::uint8_t> data(100000);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    Sha256::useHardware(false);
    const auto portable = Sha256::of(data);
    Sha256::useHardware(true);
    const auto whole = Sha256::of(data);
    CHECK(whole == portable);
    for (std::size_t step : {1u, 63u, 64u, 65u, 4095u}) {
        Sha256 h;
        for (std::size_t off = 0; off < data.size(); off += step)
            h.update(std::span(data.data() + off, std::min(step, data.size() - off)));
        CHECK(h.finish() == whole);
    }
}
