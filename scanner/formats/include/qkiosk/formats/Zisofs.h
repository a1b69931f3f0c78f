// zisofs: the per-file compression of ISO 9660 images (Rock Ridge "ZF"
// entries, written by mkzftree or xorriso --zisofs). A compressed file is a
// header, a table of block offsets and one zlib stream per block; Linux
// shows the uncompressed bytes. Both workers read such files: the media
// reader on ISO volumes, the scanner inside archives.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::formats {

class ZisofsReader {
public:
    // Fills all of `buf` from the compressed file at `offset`, or fails.
    using ReadAt = std::function<Status(std::uint64_t offset, std::span<std::uint8_t> buf)>;

    // Checks the header and the block table of a compressed file of
    // `compressedSize` bytes; an error says what is wrong with them.
    static Result<ZisofsReader> open(ReadAt read, std::uint64_t compressedSize);

    std::uint64_t size() const { return size_; }
    // Up to buf.size() uncompressed bytes at `offset` (fewer only at the end).
    Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf);

private:
    ZisofsReader() = default;
    Status loadBlock(std::size_t index);

    ReadAt read_;
    std::uint64_t size_ = 0;
    std::uint32_t blockSize_ = 0;
    std::vector<std::uint32_t> pointers_;   // blocks + 1 offsets into the compressed file
    std::size_t cached_ = SIZE_MAX;
    std::vector<std::uint8_t> block_;
    std::vector<std::uint8_t> packed_;
};

}  // namespace kiosk::formats
