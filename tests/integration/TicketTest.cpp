// Signed tickets through the real `qkiosk`: scan --ticket issues one, verify
// checks it against the media on the closed-network side (real FAT images
// changed with mtools after the scan).
#include <catch2/catch.hpp>

#include "Harness.h"

using namespace qktest;

namespace {

struct TicketSite {
    Workspace ws;
    fs::path config, pubkey;
    TicketSite() {
        config = ws.write("k.toml", "kiosk_id = \"kiosk-3F\"\nkiosk_key = \"" + (ws.path() / "kiosk.key").string() + "\"\n");
    }
    // The public key file an officer hands to the clinical workstations.
    fs::path publishKey() {
        const auto out = run({QKIOSK_BIN, "log", "pubkey", "--config", config.string()});
        REQUIRE(out.exitCode == 0);
        return ws.write("kiosk.pub", "# kiosk 3F, entrance\n" + out.out);
    }
    RunResult verify(const fs::path& ticket, const fs::path& image, const fs::path& key) {
        return run({QKIOSK_BIN, "verify", "--ticket", ticket.string(), "--image", image.string(), "--pubkey", key.string()});
    }
};

}  // namespace

TEST_CASE("A ticket verifies against the media it was issued for, and names every file changed after the scan", "[ticket]") {
    requireTool("mcopy");
    TicketSite site;
    auto& ws = site.ws;
    ws.write("stick/書類/予定.txt", "月曜 9:00\n");
    ws.write("stick/notes.txt", "bed 12\n");
    ws.write("stick/old.txt", "old\n");
    const auto img = makeImage(ws, "stick.img", "fat16", "none", ws.path() / "stick");
    const auto ticket = ws.path() / "stick.ticket";
    const auto scan = scanImage(ws, img, {"--config", site.config.string(), "--ticket", ticket.string()});
    REQUIRE(scan.exitCode == 0);
    const auto text = slurp(ticket);
    CHECK_THAT(text, Catch::Contains("合格 PASS") && Catch::Contains("kiosk-3F") &&
                         Catch::Contains(scan.report.at("manifest_sha256").get<std::string>()) &&
                         Catch::Contains(scan.report.at("ticket_id").get<std::string>()));
    const auto key = site.publishKey();

    auto v = site.verify(ticket, img, key);
    INFO(v.out << v.err);
    CHECK(v.exitCode == 0);
    CHECK_THAT(v.out, Catch::Contains("OK: the media is the one the kiosk scanned"));

    // After the scan, somebody adds a program, edits a note and deletes a file.
    const auto added = ws.write("payload.exe", "MZ not really\n");
    REQUIRE(run({"mcopy", "-i", img.string(), added.string(), "::/payload.exe"}).exitCode == 0);
    const auto edited = ws.write("notes.txt", "bed 12 and 13\n");
    REQUIRE(run({"mcopy", "-o", "-i", img.string(), edited.string(), "::/notes.txt"}).exitCode == 0);
    REQUIRE(run({"mdel", "-i", img.string(), "::/old.txt"}).exitCode == 0);
    v = site.verify(ticket, img, key);
    INFO(v.out << v.err);
    CHECK(v.exitCode == 1);
    CHECK_THAT(v.out, Catch::Contains("MISMATCH: the media changed after the scan") &&
                          Catch::Contains("added    /p0/payload.exe") && Catch::Contains("changed  /p0/notes.txt") &&
                          Catch::Contains("removed  /p0/old.txt"));
    CHECK(v.out.find("書類") == std::string::npos);   // unchanged files are not named
}

TEST_CASE("A ticket with any byte changed, or signed by another kiosk, is refused", "[ticket]") {
    TicketSite site;
    auto& ws = site.ws;
    ws.write("stick/a.txt", "a\n");
    ws.write("stick/b.txt", "b\n");
    const auto img = makeImage(ws, "stick.img", "fat16", "none", ws.path() / "stick");
    const auto ticket = ws.path() / "t.ticket";
    REQUIRE(scanImage(ws, img, {"--config", site.config.string(), "--ticket", ticket.string()}).exitCode == 0);
    const auto key = site.publishKey();
    const auto text = slurp(ticket);
    REQUIRE(site.verify(ticket, img, key).exitCode == 0);

    // One byte, in each part of the ticket: the words, the compact form, the manifest, the signature.
    for (const std::string& where : {std::string("合格 PASS"), std::string("compact: QKT1.e"), std::string(" \"/p0/b.txt\""),
                                     std::string("signature: ")}) {
        DYNAMIC_SECTION("changed near \"" << where << "\"") {
            auto forged = text;
            const auto at = forged.find(where);
            REQUIRE(at != std::string::npos);
            const auto pos = at + where.size() - 1;
            forged[pos] = forged[pos] == 'A' ? 'B' : 'A';
            const auto f = ws.write("forged.ticket", forged);
            const auto v = site.verify(f, img, key);
            INFO(v.out << v.err);
            CHECK(v.exitCode == 1);
            CHECK_THAT(v.out, Catch::Contains("MISMATCH: " + f.string()));
        }
    }
    SECTION("a ticket cut short") {
        const auto f = ws.write("cut.ticket", text.substr(0, text.size() / 2));
        CHECK(site.verify(f, img, key).exitCode == 1);
    }
    SECTION("another kiosk's key") {
        TicketSite other;
        const auto v = site.verify(ticket, img, other.publishKey());
        CHECK(v.exitCode == 1);
        CHECK_THAT(v.out, Catch::Contains("does not verify with the kiosk's public key"));
    }
    SECTION("a key file that is not one is an input error") {
        const auto bad = ws.write("bad.pub", "hello\n");
        const auto v = site.verify(ticket, img, bad);
        CHECK(v.exitCode == 2);
        CHECK_THAT(v.err, Catch::Contains("bad.pub: not a qkiosk-kiosk-public file"));
    }
}

TEST_CASE("The QR code's compact form alone verifies the media by its manifest, and a FAIL ticket never lets media in", "[ticket]") {
    requireTool("mcopy");
    TicketSite site;
    auto& ws = site.ws;
    ws.write("clean/a.txt", "a\n");
    ws.write("dirty/a.txt", "a\n");
    ws.write("dirty/eicar.com", eicar());
    const auto clean = makeImage(ws, "clean.img", "fat16", "none", ws.path() / "clean");
    const auto dirty = makeImage(ws, "dirty.img", "fat16", "none", ws.path() / "dirty");
    const auto cleanTicket = ws.path() / "clean.ticket", dirtyTicket = ws.path() / "dirty.ticket";
    REQUIRE(scanImage(ws, clean, {"--config", site.config.string(), "--ticket", cleanTicket.string()}).exitCode == 0);
    REQUIRE(scanImage(ws, dirty, {"--config", site.config.string(), "--ticket", dirtyTicket.string()}).exitCode == 1);
    const auto key = site.publishKey();

    // What a barcode reader types when it reads the printed QR code.
    const auto text = slurp(cleanTicket);
    const auto at = text.find("compact: ") + 9;
    const auto qr = ws.write("qr.txt", text.substr(at, text.find('\n', at) - at) + "\n");
    auto v = site.verify(qr, clean, key);
    INFO(v.out << v.err);
    CHECK(v.exitCode == 0);
    REQUIRE(run({"mcopy", "-i", clean.string(), (ws.path() / "qr.txt").string(), "::/new.txt"}).exitCode == 0);
    v = site.verify(qr, clean, key);
    CHECK(v.exitCode == 1);
    CHECK_THAT(v.out, Catch::Contains("its manifest differs"));

    const auto fail = site.verify(dirtyTicket, dirty, key);
    CHECK(fail.exitCode == 1);
    CHECK_THAT(fail.out, Catch::Contains("FAIL: the ticket says FAIL"));
    CHECK_THAT(slurp(dirtyTicket), Catch::Contains("不合格 FAIL") && Catch::Contains("マルウェアを検出 malware found: /p0/eicar.com"));
}

TEST_CASE("A medium that can no longer be read completely does not verify, and a rendered ticket's QR code reads back",
          "[ticket]") {
    requireTool("zbarimg");
    TicketSite site;
    auto& ws = site.ws;
    ws.write("stick/a.txt", std::string(200000, 'a'));
    ws.write("stick/b.txt", "b\n");
    const auto img = makeImage(ws, "stick.img", "fat16", "none", ws.path() / "stick");
    const auto ticket = ws.path() / "t.ticket";
    REQUIRE(scanImage(ws, img, {"--config", site.config.string(), "--ticket", ticket.string()}).exitCode == 0);
    const auto key = site.publishKey();

    // What the printed QR code says is the signed compact form, exactly.
    const auto png = ws.path() / "t.png";
    const auto rendered = run({QKIOSK_BIN, "ticket", "render", ticket.string(), "--format", "png", "--out", png.string(),
                               "--pubkey", key.string(), "--config", site.config.string()});
    INFO(rendered.out << rendered.err);
    REQUIRE(rendered.exitCode == 0);
    const auto text = slurp(ticket);
    const auto at = text.find("compact: ") + 9;
    CHECK(run({"zbarimg", "-q", "--raw", png.string()}).out == text.substr(at, text.find('\n', at) - at) + "\n");

    // The stick is cut short (a bad copy, a failing stick): not the medium that passed.
    std::filesystem::resize_file(img, 64 * 1024);
    const auto v = site.verify(ticket, img, key);
    INFO(v.out << v.err);
    CHECK(v.exitCode == 1);
    CHECK_THAT(v.out, Catch::Contains("MISMATCH"));
    CHECK(v.out.find("OK: ") == std::string::npos);
}
