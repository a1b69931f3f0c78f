#include "kiosk/daemon/WhitelistWatcher.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "kiosk/files/AtomicFile.h"
#include "qkiosk/base/Sha256.h"

namespace kiosk {
namespace {

// The file's modification time and size; -1 when it does not exist.
long long stampOf(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return -1;
    return static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec + st.st_size;
}

}  // namespace

WhitelistWatcher::WhitelistWatcher(std::string path, StatusSink status, Recorder record)
    : path_(std::move(path)), status_(std::move(status)), record_(std::move(record)) {}

void WhitelistWatcher::refresh() {
    const long long stamp = stampOf(path_);
    if (stamp == stamp_) return;
    stamp_ = stamp;
    whitelist_ = stamp < 0 ? Result<policy::Whitelist>(policy::Whitelist{}) : policy::loadWhitelist(path_);
    if (!whitelist_)
        status_(messages::Failure{"whitelist: " + whitelist_.error().message +
                                  " (every storage device is refused until it is fixed)"});
    // Which approvals were in force, and when: the file's hash and what it said.
    nlohmann::json change = {{"path", path_}, {"present", stamp >= 0}};
    if (auto text = readTextFile(path_)) {
        const auto digest = Sha256::of(std::string_view(*text));
        change["sha256"] = toHex(digest);
    }
    if (whitelist_) {
        change["approvals"] = whitelist_->devices.size();
    } else {
        change["error"] = whitelist_.error().message;
    }
    (void)record_("whitelist-loaded", "", change.dump(), true);
}

}  // namespace kiosk
