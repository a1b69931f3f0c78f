// Reads a disk image or block device in userspace with The Sleuth Kit:
// partition table (MBR with logical partitions, GPT, or none), then every
// filesystem TSK knows, then every allocated regular file and NTFS alternate
// data stream. Nothing is mounted; the media is only ever pread() from a
// read-only descriptor. What cannot be read becomes a finding, never a skip.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "qkiosk/protocol/Messages.h"
#include "qkiosk/protocol/Result.h"

namespace kiosk::scan {

// Reads up to buf.size() bytes of one file's content at `offset`; returns the
// number read (short only at end of file) or an error.
using ContentReader = std::function<Result<std::size_t>(std::uint64_t offset, std::span<std::uint8_t> buf)>;

class MediaSink {
public:
    virtual ~MediaSink() = default;
    virtual Status partition(const proto::Partition& p) = 0;
    virtual Status finding(proto::ReasonCode code, const std::string& path, const std::string& detail) = 0;
    // Called once per file: the sink reads the content through `read` as it likes.
    virtual Status file(std::uint32_t partition, const std::string& path, std::uint64_t size, const ContentReader& read) = 0;
};

class TskMediaReader {
public:
    // `fd` stays owned by the caller; `size` is the media size in bytes.
    TskMediaReader(int fd, std::uint64_t size) : fd_(fd), size_(size) {}

    // Walks the whole media. An error return means the sink failed (e.g. the
    // parent went away); problems with the media are reported as findings.
    Status run(MediaSink& sink);

private:
    int fd_;
    std::uint64_t size_;
};

}  // namespace kiosk::scan
