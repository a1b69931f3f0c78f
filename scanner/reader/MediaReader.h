// Reads a disk image or block device in userspace: every reading of its
// layout (partition tables, the bare volume, volumes where no partition is),
// every filesystem on them, every allocated regular file and NTFS data
// stream, and, inside each file that is itself a disk or filesystem image
// (raw, VHD, VHDX, VMDK, qcow2, EWF, ISO 9660), the same again: such a file's
// volumes are "<its path>//p1/", and so on. Nothing is mounted; the media is
// only ever read from a read-only descriptor. What cannot be read becomes a
// finding, never a skip.
#pragma once

#include <cstdint>
#include <string>

#include "ByteSource.h"
#include "qkiosk/protocol/Messages.h"
#include "qkiosk/base/Result.h"

namespace kiosk::scan {

class MediaSink {
public:
    virtual ~MediaSink() = default;
    virtual Status partition(const proto::Partition& p) = 0;
    virtual Status finding(proto::ReasonCode code, const std::string& path, const std::string& detail) = 0;
    // Called once per file: the sink reads the content through `read` as it
    // likes, during the call. `media`: the reader opens the file as media of
    // its own after this call (its files follow).
    virtual Status file(std::uint32_t partition, const std::string& path, std::uint64_t size, bool media,
                        const ContentReader& read) = 0;
};

// How far disk images inside disk images are followed.
struct ImageLimits {
    unsigned maxDepth = 3;                  // an image in an image in an image on the media
    std::uint64_t maxBytes = 512ull << 30;  // all images opened, together
};

class MediaReader {
public:
    // `sectorSize`: the media's logical sector size (the unit of its DOS partition table).
    explicit MediaReader(const ByteSource& media, ImageLimits limits = {}, std::uint32_t sectorSize = 512)
        : media_(media), limits_(limits), sectorSize_(sectorSize) {}

    // Walks the whole media. An error return means the sink failed (e.g. the
    // parent went away); problems with the media are reported as findings.
    Status run(MediaSink& sink);

private:
    const ByteSource& media_;
    ImageLimits limits_;
    std::uint32_t sectorSize_;
};

}  // namespace kiosk::scan
