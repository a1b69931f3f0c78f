#include "qkiosk/formats/ZipDirectory.h"

#include "qkiosk/formats/Bytes.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

namespace kiosk::formats {
namespace {

using namespace bytes;

constexpr std::uint64_t kEndRecord = 22;         // "PK\5\6" and its fixed fields
constexpr std::uint64_t kZip64Locator = 20;      // "PK\6\7"
constexpr std::uint64_t kZip64EndRecord = 56;    // "PK\6\6" without extensible data
constexpr std::uint64_t kDirectoryEntry = 46;    // "PK\1\2" and its fixed fields
constexpr std::uint32_t kMax32 = 0xFFFFFFFFu;
constexpr std::uint16_t kMax16 = 0xFFFFu;

// The end of central directory record nearest the end: a comment of up to
// 65535 bytes may follow it.
std::optional<std::uint64_t> findEndRecord(Bytes b) {
    if (b.size() < kEndRecord) return std::nullopt;
    const std::uint64_t last = b.size() - kEndRecord;
    const std::uint64_t first = last > 0xFFFF ? last - 0xFFFF : 0;
    for (std::uint64_t p = last + 1; p-- > first;) {
        if (b[p] == 'P' && hasAt(b, p, "PK\x05\x06") && p + kEndRecord + le16(b, p + 20) <= b.size()) return p;
    }
    return std::nullopt;
}

// Zip64 values replace the 32-bit fields that hold 0xFFFFFFFF, in this order.
void applyZip64Extra(Bytes extra, ZipMember& m, bool wideSize, bool wideCompressed, bool wideOffset) {
    std::uint64_t p = 0;
    while (p + 4 <= extra.size()) {
        const std::uint16_t id = le16(extra, p);
        const std::uint16_t len = le16(extra, p + 2);
        if (p + 4 + len > extra.size()) return;
        if (id == 0x0001) {
            std::uint64_t q = p + 4;
            const std::uint64_t end = q + len;
            if (wideSize && q + 8 <= end) { m.size = le64(extra, q); q += 8; }
            if (wideCompressed && q + 8 <= end) { m.compressedSize = le64(extra, q); q += 8; }
            if (wideOffset && q + 8 <= end) m.localHeaderOffset = le64(extra, q);
            return;
        }
        p += 4 + len;
    }
}

}  // namespace

std::string ZipMember::baseName() const {
    const auto slash = name.find_last_of('/');
    return slash == std::string::npos ? name : name.substr(slash + 1);
}

Result<ZipDirectory> readZipDirectory(std::span<const std::uint8_t> b, std::size_t maxMembers) {
    const auto end = findEndRecord(b);
    if (!end) return makeError("no end of central directory record");
    const std::uint64_t e = *end;
    const std::uint16_t disk = le16(b, e + 4), cdDisk = le16(b, e + 6);
    std::uint64_t entries = le16(b, e + 10);
    std::uint64_t cdSize = le32(b, e + 12);
    std::uint64_t cdOffset = le32(b, e + 16);
    std::uint64_t cdEnd = e;   // where the directory really ends in `b`

    if (entries == kMax16 || cdSize == kMax32 || cdOffset == kMax32) {
        if (e < kZip64Locator || !hasAt(b, e - kZip64Locator, "PK\x06\x07"))
            return makeError("a zip64 archive without its zip64 end record locator");
        const std::uint64_t loc = e - kZip64Locator;
        // The zip64 end record sits just before its locator unless it carries
        // extensible data; its stored offset is relative to the archive.
        std::uint64_t rec = loc >= kZip64EndRecord ? loc - kZip64EndRecord : 0;
        if (!hasAt(b, rec, "PK\x06\x06")) {
            rec = le64(b, loc + 8);
            if (!hasAt(b, rec, "PK\x06\x06") || rec + kZip64EndRecord > loc)
                return makeError("the zip64 end of central directory record is missing");
        }
        if (le32(b, rec + 16) != 0 || le32(b, rec + 20) != 0) return makeError("a split (multi-part) zip archive");
        entries = le64(b, rec + 32);
        cdSize = le64(b, rec + 40);
        cdOffset = le64(b, rec + 48);
        cdEnd = rec;
    } else if (disk != 0 || cdDisk != 0) {
        return makeError("a split (multi-part) zip archive");
    }
    // Where the directory starts: its size back from its end (right even
    // with a self-extractor's stub in front), else its stored offset (right
    // when the size field is wrong, as some writers leave it).
    std::uint64_t cdStart = 0, shift = 0;
    if (cdSize <= cdEnd && cdOffset <= cdEnd - cdSize && (cdSize == 0 || hasAt(b, cdEnd - cdSize, "PK\x01\x02"))) {
        cdStart = cdEnd - cdSize;
        shift = cdStart - cdOffset;
    } else if (cdOffset < cdEnd && hasAt(b, cdOffset, "PK\x01\x02")) {
        cdStart = cdOffset;
    } else {
        return makeError("the central directory is not where the end record says");
    }

    ZipDirectory dir;
    dir.archiveStart = shift;
    // Up to 64 Ki members the stored count wraps in archives that should have
    // been zip64; the directory's size is the authority.
    dir.members.reserve(static_cast<std::size_t>(std::min<std::uint64_t>({entries, maxMembers, (cdEnd - cdStart) / kDirectoryEntry})));
    std::uint64_t p = cdStart;
    while (p < cdEnd) {
        if (cdEnd - p < kDirectoryEntry || !hasAt(b, p, "PK\x01\x02"))
            return makeError("central directory entry " + std::to_string(dir.members.size() + 1) + " is damaged");
        if (dir.members.size() >= maxMembers) return makeError("more than " + std::to_string(maxMembers) + " members");
        ZipMember m;
        m.flags = le16(b, p + 8);
        m.method = le16(b, p + 10);
        m.crc32 = le32(b, p + 16);
        m.compressedSize = le32(b, p + 20);
        m.size = le32(b, p + 24);
        const std::uint64_t nameLen = le16(b, p + 28), extraLen = le16(b, p + 30), commentLen = le16(b, p + 32);
        m.localHeaderOffset = le32(b, p + 42);
        if (kDirectoryEntry + nameLen + extraLen + commentLen > cdEnd - p)
            return makeError("central directory entry " + std::to_string(dir.members.size() + 1) +
                             " runs past the end of the directory");
        const auto* name = reinterpret_cast<const char*>(b.data() + p + kDirectoryEntry);
        m.name.assign(name, static_cast<std::size_t>(nameLen));
        const bool wideSize = m.size == kMax32, wideCompressed = m.compressedSize == kMax32,
                   wideOffset = m.localHeaderOffset == kMax32;
        if (wideSize || wideCompressed || wideOffset)
            applyZip64Extra(b.subspan(static_cast<std::size_t>(p + kDirectoryEntry + nameLen), static_cast<std::size_t>(extraLen)),
                            m, wideSize, wideCompressed, wideOffset);
        dir.members.push_back(std::move(m));
        p += kDirectoryEntry + nameLen + extraLen + commentLen;
    }
    return dir;
}

}  // namespace kiosk::formats
