// FAT12/16/32 volumes read as Windows reads them and checked as fsck.fat
// checks them (see FatVolume.h). Sections: boot sector, the FAT in memory,
// names, the walk (chains, folders, cross-links, lost clusters), file content.
//
// Memory and time stay bounded by what the media holds, not by what its
// structures claim: the FAT is kept only as far as its bytes are there, every
// cluster is claimed by at most one file or folder (so chains and folders are
// read once), folders are walked with an explicit stack, and paths are built
// only to report them.
#include "FatVolume.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace kiosk::scan {
namespace {

using proto::ReasonCode;

constexpr std::size_t kDirEntry = 32;
constexpr std::uint32_t kMaxDirEntries = 65536;   // FAT's limit for one folder (2 MiB)
constexpr std::uint32_t kFat12Max = 4085;         // fewer clusters: FAT12 (Microsoft, Linux, fsck.fat)
constexpr std::uint32_t kWindowsFat12Max = 4087;  // fewer clusters: FAT12 for Windows' fastfat driver
constexpr std::uint32_t kFat16Max = 65525;        // fewer clusters: FAT16
constexpr std::uint32_t kFat32MaxClusters = 0x0FFFFFF5u - 2;
constexpr std::size_t kMaxProblems = 256;         // listed one by one; more are counted
constexpr std::size_t kMaxNodes = std::size_t{1} << 21;  // files and folders of one volume
constexpr std::size_t kFatChunk = 768 * 1024;     // a multiple of 3 and 4 bytes and of every sector size
constexpr std::uint32_t kUnknown = 0xFFFFFFFFu;   // a FAT entry whose bytes are missing or unreadable

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::uint32_t le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
bool powerOfTwo(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
std::string num(std::uint64_t v) { return std::to_string(v); }
std::string hex2(unsigned v) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    return std::string("0x") + kDigits[v >> 4 & 0xF] + kDigits[v & 0xF];
}

// ------------------------------------------------------------------ FAT entries

std::uint32_t entryMask(int bits) { return bits == 12 ? 0xFFFu : bits == 16 ? 0xFFFFu : 0x0FFFFFFFu; }
std::uint32_t badMark(int bits) { return entryMask(bits) - 8; }   // 0xFF7, 0xFFF7, 0x0FFFFFF7
bool endOfChain(std::uint32_t v, int bits) { return v != kUnknown && v >= entryMask(bits) - 7; }

// Bytes from the start of a FAT copy to entry n, and how many it spans.
std::uint64_t entryOffset(std::uint32_t n, int bits) {
    return bits == 12 ? n + n / 2 : static_cast<std::uint64_t>(n) * (bits / 8);
}
std::uint64_t entryWidth(int bits) { return bits == 32 ? 4 : 2; }

// Entry n read from `bytes`, which hold a FAT copy from byte `base` on.
std::uint32_t decodeEntry(const std::uint8_t* bytes, std::uint64_t base, std::uint32_t n, int bits) {
    const std::uint8_t* p = bytes + (entryOffset(n, bits) - base);
    if (bits == 12) {
        const std::uint32_t v = le16(p);
        return (n & 1) ? v >> 4 : v & 0xFFF;
    }
    return bits == 16 ? le16(p) : le32(p) & 0x0FFFFFFFu;
}

// Whole entries in the first `bytes` bytes of a copy.
std::uint64_t entriesIn(std::uint64_t bytes, int bits) { return bits == 12 ? bytes * 2 / 3 : bytes / (bits / 8); }

// The sectors of a stretch of the volume that could not be read, one flag
// per sector from the stretch's start; empty when every sector was read.
using BadSectors = std::vector<bool>;
bool touchesBad(const BadSectors& bad, std::uint64_t from, std::uint64_t len, std::uint32_t sector) {
    if (bad.empty()) return false;
    for (std::uint64_t i = from / sector; i <= (from + len - 1) / sector; ++i)
        if (i < bad.size() && bad[i]) return true;
    return false;
}

// ------------------------------------------------------------------ names

void appendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | cp >> 6);
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | cp >> 12);
        out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | cp >> 18);
        out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
        out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// UTF-16 to UTF-8: surrogate pairs joined, an unpaired surrogate is U+FFFD.
std::string utf8FromUtf16(const std::uint16_t* u, std::size_t n) {
    std::string out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t w = u[i];
        if (w >= 0xD800 && w < 0xDC00 && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] < 0xE000) {
            appendUtf8(out, 0x10000 + ((w - 0xD800) << 10) + (u[i + 1] - 0xDC00u));
            ++i;
        } else if (w >= 0xD800 && w < 0xE000) {
            appendUtf8(out, 0xFFFD);
        } else {
            appendUtf8(out, w);
        }
    }
    return out;
}

// The checksum of an 8.3 name that its long name entries carry.
std::uint8_t shortNameChecksum(const std::uint8_t* name) {
    std::uint8_t sum = 0;
    for (int i = 0; i < 11; ++i) sum = static_cast<std::uint8_t>(((sum & 1) << 7) + (sum >> 1) + name[i]);
    return sum;
}

// The 8.3 name as Windows and Linux show it: trailing spaces gone, 0x05 for
// 0xE5 (a Shift-JIS lead byte), the NT lowercase flags of byte 12 applied.
// Bytes >= 0x80 (the OEM code page) are kept as they are.
std::string shortName(const std::uint8_t* e) {
    std::uint8_t raw[11];
    std::memcpy(raw, e, 11);
    if (raw[0] == 0x05) raw[0] = 0xE5;
    auto part = [&](int from, int len, bool lower) {
        while (len > 0 && raw[from + len - 1] == ' ') --len;
        std::string s(reinterpret_cast<const char*>(raw + from), static_cast<std::size_t>(len));
        if (lower)
            for (auto& c : s)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        return s;
    };
    std::string base = part(0, 8, e[12] & 0x08);
    const std::string ext = part(8, 3, e[12] & 0x10);
    if (!ext.empty()) base += "." + ext;
    return base;
}

// fsck.fat's "bad short file name": control characters, characters DOS never
// allows, a space inside a part, an empty base name.
bool badShortName(const std::uint8_t* e) {
    if (std::memcmp(e, "EA DATA  SF", 11) == 0 || std::memcmp(e, "WP ROOT  SF", 11) == 0) return false;  // OS/2
    static constexpr std::string_view kBad = "*?<>|\"\\/:.";
    for (int i = 0; i < 11; ++i) {
        const std::uint8_t c = e[i];
        if ((c < 0x20 && !(i == 0 && c == 0x05)) || c == 0x7F) return true;
        if (kBad.find(static_cast<char>(c)) != std::string_view::npos) return true;
    }
    if (e[0] == ' ') return true;
    auto embeddedSpace = [&](int from, int len) {
        bool space = false;
        for (int i = from; i < from + len; ++i) {
            if (e[i] == ' ') space = true;
            else if (space) return true;
        }
        return false;
    };
    return embeddedSpace(0, 8) || embeddedSpace(8, 3);
}

// A long name no operating system lets anyone create: characters Windows and
// Linux's vfat refuse, or "." and ".." (a path that climbs out of its folder).
bool badLongName(const std::uint16_t* u, std::size_t n) {
    static constexpr std::u16string_view kBad = u"*?<>|\"\\/:";
    for (std::size_t i = 0; i < n; ++i)
        if (u[i] < 0x20 || kBad.find(static_cast<char16_t>(u[i])) != std::u16string_view::npos) return true;
    return (n == 1 && u[0] == '.') || (n == 2 && u[0] == '.' && u[1] == '.');
}

std::string foldCase(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// The long name entries before a short entry, assembled as one operating
// system assembles them. Windows (fastfat's FatLocateDirent) and Linux
// (fat_parse_long) agree on the common case: a run that starts with the 0x40
// entry, counts down to 1 without a gap, carries one checksum, and ends just
// before the short entry whose checksum that is; anything else is ignored and
// the short name is used. They differ at the edges, where a crafted stick
// can give one file two names: Windows also wants each entry's cluster field
// 0 and the units after the name's terminator 0xFFFF, ends the name at a
// terminator in its last entry only, restarts on an 0x40 entry in mid-run
// (which Linux takes as the next part if its number fits), and refuses the
// whole folder when a run starts with number 0.
class LongName {
public:
    enum class Rules { Windows, Linux };
    explicit LongName(Rules rules) : rules_(rules) {}

    void reset() { active_ = false; }

    void add(const std::uint8_t* e) {
        const int seq = e[0] & ~0x40;
        const bool last = (e[0] & 0x40) != 0;
        const bool zero = le16(e + 26) == 0;
        const bool windows = rules_ == Rules::Windows;
        if (active_ && next_ > 0 && seq == next_ && e[13] == checksum_ && (!windows || (!last && zero))) {
            store(seq, e);
            --next_;
            return;
        }
        active_ = false;
        if (!last || seq > 20 || (windows && !zero)) return;
        if (seq == 0) {
            folderRefused_ = windows;
            return;
        }
        store(seq, e);
        length_ = static_cast<std::size_t>(seq) * 13;
        if (windows) {
            // The terminator, if any, in this entry, and nothing but 0xFFFF after it.
            const std::size_t from = static_cast<std::size_t>(seq - 1) * 13;
            std::size_t n = from;
            while (n < length_ && units_[n] != 0) ++n;
            for (std::size_t i = n + 1; i < length_; ++i)
                if (units_[i] != 0xFFFF) return;
            length_ = n;
        }
        active_ = true;
        next_ = seq - 1;
        checksum_ = e[13];
    }

    // The long name that belongs to short entry `e`, if any; the state is reset.
    bool take(const std::uint8_t* e, std::vector<std::uint16_t>& out) {
        const bool ok = active_ && next_ == 0 && shortNameChecksum(e) == checksum_;
        active_ = false;
        if (!ok) return false;
        std::size_t n = length_;
        if (rules_ == Rules::Linux) n = static_cast<std::size_t>(std::find(units_.begin(), units_.begin() + n, 0) - units_.begin());
        out.assign(units_.begin(), units_.begin() + static_cast<std::ptrdiff_t>(n));
        return n > 0;
    }

    // Windows met a run numbered 0 and reports the folder corrupt.
    bool folderRefused() const { return folderRefused_; }

private:
    void store(int seq, const std::uint8_t* e) {
        std::uint16_t* at = units_.data() + (seq - 1) * 13;
        for (int i = 0; i < 5; ++i) at[i] = le16(e + 1 + 2 * i);
        for (int i = 0; i < 6; ++i) at[5 + i] = le16(e + 14 + 2 * i);
        for (int i = 0; i < 2; ++i) at[11 + i] = le16(e + 28 + 2 * i);
    }

    Rules rules_;
    std::array<std::uint16_t, 20 * 13> units_{};
    bool active_ = false;
    bool folderRefused_ = false;
    std::size_t length_ = 0;   // units of the name (Windows: up to the terminator)
    int next_ = 0;             // the number expected next; 0 once 1 was read
    std::uint8_t checksum_ = 0;
};

}  // namespace

// ------------------------------------------------------------------ boot sector

Status FatVolume::readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const {
    const auto& g = layout_;
    if (offset > g.avail || buf.size() > g.avail - offset)
        return makeError("bytes " + num(offset) + " to " + num(offset + buf.size()) + " of the volume lie past the end of " +
                         (partitionEnds() ? "its partition" : "the media") + " (" + num(g.avail) + " bytes)");
    return media_->readAt(g.offset + offset, buf);
}

bool FatVolume::partitionEnds() const {
    const std::uint64_t size = media_->size();
    return layout_.length < size - std::min(size, layout_.offset);
}

bool FatVolume::looksLikeFat(std::span<const std::uint8_t> b) {
    if (b.size() < 512) return false;
    // Other filesystems start with a jump and a BPB too (BitLocker's even has a FAT one).
    for (const char* oem : {"NTFS    ", "EXFAT   ", "-FVE-FS-"})
        if (std::memcmp(b.data() + 3, oem, 8) == 0) return false;
    const bool jump = b[0] == 0xEB || b[0] == 0xE9;
    const bool typeName = std::memcmp(b.data() + 54, "FAT", 3) == 0 || std::memcmp(b.data() + 82, "FAT32", 5) == 0;
    if (jump && typeName && b[510] == 0x55 && b[511] == 0xAA) return true;
    // What Linux checks before it mounts a FAT (it looks at no jump and no signature).
    const std::uint16_t bps = le16(b.data() + 11);
    const bool bpb = powerOfTwo(bps) && bps >= 512 && bps <= 4096 && powerOfTwo(b[13]) && le16(b.data() + 14) != 0 &&
                     b[16] != 0 && (b[21] == 0xF0 || b[21] >= 0xF8) &&
                     (le16(b.data() + 22) != 0 || le32(b.data() + 36) != 0);
    return bpb;
}

Result<FatVolume> FatVolume::open(const ByteSource& media, std::uint64_t offset, std::uint64_t length) {
    Layout g;
    g.offset = offset;
    g.length = length;
    g.avail = offset >= media.size() ? 0 : std::min(length, media.size() - offset);
    auto fail = [](const std::string& why) { return makeError("not a FAT volume that can be read: " + why); };
    if (g.avail < 512) return fail("the volume is too small to hold a boot sector (" + num(g.avail) + " bytes)");
    std::array<std::uint8_t, 512> b{};
    if (auto s = media.readAt(offset, b); !s) return s.error().context("the FAT boot sector cannot be read");

    const std::uint32_t bps = le16(&b[11]);
    const std::uint32_t spc = b[13];
    const std::uint32_t reserved = le16(&b[14]);
    const std::uint32_t fats = b[16];
    const std::uint32_t rootEntries = le16(&b[17]);
    const std::uint32_t total16 = le16(&b[19]);
    const std::uint32_t media8 = b[21];
    const std::uint32_t fat16Size = le16(&b[22]);
    const std::uint32_t total32 = le32(&b[32]);
    if (!powerOfTwo(bps) || bps < 512 || bps > 4096)
        return fail("bytes per sector is " + num(bps) + ", not a power of two from 512 to 4096");
    if (!powerOfTwo(spc)) return fail("sectors per cluster is " + num(spc) + ", not a power of two");
    if (reserved == 0) return fail("no reserved sectors (the boot sector itself is one)");
    if (fats == 0) return fail("the boot sector declares no FAT");
    if (media8 != 0xF0 && media8 < 0xF8) return fail("media descriptor " + hex2(media8) + " is not a FAT one");
    // FAT32 by the form of the boot sector, as Windows (fastfat's IsBpbFat32),
    // Linux and fsck.fat decide it: a 16-bit FAT size of 0.
    const bool fat32 = fat16Size == 0;
    const std::uint64_t fatSectors = fat32 ? le32(&b[36]) : fat16Size;
    if (fatSectors == 0) return fail("the FAT size is 0");
    const std::uint64_t totalSectors = total16 ? total16 : total32;
    if (totalSectors == 0) return fail("the total sector count is 0");
    if (fat32 && rootEntries != 0)
        return fail("a FAT32 boot sector declares a fixed root folder of " + num(rootEntries) +
                    " entries, which Windows and Linux place differently");
    if (!fat32 && rootEntries == 0) return fail("a FAT12/16 boot sector declares no root folder entries");
    if (rootEntries * kDirEntry % bps != 0)
        return fail("the root folder (" + num(rootEntries) + " entries) does not fill whole sectors");

    g.bytesPerSector = bps;
    g.clusterBytes = bps * spc;
    g.fats = fats;
    g.fatStart = static_cast<std::uint64_t>(reserved) * bps;
    g.fatBytes = fatSectors * bps;
    g.rootStart = g.fatStart + fats * g.fatBytes;
    g.rootEntries = rootEntries;
    g.dataStart = g.rootStart + rootEntries * kDirEntry;
    g.extent = totalSectors * bps;
    if (g.dataStart >= g.extent || g.extent - g.dataStart < g.clusterBytes)
        return fail("no room for a single data cluster after the FATs and the root folder");
    const std::uint64_t clusters = (g.extent - g.dataStart) / g.clusterBytes;
    if (fat32) {
        if (clusters > kFat32MaxClusters) return fail(num(clusters) + " clusters, more than FAT32 can number");
        g.bits = 32;
    } else {
        if (clusters >= kFat16Max) return fail(num(clusters) + " clusters, too many for FAT16");
        g.bits = clusters < kFat12Max ? 12 : 16;
    }
    g.clusters = static_cast<std::uint32_t>(clusters);
    const std::uint64_t fatEntries = g.fatBytes * 8 / static_cast<std::uint64_t>(g.bits);
    if (fatEntries < clusters + 2)
        return fail("the volume has " + num(clusters) + " clusters but its FAT has room for only " +
                    num(fatEntries < 2 ? 0 : fatEntries - 2));
    if (fat32) {
        g.rootCluster = le32(&b[44]);
        if (g.rootCluster < 2 || g.rootCluster > g.maxCluster())
            return fail("the root folder's cluster " + num(g.rootCluster) + " is outside the volume (clusters 2 to " +
                        num(g.maxCluster()) + ")");
        const std::uint32_t extFlags = le16(&b[40]);
        g.mirrored = (extFlags & 0x80) == 0;
        g.activeFat = extFlags & 0x0F;
    }
    // The copy Windows reads: the first while the copies are mirrors, else
    // the active one, as the specification says. (One that does not exist is
    // a problem walk() reports. The published source of Windows' fastfat
    // even refuses to mount a FAT32 volume whose mirroring is off; either
    // way, Linux reads the first copy, so copies that differ are a problem.)
    g.usedFat = !g.mirrored && g.activeFat < g.fats ? g.activeFat : 0;

    FatVolume vol(media, g);
    vol.label_ = vol.readLabel(b.data());
    return vol;
}

const char* FatVolume::type() const { return layout_.bits == 12 ? "fat12" : layout_.bits == 16 ? "fat16" : "fat32"; }

// The label as Windows shows it: the root folder's label entry (read here
// without the checks of walk(), which reports what is wrong), else the boot
// sector's (with the extended boot signature 0x29 only).
std::string FatVolume::readLabel(const std::uint8_t* b) const {
    const auto& g = layout_;
    auto trim = [](const std::uint8_t* p) {
        std::string s(reinterpret_cast<const char*>(p), 11);
        if (!s.empty() && static_cast<std::uint8_t>(s[0]) == 0x05) s[0] = static_cast<char>(0xE5);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
        return s == "NO NAME" ? std::string() : s;
    };
    std::string found;
    bool have = false;
    // True to stop: the label entry or the end marker was found.
    auto scan = [&](std::span<const std::uint8_t> bytes) {
        for (std::size_t at = 0; at + kDirEntry <= bytes.size(); at += kDirEntry) {
            const std::uint8_t* e = bytes.data() + at;
            if (e[0] == 0x00) return true;
            if (e[0] == 0xE5 || e[11] == 0x0F || !(e[11] & 0x08)) continue;
            found = trim(e);
            have = true;
            return true;
        }
        return false;
    };
    std::vector<std::uint8_t> buf;
    if (g.bits != 32) {
        buf.resize(static_cast<std::size_t>(g.rootEntries) * kDirEntry);
        if (readAt(g.rootStart, buf)) scan(buf);
    } else {
        buf.resize(g.clusterBytes);
        std::uint32_t c = g.rootCluster;
        const std::uint64_t fatAt = g.fatStart + g.usedFat * g.fatBytes;
        for (std::uint32_t step = 0; step < kMaxDirEntries * kDirEntry / g.clusterBytes + 1; ++step) {
            if (!readAt(g.dataStart + static_cast<std::uint64_t>(c - 2) * g.clusterBytes, buf) || scan(buf)) break;
            std::uint8_t next[4];
            if (!readAt(fatAt + 4ull * c, next)) break;
            c = le32(next) & 0x0FFFFFFFu;
            if (c < 2 || c > g.maxCluster()) break;
        }
    }
    if (have) return found;
    const std::size_t sig = g.bits == 32 ? 66 : 38;
    return b[sig] == 0x29 ? trim(b + sig + 5) : std::string();
}

// ------------------------------------------------------------------ the walk

class FatVolume::Walker {
public:
    Walker(const FatVolume& vol, VolumeVisitor& v) : vol_(vol), g_(vol.layout_), v_(v) {}

    Status run() {
        if (auto s = checkLayout(); !s) return s;
        if (auto s = loadFat(); !s) return s;
        claimed_.assign(entries_, false);
        if (auto s = walkFolders(); !s) return s;
        if (auto s = reportCrossLinks(); !s) return s;
        if (auto s = reportLostClusters(); !s) return s;
        if (auto s = reportFiles(); !s) return s;
        if (suppressed_ == 0) return {};
        return v_.problem(suppressedCode_, "",
                          num(suppressed_) + " more problems were found on this volume and are not listed one by one");
    }

private:
    // A file or folder found in a folder. A folder's entries are the
    // contiguous range [childBegin, childEnd) of nodes_.
    struct Node {
        std::uint32_t parent = 0;
        std::uint32_t first = 0;       // first cluster, 0 for none
        std::uint32_t clusters = 0;    // clusters of its chain this walk claimed for it
        std::uint32_t size = 0;        // bytes (files)
        std::uint32_t nameAt = 0;      // in names_
        std::uint16_t nameLen = 0;
        bool dir = false;
        bool walked = false;           // a folder whose entries are read
        std::uint32_t childBegin = 0, childEnd = 0;
    };

    // How a chain ended.
    enum class End { EndMark, Free, Reserved, Bad, Loop, Shared, Unreadable };
    struct Chain {
        std::uint32_t clusters = 0;
        End end = End::EndMark;
        std::uint32_t at = 0;      // the last cluster claimed (whose link is wrong)
        std::uint32_t value = 0;   // the wrong link, or the cluster already claimed
    };

    // A cluster claimed a second time; who claimed it first is found after the walk.
    struct Collision {
        std::uint32_t node;
        std::uint32_t cluster;
    };

    // One folder being read.
    struct Folder {
        std::uint32_t node = 0;
        LongName onWindows{LongName::Rules::Windows};   // the name reported
        LongName onLinux{LongName::Rules::Linux};       // compared with it
        std::uint32_t slot = 0;      // 32-byte entries read so far
        bool ended = false;          // an end marker (0x00) was seen
        bool afterEnd = false;       // ... and a live entry after it
        int dots = 0, dotDots = 0;
        std::unordered_set<std::string> names;   // long and short names, case folded

        void resetNames() {
            onWindows.reset();
            onLinux.reset();
        }
    };

    // ---------------------------------------------------------------- problems

    // Problems are listed up to kMaxProblems, then only counted. `detail` (a
    // callable) and the path are built only for those listed, so that a
    // hostile tree of deep folders full of broken entries costs no more than
    // a sound one.
    template <typename Detail>
    Status report(ReasonCode code, std::uint32_t node, Detail&& detail) {
        if (listed_ >= kMaxProblems) {
            if (suppressed_++ == 0) suppressedCode_ = code;
            return {};
        }
        ++listed_;
        return v_.problem(code, pathOf(node), detail());
    }
    template <typename Detail>
    Status corrupt(std::uint32_t node, Detail&& detail) {
        return report(ReasonCode::CorruptFilesystem, node, std::forward<Detail>(detail));
    }

    // "DOCS/a.txt", "DOCS/" for a folder, "" for the root folder (and the volume).
    std::string pathOf(std::uint32_t node) const {
        std::vector<std::uint32_t> up;
        for (std::uint32_t n = node; n != 0; n = nodes_[n].parent) up.push_back(n);
        std::string path;
        for (auto it = up.rbegin(); it != up.rend(); ++it) {
            path.append(names_, nodes_[*it].nameAt, nodes_[*it].nameLen);
            if (nodes_[*it].dir) path += '/';
        }
        return path;
    }
    std::string describe(std::uint32_t node) const {
        if (node == 0) return "the root folder";
        return (nodes_[node].dir ? "folder " : "file ") + pathOf(node);
    }

    // ---------------------------------------------------------------- layout, FAT

    Status checkLayout() {
        if (g_.extent > g_.avail) {
            auto s = report(ReasonCode::ReadError, 0, [&] {
                return vol_.partitionEnds() ? "filesystem is larger than its partition (" + num(g_.extent) +
                                       " bytes, the partition holds " + num(g_.length) + ")"
                                 : std::string("filesystem is larger than the media holds (truncated image or failing device)");
            });
            if (!s) return s;
        }
        if (g_.bits == 16 && g_.clusters < kWindowsFat12Max) {
            auto s = report(ReasonCode::AmbiguousLayout, 0, [&] {
                return "the volume has " + num(g_.clusters) +
                       " clusters: Windows reads its FAT as FAT12, Linux and the FAT specification as FAT16";
            });
            if (!s) return s;
        }
        if (!g_.mirrored && g_.activeFat >= g_.fats)
            return corrupt(0, [&] {
                return "the boot sector turns FAT mirroring off and makes FAT copy " + num(g_.activeFat + 1) +
                       " active, but the volume has only " + num(g_.fats) + (g_.fats == 1 ? " copy" : " copies") +
                       ": copy 1 is read";
            });
        return {};
    }

    // Reads `buf` (whole sectors) from volume byte `at`; where that fails,
    // sector by sector, so that a bad sector costs only its own bytes.
    // Unreadable sectors are zero-filled and flagged in `bad`.
    Status readSectors(std::uint64_t at, std::span<std::uint8_t> buf, BadSectors& bad) const {
        bad.clear();
        if (vol_.readAt(at, buf)) return {};
        Status first;
        const std::size_t sector = g_.bytesPerSector;
        bad.assign((buf.size() + sector - 1) / sector, false);
        for (std::size_t done = 0; done < buf.size(); done += sector) {
            const auto part = buf.subspan(done, std::min(sector, buf.size() - done));
            if (auto s = vol_.readAt(at + done, part); !s) {
                std::fill(part.begin(), part.end(), std::uint8_t{0});
                bad[done / sector] = true;
                if (first) first = s;
            }
        }
        return first;
    }

    // Bytes of FAT copy k that hold entries 0 to the last cluster and are in the media.
    std::uint64_t fatPresent(std::uint32_t k) const {
        const std::uint64_t need = std::min(g_.fatBytes, entryOffset(g_.maxCluster(), g_.bits) + entryWidth(g_.bits));
        const std::uint64_t start = g_.fatStart + k * g_.fatBytes;
        return start >= g_.avail ? 0 : std::min(need, g_.avail - start);
    }

    std::uint32_t fat(std::uint32_t n) const {
        if (n >= entries_) return kUnknown;
        if (touchesBad(fatBad_, entryOffset(n, g_.bits), entryWidth(g_.bits), g_.bytesPerSector)) return kUnknown;
        return decodeEntry(fat_.data(), 0, n, g_.bits);
    }

    // The copy Windows reads goes into memory, as much of it as the media
    // holds; every other copy is compared with it chunk by chunk.
    Status loadFat() {
        const std::uint32_t used = g_.usedFat;
        const std::uint64_t present = fatPresent(used);
        const std::uint64_t start = g_.fatStart + used * g_.fatBytes;
        fat_.assign(present, 0);
        fatBad_.clear();
        Status firstError;
        BadSectors bad;
        const std::uint32_t sector = g_.bytesPerSector;
        for (std::uint64_t done = 0; done < present; done += kFatChunk) {
            const auto part = std::span(fat_).subspan(done, std::min<std::uint64_t>(kFatChunk, present - done));
            if (auto s = readSectors(start + done, part, bad); !s && firstError) firstError = s;
            if (bad.empty()) continue;
            fatBad_.resize((present + sector - 1) / sector, false);
            for (std::size_t i = 0; i < bad.size(); ++i)
                if (bad[i]) fatBad_[done / sector + i] = true;
        }
        entries_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(entriesIn(present, g_.bits), g_.maxCluster() + 1ull));
        if (!firstError) {
            auto s = report(ReasonCode::ReadError, 0, [&] {
                return "FAT copy " + num(used + 1) + " cannot be read completely: " + firstError.error().message;
            });
            if (!s) return s;
        }
        for (std::uint32_t k = 0; k < g_.fats; ++k)
            if (k != used)
                if (auto s = compareCopy(k); !s) return s;
        return {};
    }

    // Entries 2 and up must agree (FAT32: their low 28 bits); entries 0 and 1
    // hold the media byte and the dirty flags, which say nothing about files.
    Status compareCopy(std::uint32_t k) {
        const std::uint64_t present = std::min<std::uint64_t>(fatPresent(k), fat_.size());
        const std::uint64_t start = g_.fatStart + k * g_.fatBytes;
        std::vector<std::uint8_t> chunk;
        BadSectors bad;
        for (std::uint64_t done = 0; done < present; done += kFatChunk) {
            chunk.resize(std::min<std::uint64_t>(kFatChunk, present - done));
            (void)readSectors(start + done, chunk, bad);   // what cannot be read is not compared
            if (bad.empty() && fatBad_.empty() && std::memcmp(chunk.data(), fat_.data() + done, chunk.size()) == 0) continue;
            const auto from = static_cast<std::uint32_t>(entriesIn(done, g_.bits));
            const auto to = static_cast<std::uint32_t>(std::min<std::uint64_t>(entriesIn(done + chunk.size(), g_.bits), entries_));
            for (std::uint32_t n = std::max<std::uint32_t>(from, 2); n < to; ++n) {
                if (touchesBad(bad, entryOffset(n, g_.bits) - done, entryWidth(g_.bits), g_.bytesPerSector)) continue;
                const std::uint32_t mine = fat(n);
                const std::uint32_t theirs = decodeEntry(chunk.data(), done, n, g_.bits);
                if (mine == kUnknown || mine == theirs) continue;
                return corrupt(0, [&] { return copiesDiffer(k, n, mine, theirs); });
            }
        }
        return {};
    }

    std::string copiesDiffer(std::uint32_t k, std::uint32_t cluster, std::uint32_t mine, std::uint32_t theirs) const {
        const std::uint32_t used = g_.usedFat;
        const std::string s = "FAT copy " + num(k + 1) + " differs from copy " + num(used + 1) + " from cluster " +
                              num(cluster) + " on (copy " + num(used + 1) + " links it to " + num(mine) + ", copy " +
                              num(k + 1) + " to " + num(theirs) + ")";
        if (g_.mirrored) return s + ": the copies must be mirrors of each other";
        if (used == 0)
            return s + ": mirroring is off and copy 1 is active, so Windows and Linux both read copy 1, and copy " +
                   num(k + 1) + " tells another story";
        return s + ": the boot sector turns mirroring off and makes copy " + num(used + 1) +
               " active, which Windows reads, while Linux reads copy 1: two operating systems would show two "
               "different sets of files";
    }

    // ---------------------------------------------------------------- chains

    bool inCurrentChain(std::uint32_t c) const {
        for (const auto& [from, len] : runs_)
            if (c >= from && c - from < len) return true;
        return false;
    }

    // Claims for `node` the clusters of the chain that starts at `first`, up
    // to the first wrong link or a cluster already claimed.
    Chain claim(std::uint32_t first, std::uint32_t node) {
        Chain r;
        runs_.clear();
        std::uint32_t c = first;
        while (true) {
            if (c >= entries_) {   // its FAT entry is past the end of the media
                r.end = End::Unreadable;
                r.value = c;
                break;
            }
            if (claimed_[c]) {
                r.end = inCurrentChain(c) ? End::Loop : End::Shared;
                r.value = c;
                if (r.end == End::Shared) {
                    if (collisions_.size() < kMaxProblems) collisions_.push_back({node, c});
                    else ++moreCollisions_;
                }
                break;
            }
            claimed_[c] = true;
            if (!runs_.empty() && runs_.back().first + runs_.back().second == c) ++runs_.back().second;
            else runs_.emplace_back(c, 1);
            ++r.clusters;
            r.at = c;
            const std::uint32_t next = fat(c);
            r.value = next;
            if (next == kUnknown) r.end = End::Unreadable;
            else if (endOfChain(next, g_.bits)) break;
            else if (next == 0) r.end = End::Free;
            else if (next == badMark(g_.bits)) r.end = End::Bad;
            else if (next == 1 || next > g_.maxCluster()) r.end = End::Reserved;
            if (r.end != End::EndMark) break;
            c = next;
        }
        return r;
    }

    // How a chain went wrong (a shared cluster is reported after the walk).
    Status chainProblem(std::uint32_t node, const Chain& r) {
        const std::string chain = ": its cluster chain ";
        switch (r.end) {
            case End::EndMark:
            case End::Shared: return {};
            case End::Free:
                return corrupt(node, [&] {
                    return describe(node) + chain + "reaches cluster " + num(r.at) +
                           ", which the FAT marks free (its entry is 0)";
                });
            case End::Bad:
                return corrupt(node, [&] {
                    return describe(node) + chain + "reaches cluster " + num(r.at) + ", which the FAT marks bad";
                });
            case End::Reserved:
                return corrupt(node, [&] {
                    return describe(node) + chain + "links cluster " + num(r.at) + " to " + num(r.value) +
                           ", which is not a cluster of the volume (2 to " + num(g_.maxCluster()) + ")";
                });
            case End::Loop:
                return corrupt(node, [&] { return describe(node) + chain + "loops back to cluster " + num(r.value); });
            case End::Unreadable:
                return report(ReasonCode::ReadError, node, [&] {
                    return describe(node) + ": the FAT entry of cluster " + num(r.clusters ? r.at : r.value) +
                           " cannot be read (an unreadable sector, or past the end of the media), so its chain is unknown";
                });
        }
        return {};
    }

    // What is wrong with a first cluster before the FAT is asked: 0 for
    // something with content, 1, past the end, the root folder's own.
    std::string badFirstCluster(std::uint32_t first, bool dir, std::uint32_t size) const {
        if (first == 0) {
            if (dir) return "it has no first cluster (0), so it has no entries of its own";
            if (size > 0) return "its size is " + num(size) + " bytes but its first cluster is 0 (it has no clusters)";
            return "";
        }
        if (first == 1) return "its first cluster is 1, which is reserved";
        if (first > g_.maxCluster())
            return "its first cluster " + num(first) + " is past the end of the volume (the last is " +
                   num(g_.maxCluster()) + ")";
        if (g_.bits == 32 && first == g_.rootCluster)
            return "its first cluster " + num(first) + " is the root folder's own cluster";
        return "";
    }

    // ---------------------------------------------------------------- folders

    Status walkFolders() {
        nodes_.assign(1, Node{});
        nodes_[0].dir = true;
        nodes_[0].walked = true;
        names_.clear();
        collisions_.clear();
        moreCollisions_ = 0;
        tooMany_ = false;
        readFailed_ = false;
        if (g_.bits == 32) {
            nodes_[0].first = g_.rootCluster;
            const Chain r = claim(g_.rootCluster, 0);
            nodes_[0].clusters = r.clusters;
            if (auto s = chainProblem(0, r); !s) return s;
        }
        // Depth first; subfolders pushed in reverse so that they are read in on-disk order.
        std::vector<std::uint32_t> pending{0};
        while (!pending.empty() && !tooMany_) {
            const std::uint32_t d = pending.back();
            pending.pop_back();
            if (auto s = readFolder(d); !s) return s;
            for (std::uint32_t i = nodes_[d].childEnd; i-- > nodes_[d].childBegin;)
                if (nodes_[i].dir && nodes_[i].walked) pending.push_back(i);
        }
        if (!tooMany_) return {};
        return report(ReasonCode::Unscannable, 0, [] {
            return "the volume holds more than " + num(kMaxNodes) +
                   " files and folders, more than the kiosk reads: the rest is not read";
        });
    }

    Status readFolder(std::uint32_t d) {
        Folder f;
        f.node = d;
        nodes_[d].childBegin = nodes_[d].childEnd = static_cast<std::uint32_t>(nodes_.size());
        std::vector<std::uint8_t> buf;
        BadSectors bad;
        auto readPart = [&](std::uint64_t at, std::size_t len) -> Status {
            buf.resize(len);
            if (auto s = readSectors(at, buf, bad); !s) {
                readFailed_ = true;
                auto p = report(ReasonCode::ReadError, d, [&] {
                    return describe(d) + ": some of its entries cannot be read: " + s.error().message;
                });
                if (!p) return p;
            }
            for (std::size_t off = 0; off + kDirEntry <= buf.size() && !tooMany_; off += kDirEntry) {
                if (touchesBad(bad, off, kDirEntry, g_.bytesPerSector)) {
                    f.resetNames();
                    ++f.slot;
                    continue;
                }
                if (auto s = entry(f, buf.data() + off); !s) return s;
            }
            return {};
        };
        if (d == 0 && g_.bits != 32) {
            const std::uint64_t bytes = static_cast<std::uint64_t>(g_.rootEntries) * kDirEntry;   // the fixed root
            for (std::uint64_t done = 0; done < bytes && !tooMany_; done += 64 * 1024) {
                const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(64 * 1024, bytes - done));
                if (auto s = readPart(g_.rootStart + done, len); !s) return s;
            }
        } else {
            std::uint32_t c = nodes_[d].first;
            for (std::uint32_t i = 0; i < nodes_[d].clusters && !tooMany_; ++i, c = fat(c))
                if (auto s = readPart(g_.dataStart + static_cast<std::uint64_t>(c - 2) * g_.clusterBytes, g_.clusterBytes);
                    !s)
                    return s;
        }
        if (f.slot > kMaxDirEntries)
            if (auto s = corrupt(d, [&] {
                    return describe(d) + " has " + num(f.slot) + " entries, more than the " + num(kMaxDirEntries) +
                           " FAT allows in one folder";
                });
                !s)
                return s;
        if (f.onWindows.folderRefused())
            if (auto s = corrupt(d, [&] {
                    return describe(d) + " has a long name entry numbered 0: Windows refuses to list the folder "
                                         "(it is corrupt), Linux lists it";
                });
                !s)
                return s;
        if (d == 0 || tooMany_) return {};
        if (f.dots == 0)
            if (auto s = corrupt(d, [&] { return describe(d) + " has no '.' entry"; }); !s) return s;
        if (f.dotDots == 0) return corrupt(d, [&] { return describe(d) + " has no '..' entry"; });
        return {};
    }

    static std::uint32_t firstCluster(const std::uint8_t* e, int bits) {
        // FAT12/16 keep other data (OS/2's EA handle) where FAT32 keeps the high half.
        return le16(e + 26) | (bits == 32 ? static_cast<std::uint32_t>(le16(e + 20)) << 16 : 0);
    }

    // One 32-byte entry of folder f, as Windows and Linux read it.
    Status entry(Folder& f, const std::uint8_t* e) {
        const std::uint32_t slot = f.slot++;
        if (e[0] == 0x00) {
            // Free, and Windows reads the folder no further; Linux takes it
            // for a free entry and reads on, so what follows is read too.
            f.ended = true;
            f.resetNames();
            return {};
        }
        if (e[0] == 0xE5) {
            f.resetNames();
            return {};
        }
        if (f.ended && !f.afterEnd) {
            f.afterEnd = true;
            auto s = report(ReasonCode::AmbiguousLayout, f.node, [&] {
                return describe(f.node) + " has entries after its end marker (entry " + num(slot) +
                       "): Windows stops reading the folder at the marker, Linux reads on";
            });
            if (!s) return s;
        }
        const std::uint8_t attr = e[11];
        if (attr == 0x0F) {   // exactly, for Windows and Linux alike (other bits make it a label)
            f.onWindows.add(e);
            f.onLinux.add(e);
            return {};
        }
        if (attr & 0x08) {   // the volume label, or a label bit on anything: no file for Windows or Linux
            f.resetNames();
            return {};
        }
        static constexpr std::uint8_t kDot[11] = {'.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
        static constexpr std::uint8_t kDotDot[11] = {'.', '.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
        const bool dot = std::memcmp(e, kDot, 11) == 0;
        if (dot || std::memcmp(e, kDotDot, 11) == 0) {
            f.resetNames();
            return dotEntry(f, e, dot);
        }
        if (nodes_.size() >= kMaxNodes) {
            tooMany_ = true;
            return {};
        }

        const bool dir = (attr & 0x10) != 0;
        const std::uint32_t first = firstCluster(e, g_.bits);
        const std::uint32_t size = dir ? 0 : le32(e + 28);
        const std::string shortForm = shortName(e);
        const bool hasLong = f.onWindows.take(e, units_);
        std::string name = hasLong ? utf8FromUtf16(units_.data(), units_.size()) : shortForm;
        const bool linuxLong = f.onLinux.take(e, linuxUnits_);
        std::string linuxName = linuxLong ? utf8FromUtf16(linuxUnits_.data(), linuxUnits_.size()) : shortForm;
        // An 8.3 name of spaces only (a bad name, reported below) is no name at
        // all: it is kept as its 11 raw bytes, so that its path is never the folder's.
        for (std::string* n : {&name, &linuxName})
            if (n->empty()) n->assign(reinterpret_cast<const char*>(e), 11);

        const auto idx = static_cast<std::uint32_t>(nodes_.size());
        Node n;
        n.parent = f.node;
        n.first = first;
        n.size = size;
        n.dir = dir;
        n.nameAt = static_cast<std::uint32_t>(names_.size());
        n.nameLen = static_cast<std::uint16_t>(name.size());
        names_ += name;
        nodes_.push_back(n);
        nodes_[f.node].childEnd = idx + 1;

        if (badShortName(e))
            if (auto s = corrupt(idx, [&] { return describe(idx) + ": its short name has characters FAT does not allow"; });
                !s)
                return s;
        if (hasLong && badLongName(units_.data(), units_.size()))
            if (auto s = corrupt(idx, [&] {
                    return describe(idx) + ": its long name has characters no operating system allows in a name";
                });
                !s)
                return s;
        if (auto s = checkDuplicate(f, idx, foldCase(shortForm), hasLong ? foldCase(name) : std::string()); !s) return s;
        if (linuxName != name)
            if (auto s = report(ReasonCode::AmbiguousLayout, idx, [&] {
                    return describe(idx) + ": Windows shows it under this name, Linux as \"" + linuxName +
                           "\" (its long name entries are read differently)";
                });
                !s)
                return s;

        if (const std::string why = badFirstCluster(first, dir, size); !why.empty())
            return corrupt(idx, [&] { return describe(idx) + ": " + why; });
        if (dir && le32(e + 28) != 0)   // Windows and Linux ignore it; fsck.fat does not
            if (auto s = corrupt(idx, [&] {
                    return describe(idx) + ": its entry gives it a size of " + num(le32(e + 28)) +
                           " bytes, where a folder's must be 0";
                });
                !s)
                return s;
        if (first == 0) return {};   // an empty file
        const Chain r = claim(first, idx);
        nodes_[idx].clusters = r.clusters;
        if (dir) {
            nodes_[idx].walked = r.clusters > 0;
            return chainProblem(idx, r);
        }
        if (r.end != End::EndMark) return chainProblem(idx, r);
        const std::uint64_t need = (static_cast<std::uint64_t>(size) + g_.clusterBytes - 1) / g_.clusterBytes;
        if (r.clusters == need) return {};
        return corrupt(idx, [&] {
            return describe(idx) + ": its size (" + num(size) + " bytes) needs " + num(need) + " clusters but its chain has " +
                   num(r.clusters) +
                   (r.clusters > need ? ": the chain hides bytes past the end of the file" : ": the file is cut short");
        });
    }

    // Two entries of one folder that Windows cannot tell apart: it finds a
    // name by its long or its short form, whatever the case.
    Status checkDuplicate(Folder& f, std::uint32_t idx, const std::string& shortKey, const std::string& longKey) {
        for (const std::string* key : {&shortKey, &longKey}) {
            if (key->empty() || (key == &longKey && longKey == shortKey)) continue;
            if (!f.names.insert(*key).second)
                return corrupt(idx, [&] {
                    return describe(idx) + ": another entry of " + describe(f.node) + " has the same name (ignoring case)";
                });
        }
        return {};
    }

    Status dotEntry(Folder& f, const std::uint8_t* e, bool dot) {
        const std::uint32_t d = f.node;
        const std::string which = dot ? "'.'" : "'..'";
        if (d == 0) return corrupt(d, [&] { return "the root folder holds a " + which + " entry, which it must not"; });
        if (!(e[11] & 0x10)) return corrupt(d, [&] { return describe(d) + ": its " + which + " entry is not a folder entry"; });
        if (++(dot ? f.dots : f.dotDots) > 1)
            return corrupt(d, [&] { return describe(d) + " has more than one " + which + " entry"; });
        const std::uint32_t first = firstCluster(e, g_.bits);
        const std::uint32_t parent = nodes_[d].parent;
        // '..' names the root folder as 0; naming it by its cluster reads the same everywhere.
        const std::uint32_t expect = dot ? nodes_[d].first : parent == 0 ? 0 : nodes_[parent].first;
        if (first == expect || (!dot && parent == 0 && g_.bits == 32 && first == g_.rootCluster)) return {};
        return corrupt(d, [&] {
            return describe(d) + ": its " + which + " entry points to cluster " + num(first) + " instead of " + num(expect);
        });
    }

    // ---------------------------------------------------------------- after the walk

    Status reportCrossLinks() {
        if (collisions_.empty()) return {};
        constexpr std::uint32_t kNobody = 0xFFFFFFFFu;
        std::unordered_map<std::uint32_t, std::uint32_t> owner;
        for (const auto& c : collisions_) owner.emplace(c.cluster, kNobody);
        for (std::uint32_t n = 0; n < nodes_.size(); ++n) {
            std::uint32_t c = nodes_[n].first;
            for (std::uint32_t i = 0; i < nodes_[n].clusters; ++i, c = fat(c))
                if (auto it = owner.find(c); it != owner.end() && it->second == kNobody) it->second = n;
        }
        for (const auto& c : collisions_) {
            const std::uint32_t other = owner[c.cluster];
            auto s = corrupt(c.node, [&] {
                const std::string them = other == kNobody ? "another file or folder" : describe(other);
                if (nodes_[c.node].dir && nodes_[c.node].clusters == 0)
                    return describe(c.node) + " starts in cluster " + num(c.cluster) + ", which belongs to " + them +
                           ": a folder reached twice (a loop or a cross-link), not read again";
                return describe(c.node) + " and " + them + " share cluster " + num(c.cluster) +
                       " (cross-linked): the same bytes belong to both";
            });
            if (!s) return s;
        }
        if (moreCollisions_ == 0) return {};
        return corrupt(0, [&] { return num(moreCollisions_) + " more files or folders share clusters with others"; });
    }

    // Allocated clusters no file or folder reaches; bad-cluster marks are not lost.
    Status reportLostClusters() {
        if (tooMany_) return {};   // the folders not read would look lost
        std::uint64_t lost = 0;
        const std::uint32_t bad = badMark(g_.bits);
        for (std::uint32_t c = 2; c < entries_; ++c) {
            if (claimed_[c]) continue;
            const std::uint32_t v = fat(c);
            if (v != 0 && v != bad && v != kUnknown) ++lost;
        }
        if (lost == 0) return {};
        return corrupt(0, [&] {
            return num(lost) + (lost == 1 ? " cluster is" : " clusters are") +
                   " marked in use in the FAT but belong to no file or folder (lost chains: chkdsk would save them as "
                   "FOUND.000\\FILE0000.CHK files)" +
                   (readFailed_ ? "; some folders could not be read, so some may be theirs" : "");
        });
    }

    // ---------------------------------------------------------------- files

    // A file being read by the visitor, and where its chain was followed to.
    struct Reading {
        std::uint32_t first = 0;
        std::uint64_t size = 0;
        std::uint64_t index = 0;     // of `cluster` in the chain
        std::uint32_t cluster = 0;   // 0: not started
        std::string mediaError;      // the first read of the media that failed
    };

    bool isCluster(std::uint32_t v) const { return v >= 2 && v <= g_.maxCluster(); }

    // The file's bytes as Windows reads them: its chain in the FAT copy
    // Windows uses, up to its size; contiguous clusters in one read.
    Result<std::size_t> readFile(Reading& r, std::uint64_t off, std::span<std::uint8_t> buf) const {
        if (off >= r.size || buf.empty()) return std::size_t{0};
        const std::uint64_t want = std::min<std::uint64_t>(buf.size(), r.size - off);
        const std::uint64_t cb = g_.clusterBytes;
        std::uint64_t done = 0;
        while (done < want) {
            const std::uint64_t pos = off + done;
            const std::uint64_t index = pos / cb;
            if (r.cluster == 0 || index < r.index) {
                r.index = 0;
                r.cluster = r.first;
            }
            if (!isCluster(r.cluster))
                return makeError("its first cluster " + num(r.cluster) + " is not a cluster of the volume");
            while (r.index < index) {
                const std::uint32_t next = fat(r.cluster);
                if (!isCluster(next))
                    return makeError("its cluster chain ends at cluster " + num(r.cluster) + " before byte " + num(pos) +
                                     " of its " + num(r.size));
                r.cluster = next;
                ++r.index;
            }
            const std::uint64_t within = pos % cb;
            std::uint64_t run = cb - within;
            for (std::uint32_t last = r.cluster; run < want - done; run += cb, ++last)
                if (const std::uint32_t next = fat(last); next != last + 1 || !isCluster(next)) break;
            const std::uint64_t n = std::min(run, want - done);
            const std::uint64_t at = g_.dataStart + static_cast<std::uint64_t>(r.cluster - 2) * cb + within;
            if (auto s = vol_.readAt(at, buf.subspan(done, n)); !s) {
                const std::string why =
                    "cluster " + num(r.cluster) + " (byte " + num(pos) + " of the file) cannot be read: " + s.error().message;
                if (r.mediaError.empty()) r.mediaError = why;
                return makeError(why);
            }
            done += n;
            const std::uint64_t moved = (within + n - 1) / cb;   // clusters of the run left behind
            r.cluster += static_cast<std::uint32_t>(moved);
            r.index += moved;
        }
        return static_cast<std::size_t>(want);
    }

    // Every regular file, depth first in on-disk order; the path is built in
    // one buffer that grows going down a folder and shrinks coming back.
    Status reportFiles() {
        struct Frame {
            std::uint32_t dir;
            std::uint32_t next;
            std::size_t pathLen;   // before this folder's name was added
        };
        std::string path;
        std::vector<Frame> stack{{0, nodes_[0].childBegin, 0}};
        while (!stack.empty()) {
            Frame& top = stack.back();
            if (top.next >= nodes_[top.dir].childEnd) {
                path.resize(top.pathLen);
                stack.pop_back();
                continue;
            }
            const std::uint32_t i = top.next++;
            const Node& n = nodes_[i];
            const std::size_t keep = path.size();
            path.append(names_, n.nameAt, n.nameLen);
            if (n.dir) {
                if (n.walked && n.childEnd > n.childBegin) {
                    path += '/';
                    stack.push_back({i, n.childBegin, keep});   // `top` is not used past this point
                } else {
                    path.resize(keep);
                }
                continue;
            }
            Reading r;
            r.first = n.first;
            r.size = n.size;
            const ContentReader reader = [this, &r](std::uint64_t off, std::span<std::uint8_t> buf) {
                return readFile(r, off, buf);
            };
            if (auto s = v_.file(path, n.size, reader); !s) return s;
            if (!r.mediaError.empty()) {
                auto s = report(ReasonCode::ReadError, i, [&] { return "file " + path + ": " + r.mediaError; });
                if (!s) return s;
            }
            path.resize(keep);
        }
        return {};
    }

    const FatVolume& vol_;
    const Layout& g_;
    VolumeVisitor& v_;

    std::vector<std::uint8_t> fat_;     // the copy Windows reads, as far as the media holds it
    BadSectors fatBad_;                 // its sectors that could not be read
    std::uint32_t entries_ = 0;         // entries in fat_ (at most the last cluster + 1)
    std::vector<bool> claimed_;         // clusters that belong to a file or folder

    std::vector<Node> nodes_;           // [0] is the root folder
    std::string names_;                 // every node's name, one after the other
    std::vector<std::pair<std::uint32_t, std::uint32_t>> runs_;   // the chain being claimed, as runs
    std::vector<std::uint16_t> units_;       // the long name being decoded, as Windows reads it
    std::vector<std::uint16_t> linuxUnits_;  // and as Linux does
    std::vector<Collision> collisions_;
    std::uint64_t moreCollisions_ = 0;
    bool tooMany_ = false;
    bool readFailed_ = false;

    std::size_t listed_ = 0;
    std::uint64_t suppressed_ = 0;
    ReasonCode suppressedCode_ = ReasonCode::CorruptFilesystem;
};

Status FatVolume::walk(VolumeVisitor& v) const { return Walker(*this, v).run(); }

}  // namespace kiosk::scan
