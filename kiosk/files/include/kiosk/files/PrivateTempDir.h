// A private folder (mode 0700) that exists exactly as long as this object:
// libclamav's extractions for one scan, or what the scanner service unpacks
// while loading. Removed with its contents when destroyed, also after the
// worker that used it was killed.
#pragma once

#include <sys/types.h>

#include <string>

#include "qkiosk/base/Result.h"

namespace kiosk {

class PrivateTempDir {
public:
    // Creates base/<prefix>XXXXXX; with `owner` set, hands it to that user
    // (a sandboxed worker that must write in it).
    static Result<PrivateTempDir> create(const std::string& base, const std::string& prefix, uid_t owner = -1,
                                         gid_t group = -1);
    PrivateTempDir(PrivateTempDir&& o) noexcept;
    PrivateTempDir& operator=(PrivateTempDir&& o) noexcept;
    PrivateTempDir(const PrivateTempDir&) = delete;
    PrivateTempDir& operator=(const PrivateTempDir&) = delete;
    ~PrivateTempDir();
    const std::string& path() const { return path_; }

private:
    explicit PrivateTempDir(std::string p) : path_(std::move(p)) {}
    std::string path_;
};

}  // namespace kiosk
