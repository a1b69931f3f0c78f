// One filesystem read with The Sleuth Kit: NTFS, ext2/3/4, exFAT, ISO 9660,
// HFS+ (FAT has a reader of its own, FatVolume). The directory tree is walked
// by our own loop over libtsk's directories, not by tsk_fs_dir_walk, whose
// depth limit and fixed path buffer stop a walk early or abort the reader:
// every directory at any depth is read, every path whatever its length, and a
// directory reached twice is a corrupt filesystem, not a loop.
#pragma once

#include <tsk/libtsk.h>

#include <cstdint>
#include <optional>
#include <string>

#include "ByteSource.h"
#include "TskImage.h"
#include "VolumeVisitor.h"

namespace kiosk::scan {

class TskVolume {
public:
    // The filesystem libtsk finds at `offset` of `image`, or nullopt (libtsk's error cleared).
    static std::optional<TskVolume> open(TSK_IMG_INFO* image, std::uint64_t offset);

    std::string type() const;            // "ntfs", "ext4", "iso9660", ...: stable names for the report
    std::string label() const;           // where it sits in a fixed place; "" otherwise
    std::uint64_t extentBytes() const;   // the space the filesystem claims
    // The filesystem claims more blocks than the media holds (a cut-off image).
    bool truncated() const;

    // Reports every allocated regular file (hidden and system files too; NTFS:
    // every named data stream, also on folders, as "path:stream") and every
    // problem. An error return means the visitor failed.
    Status walk(VolumeVisitor& visitor);

private:
    TskVolume(TSK_IMG_INFO* image, std::uint64_t offset, tsk::FsPtr fs) : image_(image), offset_(offset), fs_(std::move(fs)) {}

    TSK_IMG_INFO* image_;
    std::uint64_t offset_;
    tsk::FsPtr fs_;
};

}  // namespace kiosk::scan
