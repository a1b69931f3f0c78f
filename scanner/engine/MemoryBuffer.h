// Bytes the scanner holds itself: a container layer kept for a second pass
// after libclamav's scan, or a member libarchive extracted. An anonymous
// mapping rather than a std::vector, so that reaching the worker's memory
// limit (RLIMIT_AS) is an error the scan reports as `unscannable`, never an
// exception, and so that growing it (mremap) does not copy.
#pragma once

#include <cstdint>
#include <span>

#include "qkiosk/base/Result.h"

namespace kiosk::scan {

class MemoryBuffer {
public:
    // An empty buffer with room for `capacity` bytes (it grows as needed).
    static Result<MemoryBuffer> create(std::uint64_t capacity);
    static Result<MemoryBuffer> copyOf(std::span<const std::uint8_t> bytes);

    MemoryBuffer(MemoryBuffer&& o) noexcept;
    MemoryBuffer& operator=(MemoryBuffer&& o) noexcept;
    MemoryBuffer(const MemoryBuffer&) = delete;
    MemoryBuffer& operator=(const MemoryBuffer&) = delete;
    ~MemoryBuffer();

    Status append(std::span<const std::uint8_t> bytes);
    Status appendZeros(std::uint64_t count);   // the holes of a sparse member
    std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
    std::uint64_t size() const { return size_; }

private:
    MemoryBuffer() = default;
    Status reserve(std::uint64_t total);

    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace kiosk::scan
