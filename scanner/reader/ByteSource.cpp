#include "ByteSource.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace kiosk::scan {
namespace {

Status outOfRange(std::uint64_t offset, std::size_t len, std::uint64_t size) {
    return makeError("read of " + std::to_string(len) + " bytes at " + std::to_string(offset) + " past the end (" +
                     std::to_string(size) + " bytes): the media ends early");
}

bool beyond(std::uint64_t offset, std::size_t len, std::uint64_t size) { return offset > size || len > size - offset; }

}  // namespace

Status FdSource::readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const {
    if (beyond(offset, buf.size(), size_)) return outOfRange(offset, buf.size(), size_);
    std::size_t done = 0;
    while (done < buf.size()) {
        const ssize_t n = ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return makeError("read error at byte " + std::to_string(offset + done) + ": " + std::strerror(errno));
        }
        if (n == 0) return makeError("short read at byte " + std::to_string(offset + done) + " (the media ends early)");
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status MemorySource::readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const {
    if (beyond(offset, buf.size(), bytes_.size())) return outOfRange(offset, buf.size(), bytes_.size());
    if (!buf.empty()) std::memcpy(buf.data(), bytes_.data() + offset, buf.size());
    return {};
}

Status SliceSource::readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const {
    if (beyond(offset, buf.size(), length_)) return outOfRange(offset, buf.size(), length_);
    return base_.readAt(offset_ + offset, buf);
}

Status FileSource::readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const {
    if (beyond(offset, buf.size(), size_)) return outOfRange(offset, buf.size(), size_);
    std::size_t done = 0;
    while (done < buf.size()) {
        auto n = read_(offset + done, buf.subspan(done));
        if (!n) return n.error();
        if (*n == 0) return makeError("the file ends early at byte " + std::to_string(offset + done));
        done += *n;
    }
    return {};
}

std::vector<std::uint8_t> readUpTo(const ByteSource& src, std::uint64_t offset, std::size_t length) {
    std::vector<std::uint8_t> out;
    if (offset >= src.size()) return out;
    length = static_cast<std::size_t>(std::min<std::uint64_t>(length, src.size() - offset));
    out.resize(length);
    // Sector by sector after a failure, so a bad sector in the middle still leaves what came before.
    if (src.readAt(offset, out)) return out;
    std::size_t got = 0;
    while (got < length) {
        const std::size_t chunk = std::min<std::size_t>(4096, length - got);
        if (!src.readAt(offset + got, std::span(out.data() + got, chunk))) break;
        got += chunk;
    }
    out.resize(got);
    return out;
}

}  // namespace kiosk::scan
