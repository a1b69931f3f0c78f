// The daemon's status for the kiosk terminal (`qkiosk ui`, issue 6): a local
// stream socket that carries the daemon's status lines (docs/admin.md) and,
// while a scan runs, PROGRESS lines. Read-only: nothing a client sends is
// read. A client that connects first gets the last READY line and the lines
// of the session in progress (up to its latest PROGRESS, or its verdict until
// the media is removed), so a UI that starts or restarts can draw at once. The UI
// needs no root: the socket belongs to `ui_socket_group` (mode 0660).
//
// A client that does not keep up (its socket buffer full) is dropped rather
// than allowed to slow the daemon down; it can connect again.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "qkiosk/protocol/Result.h"

namespace kiosk {

class StatusSocket {
public:
    // Listens at `path` (a stale socket file there is replaced). `group`:
    // the group allowed to connect, or "" for root only (mode 0600).
    static Result<std::unique_ptr<StatusSocket>> open(const std::string& path, const std::string& group);
    ~StatusSocket();
    StatusSocket(const StatusSocket&) = delete;
    StatusSocket& operator=(const StatusSocket&) = delete;

    // Sends one line to every client (without waiting for any).
    void publish(const std::string& line);

private:
    StatusSocket(int listenFd, int wakeFd, std::string path);
    void acceptLoop();
    void sendOrDrop(std::vector<int>& clients, const std::string& text);

    int listen_ = -1, wake_ = -1;
    std::string path_;
    std::mutex mutex_;
    std::vector<int> clients_;
    std::string lastReady_;                // the last READY (or LOADING)
    std::vector<std::string> session_;     // the current device's lines since IDENTIFYING
    std::string progress_;                 // its latest PROGRESS while it is scanned
    std::thread thread_;
};

}  // namespace kiosk
