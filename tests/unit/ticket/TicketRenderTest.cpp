// The ticket's pictures read back with real tools: zbarimg decodes the QR code
// from the PNG, from the ESC/POS raster and from the text form; pdftotext
// finds the Japanese and English lines in the PDF.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "Harness.h"
#include "TicketTestUtil.h"
#include "kiosk/ticket/QrCode.h"
#include "kiosk/ticket/TicketRender.h"

using namespace kiosk::ticket;
using namespace tickettest;

namespace {

// Width and height from a PNG's IHDR chunk.
std::pair<int, int> pngSize(const std::string& png) {
    REQUIRE(png.size() > 24);
    REQUIRE(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    auto be32 = [&](std::size_t i) {
        return static_cast<int>(static_cast<unsigned char>(png[i]) << 24 | static_cast<unsigned char>(png[i + 1]) << 16 |
                                static_cast<unsigned char>(png[i + 2]) << 8 | static_cast<unsigned char>(png[i + 3]));
    };
    return {be32(16), be32(20)};
}

}  // namespace

TEST_CASE("The QR code on a PNG ticket reads back as the signed compact form", "[ticket][png]") {
    requireTools({"zbarimg"});
    qktest::Workspace ws;
    for (std::size_t size : {60u, 700u, 1000u}) {
        SECTION(std::to_string(size) + " characters") {
            const auto payload = compactForm(size);
            auto png = renderPng(sampleLayout(true, payload));
            REQUIRE(png);
            CHECK(pngSize(*png).first == 576);
            const auto path = ws.path() / "ticket.png";
            writeFile(path, *png);
            CHECK(decodeQr(path) == payload);
        }
    }
}

TEST_CASE("A 700-character QR code keeps at least 3 dots per module at 576 dots", "[ticket][qr]") {
    auto qr = encodeQr(compactForm(700));
    REQUIRE(qr);
    CHECK(qr->size == 17 + 4 * qr->version);
    const int modules = qr->size + 2 * kQrQuietZone;
    CHECK(576 / modules >= kMinDotsPerModule);
    // And the largest payload the issue allows (~1000) still does.
    auto big = encodeQr(compactForm(1000));
    REQUIRE(big);
    CHECK(576 / (big->size + 2 * kQrQuietZone) >= kMinDotsPerModule);
}

TEST_CASE("The PDF ticket carries the headline and every line as text", "[ticket][pdf]") {
    requireTools({"pdftotext", "pdfinfo"});
    qktest::Workspace ws;
    const auto path = ws.path() / "ticket.pdf";

    SECTION("PASS") {
        auto pdf = renderPdf(sampleLayout(true, compactForm(700)));
        REQUIRE(pdf);
        CHECK(pdf->starts_with("%PDF-"));
        writeFile(path, *pdf);
        const auto text = pdfText(path);
        INFO(text);
        CHECK(text.find("PASS") != std::string::npos);
        CHECK(text.find("合格") != std::string::npos);
        CHECK(text.find("不合格") == std::string::npos);
        for (const auto& line : sampleLayout(true, "").lines) CHECK(containsWrapped(text, line));
        CHECK(text.find("日時 Time: 2026-11-27 03:43:24\n") != std::string::npos);  // short: one line, as it is
        // One page, 80 mm wide (226.77 pt).
        const auto info = qktest::run({"pdfinfo", path.string()});
        INFO(info.out);
        CHECK(info.out.find("Page size:       226.77") != std::string::npos);
        CHECK(info.out.find("Pages:           1\n") != std::string::npos);
    }
    SECTION("FAIL") {
        auto pdf = renderPdf(sampleLayout(false, compactForm(300)));
        REQUIRE(pdf);
        writeFile(path, *pdf);
        const auto text = pdfText(path);
        INFO(text);
        CHECK(text.find("FAIL") != std::string::npos);
        CHECK(text.find("不合格") != std::string::npos);
        for (const auto& line : sampleLayout(false, "").lines) CHECK(containsWrapped(text, line));
    }
    SECTION("long lines wrap onto the page: every character is there, none is off the page") {
        auto layout = sampleLayout(false, compactForm(200));
        std::string longLine = "理由 Reason: unscannable ";
        for (int i = 0; i < 40; ++i) longLine += "/p1/深い/フォルダ" + std::to_string(i);
        std::string token(300, 'W');  // no place to break: it must break anywhere
        layout.lines.push_back(longLine);
        layout.lines.push_back(token);
        auto pdf = renderPdf(layout);
        REQUIRE(pdf);
        writeFile(path, *pdf);
        // pdftotext leaves out what lies outside the page.
        const auto text = pdfText(path);
        CHECK(containsWrapped(text, longLine));
        CHECK(containsWrapped(text, token));
    }
}

TEST_CASE("ESC/POS bytes are a monochrome raster of the same ticket, and its QR code reads back", "[ticket][escpos]") {
    requireTools({"zbarimg"});
    qktest::Workspace ws;
    for (int dots : {576, 384}) {
        SECTION(std::to_string(dots) + " dots wide") {
            const auto payload = compactForm(dots == 576 ? 700 : 250);
            auto bytes = renderEscPos(sampleLayout(false, payload), dots);
            REQUIRE(bytes);
            const auto bm = parseEscPos(*bytes);
            CHECK(bm.width == dots);
            // The same picture as the PNG of that width, only thresholded.
            auto png = renderPng(sampleLayout(false, payload), dots);
            REQUIRE(png);
            CHECK(pngSize(*png) == std::make_pair(bm.width, bm.height));
            const auto pbm = ws.path() / "raster.pbm";
            writePbm(bm, pbm);
            CHECK(decodeQr(pbm) == payload);
        }
    }
    SECTION("a width that is not a multiple of 8 is refused") {
        auto bytes = renderEscPos(sampleLayout(true, "x"), 570);
        REQUIRE_FALSE(bytes);
        CHECK(bytes.error().message.find("multiple of 8") != std::string::npos);
    }
}

TEST_CASE("The picture grows with the lines and never draws outside its margins", "[ticket][layout]") {
    auto layout = sampleLayout(false, compactForm(700));
    auto shortTicket = renderEscPos(layout, 576);
    REQUIRE(shortTicket);
    const auto small = parseEscPos(*shortTicket);

    for (int i = 0; i < 30; ++i) layout.lines.push_back("理由 Reason: infected /p1/ドキュメント/" + std::string(120, 'x'));
    auto longTicket = renderEscPos(layout, 576);
    REQUIRE(longTicket);
    const auto big = parseEscPos(*longTicket);
    CHECK(big.height > small.height + 30 * 3 * 26);  // 30 lines wrapping to at least 3 rows each

    // The outer 10 dots on either side stay white from top to bottom: the
    // wrapped text, the headline band and the QR code are all inside.
    int blackInMargins = 0;
    for (int y = 0; y < big.height; ++y)
        for (int x : {0, 5, 9, 566, 570, 575}) blackInMargins += big.black(x, y);
    CHECK(blackInMargins == 0);
    // The last rows are white too (bottom margin): the QR code's quiet zone is not cut.
    int blackAtBottom = 0;
    for (int y = big.height - 10; y < big.height; ++y)
        for (int x = 0; x < big.width; ++x) blackAtBottom += big.black(x, y);
    CHECK(blackAtBottom == 0);
}

TEST_CASE("PASS and FAIL headlines look different", "[ticket][layout]") {
    // FAIL is white on a black band: many more black dots in the band's rows.
    auto count = [](const Bitmap& bm, int rows) {
        int n = 0;
        for (int y = 0; y < rows; ++y)
            for (int x = 0; x < bm.width; ++x) n += bm.black(x, y);
        return n;
    };
    auto pass = renderEscPos(sampleLayout(true, "QKT1.a.b"));
    auto fail = renderEscPos(sampleLayout(false, "QKT1.a.b"));
    REQUIRE(pass);
    REQUIRE(fail);
    const auto p = parseEscPos(*pass), f = parseEscPos(*fail);
    CHECK(count(f, 100) > 2 * count(p, 100));
}

TEST_CASE("The QR code as text reads back too", "[ticket][text]") {
    requireTools({"zbarimg"});
    qktest::Workspace ws;
    const auto payload = compactForm(700);
    for (bool darkOnLight : {true, false}) {
        SECTION(darkOnLight ? "dark on light" : "light on dark") {
            auto text = qrText(payload, darkOnLight ? QrTextStyle::DarkOnLight : QrTextStyle::LightOnDark);
            REQUIRE(text);
            const auto bm = parseQrText(*text, darkOnLight);
            const auto qr = encodeQr(payload);
            REQUIRE(qr);
            CHECK(bm.width == qr->size + 2 * kQrQuietZone);
            CHECK(bm.height / 2 == (qr->size + 2 * kQrQuietZone + 1) / 2);
            const auto pbm = ws.path() / "text.pbm";
            writePbm(bm, pbm, 4);
            CHECK(decodeQr(pbm) == payload);
        }
    }
}

TEST_CASE("What cannot make a ticket is an error, not a broken picture", "[ticket][errors]") {
    SECTION("an empty QR payload") {
        auto r = renderPng(sampleLayout(true, ""));
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("empty") != std::string::npos);
    }
    SECTION("a payload too large for any QR code") {
        auto r = renderPdf(sampleLayout(true, compactForm(3000)));
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("2331") != std::string::npos);
        CHECK_FALSE(qrText(compactForm(3000)));
    }
    SECTION("a QR code that would need modules under 3 dots") {
        auto r = renderPng(sampleLayout(true, compactForm(700)), 200);
        REQUIRE_FALSE(r);
        INFO(r.error().message);
        CHECK(r.error().message.find("dots") != std::string::npos);
    }
    SECTION("a line that is not UTF-8") {
        auto layout = sampleLayout(true, "QKT1.a.b");
        layout.lines[1] = "Time: \xff\xfe";
        auto r = renderEscPos(layout);
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "ticket line 2: not valid UTF-8");
    }
    SECTION("so many lines that no picture could hold them") {
        auto layout = sampleLayout(true, "QKT1.a.b");
        layout.lines.assign(2000, "理由 Reason: infected");
        auto r = renderPng(layout);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("32767") != std::string::npos);
    }
}

// Run by the next test in a child process whose fontconfig knows no fonts at all.
TEST_CASE("render without fonts", "[.nofonts]") {
    if (!std::getenv("QKIOSK_TEST_NO_FONTS")) {
        SUCCEED("a helper of the next test; it means nothing on its own");
        return;
    }
    const auto layout = sampleLayout(false, compactForm(700));
    const std::string expected =
        "ticket: no font to draw the text with: fontconfig finds none (install fonts-ipafont-gothic)";
    auto png = renderPng(layout);
    REQUIRE_FALSE(png);
    CHECK(png.error().message == expected);
    auto pdf = renderPdf(layout);
    REQUIRE_FALSE(pdf);
    CHECK(pdf.error().message == expected);
    auto escpos = renderEscPos(layout);
    REQUIRE_FALSE(escpos);
    CHECK(escpos.error().message == expected);
    // The QR code as text needs no font.
    CHECK(qrText(layout.qrPayload));
}

TEST_CASE("A kiosk without any font gets a clear error, not a crash or a kilometre of paper", "[ticket][fonts]") {
    qktest::Workspace ws;
    const auto conf = ws.path() / "fonts.conf";
    std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig><cachedir>";
    xml.append((ws.path() / "cache").string()).append("</cachedir></fontconfig>\n");
    writeFile(conf, xml);
    ::setenv("FONTCONFIG_FILE", conf.c_str(), 1);
    ::setenv("QKIOSK_TEST_NO_FONTS", "1", 1);
    const auto r = qktest::run({"/proc/self/exe", "render without fonts"});
    ::unsetenv("FONTCONFIG_FILE");
    ::unsetenv("QKIOSK_TEST_NO_FONTS");
    INFO(r.out << r.err);
    CHECK(r.exitCode == 0);
}
