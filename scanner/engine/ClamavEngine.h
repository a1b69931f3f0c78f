// The libclamav engine: loaded and compiled once per scanner process, then
// shared read-only by every scan thread. Held through a shared_ptr so that a
// newly loaded database can replace it while running scans keep the engine
// they started with.
//
// A scan also learns which containers libclamav really entered: every layer
// libclamav shows (the file, each extracted member) is identified by content
// (scanner/formats), and each container is either verified (its members came
// out), opened again by libarchive or decoded by the scanner after libclamav's
// scan, or named `unscannable` (Containers.h, docs/architecture.md "Scanning").
#pragma once

#include <clamav.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qkiosk/protocol/Messages.h"
#include "qkiosk/base/Result.h"

namespace kiosk::scan {

class Repeats;

// Limits, set deliberately; docs/architecture.md explains each. Anything that
// hits one is `unscannable`, never clean.
struct ScanLimits {
    std::uint64_t maxFileSize = 1ull << 30;          // one file or archive member
    std::uint64_t maxScanSize = 2047ull << 20;       // all data scanned within one file (incl. extracted)
    std::uint32_t maxRecursion = 17;                 // archive nesting
    std::uint32_t maxFiles = 10000;                  // members scanned within one file (by libclamav, and again by the scanner's own passes)
    std::uint32_t maxScanTimeMs = 300000;            // wall time for one file
};

struct DatabaseInfo {
    std::uint64_t signatures = 0;
    std::string version;   // "daily:27412 main:62" for official databases, "local" otherwise
    std::string time;      // RFC 3339 of the newest database; build time for CVDs, mtime otherwise
};

struct FileScan {
    std::vector<proto::Hit> hits;
    std::uint64_t bytesScanned = 0;
};

class ClamavEngine {
public:
    static Result<std::shared_ptr<ClamavEngine>> load(const std::string& dbDir, const ScanLimits& limits,
                                                      const std::string& tmpDir);
    // New limits and temporary folder for an engine already compiled: each
    // scan session (a forked copy of the loaded engine) gets its own.
    Status configure(const ScanLimits& limits, const std::string& tmpDir);
    ~ClamavEngine();
    ClamavEngine(const ClamavEngine&) = delete;
    ClamavEngine& operator=(const ClamavEngine&) = delete;

    const DatabaseInfo& database() const { return db_; }
    // Scans the content behind `fd` (a sealed memfd); `name` is its file name
    // (libclamav's logs, the name of a decompressed stream). `media`: the media
    // reader opens this file as media of its own and sends its files.
    FileScan scan(int fd, const std::string& name, bool media = false) const;

private:
    ClamavEngine();
    cl_engine* engine_ = nullptr;
    // What was found in each container so far in this process (one session's
    // worker): libclamav's clean cache skips a second copy of the same bytes.
    std::unique_ptr<Repeats> repeats_;
    ScanLimits limits_;
    DatabaseInfo db_;
};

}  // namespace kiosk::scan
