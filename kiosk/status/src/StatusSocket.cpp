#include "kiosk/status/StatusSocket.h"

#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <cstring>

namespace kiosk {

Result<std::unique_ptr<StatusSocket>> StatusSocket::open(const std::string& path, const std::string& groupName) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) return makeError(path + ": not a usable socket path");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    gid_t gid = 0;
    if (!groupName.empty()) {
        const struct group* g = ::getgrnam(groupName.c_str());
        if (!g) return makeError("ui_socket_group \"" + groupName + "\": no such group");
        gid = g->gr_gid;
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return makeError(std::string("socket: ") + std::strerror(errno));
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            ::close(fd);
            return makeError(path + ": exists and is not a socket");
        }
        ::unlink(path.c_str());
    }
    // Created without any access, then given to root and the UI's group.
    const mode_t old = ::umask(0777);
    const int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (bound != 0 || ::chown(path.c_str(), 0, gid) != 0 || ::chmod(path.c_str(), groupName.empty() ? 0600 : 0660) != 0 ||
        ::listen(fd, 8) != 0) {
        const std::string why = std::strerror(errno);
        ::close(fd);
        return makeError(path + ": " + why);
    }
    const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const int requests = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0 || requests < 0) {
        const std::string why = std::strerror(errno);
        for (int f : {fd, wake, requests})
            if (f >= 0) ::close(f);
        return makeError("eventfd: " + why);
    }
    return std::unique_ptr<StatusSocket>(new StatusSocket(fd, wake, requests, path));
}

StatusSocket::StatusSocket(int listenFd, int wakeFd, int requestFd, std::string path)
    : listen_(listenFd), wake_(wakeFd), requests_(requestFd), path_(std::move(path)), thread_([this] { loop(); }) {}

StatusSocket::~StatusSocket() {
    const std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
    thread_.join();
    for (const auto& c : clients_) ::close(c.fd);
    ::close(listen_);
    ::close(wake_);
    ::close(requests_);
    ::unlink(path_.c_str());
}

void StatusSocket::sendOrDrop(std::vector<Client*> clients, const std::string& text) {
    for (Client* c : clients) {
        if (c->dead) continue;
        const ssize_t n = ::send(c->fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != static_cast<ssize_t>(text.size())) {
            // Gone, or too slow: a partial line would garble the stream. The
            // loop, which may be polling this fd, closes it.
            ::shutdown(c->fd, SHUT_RDWR);
            c->dead = true;
        }
    }
}

void StatusSocket::publish(const messages::StatusEvent& event) {
    using namespace messages;
    const std::string line = encode(event);
    std::lock_guard lock(mutex_);
    if (std::holds_alternative<Ready>(event) || std::holds_alternative<Loading>(event)) lastReady_ = line;
    if (std::holds_alternative<Identifying>(event) || std::holds_alternative<Removed>(event)) session_.clear();
    if (isSessionEvent(event)) session_.push_back(line);
    // Only the latest progress is worth replaying.
    if (std::holds_alternative<Progress>(event)) progress_ = line;
    if (std::holds_alternative<Verdict>(event) || std::holds_alternative<Removed>(event)) progress_.clear();
    std::vector<Client*> all;
    for (auto& c : clients_) all.push_back(&c);
    sendOrDrop(all, line + "\n");
}

void StatusSocket::reply(std::uint64_t client, const std::string& id, const std::string& json) {
    std::lock_guard lock(mutex_);
    for (auto& c : clients_)
        if (c.id == client) sendOrDrop({&c}, messages::replyLine(id, json) + "\n");
}

std::vector<SocketRequest> StatusSocket::takeRequests() {
    std::uint64_t count = 0;
    (void)!::read(requests_, &count, sizeof count);
    std::lock_guard lock(mutex_);
    std::vector<SocketRequest> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    return out;
}

void StatusSocket::queue(SocketRequest r) {
    queue_.push_back(std::move(r));
    const std::uint64_t one = 1;
    (void)!::write(requests_, &one, sizeof one);
}

void StatusSocket::accept() {
    const int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    Client c;
    c.fd = fd;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        c.uid = cred.uid;
        c.pid = cred.pid;
    }
    std::lock_guard lock(mutex_);
    c.id = nextClient_++;
    std::string hello;
    if (!lastReady_.empty()) hello += lastReady_ + "\n";
    for (const auto& l : session_) hello += l + "\n";
    if (!progress_.empty()) hello += progress_ + "\n";
    clients_.push_back(std::move(c));
    if (!hello.empty()) sendOrDrop({&clients_.back()}, hello);
}

bool StatusSocket::readFrom(Client& c) {
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::read(c.fd, chunk, sizeof chunk);
        if (n == 0) return false;
        if (n < 0) return errno == EAGAIN || errno == EINTR;
        c.in.append(chunk, static_cast<std::size_t>(n));
        for (auto nl = c.in.find('\n'); nl != std::string::npos; nl = c.in.find('\n')) {
            const std::string line = c.in.substr(0, nl);
            c.in.erase(0, nl + 1);
            // REQUEST <id> <json>. Anything else is not a kiosk terminal
            // talking: the connection ends.
            const auto framed = messages::parseRequestLine(line);
            if (!framed) return false;
            // A terminal waits for each answer; one that piles up requests
            // (while a long scan holds them) is not a terminal.
            const auto waiting = std::count_if(queue_.begin(), queue_.end(), [&](const SocketRequest& r) { return r.client == c.id; });
            if (waiting >= kMaxWaitingRequests) return false;
            queue({c.id, c.uid, c.pid, false, framed->id, framed->json});
        }
        if (c.in.size() > messages::kMaxRequestLine) return false;
    }
}

void StatusSocket::loop() {
    for (;;) {
        std::vector<pollfd> fds = {{listen_, POLLIN, 0}, {wake_, POLLIN, 0}};
        std::vector<std::uint64_t> ids;
        {
            std::lock_guard lock(mutex_);
            for (const auto& c : clients_) {
                fds.push_back({c.fd, POLLIN, 0});
                ids.push_back(c.id);
            }
        }
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
        if (fds[1].revents) return;
        {
            std::lock_guard lock(mutex_);
            for (std::size_t i = 2; i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                const auto it = std::find_if(clients_.begin(), clients_.end(), [&](const Client& c) { return c.id == ids[i - 2]; });
                if (it != clients_.end() && !it->dead && !readFrom(*it)) it->dead = true;
            }
            // Hung up, not speaking the protocol, or shut down by a send.
            for (auto it = clients_.begin(); it != clients_.end();) {
                if (!it->dead) {
                    ++it;
                    continue;
                }
                ::close(it->fd);
                queue({it->id, it->uid, it->pid, true, "", ""});
                it = clients_.erase(it);
            }
        }
        if (fds[0].revents & POLLIN) accept();
    }
}

}  // namespace kiosk
