// Our own reader and checker of FAT12, FAT16 and FAT32 volumes. The Sleuth Kit
// reads crafted FAT sticks differently from Windows and passes over damage in
// silence (a decoy first FAT copy, long names cut short, a file whose first
// cluster is past the end left out), so a stick could pass with an infected
// file on it. This reader checks the whole volume as `fsck.fat -n` would,
// reads it as Windows does, and reports every contradiction and every way two
// operating systems would see two different sets of files as a problem.
// It reads only through a ByteSource and reports through a VolumeVisitor.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "ByteSource.h"
#include "VolumeVisitor.h"
#include "qkiosk/base/Result.h"

namespace kiosk::scan {

class FatVolume {
public:
    // Opens the FAT filesystem whose boot sector is at byte `offset` of `media`
    // and which may span at most `length` bytes (its partition). Fails, with a
    // sentence saying why, when the boot sector is not a FAT one or its
    // parameters are impossible (those fsck.fat refuses to check). A volume
    // that does not fit in `length` or in the media still opens: walk() reports
    // it and reads what is there. `media` must outlive the FatVolume.
    static Result<FatVolume> open(const ByteSource& media, std::uint64_t offset, std::uint64_t length);

    // True when `bootSector` (the volume's first 512 bytes or more) carries the
    // marks of a FAT boot sector (a jump instruction, a FAT BPB, the 0x55AA
    // signature), whether or not its parameters are possible: such a volume
    // must be read by this class, and a failure to open it is a problem with
    // the media, never a reason to let another reader try.
    static bool looksLikeFat(std::span<const std::uint8_t> bootSector);

    // "fat12", "fat16" or "fat32", as Windows and Linux decide it: FAT32 when
    // the boot sector has the FAT32 form (16-bit FAT size 0), otherwise FAT12
    // below 4085 clusters and FAT16 from there (Microsoft's specification).
    const char* type() const;
    // The volume label: the root folder's label entry, else the boot sector's;
    // "" if there is none or it is "NO NAME". Bytes as stored (OEM code page):
    // the caller makes them printable.
    const std::string& label() const { return label_; }
    // Total sectors x bytes per sector: the space the filesystem claims.
    std::uint64_t extentBytes() const { return layout_.extent; }
    // Data clusters (numbered 2 to clusterCount() + 1) and their size.
    std::uint32_t clusterCount() const { return layout_.clusters; }
    std::uint32_t clusterBytes() const { return layout_.clusterBytes; }

    // Checks the whole volume, then reports every regular file (hidden and
    // system files included) through `v.file`, in a deterministic order (each
    // folder's entries in on-disk order, a subfolder's content where the
    // subfolder is listed), and every problem through `v.problem`. A file whose
    // chain is broken is still reported; its ContentReader fails where the
    // chain does. A read of the media that fails while the visitor reads a
    // file is reported as a read-error problem for that file once `v.file`
    // returns, whatever the visitor did with the error. An error return means
    // the visitor failed (its error is passed on); problems with the media are
    // problems, never errors. Bounded by what the media holds: problems are
    // listed one by one up to 256, then counted in one last problem; a volume
    // of more than 2,097,152 files and folders is read that far and is
    // unscannable. Paths can be of any length (the caller decides what is too
    // long to report). May be called more than once: the same calls again.
    Status walk(VolumeVisitor& v) const;

private:
    // Where everything is, in bytes from the boot sector, as the BPB says.
    struct Layout {
        std::uint64_t offset = 0;         // of the boot sector in the media
        std::uint64_t avail = 0;          // bytes from `offset` that may be read: min(length, end of media)
        std::uint64_t length = 0;         // the partition's length as given to open()
        std::uint32_t bytesPerSector = 0;
        std::uint32_t clusterBytes = 0;
        std::uint32_t fats = 0;           // FAT copies
        std::uint64_t fatStart = 0;       // first FAT copy
        std::uint64_t fatBytes = 0;       // one copy, as the BPB sizes it
        std::uint64_t rootStart = 0;      // FAT12/16: the fixed root folder
        std::uint32_t rootEntries = 0;    // FAT12/16: its entries
        std::uint64_t dataStart = 0;      // cluster 2
        std::uint64_t extent = 0;         // total sectors x bytes per sector
        std::uint32_t clusters = 0;       // data clusters
        std::uint32_t rootCluster = 0;    // FAT32: first cluster of the root folder
        int bits = 0;                     // 12, 16 or 32
        bool mirrored = true;             // FAT copies are mirrors (FAT32: ExtFlags bit 7 clear)
        std::uint32_t activeFat = 0;      // FAT32 with mirroring off: ExtFlags bits 0-3
        std::uint32_t usedFat = 0;        // the copy read: the one Windows uses

        std::uint32_t maxCluster() const { return clusters + 1; }
    };
    class Walker;

    FatVolume(const ByteSource& media, const Layout& layout) : media_(&media), layout_(layout) {}
    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const;
    bool partitionEnds() const;   // the partition, not the media, is what ends before the volume
    std::string readLabel(const std::uint8_t* bootSector) const;

    const ByteSource* media_;
    Layout layout_;
    std::string label_;
};

}  // namespace kiosk::scan
