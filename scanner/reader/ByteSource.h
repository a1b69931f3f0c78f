// Where the media reader's bytes come from: the stick's read-only descriptor,
// a part of it, a disk image file found on it, or the disk inside a virtual
// disk file. Every reader of partitions and filesystems takes a ByteSource, so
// a disk image on the stick is read exactly as the stick itself is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::scan {

// Reads up to buf.size() bytes of one file's content at `offset`; returns the
// number read (short only at end of file) or an error.
using ContentReader = std::function<Result<std::size_t>(std::uint64_t offset, std::span<std::uint8_t> buf)>;

class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual std::uint64_t size() const = 0;
    // Fills all of `buf` from `offset`, or fails: a read past size() or a
    // short read is an error ("the media ends early"), never a partial fill.
    virtual Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const = 0;
};

// pread() on a descriptor the caller keeps open.
class FdSource final : public ByteSource {
public:
    FdSource(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
    std::uint64_t size() const override { return size_; }
    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override;

private:
    int fd_;
    std::uint64_t size_;
};

// Bytes in memory (tests, fuzzing, small decoded structures).
class MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
    std::uint64_t size() const override { return bytes_.size(); }
    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override;

private:
    std::span<const std::uint8_t> bytes_;
};

// `length` bytes of another source from `offset` (a partition, a volume).
class SliceSource final : public ByteSource {
public:
    SliceSource(const ByteSource& base, std::uint64_t offset, std::uint64_t length)
        : base_(base), offset_(offset), length_(length) {}
    std::uint64_t size() const override { return length_; }
    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override;

private:
    const ByteSource& base_;
    std::uint64_t offset_;
    std::uint64_t length_;
};

// A file's content as its filesystem reads it (the ContentReader a walk gives).
class FileSource final : public ByteSource {
public:
    FileSource(ContentReader read, std::uint64_t size) : read_(std::move(read)), size_(size) {}
    std::uint64_t size() const override { return size_; }
    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override;

private:
    ContentReader read_;
    std::uint64_t size_;
};

// Up to `length` bytes from `offset`, fewer only where the source ends;
// a read error leaves what came before it.
std::vector<std::uint8_t> readUpTo(const ByteSource& src, std::uint64_t offset, std::size_t length);

}  // namespace kiosk::scan
