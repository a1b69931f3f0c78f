// What the device tests share (device_tests, run under umockdev-wrapper):
// umockdev test beds of the recorded devices in tests/umockdev/, a site
// (config, whitelist, spool) around them, a client of the daemon's UI socket
// as the kiosk terminal is, and the real curses terminal in tmux.
#pragma once

#include <umockdev.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "Harness.h"

namespace qktest {

// The recorded devices (tests/umockdev/*.umockdev).
inline const fs::path kBeds = fs::path(QKIOSK_FIXTURES).parent_path() / "umockdev";
inline const std::string kUsb1 = "/sys/devices/pci0000:00/0000:00:14.0/usb1";

std::string trimmed(std::string s);

// The controller and root hub of a test bed file, and the device in it.
std::string rootOnly(const std::string& name);
std::string deviceOnly(const std::string& name);

class Testbed {
public:
    Testbed();
    ~Testbed();
    Testbed(const Testbed&) = delete;
    Testbed& operator=(const Testbed&) = delete;

    void load(const std::string& name);
    void addString(const std::string& text);
    void uevent(const std::string& syspath, const char* action);
    void remove(const std::string& syspath);
    fs::path root() const;
    std::string attr(const std::string& syspath) const;
    // Backs the fake /dev/sdb with a disk image (the node keeps its sticky bit).
    void backDisk(const fs::path& image);
    // sysfs files the kernel has but a test bed does not.
    void addDriversProbe();
    // approved-stick's whole test bed with `image` as its disk: a stick
    // plugged in before the daemon starts.
    void plugInStick(const fs::path& image);

private:
    UMockdevTestbed* tb_;
};

struct Site {
    fs::path config, whitelist, spool;
};

// A site whose whitelist approves approved-stick's device until `expires`;
// `extra` is appended to its config.
Site writeSite(Workspace& ws, const std::string& expires = "2099-12-31", const std::string& extra = "");

// A client of the daemon's UI socket, as the kiosk terminal is.
struct UiClient {
    int fd = -1;
    std::string buffer, all;
    int nextId = 1;
    explicit UiClient(const fs::path& path);
    ~UiClient();
    UiClient(const UiClient&) = delete;
    UiClient& operator=(const UiClient&) = delete;
    // The first new line that starts with `prefix`, or "" after `seconds`.
    std::string waitFor(const std::string& prefix, double seconds);
    // Sends an officer's request (docs/officer-protocol.md) and returns the
    // reply; null if none came within `seconds`.
    nlohmann::json request(const nlohmann::json& body, double seconds = 30);
};

// The real curses kiosk terminal in a private tmux server, read with
// capture-pane. tmux's server needs /dev/null to be the character device; where
// it is not (some containers), the server runs in a mount namespace of its own
// with one bound over it.
class TmuxTerminal {
public:
    TmuxTerminal(Workspace& ws, const std::string& command);
    ~TmuxTerminal();
    TmuxTerminal(const TmuxTerminal&) = delete;
    TmuxTerminal& operator=(const TmuxTerminal&) = delete;
    std::string screen() const;
    // The screen once it contains `text`, or "" after `seconds`.
    std::string waitFor(const std::string& text, double seconds) const;
    void keys(const std::string& k) const;
    // Types text literally (tmux send-keys -l).
    void type(const std::string& text) const;

private:
    std::string sock_;
};

}  // namespace qktest
