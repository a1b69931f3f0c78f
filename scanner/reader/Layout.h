// The media's layout: every reading of the stick that some operating system
// would mount, so that the reader scans each of them instead of the one that
// libtsk happens to pick. Sector 0 can be a FAT boot sector and a partition
// table at once, a GPT can carry a hybrid MBR, a filesystem can sit where no
// partition is: an attacker puts the infected file in the reading the kiosk
// does not look at. Pure over the bytes of a ByteSource (libtsk only for the
// rare partition schemes it knows and we do not), so it is easy to test and
// to fuzz. Filesystems are recognised with formats::identifyFilesystem().
//
// The rules, with the behaviour each follows:
//
// DOS/MBR table (Linux block/partitions/msdos.c):
//  - 0x55AA at 510 and every boot indicator 0 or 0x80; otherwise sector 0 is
//    no table for Linux (which then reads a FAT boot sector as the disk).
//  - Every primary entry whose size is not 0 is a partition, whatever its
//    type: Linux creates sdbN for type 0 too (Debian's hybrid ISOs have a
//    type-0 first partition), and libtsk lists it as well.
//  - 0x05, 0x0F and 0x85 are extended partitions: not volumes themselves,
//    followed through their chain of EBRs. An EBR without 0x55AA ends the
//    chain quietly (an empty extended partition), as in Linux and libtsk. In
//    an EBR, entries of size 0 and extended entries are no partitions; the
//    3rd and 4th entries count only inside the extended partition (Linux's
//    check for the garbage found there); a logical partition starts relative
//    to its EBR, the next EBR (the first extended entry) relative to the
//    extended partition's start.
//  - Limits, as Linux's: at most 251 logical partitions (Linux stops at
//    partition 255, DISK_MAX_PARTS = 256), at most 100 EBRs in a row without
//    a partition (Linux's loopct); and, ours, at most 1024 EBRs in all (each
//    is a read; Linux's limits allow some 25000). Beyond any: an
//    `ambiguous-layout` finding (another system may read on). An EBR seen twice ends the chain
//    with a `corrupt-filesystem` finding (no tool writes a loop; Linux would
//    list the same partitions again up to its limit). An EBR the media cannot
//    give: a `read-error` finding (its logical partitions cannot be known).
//  - Numbering: primary slots, then logical partitions in chain order, empty
//    slots skipped, as Linux orders them (sdb1-4, sdb5...). libtsk sorts by
//    start sector instead; tools write tables in that order, so the indexes
//    differ from today's only for a table written out of order.
//  - A type 0xEE entry is no partition; the table's other entries still are
//    (Linux reads no MBR partition at all then, systems that know no GPT do).
//
// GPT (UEFI 2.x §5.3; Linux block/partitions/efi.c; Windows):
//  - "EFI PART" at LBA 1, tried with 512- and 4096-byte sectors (the one
//    whose checks pass says which): header CRC32 over its header size
//    (92..sector bytes), its own LBA, entries of 128·2^n bytes, an entry array
//    of at most 4 MiB with a matching CRC32. Entries with a zero type GUID are
//    unused; the others are partitions in array order, the first 255
//    positions (Linux's limit; Windows reads 128): a used entry beyond is an
//    `ambiguous-layout` finding. An entry that ends before it starts is a
//    partition to the end of the media (Linux's size arithmetic wraps) and a
//    `corrupt-filesystem` finding.
//  - A primary header or array that fails its checks, when sector 0 has a
//    protective entry (type 0xEE) or LBA 1 the signature: the backup header
//    at the last LBA is read, as Windows does (Linux only with its `gpt` boot
//    option; otherwise it reads no partition at all), and the damage is a
//    `corrupt-filesystem` finding: the structure contradicts itself and the
//    systems' readings disagree. Neither header valid behind a protective MBR:
//    a `corrupt-filesystem` finding (Linux and Windows read no partition).
//  - A valid primary whose backup (at the header's alternate LBA) is valid
//    but lists other partitions: a `corrupt-filesystem` finding (tools write
//    both alike; a repair tool would bring the other list back). A backup that
//    is missing or invalid (an image written onto a larger stick) is no
//    finding: Linux only warns, Windows rewrites it.
//  - A valid GPT header is read whether or not sector 0 has a protective
//    entry: Linux reads it without one under its `gpt` option (libtsk and
//    EDK2 firmware do not); a stale one is at worst a false alarm, and tools
//    wipe it when they write a DOS table.
//  - The DOS entries beside a GPT (a hybrid MBR, or a valid MBR without
//    0xEE, as xorriso writes for hybrid ISOs) are a second reading: those that
//    do not coincide with a GPT partition (same start and length) are volumes
//    too, scheme "mbr", numbered after the GPT's, in the GPT's sector size.
//
// Bare volume (index 0, scheme "none"): a filesystem that starts at byte 0
// (formats::identifyFilesystem: a FAT/NTFS/exFAT boot sector, ext2/3/4 or
// HFS+ at 1 KiB, ISO 9660/UDF at 32 KiB, squashfs, XFS, Btrfs, F2FS, ...),
// as Linux's blkid finds one on the whole disk and Windows mounts a
// "superfloppy". It is a volume whether or not a table exists beside it:
// when sector 0 is also a valid DOS table with a used entry (Linux mounts
// sdb1; libtsk takes the table under mkfs.fat's OEM name and refuses it under
// MSDOS/MSWIN; Windows may take the bare volume), or there is a GPT, both
// readings are volumes. An isohybrid ISO (ISO 9660 at 0, a first partition
// starting at 0) thus gives index 0 and partition 1, the same filesystem
// twice, both readable: no finding.
//
// Neither a table nor a filesystem: one volume, index 0, scheme "none", the
// whole media; the caller explains what it holds, as today.
//
// Other schemes (BSD disklabel, Sun, Apple partition map): when there is no
// DOS table with a partition and no GPT, libtsk's tsk_vs_open is asked
// (through TskImage.h), so nothing is lost compared with libtsk alone; its
// partitions are numbered after the others, scheme "bsd", "sun", "mac".
// libtsk is laxer than Linux and Windows: it also reads a DOS table with a
// boot indicator of 0x01, and a GPT whose CRCs fail (it checks none). Those
// readings are kept (scheme "mbr"/"gpt"): libtsk alone reads them today.
//
// Partitions that lie beyond or run past the end of the media are volumes as
// any other: the caller reports them ("partition lies beyond the end of the
// media (truncated image?)", "... runs past the end ...") when it reads them.
//
// Hidden volumes (findHiddenVolumes): every 512-byte sector outside `used` is
// probed for the start of a filesystem or a disk: a boot sector (FAT, NTFS,
// exFAT, BitLocker) or a DOS table with a partition inside the gap, an
// ext2/3/4 superblock of block group 0 (0xEF53 at 56 of the sector 1 KiB in;
// a backup superblock, group 1 and later, belongs to some ext volume and
// starts none), HFS+ at 1 KiB, ISO 9660/UDF descriptors at 32 KiB, a primary
// GPT header (one that says it is at LBA 1, with its entry array), squashfs,
// XFS, cramfs, romfs, LUKS, F2FS, Btrfs. A candidate counts once
// formats::identifyFilesystem (or the GPT's own checks) recognises it with
// the space the gap leaves it; it runs for the size its boot sector or
// superblock claims, or to the end of its gap. Left out, as copies that
// belong to a known volume: the NTFS backup boot sector after an NTFS volume
// (a byte-for-byte copy of the boot sector the volume's size before it), a
// backup GPT header (never at its own LBA 1), anything inside a volume found
// already (FAT32's backup boot sector, ext's backup superblocks, an ISO's
// later descriptors). A DOS table in a gap is a disk image to its end, a
// protective one of its GPT's size. No operating system mounts these on its
// own; they are what an accomplice reads with `losetup -o`. Bounded against
// a gap crafted with a signature in every sector: at most 64 volumes, and
// 64 MiB of reads beyond the gap's own; past either, an `ambiguous-layout`
// finding and the rest is not searched.
//
// Which findings are Layout's: those about the layout's own structures (EBR
// chains, GPT headers and arrays, gaps that cannot be read). Whether a volume
// can be read, and `ambiguous-layout` when a reading that must be scanned
// cannot be, is the caller's: only it opens the filesystems. More than one
// scheme among the volumes ("none" beside "mbr", "gpt" beside "mbr") means
// more than one reading.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ByteSource.h"
#include "qkiosk/protocol/Messages.h"

namespace kiosk::scan {

// A byte range of the media. (A struct rather than std::pair: a pair does
// not say whether its second half is a length or an end.)
struct Extent {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::uint64_t end() const { return length > UINT64_MAX - offset ? UINT64_MAX : offset + length; }
};

struct VolumeSpan {
    // 0 = the bare volume; 1, 2, ... partitions in table order (primary
    // slots, then logical; GPT entries in order, then hybrid MBR entries);
    // then libtsk's partitions; hidden volumes from findHiddenVolumes' nextIndex.
    std::uint32_t index = 0;
    // "none" (the bare volume), "mbr", "gpt", "unpartitioned" (hidden), or
    // libtsk's name for another scheme ("bsd", "sun", "mac").
    std::string scheme;
    std::uint64_t offset = 0;   // bytes; offset + length never overflows
    std::uint64_t length = 0;   // may run past the media (the caller reports that)
    // What starts the volume, for the caller and the tests: formats::formatName
    // ("fat", "ntfs", "iso9660", "mbr", "gpt", ...), "luks", "bitlocker", or ""
    // (nothing recognised, or beyond the media).
    std::string content;
    std::uint64_t claimed = 0;  // bytes that filesystem says it spans (0: not known)
};

struct LayoutFinding {
    proto::ReasonCode code;
    std::string path;                    // "/" or "/pN/"
    std::string detail;
};

struct Layout {
    std::vector<VolumeSpan> volumes;
    std::vector<LayoutFinding> findings;
    // The layout's own sectors: sector 0's table, EBRs, GPT headers and
    // entry arrays (primary and valid backups). Not volumes, not gaps.
    std::vector<Extent> structures;
};

// Every reading of the media some operating system would mount (the rules
// above). `sectorSize` is the device's logical sector size (BLKSSZGET), the
// unit of a DOS table's entries: 512 for sticks, 4096 for some USB disks; a
// disk image found as a file is read with 512. GPT is tried with 512 and
// 4096 whatever it says (its header tells which it is).
Layout readLayout(const ByteSource& media, std::uint32_t sectorSize = 512);

// What a layout accounts for, as findHiddenVolumes' `used`: its structures,
// every partition, and for the bare volume the extent its filesystem claims
// (the whole media when that is not known, as for scheme "none" with nothing
// recognised: such media fails anyway). A caller that learns more (libtsk's
// block count for the bare volume) passes its own.
std::vector<Extent> usedExtents(const Layout& layout);

// After the volumes were read: space that no volume covers (`used`) and
// that holds a filesystem or partition-table signature becomes a volume to
// read as well (scheme "unpartitioned", indexes from `nextIndex`). Space
// that cannot be read is a `read-error` finding. Structures stays empty.
// Reads the gaps in 4 MiB chunks: probing costs about 0.1 s of CPU per GiB,
// reading costs what the stick's speed makes it (a 1 GiB gap at 30 MB/s: 35 s).
Layout findHiddenVolumes(const ByteSource& media, const std::vector<Extent>& used, std::uint32_t nextIndex);

}  // namespace kiosk::scan
