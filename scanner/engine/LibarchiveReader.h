// libarchive (BSD-2-Clause), reading one container that libclamav cannot open
// (or did not) from memory, inside the scan worker's sandbox. Each reader
// enables only the one format, and the filters, that the container needs, and
// only those backed by a library linked into the scanner (zlib, bzip2,
// liblzma, libzstd, liblz4, libxml2) or built into libarchive. Never a filter
// that runs an external program (lrzip, grzip, lzop without liblzo: the
// sandbox has no exec and would kill the worker) and never mtree, which opens
// the files its manifest names.
#pragma once

#include <archive.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "MemoryBuffer.h"
#include "qkiosk/formats/Formats.h"
#include "qkiosk/base/Result.h"

namespace kiosk::scan {

class LibarchiveReader {
public:
    struct Entry {
        std::string name;                    // as stored (raw bytes); "data" for a bare compressed stream
        std::optional<std::uint64_t> size;   // when the archive says
        bool regular = false;                // a file with content of its own (not a folder, link or device)
        bool encrypted = false;
    };
    enum class ReadEnd { Complete, OverLimit, OutOfTime };

    // Whether libarchive reads `format` here (see the header comment).
    static bool supports(formats::Format format);
    // A bare compressed stream: read through the "raw" format as one entry.
    static bool isStream(formats::Format format);

    // What libarchive needs from the filesystem, loaded before the sandbox
    // closes it (the C.UTF-8 locale, for member names). Call once per worker.
    static Status preload();

    // nullopt: libarchive does not recognise the bytes as `format` at all.
    // `bytes` must outlive the reader.
    static Result<std::optional<LibarchiveReader>> open(std::span<const std::uint8_t> bytes, formats::Format format);

    // The next entry, nullopt at the end.
    Result<std::optional<Entry>> next();
    // Appends the current entry's content to `out`, never more than `limit`
    // bytes (OverLimit: there is more) and never past `deadline`.
    Result<ReadEnd> read(MemoryBuffer& out, std::uint64_t limit, std::chrono::steady_clock::time_point deadline);
    // After an error: whether the archive can be read any further.
    bool fatal() const { return lastRc_ == ARCHIVE_FATAL; }
    // Whether libarchive saw encryption (entries, or a 7z's encrypted header).
    bool sawEncryption() const;

private:
    struct Free {
        void operator()(archive* a) const { archive_read_free(a); }
    };
    explicit LibarchiveReader(std::unique_ptr<archive, Free> a) : a_(std::move(a)) {}
    std::string lastError() const;

    std::unique_ptr<archive, Free> a_;
    int lastRc_ = ARCHIVE_OK;
};

}  // namespace kiosk::scan
