// Opening the media to scan, read-only, before any worker sees it: a disk
// image file or a block device, which is also switched to read-only in the
// kernel (BLKROSET) before the first read.
#pragma once

#include <cstdint>
#include <string>

#include "qkiosk/base/Result.h"
#include "qkiosk/base/UniqueFd.h"

namespace kiosk {

struct Media {
    UniqueFd fd;           // O_RDONLY
    std::uint64_t size = 0;
    std::uint32_t sectorSize = 512;   // logical sectors (BLKSSZGET): the unit of a DOS partition table
    bool blockDevice = false;
    std::string path;
    std::string warning;   // e.g. BLKROSET not permitted; printed, not fatal
};

Result<Media> openMedia(const std::string& path, bool expectDevice);

}  // namespace kiosk
