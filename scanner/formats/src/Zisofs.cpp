#include "qkiosk/formats/Zisofs.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "qkiosk/formats/Formats.h"

namespace kiosk::formats {

Result<ZisofsReader> ZisofsReader::open(ReadAt read, std::uint64_t compressedSize) {
    std::uint8_t head[16];
    if (compressedSize < sizeof head) return makeError("zisofs: file too short for its header");
    if (auto s = read(0, head); !s) return s.error();
    const auto h = zisofsHeader(head);
    if (!h) return makeError("zisofs: not a valid zisofs header");
    ZisofsReader z;
    z.read_ = std::move(read);
    z.size_ = h->uncompressedSize;
    z.blockSize_ = 1u << h->blockLog2;
    const std::uint64_t blocks = (z.size_ + z.blockSize_ - 1) / z.blockSize_;
    const std::uint64_t tableBytes = (blocks + 1) * 4;
    if (h->headerSize + tableBytes > compressedSize) return makeError("zisofs: the block table runs past the end of the file");
    std::vector<std::uint8_t> table(static_cast<std::size_t>(tableBytes));
    if (auto s = z.read_(h->headerSize, table); !s) return s.error();
    z.pointers_.resize(static_cast<std::size_t>(blocks + 1));
    for (std::size_t i = 0; i < z.pointers_.size(); ++i) {
        const std::uint8_t* p = table.data() + 4 * i;
        z.pointers_[i] = static_cast<std::uint32_t>(p[0] | (p[1] << 8) | (p[2] << 16)) | (static_cast<std::uint32_t>(p[3]) << 24);
    }
    const std::uint64_t dataStart = h->headerSize + tableBytes;
    for (std::size_t i = 0; i < z.pointers_.size(); ++i) {
        if (z.pointers_[i] > compressedSize || z.pointers_[i] < (i == 0 ? dataStart : z.pointers_[i - 1]))
            return makeError("zisofs: block " + std::to_string(i) + " points outside the file or backwards");
        // A compressed block may not be larger than deflate can make it.
        if (i > 0 && z.pointers_[i] - z.pointers_[i - 1] > z.blockSize_ + z.blockSize_ / 8 + 64)
            return makeError("zisofs: block " + std::to_string(i - 1) + " is larger than its data can be");
    }
    return z;
}

Status ZisofsReader::loadBlock(std::size_t index) {
    if (cached_ == index) return {};
    const std::uint64_t start = static_cast<std::uint64_t>(index) * blockSize_;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(blockSize_, size_ - start));
    block_.assign(want, 0);
    const std::uint32_t from = pointers_[index], to = pointers_[index + 1];
    cached_ = SIZE_MAX;
    if (to > from) {   // equal pointers: a block of zeros
        packed_.resize(to - from);
        if (auto s = read_(from, packed_); !s) return s.error();
        uLongf outLen = static_cast<uLongf>(want);
        const int rc = ::uncompress(block_.data(), &outLen, packed_.data(), static_cast<uLong>(packed_.size()));
        if (rc != Z_OK || outLen != want)
            return makeError("zisofs: block " + std::to_string(index) + " does not decompress to its " +
                             std::to_string(want) + " bytes");
    }
    cached_ = index;
    return {};
}

Result<std::size_t> ZisofsReader::read(std::uint64_t offset, std::span<std::uint8_t> buf) {
    std::size_t done = 0;
    while (done < buf.size() && offset + done < size_) {
        const std::uint64_t at = offset + done;
        const auto index = static_cast<std::size_t>(at / blockSize_);
        if (auto s = loadBlock(index); !s) return s.error();
        const auto in = static_cast<std::size_t>(at - static_cast<std::uint64_t>(index) * blockSize_);
        const std::size_t n = std::min(buf.size() - done, block_.size() - in);
        std::memcpy(buf.data() + done, block_.data() + in, n);
        done += n;
    }
    return done;
}

}  // namespace kiosk::formats
