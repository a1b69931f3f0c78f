// The rules this file implements, and the behaviour each follows, are in Layout.h.
#include "Layout.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>

#include "TskImage.h"
#include "qkiosk/formats/Bytes.h"
#include "qkiosk/formats/Formats.h"

namespace kiosk::scan {
namespace {

using proto::ReasonCode;
using namespace formats::bytes;
using formats::Format;

constexpr std::uint64_t kSector = 512;
constexpr std::size_t kMaxLogical = 251;          // Linux: partitions 5..255 (DISK_MAX_PARTS = 256)
constexpr unsigned kMaxEbrsWithoutPartition = 100; // Linux's loopct in parse_extended()
constexpr std::size_t kMaxEbrs = 1024;             // ours: each is a read (Linux's limits allow ~25000)
constexpr std::uint64_t kMaxGptArray = 4ull << 20; // 32768 entries of 128 bytes; tools write 16 KiB
constexpr std::size_t kMaxGptEntries = 255;        // Linux reads entries 1..255 (state->limit - 1); Windows 128
constexpr std::uint64_t kGapChunk = 4u << 20;
constexpr std::uint64_t kRetryPiece = 64u << 10;


// Hostile tables hold any 64-bit number: products and sums saturate, so an
// offset that overflows is simply "beyond the end of the media".
std::uint64_t mulSat(std::uint64_t a, std::uint64_t b) { return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b; }
std::uint64_t addSat(std::uint64_t a, std::uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }
std::uint64_t roundUp(std::uint64_t v, std::uint64_t to) { return v % to == 0 ? v : addSat(v - v % to, to); }

std::string str(std::uint64_t v) { return std::to_string(v); }
std::string volumePath(std::uint32_t index) { return "/p" + str(index) + "/"; }

// ------------------------------------------------------------------ what starts a volume

// Bytes the filesystem of `format` at the start of `h` says it spans.
std::uint64_t claimedBytes(Bytes h, Format format) {
    switch (format) {
        case Format::Fat: {
            const std::uint64_t total = le16(h, 19) ? le16(h, 19) : le32(h, 32);
            return total * le16(h, 11);
        }
        case Format::Ntfs:   // the backup boot sector follows the sectors the volume counts
            return mulSat(addSat(le64(h, 40), 1), le16(h, 11));
        case Format::Exfat:
            return h.size() > 108 && h[108] <= 12 ? mulSat(le64(h, 72), 1ull << h[108]) : 0;
        case Format::Ext: {
            const std::uint32_t logBlock = le32(h, 1024 + 24);
            if (logBlock > 6) return 0;
            std::uint64_t blocks = le32(h, 1024 + 4);
            if (le32(h, 1024 + 96) & 0x80) blocks |= static_cast<std::uint64_t>(le32(h, 1024 + 0x150)) << 32;   // INCOMPAT_64BIT
            return mulSat(blocks, 1024ull << logBlock);
        }
        case Format::Iso9660: return static_cast<std::uint64_t>(le32(h, 32768 + 80)) * le16(h, 32768 + 128);
        case Format::HfsPlus: return static_cast<std::uint64_t>(be32(h, 1024 + 40)) * be32(h, 1024 + 44);
        default: return 0;
    }
}

struct Seen {
    std::string content;
    std::uint64_t claimed = 0;
};

std::optional<std::string> encryption(Bytes h) {
    if (hasAt(h, 3, "-FVE-FS-")) return "bitlocker";
    if (hasAt(h, 0, std::string_view("LUKS\xba\xbe", 6)) || hasAt(h, 0, std::string_view("SKUL\xba\xbe", 6))) return "luks";
    return std::nullopt;
}

// What the first bytes of a volume of `size` bytes hold. Encryption first,
// as the reader checks it: BitLocker carries a FAT "discovery" volume.
Seen describe(Bytes head, std::uint64_t size) {
    if (auto enc = encryption(head)) return {*enc, 0};
    if (auto fs = formats::identifyFilesystem(head, size)) return {formats::formatName(fs->format), claimedBytes(head, fs->format)};
    if (auto any = formats::identify(head, {}, size); any && any->kind == formats::Kind::DiskImage)
        return {formats::formatName(any->format), 0};
    return {};
}

// ------------------------------------------------------------------ DOS tables

struct DosEntry {
    std::uint8_t boot = 0;
    std::uint8_t type = 0;
    std::uint64_t start = 0;   // sectors
    std::uint64_t count = 0;
};
using DosEntries = std::array<DosEntry, 4>;

constexpr std::uint8_t kGptProtective = 0xEE;

bool isExtended(std::uint8_t type) { return type == 0x05 || type == 0x0F || type == 0x85; }

// The four entries of a sector with the 0x55AA signature (an MBR or an EBR).
std::optional<DosEntries> dosEntries(Bytes s) {
    if (s.size() < 512 || le16(s, 510) != 0xAA55) return std::nullopt;
    DosEntries t;
    for (std::size_t i = 0; i < 4; ++i) {
        const std::size_t e = 446 + 16 * i;
        t[i] = DosEntry{s[e], s[e + 4], le32(s, e + 8), le32(s, e + 12)};
    }
    return t;
}

// Sector 0 as a partition table, by Linux's rule: every boot indicator 0 or 0x80.
std::optional<DosEntries> mbrTable(Bytes s) {
    auto t = dosEntries(s);
    if (!t) return std::nullopt;
    for (const auto& e : *t)
        if (e.boot != 0 && e.boot != 0x80) return std::nullopt;
    return t;
}

bool hasProtectiveEntry(Bytes s) {
    auto t = dosEntries(s);
    return t && std::any_of(t->begin(), t->end(), [](const DosEntry& e) { return e.type == kGptProtective; });
}

// ------------------------------------------------------------------ GPT headers

struct GptHeader {
    std::uint64_t lba = 0;          // where it is (its own LBA, checked)
    std::uint64_t alternateLba = 0;
    std::uint64_t entriesLba = 0;
    std::uint32_t count = 0;
    std::uint32_t entrySize = 0;
    std::uint32_t arrayCrc = 0;
};

// A header sector of `ss` bytes that says it is at `lba`, with its checks.
Result<GptHeader> gptHeader(Bytes s, std::uint64_t lba, std::uint32_t ss) {
    if (!hasAt(s, 0, "EFI PART")) return makeError("no \"EFI PART\" signature");
    const std::uint32_t headerSize = le32(s, 12);
    if (headerSize < 92 || headerSize > ss || headerSize > s.size())
        return makeError("header size of " + str(headerSize) + " bytes");
    std::vector<std::uint8_t> copy(s.begin(), s.begin() + headerSize);
    std::memset(copy.data() + 16, 0, 4);
    if (crc32(0, copy.data(), headerSize) != le32(s, 16)) return makeError("header CRC32 mismatch");
    GptHeader h;
    h.lba = le64(s, 24);
    if (h.lba != lba) return makeError("header says it is at LBA " + str(h.lba) + ", not " + str(lba));
    h.alternateLba = le64(s, 32);
    h.entriesLba = le64(s, 72);
    h.count = le32(s, 80);
    h.entrySize = le32(s, 84);
    h.arrayCrc = le32(s, 88);
    const std::uint32_t units = h.entrySize / 128;
    if (h.entrySize % 128 != 0 || units == 0 || (units & (units - 1)) != 0 || h.entrySize > 4096)
        return makeError("entries of " + str(h.entrySize) + " bytes");
    if (static_cast<std::uint64_t>(h.count) * h.entrySize > kMaxGptArray)
        return makeError("header claims " + str(h.count) + " entries of " + str(h.entrySize) + " bytes");
    return h;
}

struct GptTable {
    GptHeader header;
    std::uint32_t ss = 512;
    std::vector<std::uint8_t> array;
};

// ------------------------------------------------------------------ readLayout

bool validSectorSize(std::uint32_t ss) { return ss == 512 || ss == 1024 || ss == 2048 || ss == 4096; }

class LayoutReader {
public:
    LayoutReader(const ByteSource& media, std::uint32_t sectorSize)
        : media_(media), size_(media.size()), sectorSize_(validSectorSize(sectorSize) ? sectorSize : 512) {}

    Layout read() {
        if (size_ == 0) {   // the caller says "the media is empty"
            out_.volumes.push_back(VolumeSpan{0, "none", 0, 0, "", 0});
            return std::move(out_);
        }
        const auto head = readUpTo(media_, 0, formats::kHeadBytes);
        const Bytes sector0 = Bytes(head).first(std::min<std::size_t>(head.size(), kSector));
        const auto bare = formats::identifyFilesystem(head, size_);
        const bool protective = hasProtectiveEntry(sector0);

        const bool sig512 = gptSignatureAt(512);
        const bool sig4096 = gptSignatureAt(4096);
        const std::size_t before = out_.volumes.size();
        bool reported = false;
        const bool found512 = readGpt(512, sig512 || protective, reported);
        const bool found4096 = readGpt(4096, sig4096 || (protective && !found512 && !sig512), reported);
        const bool gpt = found512 || found4096;
        if (protective && !gpt && !reported)
            finding(ReasonCode::CorruptFilesystem, "/",
                    "the protective MBR (type 0xEE) announces a GPT, but neither LBA 1 nor the last sector holds a "
                    "valid GPT header: Linux and Windows read no partition from it");
        const std::vector<VolumeSpan> gptVolumes(out_.volumes.begin() + static_cast<std::ptrdiff_t>(before), out_.volumes.end());

        const std::uint32_t ss = found4096 && !found512 ? 4096 : found512 && !found4096 ? 512 : sectorSize_;
        bool dosPartitions = false;
        if (auto table = mbrTable(sector0)) dosPartitions = readMbr(*table, ss, gptVolumes);
        if (gpt || dosPartitions || protective || mbrTable(sector0))
            out_.structures.push_back(Extent{0, ss});
        if (!gpt && !dosPartitions) readWithTsk(mbrTable(sector0).has_value());

        // (A BitLocker volume's FAT "discovery" boot sector makes a bare
        // volume whose content says "bitlocker"; LUKS at 0 is no filesystem.)
        if (bare || out_.volumes.empty()) {
            const auto seen = describe(head, size_);
            out_.volumes.insert(out_.volumes.begin(), VolumeSpan{0, "none", 0, size_, seen.content, seen.claimed});
        }
        return std::move(out_);
    }

private:
    void finding(ReasonCode code, std::string path, std::string detail) {
        out_.findings.push_back(LayoutFinding{code, std::move(path), std::move(detail)});
    }

    // A partition: its index is the next one; what it holds is looked at.
    std::uint32_t addPartition(const std::string& scheme, std::uint64_t offset, std::uint64_t length) {
        length = std::min(length, UINT64_MAX - offset);
        VolumeSpan v{next_++, scheme, offset, length, "", 0};
        if (offset < size_) {
            const std::uint64_t avail = std::min(length, size_ - offset);
            const auto head = readUpTo(media_, offset, static_cast<std::size_t>(std::min<std::uint64_t>(avail, formats::kHeadBytes)));
            const auto seen = describe(head, avail);
            v.content = seen.content;
            v.claimed = seen.claimed;
        }
        out_.volumes.push_back(std::move(v));
        return out_.volumes.back().index;
    }

    bool gptSignatureAt(std::uint64_t offset) {
        const auto s = readUpTo(media_, offset, 8);
        return hasAt(s, 0, "EFI PART");
    }

    // ---- GPT

    Result<GptTable> loadGpt(std::uint64_t lba, std::uint32_t ss) {
        const std::uint64_t at = mulSat(lba, ss);
        if (at >= size_) return makeError("LBA " + str(lba) + " lies beyond the end of the media");
        const auto sector = readUpTo(media_, at, ss);
        if (sector.size() < ss) return makeError("LBA " + str(lba) + " cannot be read");
        auto header = gptHeader(sector, lba, ss);
        if (!header) return header.error();
        GptTable t{*header, ss, {}};
        const std::uint64_t arrayAt = mulSat(header->entriesLba, ss);
        t.array.resize(static_cast<std::size_t>(header->count) * header->entrySize);
        if (auto st = media_.readAt(arrayAt, t.array); !st)
            return makeError("its entry array at LBA " + str(header->entriesLba) + " cannot be read (" + st.error().message + ")");
        if (crc32(0, t.array.data(), static_cast<uInt>(t.array.size())) != header->arrayCrc)
            return makeError("entry array CRC32 mismatch");
        return t;
    }

    void addGptStructures(const GptTable& t) {
        out_.structures.push_back(Extent{mulSat(t.header.lba, t.ss), t.ss});
        if (!t.array.empty()) out_.structures.push_back(Extent{mulSat(t.header.entriesLba, t.ss), roundUp(t.array.size(), t.ss)});
    }

    // The GPT for `ss`-byte sectors, its partitions added; false when there is none.
    bool readGpt(std::uint32_t ss, bool tryBackup, bool& reported) {
        auto primary = loadGpt(1, ss);
        if (primary) {
            addGptStructures(*primary);
            checkBackup(*primary);
            addGptPartitions(*primary);
            return true;
        }
        if (!tryBackup) return false;
        const std::uint64_t lastLba = size_ / ss;
        if (lastLba < 3) return false;
        auto backup = loadGpt(lastLba - 1, ss);
        const bool signature = gptSignatureAt(ss);
        if (!backup) {
            if (signature) {
                reported = true;
                finding(ReasonCode::CorruptFilesystem, "/",
                        "the GPT header at LBA 1 (" + str(ss) + "-byte sectors) is damaged (" + primary.error().message +
                            ") and the last sector holds no valid backup (" + backup.error().message +
                            "): Linux and Windows read no partition from it");
            }
            return false;
        }
        reported = true;
        finding(ReasonCode::CorruptFilesystem, "/",
                "the primary GPT (" + str(ss) + "-byte sectors) is damaged (" + primary.error().message +
                    "): its backup at the last sector was read, as Windows does, while Linux reads no partition here");
        addGptStructures(*backup);
        addGptPartitions(*backup);
        return true;
    }

    // Tools write the backup as a copy; one that lists other partitions
    // would be brought back by a repair tool.
    void checkBackup(const GptTable& primary) {
        const std::uint64_t alt = primary.header.alternateLba;
        if (alt <= 1) return;
        auto backup = loadGpt(alt, primary.ss);
        if (!backup) return;   // missing (an image written to a larger stick): Linux warns, Windows rewrites it
        addGptStructures(*backup);
        if (backup->header.entrySize != primary.header.entrySize || backup->array != primary.array)
            finding(ReasonCode::CorruptFilesystem, "/",
                    "the backup GPT at LBA " + str(alt) + " lists other partitions than the primary one");
    }

    void addGptPartitions(const GptTable& t) {
        static constexpr std::array<std::uint8_t, 16> kUnused{};
        for (std::size_t i = 0; i < t.header.count; ++i) {
            const Bytes e = Bytes(t.array).subspan(i * t.header.entrySize, t.header.entrySize);
            if (std::memcmp(e.data(), kUnused.data(), kUnused.size()) == 0) continue;
            if (i >= kMaxGptEntries) {
                finding(ReasonCode::AmbiguousLayout, "/",
                        "GPT entry " + str(i + 1) + " is used: Linux reads the first " + str(kMaxGptEntries) +
                            " entries, other systems may read on");
                return;
            }
            const std::uint64_t first = le64(e, 32);
            const std::uint64_t last = le64(e, 40);
            const std::uint64_t offset = mulSat(first, t.ss);
            if (last < first) {
                // Linux's size (last - first + 1) wraps: its partition runs to the end of the disk.
                const auto index = addPartition("gpt", offset, offset < size_ ? size_ - offset : 0);
                finding(ReasonCode::CorruptFilesystem, volumePath(index),
                        "GPT entry " + str(i + 1) + " ends (LBA " + str(last) + ") before it starts (LBA " + str(first) + ")");
                continue;
            }
            addPartition("gpt", offset, mulSat(addSat(last - first, 1), t.ss));
        }
    }

    // ---- DOS

    struct Span {
        std::uint64_t offset, length;
    };

    // Primary entries, then the logical ones; those that coincide with a GPT
    // partition are the same reading. True when the table has a partition.
    bool readMbr(const DosEntries& table, std::uint32_t ss, const std::vector<VolumeSpan>& gptVolumes) {
        std::vector<Span> primaries, logicals;
        std::set<std::uint64_t> seen;
        bool any = false;
        for (const auto& e : table) {
            if (e.count == 0 || e.type == kGptProtective) continue;
            any = true;
            if (isExtended(e.type)) {
                followExtended(e, ss, logicals, seen);
                continue;
            }
            primaries.push_back(Span{e.start * ss, e.count * ss});
        }
        primaries.insert(primaries.end(), logicals.begin(), logicals.end());
        for (const auto& p : primaries) {
            const bool same = std::any_of(gptVolumes.begin(), gptVolumes.end(), [&](const VolumeSpan& g) {
                return g.offset == p.offset && g.length == p.length;
            });
            if (!same) addPartition("mbr", p.offset, p.length);
        }
        return any;
    }

    // The chain of EBRs of one extended partition, as Linux's parse_extended().
    void followExtended(const DosEntry& extended, std::uint32_t ss, std::vector<Span>& logicals, std::set<std::uint64_t>& seen) {
        const std::uint64_t firstSector = extended.start;
        const std::uint64_t firstSize = extended.count;
        std::uint64_t thisSector = firstSector;
        std::uint64_t thisSize = firstSize;
        unsigned withoutPartition = 0;
        while (true) {
            if (++withoutPartition > kMaxEbrsWithoutPartition) {
                finding(ReasonCode::AmbiguousLayout, "/",
                        "the extended partition holds more than " + str(kMaxEbrsWithoutPartition) +
                            " EBRs in a row without a partition: Linux stops there, other systems may read on");
                return;
            }
            if (seen.size() == kMaxEbrs) {
                finding(ReasonCode::AmbiguousLayout, "/",
                        "the extended partitions hold more than " + str(kMaxEbrs) +
                            " EBRs: the rest is not read, while Linux may read on");
                return;
            }
            if (!seen.insert(thisSector).second) {
                finding(ReasonCode::CorruptFilesystem, "/",
                        "the extended partition's chain of EBRs loops back to sector " + str(thisSector));
                return;
            }
            const std::uint64_t at = thisSector * ss;
            if (at >= size_) {
                finding(ReasonCode::ReadError, "/",
                        "the extended partition's EBR at sector " + str(thisSector) +
                            " lies beyond the end of the media (truncated image?): its logical partitions cannot be known");
                return;
            }
            std::vector<std::uint8_t> sector(ss);
            if (auto st = media_.readAt(at, sector); !st) {
                finding(ReasonCode::ReadError, "/",
                        "the extended partition's EBR at sector " + str(thisSector) + " cannot be read (" +
                            st.error().message + "): its logical partitions cannot be known");
                return;
            }
            auto entries = dosEntries(sector);
            if (!entries) return;   // no signature: the chain ends (an empty extended partition)
            out_.structures.push_back(Extent{at, ss});
            for (std::size_t i = 0; i < 4; ++i) {
                const auto& e = (*entries)[i];
                if (e.count == 0 || isExtended(e.type)) continue;
                const std::uint64_t next = thisSector + e.start;
                if (i >= 2) {   // Linux: the 3rd and 4th entries "sometimes contain random garbage"
                    if (e.start + e.count > thisSize) continue;
                    if (next < firstSector) continue;
                    if (next + e.count > firstSector + firstSize) continue;
                }
                if (logicals.size() == kMaxLogical) {
                    finding(ReasonCode::AmbiguousLayout, "/",
                            "the extended partition holds more than " + str(kMaxLogical) +
                                " logical partitions: Linux stops at partition 255, other systems may read on");
                    return;
                }
                logicals.push_back(Span{next * ss, e.count * ss});
                withoutPartition = 0;
            }
            const auto link = std::find_if(entries->begin(), entries->end(),
                                           [](const DosEntry& e) { return e.count != 0 && isExtended(e.type); });
            if (link == entries->end()) return;
            thisSector = firstSector + link->start;
            thisSize = link->count;
        }
    }

    // ---- other schemes, through libtsk

    // `dosRead`: sector 0 was a DOS table by Linux's rule, read above (with no
    // partition but 0xEE entries): libtsk's DOS reading of it adds nothing
    // but the protective entry as a partition. Its DOS reading of a table
    // Linux refuses (a boot indicator of 0x01), or its GPT reading where the
    // CRCs fail (libtsk checks none), is kept: nothing is lost against today.
    void readWithTsk(bool dosRead) {
        tsk_error_reset();
        tsk::ImgPtr img = tsk::openImage(media_);
        if (!img) {
            (void)tsk::lastError("");
            return;
        }
        tsk::VsPtr vs(tsk_vs_open(img.get(), 0, TSK_VS_TYPE_DETECT));
        tsk_error_reset();
        if (!vs || (vs->vstype == TSK_VS_TYPE_DOS && dosRead)) return;
        const std::string scheme = vs->vstype == TSK_VS_TYPE_GPT ? "gpt"
                                   : vs->vstype == TSK_VS_TYPE_DOS ? "mbr"
                                                                   : tsk_vs_type_toname(vs->vstype);
        for (TSK_PNUM_T i = 0; i < vs->part_count; ++i) {
            const TSK_VS_PART_INFO* p = tsk_vs_part_get(vs.get(), i);
            if (!p || !(p->flags & TSK_VS_PART_FLAG_ALLOC)) continue;
            addPartition(scheme, mulSat(p->start, vs->block_size), mulSat(p->len, vs->block_size));
        }
        tsk_error_reset();
    }

    const ByteSource& media_;
    const std::uint64_t size_;
    const std::uint32_t sectorSize_;
    std::uint32_t next_ = 1;
    Layout out_;
};

// ------------------------------------------------------------------ hidden volumes

// What a sector's bytes suggest starts at some offset before it, checked
// before it counts.
enum class Probe : std::uint8_t { BootSector, GptHeader512, GptHeader4096, Superblock1k, Optical, Leading, F2fs, Btrfs };

struct Candidate {
    std::uint64_t start;
    Probe probe;
};

// Scans gaps chunk by chunk. Each chunk is read with what lies up to 64 KiB
// before it and kHeadBytes after it, so that checking a candidate (which
// starts up to 64 KiB before its signature) needs no read of its own. Reads
// that do (a bad chunk, a GPT's entry array elsewhere, the original of an
// NTFS backup) share a budget, and at most kMaxHidden volumes are found: a
// gap crafted with a signature in every sector must not turn into a read of
// 68 KiB per sector, nor into millions of volumes for the caller to read.
class GapScanner {
public:
    GapScanner(const ByteSource& media, std::uint32_t nextIndex) : media_(media), next_(nextIndex) {}

    void scan(std::uint64_t begin, std::uint64_t end) {
        gapEnd_ = end;
        std::uint64_t unreadable = 0;
        std::string firstError;
        std::uint64_t pos = begin;
        while ((pos = std::max(pos, skipTo_)) < end && !stopped_) {   // past the volumes found so far
            const auto n = std::min<std::uint64_t>(kGapChunk, end - pos);
            if (load(pos >= kBehind ? pos - kBehind : 0, std::min(pos + n + formats::kHeadBytes, media_.size()))) {
                pos = scanSectors(pos, pos + n);
                continue;
            }
            // A bad sector somewhere: the chunk alone, in smaller pieces.
            const std::uint64_t chunkEnd = pos + n;
            while (pos < chunkEnd && !stopped_) {
                const std::uint64_t m = std::min<std::uint64_t>(kRetryPiece, chunkEnd - pos);
                auto st = loadOrError(pos, pos + m);
                if (!st) {
                    if (firstError.empty()) firstError = "from byte " + str(pos) + ": " + st.error().message;
                    unreadable += m;
                    pos += m;
                    continue;
                }
                pos = scanSectors(pos, pos + m);
                if (pos > chunkEnd) break;   // a volume found here reaches past the chunk
            }
        }
        if (unreadable > 0)
            out_.findings.push_back(LayoutFinding{ReasonCode::ReadError, "/",
                                                  str(unreadable) + " bytes outside every partition cannot be read (" +
                                                      firstError + "): a volume hidden there cannot be ruled out"});
    }

    Layout take() { return std::move(out_); }

private:
    static constexpr std::uint64_t kBehind = 0x10000;          // the farthest a signature lies into its volume (Btrfs)
    static constexpr std::size_t kMaxHidden = 64;
    static constexpr std::uint64_t kMaxExtraBytes = 64ull << 20;

    bool load(std::uint64_t from, std::uint64_t to) { return loadOrError(from, to).ok(); }

    Status loadOrError(std::uint64_t from, std::uint64_t to) {
        window_.resize(static_cast<std::size_t>(to - from));
        windowAt_ = from;
        auto st = media_.readAt(from, window_);
        if (!st) window_.clear();
        return st;
    }

    // Up to `len` bytes at `at` (fewer where the media ends): from the
    // window when it holds them, else read within the budget.
    Bytes bytesAt(std::uint64_t at, std::size_t len, std::vector<std::uint8_t>& scratch) {
        if (at >= media_.size()) return {};
        const std::uint64_t want = std::min<std::uint64_t>(len, media_.size() - at);
        if (at >= windowAt_ && at - windowAt_ + want <= window_.size())
            return Bytes(window_).subspan(static_cast<std::size_t>(at - windowAt_), static_cast<std::size_t>(want));
        if (extraBytes_ + want > kMaxExtraBytes) {
            stop("the space outside the partitions holds more signatures than can be checked (" + str(kMaxExtraBytes >> 20) +
                 " MiB of reads): the rest of it is not searched");
            return {};
        }
        extraBytes_ += want;
        scratch = readUpTo(media_, at, static_cast<std::size_t>(want));
        return scratch;
    }

    void stop(const std::string& why) {
        if (stopped_) return;
        stopped_ = true;
        out_.findings.push_back(LayoutFinding{ReasonCode::AmbiguousLayout, "/", why});
    }

    // Probes the sectors of [from, to), which the window holds; returns where to go on.
    std::uint64_t scanSectors(std::uint64_t from, std::uint64_t to) {
        std::array<Candidate, 8> found{};
        for (std::uint64_t at = from; at + kSector <= to && !stopped_; at += kSector) {
            if (at < skipTo_) continue;
            const Bytes sector = Bytes(window_).subspan(static_cast<std::size_t>(at - windowAt_), kSector);
            const std::size_t n = probe(at, sector, found);
            for (std::size_t i = 0; i < n; ++i) {
                if (!accept(found[i])) continue;
                if (skipTo_ > to) return skipTo_;
                break;
            }
        }
        return to;
    }

    // The candidates one sector suggests (cheap checks on its own bytes).
    static std::size_t probe(std::uint64_t at, Bytes s, std::array<Candidate, 8>& out) {
        std::size_t n = 0;
        auto add = [&](std::uint64_t back, Probe p) {
            if (at >= back && n < out.size()) out[n++] = Candidate{at - back, p};
        };
        if (le16(s, 510) == 0xAA55) add(0, Probe::BootSector);
        if (hasAt(s, 0, "EFI PART")) {
            add(512, Probe::GptHeader512);
            add(4096, Probe::GptHeader4096);
        }
        if (le16(s, 56) == 0xEF53 || ((hasAt(s, 0, "H+") || hasAt(s, 0, "HX")) && (be16(s, 2) == 4 || be16(s, 2) == 5)))
            add(1024, Probe::Superblock1k);
        if (hasAt(s, 1, "CD001") || hasAt(s, 1, "BEA01") || hasAt(s, 1, "NSR02") || hasAt(s, 1, "NSR03"))
            add(32768, Probe::Optical);
        if (hasAt(s, 0, "hsqs") || hasAt(s, 0, "sqsh") || hasAt(s, 0, "XFSB") || hasAt(s, 0, "-rom1fs-") ||
            hasAt(s, 0, "\x45\x3D\xCD\x28") || hasAt(s, 0, "\x28\xCD\x3D\x45") ||
            hasAt(s, 0, std::string_view("LUKS\xba\xbe", 6)) || hasAt(s, 0, std::string_view("SKUL\xba\xbe", 6)))
            add(0, Probe::Leading);
        if (hasAt(s, 0, "\x10\x20\xF5\xF2")) add(0x400, Probe::F2fs);
        if (hasAt(s, 0x40, "_BHRfS_M")) add(0x10000, Probe::Btrfs);
        return n;
    }

    // Bytes from a candidate's start that its checks read.
    static std::size_t needed(Probe p) {
        switch (p) {
            case Probe::BootSector: return kSector;
            case Probe::Superblock1k: return 2048;
            case Probe::Leading: return 1024;
            case Probe::F2fs: return 0x400 + kSector;
            case Probe::Btrfs: return 0x10000 + kSector;
            default: return formats::kHeadBytes;   // ISO 9660 / UDF descriptors from 32 KiB on
        }
    }

    bool inFound(std::uint64_t at) const {
        return std::any_of(out_.volumes.begin(), out_.volumes.end(),
                           [&](const VolumeSpan& v) { return at >= v.offset && at - v.offset < v.length; });
    }

    // Whether the candidate is what its probe suggests; if so it is a volume.
    bool accept(const Candidate& c) {
        if (inFound(c.start)) return false;
        const std::uint64_t avail = gapEnd_ - c.start;   // what the gap leaves it (c.start <= the sector probed)
        Seen seen;
        if (c.probe == Probe::GptHeader512 || c.probe == Probe::GptHeader4096) {
            if (!hiddenGpt(c.start, c.probe == Probe::GptHeader512 ? 512 : 4096, seen)) return false;
        } else {
            std::vector<std::uint8_t> scratch;
            const Bytes head = bytesAt(c.start, needed(c.probe), scratch);
            if (head.size() < kSector) return false;
            seen = describe(head, avail);
            if (!fits(c.probe, seen.content)) return false;
            if (seen.content == "ntfs" && ntfsBackup(c.start, head)) return false;
            if (seen.content == "ext" && le16(head, 1024 + 0x5A) != 0) return false;   // s_block_group_nr: a backup
            if (seen.content == "mbr") {   // a protective MBR: the disk is its GPT's size
                Seen gpt;
                if (hiddenGpt(c.start, 512, gpt) || hiddenGpt(c.start, 4096, gpt)) seen = gpt;
            }
        }
        if (out_.volumes.size() == kMaxHidden) {
            stop("more than " + str(kMaxHidden) + " volumes lie outside the partitions: the rest of the space is not searched");
            return false;
        }
        VolumeSpan v{next_++, "unpartitioned", c.start, 0, seen.content, seen.claimed};
        v.length = std::min(seen.claimed ? seen.claimed : avail, UINT64_MAX - v.offset);
        skipTo_ = std::max(skipTo_, roundUp(Extent{v.offset, v.length}.end(), kSector));
        out_.volumes.push_back(std::move(v));
        return true;
    }

    // The probe's signature must be the one the candidate is recognised by:
    // a boot sector found 1 KiB before an ext magic is not an ext volume.
    static bool fits(Probe p, const std::string& content) {
        switch (p) {
            case Probe::BootSector:
                return content == "fat" || content == "ntfs" || content == "exfat" || content == "bitlocker" || content == "mbr";
            case Probe::Superblock1k: return content == "ext" || content == "hfsplus";
            case Probe::Optical: return content == "iso9660" || content == "udf";
            case Probe::Leading:
                return content == "squashfs" || content == "xfs" || content == "romfs" || content == "cramfs" || content == "luks";
            case Probe::F2fs: return content == "f2fs";
            case Probe::Btrfs: return content == "btrfs";
            default: return false;
        }
    }

    // NTFS keeps a copy of its boot sector right after the sectors it counts.
    bool ntfsBackup(std::uint64_t at, Bytes head) {
        const std::uint64_t span = mulSat(le64(head, 40), le16(head, 11));
        if (span == 0 || span > at) return false;
        std::vector<std::uint8_t> scratch;
        const Bytes original = bytesAt(at - span, kSector, scratch);
        return original.size() == kSector && std::equal(original.begin(), original.end(), head.begin());
    }

    // A primary GPT header (its own LBA 1) with a matching entry array: a
    // disk image. A backup header never counts: it belongs to a GPT.
    bool hiddenGpt(std::uint64_t start, std::uint32_t ss, Seen& seen) {
        std::vector<std::uint8_t> scratch;
        const Bytes sector = bytesAt(start + ss, ss, scratch);
        auto header = gptHeader(sector, 1, ss);
        if (!header) return false;
        const std::size_t arrayBytes = static_cast<std::size_t>(header->count) * header->entrySize;
        const Bytes array = bytesAt(addSat(start, mulSat(header->entriesLba, ss)), arrayBytes, scratch);
        if (array.size() != arrayBytes || crc32(0, array.data(), static_cast<uInt>(array.size())) != header->arrayCrc)
            return false;
        seen.content = "gpt";
        seen.claimed = header->alternateLba > 1 ? mulSat(addSat(header->alternateLba, 1), ss) : 0;
        return true;
    }

    const ByteSource& media_;
    std::uint32_t next_;
    std::uint64_t gapEnd_ = 0;
    std::uint64_t skipTo_ = 0;
    std::vector<std::uint8_t> window_;    // the bytes of [windowAt_, windowAt_ + size)
    std::uint64_t windowAt_ = 0;
    std::uint64_t extraBytes_ = 0;
    bool stopped_ = false;
    Layout out_;
};

}  // namespace

Layout readLayout(const ByteSource& media, std::uint32_t sectorSize) { return LayoutReader(media, sectorSize).read(); }

std::vector<Extent> usedExtents(const Layout& layout) {
    std::vector<Extent> used = layout.structures;
    for (const auto& v : layout.volumes) {
        if (v.index == 0 && v.scheme == "none")
            used.push_back(Extent{v.offset, v.claimed ? v.claimed : v.length});
        else
            used.push_back(Extent{v.offset, v.length});
    }
    return used;
}

Layout findHiddenVolumes(const ByteSource& media, const std::vector<Extent>& used, std::uint32_t nextIndex) {
    std::vector<Extent> sorted;
    for (const auto& u : used)
        if (u.length > 0) sorted.push_back(u);
    std::sort(sorted.begin(), sorted.end(), [](const Extent& a, const Extent& b) { return a.offset < b.offset; });
    GapScanner scanner(media, nextIndex);
    // Signatures sit at sector boundaries: a gap is scanned from the first
    // whole sector after what is used to the last whole sector before the next.
    const std::uint64_t mediaEnd = media.size() - media.size() % kSector;
    std::uint64_t pos = 0;
    auto gap = [&](std::uint64_t until) {
        const std::uint64_t begin = roundUp(pos, kSector);
        const std::uint64_t end = std::min(until - until % kSector, mediaEnd);
        if (begin < end) scanner.scan(begin, end);
    };
    for (const auto& u : sorted) {
        if (u.offset > pos) gap(u.offset);
        pos = std::max(pos, u.end());
        if (pos >= mediaEnd) break;
    }
    if (pos < mediaEnd) gap(mediaEnd);
    return scanner.take();
}

}  // namespace kiosk::scan
