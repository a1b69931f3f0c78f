// One end of a SOCK_SEQPACKET socket pair carrying protocol frames. A frame on
// the wire is an 8-byte header (payload length u32 LE, type u16 LE, zero u16)
// then the payload; a descriptor may ride along with SCM_RIGHTS. The receiver
// rejects frames that are oversized, truncated, or carry more than one fd.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>

#include "qkiosk/protocol/Messages.h"
#include "qkiosk/base/Result.h"
#include "qkiosk/base/UniqueFd.h"

namespace kiosk::proto {

inline constexpr std::size_t kFrameHeader = 8;

// The header that goes on the wire in front of `frame`'s payload (whose size
// the caller has checked against kMaxPayload).
std::array<std::uint8_t, kFrameHeader> frameHeader(const Frame& frame);

// One received packet (header then payload) as a frame, or why it is not one.
// Pure over bytes, so that the fuzz harness runs the very code Channel uses.
Result<Frame> parseFrame(std::span<const std::uint8_t> packet);

struct Received {
    Frame frame;
    UniqueFd fd;
};

class Channel {
public:
    explicit Channel(UniqueFd socket) : socket_(std::move(socket)) {}

    int fd() const { return socket_.get(); }

    // Blocking send of one frame (workers use this).
    Status send(const Frame& frame, int passFd = -1);
    // Blocking receive of one frame; std::nullopt when the peer closed.
    Result<std::optional<Received>> receive();

    // Non-blocking side for the front end, which must never block on a worker:
    // frames wait in an outbox until the socket takes them.
    void enqueue(Frame frame, UniqueFd passFd = UniqueFd{});
    Status flush();
    bool hasPending() const { return !outbox_.empty(); }

    void close() { socket_.reset(); }

    // A connected SOCK_SEQPACKET pair, both ends close-on-exec.
    static Result<std::pair<UniqueFd, UniqueFd>> socketPair();

private:
    struct Outgoing {
        Frame frame;
        UniqueFd fd;
    };
    // Returns true when sent, false on EAGAIN (non-blocking only).
    Result<bool> sendOne(const Frame& frame, int passFd, bool blocking);

    UniqueFd socket_;
    std::deque<Outgoing> outbox_;
};

}  // namespace kiosk::proto
