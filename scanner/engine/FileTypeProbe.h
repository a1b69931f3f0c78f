// The true type of a file from its content (libmagic), reported to the front
// end, which compares it with the name (see kiosk FileTypePolicy). One probe
// per thread: libmagic handles are not thread-safe.
#pragma once

#include <magic.h>

#include <cstdint>
#include <span>
#include <string>

#include "qkiosk/base/Result.h"

namespace kiosk::scan {

struct FileType {
    std::string mime;
};

class FileTypeProbe {
public:
    static Result<FileTypeProbe> open();
    FileTypeProbe(FileTypeProbe&& o) noexcept : cookie_(o.cookie_) { o.cookie_ = nullptr; }
    FileTypeProbe& operator=(FileTypeProbe&&) = delete;
    FileTypeProbe(const FileTypeProbe&) = delete;
    ~FileTypeProbe();

    FileType identify(std::span<const std::uint8_t> head);

private:
    explicit FileTypeProbe(magic_t cookie) : cookie_(cookie) {}
    magic_t cookie_;
};

}  // namespace kiosk::scan
