#include "qkiosk/formats/Installers.h"

#include "qkiosk/formats/Bytes.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <vector>

namespace kiosk::formats {
namespace {

using namespace bytes;

struct Section {
    std::uint32_t va = 0, virtualSize = 0, rawOffset = 0, rawSize = 0;
};

// The parts of a PE image the checks below need.
struct Program {
    std::vector<Section> sections;
    std::uint32_t resourceRva = 0, resourceSize = 0;
    std::uint64_t imageEnd = 0;   // end of the last section's bytes in the file
};

std::optional<Program> readProgram(Bytes b) {
    if (!hasAt(b, 0, "MZ")) return std::nullopt;
    const std::uint64_t pe = le32(b, 0x3C);
    if (!hasAt(b, pe, std::string_view("PE\0\0", 4)) || !fits(b, pe, 24)) return std::nullopt;
    const std::uint16_t count = le16(b, pe + 6);
    const std::uint16_t optSize = le16(b, pe + 20);
    const std::uint64_t opt = pe + 24;
    if (count == 0 || count > 96 || !fits(b, opt, optSize)) return std::nullopt;
    Program p;
    const std::uint16_t magic = le16(b, opt);
    const std::uint64_t dirs = magic == 0x20B ? opt + 112 : magic == 0x10B ? opt + 96 : 0;
    const std::uint64_t dirCount = magic == 0x20B ? le32(b, opt + 108) : le32(b, opt + 92);
    if (dirs && dirCount > 2 && dirs + 3 * 8 <= opt + optSize) {
        p.resourceRva = le32(b, dirs + 2 * 8);
        p.resourceSize = le32(b, dirs + 2 * 8 + 4);
    }
    const std::uint64_t table = opt + optSize;
    if (!fits(b, table, 40ull * count)) return std::nullopt;
    for (std::uint16_t i = 0; i < count; ++i) {
        const std::uint64_t s = table + 40ull * i;
        Section sec{le32(b, s + 12), le32(b, s + 8), le32(b, s + 20), le32(b, s + 16)};
        if (sec.rawSize > 0) p.imageEnd = std::max<std::uint64_t>(p.imageEnd, std::uint64_t{sec.rawOffset} + sec.rawSize);
        p.sections.push_back(sec);
    }
    return p;
}

std::optional<std::uint64_t> fileOffset(const Program& p, Bytes b, std::uint32_t rva) {
    for (const auto& s : p.sections) {
        const std::uint32_t span = std::max(s.virtualSize, s.rawSize);
        if (rva >= s.va && rva - s.va < span && rva - s.va < s.rawSize) {
            const std::uint64_t off = std::uint64_t{s.rawOffset} + (rva - s.va);
            if (off < b.size()) return off;
        }
    }
    return std::nullopt;
}

// The entry `id` of a resource directory (at `dir`, relative to the resource
// section `base`): its offset field, or nullopt. Only numbered entries.
std::optional<std::uint32_t> resourceEntry(Bytes b, std::uint64_t base, std::uint64_t dir, std::optional<std::uint32_t> id) {
    const std::uint64_t named = le16(b, base + dir + 12), numbered = le16(b, base + dir + 14);
    if (!fits(b, base + dir, 16 + 8 * (named + numbered))) return std::nullopt;
    for (std::uint64_t i = named; i < named + numbered; ++i) {
        const std::uint64_t e = base + dir + 16 + 8 * i;
        if (!id || le32(b, e) == *id) return le32(b, e + 4);
    }
    return std::nullopt;
}

// The data of resource type/name (any language), as an offset in the file.
std::optional<std::uint64_t> findResource(const Program& p, Bytes b, std::uint32_t type, std::uint32_t name) {
    if (p.resourceRva == 0) return std::nullopt;
    const auto base = fileOffset(p, b, p.resourceRva);
    if (!base) return std::nullopt;
    constexpr std::uint32_t kSubdirectory = 0x80000000u;
    const auto t = resourceEntry(b, *base, 0, type);
    if (!t || !(*t & kSubdirectory)) return std::nullopt;
    const auto n = resourceEntry(b, *base, *t & ~kSubdirectory, name);
    if (!n || !(*n & kSubdirectory)) return std::nullopt;
    const auto lang = resourceEntry(b, *base, *n & ~kSubdirectory, std::nullopt);
    if (!lang || (*lang & kSubdirectory)) return std::nullopt;
    const std::uint64_t data = *base + *lang;   // IMAGE_RESOURCE_DATA_ENTRY: RVA, size, code page, reserved
    if (!fits(b, data, 16)) return std::nullopt;
    return fileOffset(p, b, le32(b, data));
}

// Inno Setup's loader finds its "offset table" through a pointer at 0x30
// (before 5.1.5) or in resource RCDATA #11111 (5.1.5 and later); the table,
// checked by its CRC-32 since 4.0.10, points at the setup data, which begins
// with "Inno Setup Setup Data (x.y.z)". This follows innoextract's loader.
struct TableLayout {
    std::array<std::uint8_t, 12> magic;
    bool revision, compressedSize, messageOffset, crc;
};
constexpr TableLayout kInnoTables[] = {
    {{'r', 'D', 'l', 'P', 't', 'S', '0', '2', 0x87, 'e', 'V', 'x'}, false, true, true, false},     // 1.2.10
    {{'r', 'D', 'l', 'P', 't', 'S', '0', '4', 0x87, 'e', 'V', 'x'}, false, true, false, false},    // 4.0.0
    {{'r', 'D', 'l', 'P', 't', 'S', '0', '5', 0x87, 'e', 'V', 'x'}, false, true, false, false},    // 4.0.3
    {{'r', 'D', 'l', 'P', 't', 'S', '0', '6', 0x87, 'e', 'V', 'x'}, false, true, false, true},     // 4.0.10
    {{'r', 'D', 'l', 'P', 't', 'S', '0', '7', 0x87, 'e', 'V', 'x'}, false, false, false, true},    // 4.1.6
    {{'r', 'D', 'l', 'P', 't', 'S', 0xCD, 0xE6, 0xD7, '{', 0x0B, '*'}, true, false, false, true},  // 5.1.5
};

bool innoOffsetTable(Bytes b, std::uint64_t at) {
    if (!fits(b, at, 12)) return false;
    for (const auto& t : kInnoTables) {
        if (std::memcmp(b.data() + at, t.magic.data(), t.magic.size()) != 0) continue;
        // magic, [revision], total size, exe offset, [exe compressed size],
        // exe size, exe checksum, [message offset], header offset, data offset, [CRC-32]
        std::uint64_t p = at + 12;
        std::uint64_t covered = 12;
        if (t.revision) {
            if (le32(b, p) != 1) return false;
            p += 4;
            covered += 4;
        }
        const unsigned before = 4u + (t.compressedSize ? 1u : 0u);   // total .. exe checksum
        p += 4ull * before;
        covered += 4ull * before;
        if (t.messageOffset) p += 4;   // not under the checksum
        const std::uint64_t header = le32(b, p);
        p += 8;
        covered += 8;
        if (!fits(b, at, p - at + (t.crc ? 4 : 0))) return false;
        if (t.crc) {
            const std::uint32_t stored = le32(b, p);
            // The message offset (only in layouts without a CRC) never sits inside the covered bytes.
            const auto crc = ::crc32(0L, b.data() + at, static_cast<uInt>(covered));
            if (crc != stored) return false;
        }
        return hasAt(b, header, "Inno Setup Setup Data (") || hasAt(b, header, "My Inno Setup Extensions Setup Data (");
    }
    return false;
}

bool innoSetup(const Program& p, Bytes b) {
    if (le32(b, 0x30) == 0x6F6E6E49u) {   // "Inno"
        const std::uint32_t table = le32(b, 0x34);
        if (table == ~le32(b, 0x38) && innoOffsetTable(b, table)) return true;
    }
    constexpr std::uint32_t kRcData = 10, kInnoResource = 11111;
    const auto table = findResource(p, b, kRcData, kInnoResource);
    return table && innoOffsetTable(b, *table);
}

// NSIS appends its "first header" (flags, 0xDEADBEEF, "NullsoftInst") at a
// 512-byte boundary after the installer's own image; its loader looks there.
bool nsis(const Program& p, Bytes b) {
    const std::uint64_t from = p.imageEnd / 512 * 512;
    for (std::uint64_t at = from; at <= from + 64 * 1024 && fits(b, at, 28); at += 512)
        if (hasAt(b, at + 4, "\xEF\xBE\xAD\xDENullsoftInst")) return true;
    return false;
}

// A compound file whose root storage has the class of a Windows Installer
// package ({000C1084-0000-0000-C000-000000000046}) or patch (...1086...).
bool msi(Bytes b) {
    if (!hasAt(b, 0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) return false;
    const std::uint16_t shift = le16(b, 30);
    if (shift != 9 && shift != 12) return false;
    const std::uint64_t first = le32(b, 48);
    if (first >= 0xFFFFFFFAu) return false;
    const std::uint64_t root = (first + 1) << shift;
    if (!fits(b, root, 128) || b[root + 66] != 5) return false;   // 5: the root storage
    static constexpr std::uint8_t kTail[] = {0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
    const std::uint8_t* clsid = b.data() + root + 80;
    return (clsid[0] == 0x84 || clsid[0] == 0x86) && clsid[1] == 0x10 && clsid[2] == 0x0C && clsid[3] == 0x00 &&
           std::memcmp(clsid + 4, kTail, sizeof kTail) == 0;
}

}  // namespace

std::optional<Identity> identifyInstaller(std::span<const std::uint8_t> content) {
    if (msi(content)) return Identity{Format::Msi, Kind::Installer, "a Windows Installer (MSI) package"};
    const auto program = readProgram(content);
    if (!program) return std::nullopt;
    if (innoSetup(*program, content)) return Identity{Format::InnoSetup, Kind::Installer, "an Inno Setup installer"};
    if (nsis(*program, content)) return Identity{Format::Nsis, Kind::Installer, "an NSIS installer"};
    return std::nullopt;
}

std::optional<std::uint64_t> programOverlay(std::span<const std::uint8_t> content) {
    const auto program = readProgram(content);
    if (!program || program->imageEnd == 0 || program->imageEnd >= content.size()) return std::nullopt;
    return program->imageEnd;
}

}  // namespace kiosk::formats
