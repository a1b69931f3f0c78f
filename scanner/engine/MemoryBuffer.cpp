#include "MemoryBuffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace kiosk::scan {
namespace {

std::size_t pageRound(std::uint64_t n) {
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    return static_cast<std::size_t>((std::max<std::uint64_t>(n, 1) + page - 1) / page * page);
}

Error noMemory(std::uint64_t bytes) {
    return makeError("no memory left for " + std::to_string(bytes) + " bytes (the scan worker's memory limit)");
}

}  // namespace

Result<MemoryBuffer> MemoryBuffer::create(std::uint64_t capacity) {
    MemoryBuffer b;
    if (auto st = b.reserve(capacity); !st) return st.error();
    return b;
}

Result<MemoryBuffer> MemoryBuffer::copyOf(std::span<const std::uint8_t> bytes) {
    auto b = create(bytes.size());
    if (!b) return b.error();
    if (auto st = b->append(bytes); !st) return st.error();
    return b;
}

MemoryBuffer::MemoryBuffer(MemoryBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), capacity_(std::exchange(o.capacity_, 0)) {}

MemoryBuffer& MemoryBuffer::operator=(MemoryBuffer&& o) noexcept {
    if (this != &o) {
        if (data_) ::munmap(data_, capacity_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
        capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
}

MemoryBuffer::~MemoryBuffer() {
    if (data_) ::munmap(data_, capacity_);
}

Status MemoryBuffer::reserve(std::uint64_t total) {
    if (total <= capacity_) return {};
    if (total > SIZE_MAX / 2) return noMemory(total);
    // Doubling keeps the number of remaps small for members of unknown size.
    const std::size_t want = pageRound(std::max<std::uint64_t>(total, 2 * static_cast<std::uint64_t>(capacity_)));
    void* p = data_ ? ::mremap(data_, capacity_, want, MREMAP_MAYMOVE)
                    : ::mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        // Doubling may ask for more than the limit leaves; the exact size may still fit.
        const std::size_t exact = pageRound(total);
        if (exact < want)
            p = data_ ? ::mremap(data_, capacity_, exact, MREMAP_MAYMOVE)
                      : ::mmap(nullptr, exact, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return noMemory(total);
        capacity_ = exact;
    } else {
        capacity_ = want;
    }
    data_ = static_cast<std::uint8_t*>(p);
    return {};
}

Status MemoryBuffer::append(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return {};
    if (auto st = reserve(static_cast<std::uint64_t>(size_) + bytes.size()); !st) return st;
    std::memcpy(data_ + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
    return {};
}

Status MemoryBuffer::appendZeros(std::uint64_t count) {
    if (count == 0) return {};
    if (auto st = reserve(static_cast<std::uint64_t>(size_) + count); !st) return st;
    std::memset(data_ + size_, 0, static_cast<std::size_t>(count));
    size_ += static_cast<std::size_t>(count);
    return {};
}

}  // namespace kiosk::scan
