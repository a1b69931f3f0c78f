// The daemon's status for the kiosk terminal (`qkiosk ui`): a local
// stream socket that carries the daemon's status lines (docs/admin.md) and,
// while a scan runs, PROGRESS lines. The one thing a client may send is an
// officer's request, `REQUEST <id> <json>` (docs/officer-protocol.md): this
// class only frames them, with who sent them (SO_PEERCRED), for the daemon
// to answer with reply(); anything else closes the connection. A client that
// connects first gets the last READY line and the lines
// of the session in progress (up to its latest PROGRESS, or its verdict until
// the media is removed), so a UI that starts or restarts can draw at once. The UI
// needs no root: the socket belongs to `ui_socket_group` (mode 0660).
//
// A client that does not keep up (its socket buffer full) is dropped rather
// than allowed to slow the daemon down; it can connect again.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kiosk/messages/OfficerMessages.h"
#include "kiosk/messages/StatusEvent.h"
#include "qkiosk/base/Result.h"

namespace kiosk {

// One officer's request as it arrived, or (closed) the end of a connection,
// after which the daemon forgets who was logged in on it.
struct SocketRequest {
    std::uint64_t client = 0;   // this connection, never reused
    uid_t uid = 0;              // the process at the other end, from the kernel
    pid_t pid = 0;
    bool closed = false;
    std::string id;             // the client's number for the reply
    std::string json;           // the request object, not yet parsed
};

class StatusSocket {
public:
    // Requests of one connection not yet taken by the daemon; one more closes it.
    static constexpr long kMaxWaitingRequests = 16;

    // Listens at `path` (a stale socket file there is replaced). `group`:
    // the group allowed to connect, or "" for root only (mode 0600).
    static Result<std::unique_ptr<StatusSocket>> open(const std::string& path, const std::string& group);
    ~StatusSocket();
    StatusSocket(const StatusSocket&) = delete;
    StatusSocket& operator=(const StatusSocket&) = delete;

    // Sends the event's line to every client (without waiting for any).
    void publish(const messages::StatusEvent& event);

    // Readable when requests wait (an eventfd, for the daemon's poll).
    int requestFd() const { return requests_; }
    // The requests and closed connections since the last call, in order.
    std::vector<SocketRequest> takeRequests();
    // Sends `REPLY <id> <json>` to that client only (if it is still there).
    void reply(std::uint64_t client, const std::string& id, const std::string& json);

private:
    struct Client {
        int fd = -1;
        std::uint64_t id = 0;
        uid_t uid = 0;
        pid_t pid = 0;
        bool dead = false;   // shut down by a send: the loop closes it
        std::string in;      // bytes of a request line not complete yet
    };
    StatusSocket(int listenFd, int wakeFd, int requestFd, std::string path);
    void loop();
    void accept();
    // Reads what the client sent; false when it must go (hung up, or not a request).
    bool readFrom(Client& c);
    // Sends to each, shutting down the ones that cannot take it now.
    void sendOrDrop(std::vector<Client*> clients, const std::string& text);
    void queue(SocketRequest r);

    int listen_ = -1, wake_ = -1, requests_ = -1;
    std::string path_;
    std::mutex mutex_;
    std::vector<Client> clients_;
    std::uint64_t nextClient_ = 1;
    std::deque<SocketRequest> queue_;
    std::string lastReady_;                // the last READY (or LOADING)
    std::vector<std::string> session_;     // the current device's lines since IDENTIFYING
    std::string progress_;                 // its latest PROGRESS while it is scanned
    std::thread thread_;
};

}  // namespace kiosk
