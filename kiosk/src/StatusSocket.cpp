#include "kiosk/StatusSocket.h"

#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiosk {
namespace {

// The lines of one device's session, from IDENTIFYING to REMOVED: what a
// terminal that connects in the middle needs to show where it stands.
bool isSessionLine(const std::string& line) {
    for (const char* word : {"IDENTIFYING ", "SCANNING ", "VERDICT ", "RESULT ", "REFUSED ", "PRINTED ", "PRINT-FAILED ",
                             "REMOVE-MEDIA "})
        if (line.rfind(word, 0) == 0) return true;
    return false;
}

}  // namespace

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
    if (wake < 0) {
        ::close(fd);
        return makeError(std::string("eventfd: ") + std::strerror(errno));
    }
    return std::unique_ptr<StatusSocket>(new StatusSocket(fd, wake, path));
}

StatusSocket::StatusSocket(int listenFd, int wakeFd, std::string path)
    : listen_(listenFd), wake_(wakeFd), path_(std::move(path)), thread_([this] { acceptLoop(); }) {}

StatusSocket::~StatusSocket() {
    const std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
    thread_.join();
    for (int c : clients_) ::close(c);
    ::close(listen_);
    ::close(wake_);
    ::unlink(path_.c_str());
}

void StatusSocket::sendOrDrop(std::vector<int>& clients, const std::string& text) {
    for (auto it = clients.begin(); it != clients.end();) {
        const ssize_t n = ::send(*it, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == static_cast<ssize_t>(text.size())) {
            ++it;
        } else {
            ::close(*it);   // gone, or too slow: a partial line would garble the stream
            it = clients.erase(it);
        }
    }
}

void StatusSocket::publish(const std::string& line) {
    std::lock_guard lock(mutex_);
    if (line.rfind("READY ", 0) == 0 || line.rfind("LOADING ", 0) == 0) lastReady_ = line;
    if (line.rfind("IDENTIFYING ", 0) == 0 || line.rfind("REMOVED ", 0) == 0) session_.clear();
    if (isSessionLine(line)) session_.push_back(line);
    // Only the latest progress is worth replaying.
    if (line.rfind("PROGRESS ", 0) == 0) progress_ = line;
    if (line.rfind("VERDICT ", 0) == 0 || line.rfind("REMOVED ", 0) == 0) progress_.clear();
    sendOrDrop(clients_, line + "\n");
}

void StatusSocket::acceptLoop() {
    for (;;) {
        pollfd fds[2] = {{listen_, POLLIN, 0}, {wake_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
        if (fds[1].revents) return;
        if (!(fds[0].revents & POLLIN)) continue;
        const int c = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0) continue;
        std::lock_guard lock(mutex_);
        std::vector<int> one{c};
        std::string hello;
        if (!lastReady_.empty()) hello += lastReady_ + "\n";
        for (const auto& l : session_) hello += l + "\n";
        if (!progress_.empty()) hello += progress_ + "\n";
        if (!hello.empty()) sendOrDrop(one, hello);
        if (!one.empty()) clients_.push_back(c);
    }
}

}  // namespace kiosk
