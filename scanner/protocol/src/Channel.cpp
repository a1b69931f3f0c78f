#include "qkiosk/protocol/Channel.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace kiosk::proto {
namespace {
constexpr std::size_t kHeader = kFrameHeader;
}

std::array<std::uint8_t, kFrameHeader> frameHeader(const Frame& frame) {
    std::array<std::uint8_t, kFrameHeader> header{};
    const auto len = static_cast<std::uint32_t>(frame.payload.size());
    const auto type = static_cast<std::uint16_t>(frame.type);
    for (int i = 0; i < 4; ++i) header[i] = static_cast<std::uint8_t>(len >> (8 * i));
    header[4] = static_cast<std::uint8_t>(type);
    header[5] = static_cast<std::uint8_t>(type >> 8);
    return header;  // bytes 6 and 7 are reserved, zero
}

Result<Frame> parseFrame(std::span<const std::uint8_t> packet) {
    if (packet.size() < kHeader) return makeError("frame shorter than its header");
    const std::uint32_t len = std::uint32_t{packet[0]} | std::uint32_t{packet[1]} << 8 |
                              std::uint32_t{packet[2]} << 16 | std::uint32_t{packet[3]} << 24;
    const auto type = static_cast<std::uint16_t>(packet[4] | packet[5] << 8);
    if (packet[6] != 0 || packet[7] != 0) return makeError("frame header has non-zero reserved bytes");
    if (len > kMaxPayload) return makeError("frame length " + std::to_string(len) + " exceeds limit");
    if (len != packet.size() - kHeader) return makeError("frame length does not match its packet");
    Frame f;
    f.type = static_cast<MsgType>(type);
    f.payload.assign(packet.begin() + kHeader, packet.end());
    return f;
}

Result<std::pair<UniqueFd, UniqueFd>> Channel::socketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        return makeError(std::string("socketpair: ") + std::strerror(errno));
    return std::make_pair(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

Result<bool> Channel::sendOne(const Frame& frame, int passFd, bool blocking) {
    if (frame.payload.size() > kMaxPayload) return makeError("refusing to send an oversized frame");
    if (!socket_.valid()) return makeError("channel is closed");
    auto header = frameHeader(frame);
    iovec iov[2] = {{header.data(), kHeader},
                    {const_cast<std::uint8_t*>(frame.payload.data()), frame.payload.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = frame.payload.empty() ? 1 : 2;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (passFd >= 0) {
        std::memset(control, 0, sizeof(control));
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &passFd, sizeof(int));
    }
    for (;;) {
        const ssize_t n = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | (blocking ? 0 : MSG_DONTWAIT));
        if (n >= 0) {
            if (static_cast<std::size_t>(n) != kHeader + frame.payload.size()) return makeError("short send on packet socket");
            return true;
        }
        if (errno == EINTR) continue;
        if (!blocking && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        return makeError(std::string("send: ") + std::strerror(errno));
    }
}

Status Channel::send(const Frame& frame, int passFd) {
    auto r = sendOne(frame, passFd, true);
    if (!r) return r.error();
    return {};
}

void Channel::enqueue(Frame frame, UniqueFd passFd) { outbox_.push_back(Outgoing{std::move(frame), std::move(passFd)}); }

Status Channel::flush() {
    while (!outbox_.empty()) {
        auto& o = outbox_.front();
        auto r = sendOne(o.frame, o.fd.get(), false);
        if (!r) return r.error();
        if (!*r) return {};
        outbox_.pop_front();
    }
    return {};
}

Result<std::optional<Received>> Channel::receive() {
    if (!socket_.valid()) return makeError("channel is closed");
    // One byte more than the largest legal frame, so an oversized one shows as truncated.
    std::vector<std::uint8_t> buf(kHeader + kMaxPayload + 1);
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n;
    do {
        n = ::recvmsg(socket_.get(), &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return makeError(std::string("receive: ") + std::strerror(errno));

    // Take ownership of every descriptor first so none leaks on a bad frame.
    std::vector<UniqueFd> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                fds.emplace_back(fd);
            }
        }
    }
    if (n == 0 && fds.empty()) return std::optional<Received>{};
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return makeError("oversized frame or control data");
    if (fds.size() > 1) return makeError("frame carries more than one descriptor");
    auto frame = parseFrame(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
    if (!frame) return frame.error();

    Received r;
    r.frame = std::move(frame).value();
    if (!fds.empty()) r.fd = std::move(fds.front());
    return std::optional<Received>(std::move(r));
}

}  // namespace kiosk::proto
