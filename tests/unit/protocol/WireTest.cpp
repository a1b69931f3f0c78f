#include <catch2/catch.hpp>

#include "qkiosk/protocol/Wire.h"

using namespace kiosk::proto;

TEST_CASE("Decoder reads back what Encoder wrote", "[Wire]") {
    Encoder e;
    e.u8(7);
    e.u32(0xdeadbeef);
    e.u64(0x0123456789abcdefULL);
    e.str("検査結果.txt");
    Decoder d(e.bytes());
    CHECK(*d.u8() == 7);
    CHECK(*d.u32() == 0xdeadbeef);
    CHECK(*d.u64() == 0x0123456789abcdefULL);
    CHECK(*d.str(100) == "検査結果.txt");
    CHECK(d.finish().ok());
}

TEST_CASE("Decoder refuses hostile input", "[Wire]") {
    SECTION("truncated integers") {
        const std::vector<std::uint8_t> three{1, 2, 3};
        Decoder d(three);
        CHECK_FALSE(d.u32().ok());
    }
    SECTION("a string longer than its cap") {
        Encoder e;
        e.str(std::string(100, 'x'));
        Decoder d(e.bytes());
        auto s = d.str(99);
        REQUIRE_FALSE(s.ok());
        CHECK_THAT(s.error().message, Catch::Contains("exceeds limit"));
    }
    SECTION("a string whose length runs past the end") {
        Encoder e;
        e.u32(1000);
        e.u8('a');
        Decoder d(e.bytes());
        CHECK_FALSE(d.str(5000).ok());
    }
    SECTION("invalid UTF-8 and embedded NUL") {
        for (const std::string& bad : {std::string("a\xff"), std::string("a\0b", 3), std::string("\xc0\xaf"),
                                      std::string("\xed\xa0\x80"), std::string("\xe6\x97")}) {
            Encoder e;
            e.str(bad);
            Decoder d(e.bytes());
            CHECK_FALSE(d.str(100).ok());
        }
    }
    SECTION("trailing bytes") {
        Encoder e;
        e.u8(1);
        e.u8(2);
        Decoder d(e.bytes());
        (void)d.u8();
        CHECK_FALSE(d.finish().ok());
    }
}
