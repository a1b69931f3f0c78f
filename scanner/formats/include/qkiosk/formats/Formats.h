// What a run of bytes is, by its content and never by its name: archives,
// compressed streams, filesystem and disk images, virtual disks, installers.
// Both workers ask the same question: the media reader, to know which files
// are disk images it must open as media of their own; the scanner, to know
// which layers of a file are containers and whether somebody opened them.
// Pure functions over bytes, so they are easy to test and to fuzz.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace kiosk::formats {

enum class Kind : std::uint8_t {
    Archive,           // members with names: zip, 7z, tar, cab, ...
    Compressed,        // one compressed stream: gzip, xz, zstd, ...
    FilesystemImage,   // a bare filesystem: FAT, NTFS, ext, ISO 9660, squashfs, ...
    DiskImage,         // a whole disk: an MBR or GPT partition table
    VirtualDisk,       // a virtual machine's disk: VHD, VHDX, VMDK, qcow2, EWF
    Installer,         // an installer that carries its payload in a format of its own
};

enum class Format : std::uint8_t {
    // archives
    Zip, SevenZip, Rar, Tar, Cpio, Ar, Cab, Lha, Arj, Xar, Rpm, Wim,
    // compressed streams
    Gzip, Bzip2, Xz, Lzma, Zstd, Lz4, Lzip, Lzop, Compress, Zisofs,
    // filesystem images
    Fat, Ntfs, Exfat, Ext, HfsPlus, Iso9660, Udf, Squashfs, Cramfs, Romfs, Xfs, Btrfs, F2fs, Dmg,
    // disk images
    Mbr, Gpt,
    // virtual disks
    Vhd, Vhdx, Vmdk, VmdkDescriptor, Qcow, Qcow2, Vdi, Ewf,
    // installers (identifyInstaller in Installers.h: they need the whole content)
    InnoSetup, Nsis, Msi,
};

struct Identity {
    Format format;
    Kind kind;
    const char* name;   // "a squashfs image", "a zstd stream": for sentences such as "... the scanner cannot open"
};

// How much of the content identify() wants to see: the first kHeadBytes (an
// ISO 9660 volume descriptor sits at 32 KiB, Btrfs's superblock at 64 KiB) and
// the last kTailBytes (VHD and DMG keep their signature in a footer).
inline constexpr std::size_t kHeadBytes = 68 * 1024;
inline constexpr std::size_t kTailBytes = 512;

// `head` is the start of the content (fewer bytes if it is shorter), `tail`
// its last bytes (may overlap head), `size` its whole size. Structures that a
// format's reader needs must fit inside `size`: a 512-byte copy of a boot
// sector or a partition table is not an image of anything.
std::optional<Identity> identify(std::span<const std::uint8_t> head, std::span<const std::uint8_t> tail,
                                 std::uint64_t size);

// The filesystem that begins at the first byte of `head`, whatever else
// shares its first sectors: identify() names a partition table in sector 0
// or a GPT header at 512 first, and misses an ext2/3/4, HFS+, Btrfs or F2FS
// superblock behind it; an operating system that probes the whole disk for a
// filesystem still finds it. Only Kind::FilesystemImage identities (never a
// disk image, an archive or a DMG, which is a file's footer).
std::optional<Identity> identifyFilesystem(std::span<const std::uint8_t> head, std::uint64_t size);

// Whether the media reader opens content of this identity as media of its
// own when it is a file on the stick: the filesystems it reads (FAT, NTFS,
// exFAT, ext2/3/4, HFS+, ISO 9660), disks (MBR, GPT) and virtual disks. Other
// filesystem images (squashfs, UDF, XFS, ...) are not media: nobody opens them.
bool isMedia(const Identity& id);

const char* formatName(Format format);   // "squashfs", "vhdx": stable, for reports and tests

// The bytes "\x37\xE4\x53\x96\xC9\xDB\xD6\x07" that begin a zisofs-compressed
// file (Rock Ridge "ZF"): its uncompressed size, or nullopt when the header is
// not one.
struct ZisofsHeader {
    std::uint32_t uncompressedSize = 0;
    std::uint8_t headerSize = 0;      // bytes, as stored (a multiple of 4, 16 in practice)
    std::uint8_t blockLog2 = 0;       // 15..17
};
std::optional<ZisofsHeader> zisofsHeader(std::span<const std::uint8_t> head);

}  // namespace kiosk::formats
