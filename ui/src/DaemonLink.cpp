#include "qkiosk/ui/DaemonLink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace kiosk::ui {

std::optional<std::string> DaemonConnection::connect(const std::string& path) {
    close();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return "the socket path is too long";
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string why = std::strerror(errno);
        close();
        return why;
    }
    ::fcntl(fd_, F_SETFL, O_NONBLOCK);
    return std::nullopt;
}

bool DaemonConnection::send(const std::string& line) {
    using Clock = std::chrono::steady_clock;
    std::size_t done = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(5);   // a daemon that stopped reading is gone
    while (fd_ >= 0 && done < line.size()) {
        if (Clock::now() > deadline) {
            close();
            return false;
        }
        const ssize_t n = ::send(fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            pollfd p{fd_, POLLOUT, 0};
            ::poll(&p, 1, 1000);
        } else {
            close();
            return false;
        }
    }
    return fd_ >= 0;
}

std::optional<std::vector<std::string>> DaemonConnection::lines() {
    if (fd_ < 0) return std::nullopt;
    std::vector<std::string> out;
    char chunk[8192];
    for (;;) {
        const ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        close();
        return std::nullopt;
    }
    for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n')) {
        out.push_back(buffer_.substr(0, nl));
        buffer_.erase(0, nl + 1);
    }
    if (buffer_.size() > (1u << 20)) buffer_.clear();   // no line is that long: a broken stream
    return out;
}

void DaemonConnection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
}

bool OfficerRequests::send(DaemonConnection& connection, std::vector<messages::OfficerRequest> outbox, std::uint64_t session,
                           Clock::time_point now) {
    for (auto& request : outbox) {
        const std::uint64_t id = next_++;
        if (!connection.send(messages::requestLine(id, request) + "\n")) return false;
        pending_[std::to_string(id)] = {std::move(request), now, session};
    }
    return true;
}

std::optional<OfficerRequests::Answered> OfficerRequests::answer(const std::string& line) {
    const auto framed = messages::parseReplyLine(line);
    if (!framed) return std::nullopt;
    const auto it = pending_.find(framed->id);
    if (it == pending_.end()) return std::nullopt;
    const auto reply = nlohmann::json::parse(framed->json, nullptr, false);
    Answered out{std::move(it->second.request), messages::Done{}, it->second.session};
    pending_.erase(it);
    out.reply = messages::readReply(out.request, reply);
    return out;
}

bool OfficerRequests::overdue(Clock::duration limit, Clock::time_point now) const {
    return std::any_of(pending_.begin(), pending_.end(), [&](const auto& p) { return now - p.second.sent > limit; });
}

}  // namespace kiosk::ui
