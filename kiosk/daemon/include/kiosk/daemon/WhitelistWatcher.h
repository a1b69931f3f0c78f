// The whitelist as the daemon uses it: read again whenever the file changes
// (its time or size; an officer's registration or an administrator's edit),
// with no restart. Each reading is recorded in the quarantine log with the
// file's hash, so the log says which approvals were in force when.
//
// A file that does not parse is not ignored: until it is fixed the whitelist
// is that error, and policy::decide() refuses every storage device with it
// (an ERROR line says why). A missing file is an empty whitelist.
#pragma once

#include <string>

#include "kiosk/daemon/Parts.h"
#include "kiosk/policy/Whitelist.h"

namespace kiosk {

class WhitelistWatcher {
public:
    WhitelistWatcher(std::string path, StatusSink status, Recorder record);

    // Reads the file again if it changed since the last look.
    void refresh();
    // The list in force: the last reading, or why it failed.
    const Result<policy::Whitelist>& current() const { return whitelist_; }

private:
    std::string path_;
    StatusSink status_;
    Recorder record_;
    Result<policy::Whitelist> whitelist_{policy::Whitelist{}};
    long long stamp_ = -2;   // never looked
};

}  // namespace kiosk
