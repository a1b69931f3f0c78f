#include "TicketTestUtil.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "Harness.h"

namespace tickettest {

std::string compactForm(std::size_t size) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string s = "QKT1.";
    std::uint32_t x = 2463534242u;  // xorshift: the same "random" payload every run
    const std::size_t dot = s.size() + (size - s.size()) * 5 / 6;
    while (s.size() < size) {
        if (s.size() == dot) {
            s.push_back('.');
            continue;
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s.push_back(alphabet[x % 64]);
    }
    return s;
}

kiosk::ticket::Layout sampleLayout(bool pass, const std::string& payload) {
    kiosk::ticket::Layout l;
    l.pass = pass;
    l.headline = pass ? "PASS  合格" : "FAIL  不合格";
    l.lines = {"チケット Ticket: 20261127-034324-aa3c0044",
               "日時 Time: 2026-11-27 03:43:24",
               "装置 Device: 0781:5567 SanDisk Cruzer Blade 4C530001",
               pass ? "ファイル Files: 5 scanned, nothing found" : "理由 Reason: infected /p1/書類/attachments.zip!invoice.com",
               "署名 Signed by kiosk-1"};
    l.qrPayload = payload;
    return l;
}

void requireTools(const std::vector<std::string>& tools) {
    for (const auto& t : tools) qktest::requireTool(t);
}

std::string decodeQr(const fs::path& image) {
    const auto r = qktest::run({"zbarimg", "--raw", "-q", image.string()});
    std::string out = r.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string pdfText(const fs::path& pdf) {
    const auto r = qktest::run({"pdftotext", "-enc", "UTF-8", pdf.string(), "-"});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return r.out;
}

bool containsWrapped(const std::string& text, const std::string& line) {
    auto squeeze = [](const std::string& s) {
        std::string out;
        for (char c : s)
            if (c != ' ' && c != '\n' && c != '\f' && c != '\r' && c != '-') out.push_back(c);
        return out;
    };
    return squeeze(text).find(squeeze(line)) != std::string::npos;
}

Bitmap parseEscPos(const std::string& bytes) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes.at(i)); };
    REQUIRE(bytes.size() > 6);
    REQUIRE(bytes.substr(0, 2) == std::string("\x1b\x40", 2));  // ESC @
    Bitmap bm;
    std::size_t i = 2;
    while (i < bytes.size() && byte(i) == 0x1d && byte(i + 1) == 0x76) {  // GS v 0
        REQUIRE(byte(i + 2) == 0x30);
        REQUIRE(byte(i + 3) == 0x00);  // normal density
        const int widthBytes = byte(i + 4) | byte(i + 5) << 8;
        const int rows = byte(i + 6) | byte(i + 7) << 8;
        REQUIRE(rows >= 1);
        REQUIRE(rows <= 256);
        if (bm.width == 0) bm.width = widthBytes * 8;
        REQUIRE(widthBytes * 8 == bm.width);
        i += 8;
        const auto len = static_cast<std::size_t>(widthBytes) * rows;
        REQUIRE(i + len <= bytes.size());
        bm.rows.insert(bm.rows.end(), bytes.begin() + static_cast<std::ptrdiff_t>(i),
                       bytes.begin() + static_cast<std::ptrdiff_t>(i + len));
        bm.height += rows;
        i += len;
    }
    REQUIRE(bm.height > 0);
    // Nothing else but the cut: GS V 66 0 (feed to the cutter, cut).
    REQUIRE(bytes.substr(i) == std::string("\x1d\x56\x42\x00", 4));
    return bm;
}

void writePbm(const Bitmap& bm, const fs::path& path, int scale) {
    const int w = bm.width * scale, h = bm.height * scale;
    std::string out = "P4\n" + std::to_string(w) + " " + std::to_string(h) + "\n";
    const int rowBytes = (w + 7) / 8;
    for (int y = 0; y < h; ++y) {
        std::string row(static_cast<std::size_t>(rowBytes), '\0');
        for (int x = 0; x < w; ++x)
            if (bm.black(x / scale, y / scale)) row[static_cast<std::size_t>(x / 8)] |= static_cast<char>(0x80 >> (x % 8));
        out += row;
    }
    writeFile(path, out);
}

Bitmap parseQrText(const std::string& text, bool darkOnLight) {
    // Each line: characters of one module's width, each two modules high.
    std::vector<std::vector<int>> lines;  // 0 ' ', 1 upper, 2 lower, 3 full
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<int> cells;
        for (std::size_t i = 0; i < line.size();) {
            if (line[i] == ' ') {
                cells.push_back(0);
                ++i;
            } else if (line.compare(i, 3, "\u2580") == 0) {
                cells.push_back(1);
                i += 3;
            } else if (line.compare(i, 3, "\u2584") == 0) {
                cells.push_back(2);
                i += 3;
            } else if (line.compare(i, 3, "\u2588") == 0) {
                cells.push_back(3);
                i += 3;
            } else {
                FAIL("unexpected byte in the QR text at line " << lines.size() + 1);
            }
        }
        lines.push_back(cells);
    }
    REQUIRE(!lines.empty());
    Bitmap bm;
    bm.width = static_cast<int>(lines[0].size());
    bm.height = static_cast<int>(lines.size()) * 2;
    const int rowBytes = (bm.width + 7) / 8;
    bm.rows.assign(static_cast<std::size_t>(rowBytes) * bm.height, 0);
    for (std::size_t l = 0; l < lines.size(); ++l) {
        REQUIRE(static_cast<int>(lines[l].size()) == bm.width);
        for (int x = 0; x < bm.width; ++x) {
            for (int half = 0; half < 2; ++half) {
                const bool on = lines[l][static_cast<std::size_t>(x)] & (half == 0 ? 1 : 2);
                const bool dark = darkOnLight ? on : !on;
                // The half row below an odd number of module rows is neither: leave it light.
                const int y = static_cast<int>(l) * 2 + half;
                if (dark && !(half == 1 && l + 1 == lines.size() && !darkOnLight))
                    bm.rows[static_cast<std::size_t>(y) * rowBytes + x / 8] |= static_cast<std::uint8_t>(0x80 >> (x % 8));
            }
        }
    }
    return bm;
}

void writeFile(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
    REQUIRE(out.good());
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace tickettest
