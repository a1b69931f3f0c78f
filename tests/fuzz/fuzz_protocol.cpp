// Fuzz harness for the worker protocol. The input is one SOCK_SEQPACKET packet
// as a hostile worker could send it: it goes through parseFrame (the function
// Channel::receive uses), then through every decode* of Messages.h. Whatever a
// decoder accepts must encode back to exactly the input bytes: the front end
// acts on the decoded value, so a lossy decode would let it act on something
// the worker did not say.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "qkiosk/protocol/Channel.h"
#include "qkiosk/protocol/Messages.h"

namespace {

using namespace kiosk::proto;

// Header and payload of `frame` must be byte for byte `packet`.
void requireSamePacket(const Frame& frame, std::span<const std::uint8_t> packet) {
    const auto header = frameHeader(frame);
    if (packet.size() != header.size() + frame.payload.size()) __builtin_trap();
    if (std::memcmp(packet.data(), header.data(), header.size()) != 0) __builtin_trap();
    if (!frame.payload.empty() &&
        std::memcmp(packet.data() + header.size(), frame.payload.data(), frame.payload.size()) != 0)
        __builtin_trap();
}

// 1 when `decode` accepts the frame (and the round trip holds), 0 when it refuses.
template <typename Message>
int decodeAndReencode(kiosk::Result<Message> (*decode)(const Frame&), const Frame& frame,
                      std::span<const std::uint8_t> packet) {
    auto m = decode(frame);
    if (!m) {
        if (m.error().message.empty()) __builtin_trap();  // every refusal says why
        return 0;
    }
    const Frame again = encode(*m);
    if (again.type != frame.type) __builtin_trap();
    requireSamePacket(again, packet);
    return 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> packet(data, size);
    auto frame = parseFrame(packet);
    if (!frame) return 0;
    if (frame->payload.size() > kMaxPayload) __builtin_trap();
    requireSamePacket(*frame, packet);

    int accepted = 0;
    accepted += decodeAndReencode(decodeReadStart, *frame, packet);
    accepted += decodeAndReencode(decodeFileAck, *frame, packet);
    accepted += decodeAndReencode(decodePartition, *frame, packet);
    accepted += decodeAndReencode(decodeFileEntry, *frame, packet);
    accepted += decodeAndReencode(decodeFinding, *frame, packet);
    accepted += decodeAndReencode(decodeReaderDone, *frame, packet);
    accepted += decodeAndReencode(decodeFatal, *frame, packet);
    accepted += decodeAndReencode(decodeScanRequest, *frame, packet);
    accepted += decodeAndReencode(decodeScannerReady, *frame, packet);
    accepted += decodeAndReencode(decodeScanResult, *frame, packet);
    accepted += decodeAndReencode(decodeSessionStart, *frame, packet);
    accepted += decodeAndReencode(decodeSessionStarted, *frame, packet);
    accepted += decodeAndReencode(decodeSessionEnded, *frame, packet);
    accepted += decodeAndReencode(decodeSandboxed, *frame, packet);
    // Each decoder checks the type first, so at most one can accept a frame.
    if (accepted > 1) __builtin_trap();
    return 0;
}
