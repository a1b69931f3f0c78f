#include "qkiosk/formats/Formats.h"

#include "qkiosk/formats/Bytes.h"

#include <array>
#include <cstring>
#include <string_view>

namespace kiosk::formats {
namespace {

using namespace bytes;

bool powerOfTwo(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

Identity id(Format f, Kind k, const char* name) { return Identity{f, k, name}; }

// A FAT boot sector (FAT12/16/32) whose BPB is one a FAT driver accepts and
// whose reserved sectors, FATs and root directory fit inside `size`.
bool fatBootSector(Bytes h, std::uint64_t size) {
    if (h.size() < 512 || le16(h, 510) != 0xAA55) return false;
    if (!(h[0] == 0xEB && h[2] == 0x90) && h[0] != 0xE9) return false;
    if (hasAt(h, 3, "NTFS    ") || hasAt(h, 3, "EXFAT   ")) return false;
    const std::uint32_t bps = le16(h, 11);
    const std::uint32_t spc = h[13];
    const std::uint32_t reserved = le16(h, 14);
    const std::uint32_t fats = h[16];
    const std::uint32_t rootEntries = le16(h, 17);
    const std::uint32_t media = h[21];
    const std::uint32_t fat16Size = le16(h, 22);
    const std::uint32_t fatSize = fat16Size ? fat16Size : le32(h, 36);
    const std::uint64_t total = le16(h, 19) ? le16(h, 19) : le32(h, 32);
    if (bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) return false;
    if (!powerOfTwo(spc) || reserved == 0 || fats == 0 || fats > 4 || fatSize == 0 || total == 0) return false;
    if (media != 0xF0 && media < 0xF8) return false;
    if (fat16Size == 0 && rootEntries != 0) return false;   // FAT32 keeps its root in a cluster chain
    const std::uint64_t meta =
        (static_cast<std::uint64_t>(reserved) + static_cast<std::uint64_t>(fats) * fatSize) * bps + rootEntries * 32ull;
    return meta < size && meta < total * bps;
}

bool ntfsBootSector(Bytes h, std::uint64_t size) {
    if (h.size() < 512 || !hasAt(h, 3, "NTFS    ") || le16(h, 510) != 0xAA55) return false;
    const std::uint32_t bps = le16(h, 11);
    const std::uint32_t spc = h[13];
    if (bps < 256 || bps > 4096 || !powerOfTwo(bps) || spc == 0) return false;
    const std::uint64_t mftCluster = le64(h, 48);
    // Sectors per cluster above 128 is stored as a negative power of two (4 KiB sectors, 2 MiB clusters).
    const std::uint64_t clusterBytes = spc <= 128 ? static_cast<std::uint64_t>(spc) * bps
                                                  : (spc >= 0xF4 ? (1ull << (256 - spc)) : 0);
    if (clusterBytes == 0 || mftCluster > size / clusterBytes) return false;
    return mftCluster * clusterBytes < size;
}

bool exfatBootSector(Bytes h, std::uint64_t size) {
    if (h.size() < 512 || !hasAt(h, 3, "EXFAT   ") || le16(h, 510) != 0xAA55) return false;
    const std::uint32_t bpsShift = h[108];
    const std::uint32_t spcShift = h[109];
    if (bpsShift < 9 || bpsShift > 12 || spcShift > 25 - bpsShift) return false;
    const std::uint64_t fatOffset = le32(h, 80);
    return fatOffset > 0 && (fatOffset << bpsShift) < size;
}

bool extSuperblock(Bytes h, std::uint64_t size) {
    if (le16(h, 1024 + 56) != 0xEF53) return false;
    const std::uint32_t logBlock = le32(h, 1024 + 24);
    return logBlock <= 6 && le32(h, 1024 + 0) > 0 && le32(h, 1024 + 4) > 0 && le32(h, 1024 + 32) > 0 && size > 2048;
}

// A DOS partition table as Linux accepts one: the 0x55AA signature, every
// boot indicator 0 or 0x80, and at least one entry that is used. A table
// whose partitions all start beyond `size` describes nothing inside it (a
// saved copy of a boot sector), so it is not a disk image.
bool mbr(Bytes h, std::uint64_t size) {
    if (h.size() < 512 || le16(h, 510) != 0xAA55) return false;
    bool inside = false;
    for (int i = 0; i < 4; ++i) {
        const std::size_t e = 446 + 16 * static_cast<std::size_t>(i);
        if (h[e] != 0 && h[e] != 0x80) return false;
        const std::uint8_t type = h[e + 4];
        const std::uint64_t start = le32(h, e + 8);
        const std::uint64_t count = le32(h, e + 12);
        if (type != 0 && count != 0 && start != 0 && start * 512 < size) inside = true;
    }
    return inside;
}

bool isoDescriptors(Bytes h, std::string_view magic) {
    for (std::size_t sector = 16; sector < 16 + 8; ++sector) {
        const std::size_t o = sector * 2048;
        if (hasAt(h, o + 1, magic)) return true;
    }
    return false;
}

bool tarHeader(Bytes h) {
    if (h.size() < 512) return false;
    if (hasAt(h, 257, "ustar")) return true;
    // A V7 tar has no magic: its header's checksum (the bytes summed with the
    // checksum field as spaces) is the octal number stored at 148.
    if (h[0] == 0) return false;
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    unsigned stored = 0;
    bool digits = false;
    for (std::size_t i = 148; i < 156; ++i) {
        const auto c = h[i];
        if (c >= '0' && c <= '7') {
            stored = stored * 8 + (c - '0');
            digits = true;
        } else if (c == ' ' || c == 0) {
            if (digits) break;
        } else {
            return false;
        }
    }
    return digits && stored == sum;
}

bool lzmaAlone(Bytes h) {
    if (h.size() < 13 || h[0] != 0x5D) return false;
    const std::uint32_t dict = le32(h, 1);
    if (dict < (1u << 16) || dict > (1u << 30)) return false;
    if (!powerOfTwo(dict) && !powerOfTwo(dict / 3)) return false;
    const std::uint64_t usize = le64(h, 5);
    return usize == ~0ull || usize < (1ull << 40);
}

// The filesystem checks, in groups that identify() tries at different
// points (a partition table is tried between boot sectors and superblocks);
// identifyFilesystem() tries them all.

// Filesystems whose magic number is their first bytes.
std::optional<Identity> leadingMagicFilesystem(Bytes h) {
    if (hasAt(h, 0, "hsqs") || hasAt(h, 0, "sqsh")) return id(Format::Squashfs, Kind::FilesystemImage, "a squashfs image");
    if (hasAt(h, 0, "\x45\x3D\xCD\x28") || hasAt(h, 0, "\x28\xCD\x3D\x45") || hasAt(h, 512, "\x45\x3D\xCD\x28"))
        return id(Format::Cramfs, Kind::FilesystemImage, "a cramfs image");
    if (hasAt(h, 0, "-rom1fs-")) return id(Format::Romfs, Kind::FilesystemImage, "a romfs image");
    if (hasAt(h, 0, "XFSB")) return id(Format::Xfs, Kind::FilesystemImage, "an XFS filesystem image");
    return std::nullopt;
}

// Volume descriptors from 32 KiB on. A UDF descriptor wins over an ISO 9660
// one: a UDF bridge disc is read through its UDF tree by Windows and Linux.
std::optional<Identity> opticalFilesystem(Bytes h) {
    if (isoDescriptors(h, "NSR02") || isoDescriptors(h, "NSR03") || (isoDescriptors(h, "BEA01") && !isoDescriptors(h, "CD001")))
        return id(Format::Udf, Kind::FilesystemImage, "a UDF filesystem image");
    if (hasAt(h, 32769, "CD001")) return id(Format::Iso9660, Kind::FilesystemImage, "an ISO 9660 image");
    return std::nullopt;
}

// A boot sector with a BPB in sector 0.
std::optional<Identity> bootSectorFilesystem(Bytes h, std::uint64_t size) {
    if (fatBootSector(h, size)) return id(Format::Fat, Kind::FilesystemImage, "a FAT filesystem image");
    if (ntfsBootSector(h, size)) return id(Format::Ntfs, Kind::FilesystemImage, "an NTFS filesystem image");
    if (exfatBootSector(h, size)) return id(Format::Exfat, Kind::FilesystemImage, "an exFAT filesystem image");
    return std::nullopt;
}

// A superblock after unused first sectors (1 KiB for ext and HFS+, 64 KiB for Btrfs).
std::optional<Identity> superblockFilesystem(Bytes h, std::uint64_t size) {
    if (extSuperblock(h, size)) return id(Format::Ext, Kind::FilesystemImage, "an ext2/3/4 filesystem image");
    // Two letters alone are found in programs and pictures: the version
    // that follows them (4 for HFS+, 5 for HFSX) must be right too.
    if (((hasAt(h, 1024, "H+") && be16(h, 1026) == 4) || (hasAt(h, 1024, "HX") && be16(h, 1026) == 5)) && size > 1536)
        return id(Format::HfsPlus, Kind::FilesystemImage, "an HFS+ filesystem image");
    if (hasAt(h, 0x10040, "_BHRfS_M")) return id(Format::Btrfs, Kind::FilesystemImage, "a Btrfs filesystem image");
    if (hasAt(h, 0x400, "\x10\x20\xF5\xF2")) return id(Format::F2fs, Kind::FilesystemImage, "an F2FS filesystem image");
    return std::nullopt;
}

}  // namespace

std::optional<Identity> identifyFilesystem(std::span<const std::uint8_t> h, std::uint64_t size) {
    if (auto fs = leadingMagicFilesystem(h)) return fs;
    if (auto fs = opticalFilesystem(h)) return fs;
    if (auto fs = bootSectorFilesystem(h, size)) return fs;
    return superblockFilesystem(h, size);
}

std::optional<ZisofsHeader> zisofsHeader(std::span<const std::uint8_t> head) {
    if (!hasAt(head, 0, std::string_view("\x37\xE4\x53\x96\xC9\xDB\xD6\x07", 8)) || head.size() < 16) return std::nullopt;
    ZisofsHeader z;
    z.uncompressedSize = le32(head, 8);
    z.headerSize = static_cast<std::uint8_t>(head[12] * 4);
    z.blockLog2 = head[13];
    if (z.headerSize < 16 || z.blockLog2 < 15 || z.blockLog2 > 17) return std::nullopt;
    return z;
}

std::optional<Identity> identify(std::span<const std::uint8_t> h, std::span<const std::uint8_t> tail, std::uint64_t size) {
    // Signatures at the very start first: they are the strongest.
    if (hasAt(h, 0, "PK\x03\x04") || hasAt(h, 0, "PK\x05\x06") || hasAt(h, 0, "PK\x07\x08PK\x03\x04"))
        return id(Format::Zip, Kind::Archive, "a zip archive");
    if (hasAt(h, 0, "7z\xBC\xAF\x27\x1C")) return id(Format::SevenZip, Kind::Archive, "a 7z archive");
    if (hasAt(h, 0, std::string_view("Rar!\x1A\x07", 6))) return id(Format::Rar, Kind::Archive, "a RAR archive");
    if (hasAt(h, 0, "!<arch>\n")) return id(Format::Ar, Kind::Archive, "an ar archive");
    if (hasAt(h, 0, std::string_view("MSCF\0\0\0\0", 8))) return id(Format::Cab, Kind::Archive, "a cabinet (cab) archive");
    if (hasAt(h, 0, "xar!")) return id(Format::Xar, Kind::Archive, "a xar archive");
    if (hasAt(h, 0, "\xED\xAB\xEE\xDB")) return id(Format::Rpm, Kind::Archive, "an RPM package");
    if (hasAt(h, 0, std::string_view("MSWIM\0\0\0", 8)) || hasAt(h, 0, std::string_view("WLPWM\0\0\0", 8)))
        return id(Format::Wim, Kind::Archive, "a Windows imaging (WIM) archive");
    if (hasAt(h, 0, "070701") || hasAt(h, 0, "070702") || hasAt(h, 0, "070707") || le16(h, 0) == 0x71C7 ||
        (h.size() >= 2 && h[0] == 0x71 && h[1] == 0xC7))
        return id(Format::Cpio, Kind::Archive, "a cpio archive");
    if (h.size() >= 7 && h[2] == '-' && h[3] == 'l' && (h[4] == 'h' || h[4] == 'z') && h[6] == '-')
        return id(Format::Lha, Kind::Archive, "an LHA archive");
    if (h.size() >= 4 && h[0] == 0x60 && h[1] == 0xEA && le16(h, 2) > 0 && le16(h, 2) <= 2600)
        return id(Format::Arj, Kind::Archive, "an ARJ archive");

    if (hasAt(h, 0, "\x1F\x8B\x08")) return id(Format::Gzip, Kind::Compressed, "a gzip stream");
    if (hasAt(h, 0, "BZh") && h.size() >= 10 && h[3] >= '1' && h[3] <= '9' &&
        (hasAt(h, 4, "\x31\x41\x59\x26\x53\x59") || hasAt(h, 4, "\x17\x72\x45\x38\x50\x90")))
        return id(Format::Bzip2, Kind::Compressed, "a bzip2 stream");
    if (hasAt(h, 0, std::string_view("\xFD" "7zXZ\0", 6))) return id(Format::Xz, Kind::Compressed, "an xz stream");
    if (hasAt(h, 0, "\x28\xB5\x2F\xFD")) return id(Format::Zstd, Kind::Compressed, "a zstd stream");
    if (hasAt(h, 0, "\x04\x22\x4D\x18") || hasAt(h, 0, "\x02\x21\x4C\x18"))
        return id(Format::Lz4, Kind::Compressed, "an lz4 stream");
    if (hasAt(h, 0, "LZIP") && h.size() >= 6 && h[4] == 1) return id(Format::Lzip, Kind::Compressed, "an lzip stream");
    if (hasAt(h, 0, std::string_view("\x89LZO\0\r\n\x1A\n", 9))) return id(Format::Lzop, Kind::Compressed, "an lzop stream");
    if (hasAt(h, 0, "\x1F\x9D")) return id(Format::Compress, Kind::Compressed, "a compress (.Z) stream");
    if (zisofsHeader(h)) return id(Format::Zisofs, Kind::Compressed, "a zisofs-compressed file");

    if (auto fs = leadingMagicFilesystem(h)) return fs;

    if (hasAt(h, 0, "vhdxfile")) return id(Format::Vhdx, Kind::VirtualDisk, "a VHDX virtual disk");
    if (hasAt(h, 0, "conectix")) return id(Format::Vhd, Kind::VirtualDisk, "a VHD virtual disk");
    if (hasAt(h, 0, "KDMV") || hasAt(h, 0, "COWD")) return id(Format::Vmdk, Kind::VirtualDisk, "a VMDK virtual disk");
    if (hasAt(h, 0, "# Disk DescriptorFile"))
        return id(Format::VmdkDescriptor, Kind::VirtualDisk, "a VMDK descriptor (its disk is in other files)");
    if (hasAt(h, 0, "QFI\xFB")) {
        const auto version = be32(h, 4);
        if (version == 1) return id(Format::Qcow, Kind::VirtualDisk, "a qcow virtual disk");
        return id(Format::Qcow2, Kind::VirtualDisk, "a qcow2 virtual disk");
    }
    if (le32(h, 0x40) == 0xBEDA107F) return id(Format::Vdi, Kind::VirtualDisk, "a VDI virtual disk");
    if (hasAt(h, 0, std::string_view("EVF\x09\x0D\x0A\xFF\x00", 8)) || hasAt(h, 0, std::string_view("LVF\x09\x0D\x0A\xFF\x00", 8)) ||
        hasAt(h, 0, std::string_view("EVF2\r\n\x81\x00", 8)) || hasAt(h, 0, std::string_view("LEF2\r\n\x81\x00", 8)))
        return id(Format::Ewf, Kind::VirtualDisk, "an EnCase (EWF) evidence file");
    // A fixed VHD is the raw disk followed by a 512-byte footer.
    if (size >= 1024 && hasAt(tail, tail.size() >= 512 ? tail.size() - 512 : tail.size(), "conectix"))
        return id(Format::Vhd, Kind::VirtualDisk, "a VHD virtual disk");

    // Filesystems and disks.
    if (auto fs = opticalFilesystem(h)) return fs;
    if (auto fs = bootSectorFilesystem(h, size)) return fs;
    if (hasAt(h, 512, "EFI PART")) return id(Format::Gpt, Kind::DiskImage, "a disk image (GPT)");
    if (mbr(h, size)) return id(Format::Mbr, Kind::DiskImage, "a disk image (MBR)");
    if (auto fs = superblockFilesystem(h, size)) return fs;
    if (size >= 1024 && tail.size() >= 512 && hasAt(tail, tail.size() - 512, "koly") && be32(tail, tail.size() - 508) == 4)
        return id(Format::Dmg, Kind::FilesystemImage, "an Apple disk image (DMG)");

    // Weak signatures last.
    if (tarHeader(h)) return id(Format::Tar, Kind::Archive, "a tar archive");
    if (lzmaAlone(h)) return id(Format::Lzma, Kind::Compressed, "an lzma stream");
    return std::nullopt;
}

bool isMedia(const Identity& i) {
    switch (i.format) {
        case Format::Fat:
        case Format::Ntfs:
        case Format::Exfat:
        case Format::Ext:
        case Format::HfsPlus:
        case Format::Iso9660: return true;
        default: return i.kind == Kind::DiskImage || i.kind == Kind::VirtualDisk;
    }
}

const char* formatName(Format f) {
    switch (f) {
        case Format::Zip: return "zip";
        case Format::SevenZip: return "7z";
        case Format::Rar: return "rar";
        case Format::Tar: return "tar";
        case Format::Cpio: return "cpio";
        case Format::Ar: return "ar";
        case Format::Cab: return "cab";
        case Format::Lha: return "lha";
        case Format::Arj: return "arj";
        case Format::Xar: return "xar";
        case Format::Rpm: return "rpm";
        case Format::Wim: return "wim";
        case Format::Gzip: return "gzip";
        case Format::Bzip2: return "bzip2";
        case Format::Xz: return "xz";
        case Format::Lzma: return "lzma";
        case Format::Zstd: return "zstd";
        case Format::Lz4: return "lz4";
        case Format::Lzip: return "lzip";
        case Format::Lzop: return "lzop";
        case Format::Compress: return "compress";
        case Format::Zisofs: return "zisofs";
        case Format::Fat: return "fat";
        case Format::Ntfs: return "ntfs";
        case Format::Exfat: return "exfat";
        case Format::Ext: return "ext";
        case Format::HfsPlus: return "hfsplus";
        case Format::Iso9660: return "iso9660";
        case Format::Udf: return "udf";
        case Format::Squashfs: return "squashfs";
        case Format::Cramfs: return "cramfs";
        case Format::Romfs: return "romfs";
        case Format::Xfs: return "xfs";
        case Format::Btrfs: return "btrfs";
        case Format::F2fs: return "f2fs";
        case Format::Dmg: return "dmg";
        case Format::Mbr: return "mbr";
        case Format::Gpt: return "gpt";
        case Format::Vhd: return "vhd";
        case Format::Vhdx: return "vhdx";
        case Format::Vmdk: return "vmdk";
        case Format::VmdkDescriptor: return "vmdk-descriptor";
        case Format::Qcow: return "qcow";
        case Format::Qcow2: return "qcow2";
        case Format::Vdi: return "vdi";
        case Format::Ewf: return "ewf";
        case Format::InnoSetup: return "inno-setup";
        case Format::Nsis: return "nsis";
        case Format::Msi: return "msi";
    }
    return "unknown";
}

}  // namespace kiosk::formats
