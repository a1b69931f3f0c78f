#include "kiosk/files/PrivateTempDir.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace kiosk {

Result<PrivateTempDir> PrivateTempDir::create(const std::string& base, const std::string& prefix, uid_t owner,
                                              gid_t group) {
    std::string tmpl = base + "/" + prefix + "XXXXXX";
    if (!::mkdtemp(tmpl.data())) return makeError(base + ": cannot create a private folder: " + std::strerror(errno));
    PrivateTempDir dir(tmpl);
    if (owner != static_cast<uid_t>(-1) && ::geteuid() == 0 && ::chown(tmpl.c_str(), owner, group) != 0)
        return makeError(tmpl + ": cannot hand the folder to the sandbox user: " + std::strerror(errno));
    return dir;
}

PrivateTempDir::PrivateTempDir(PrivateTempDir&& o) noexcept : path_(std::exchange(o.path_, std::string())) {}

PrivateTempDir& PrivateTempDir::operator=(PrivateTempDir&& o) noexcept {
    if (this != &o) {
        PrivateTempDir old(std::move(*this));
        path_ = std::exchange(o.path_, std::string());
    }
    return *this;
}

PrivateTempDir::~PrivateTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace kiosk
