#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "qkiosk/protocol/Channel.h"

using namespace kiosk;
using namespace kiosk::proto;

TEST_CASE("Channel carries frames and one descriptor", "[Channel]") {
    auto pair = Channel::socketPair();
    REQUIRE(pair.ok());
    Channel a(std::move(pair->first)), b(std::move(pair->second));

    int pipeFds[2];
    REQUIRE(::pipe(pipeFds) == 0);
    UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
    REQUIRE(a.send(encode(FileAck{5}), writeEnd.get()).ok());
    auto got = b.receive();
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    CHECK(decodeFileAck((*got)->frame)->fileId == 5);
    REQUIRE((*got)->fd.valid());
    REQUIRE(::write((*got)->fd.get(), "x", 1) == 1);
    char c = 0;
    CHECK(::read(readEnd.get(), &c, 1) == 1);
    CHECK(c == 'x');

    SECTION("and reports the peer's hang-up as end of stream") {
        a.close();
        auto end = b.receive();
        REQUIRE(end.ok());
        CHECK_FALSE(end->has_value());
    }
}

TEST_CASE("Channel rejects malformed frames from a hostile peer", "[Channel]") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    UniqueFd raw(sv[0]);
    Channel ch{UniqueFd(sv[1])};

    SECTION("a length that disagrees with the packet") {
        const std::uint8_t pkt[] = {10, 0, 0, 0, 2, 0, 0, 0, 1, 2};
        REQUIRE(::send(raw.get(), pkt, sizeof pkt, 0) == sizeof pkt);
        CHECK_FALSE(ch.receive().ok());
    }
    SECTION("a packet larger than the cap") {
        std::vector<std::uint8_t> big(8 + kMaxPayload + 100, 0);
        const std::uint32_t len = kMaxPayload + 100;
        std::memcpy(big.data(), &len, 4);
        REQUIRE(::send(raw.get(), big.data(), big.size(), 0) == static_cast<ssize_t>(big.size()));
        auto r = ch.receive();
        CHECK_FALSE(r.ok());
    }
    SECTION("a packet shorter than the header") {
        const std::uint8_t pkt[] = {1, 2, 3};
        REQUIRE(::send(raw.get(), pkt, sizeof pkt, 0) == sizeof pkt);
        CHECK_FALSE(ch.receive().ok());
    }
    SECTION("two descriptors in one frame") {
        const std::uint8_t pkt[] = {0, 0, 0, 0, 2, 0, 0, 0};
        iovec iov{const_cast<std::uint8_t*>(pkt), sizeof pkt};
        alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(2 * sizeof(int));
        const int fds[2] = {0, 0};
        std::memcpy(CMSG_DATA(c), fds, sizeof fds);
        REQUIRE(::sendmsg(raw.get(), &msg, 0) == sizeof pkt);
        CHECK_FALSE(ch.receive().ok());
    }
}

TEST_CASE("A packet parses back into the frame its header was made for", "[Channel]") {
    const Frame sent = encode(ReaderDone{3, 4096});
    const auto header = frameHeader(sent);
    std::vector<std::uint8_t> packet(header.begin(), header.end());
    packet.insert(packet.end(), sent.payload.begin(), sent.payload.end());
    auto got = parseFrame(packet);
    REQUIRE(got.ok());
    CHECK(got->type == MsgType::ReaderDone);
    CHECK(got->payload == sent.payload);

    SECTION("and refuses it one byte short, one byte long, or with reserved bits set") {
        CHECK_THAT(parseFrame(std::span(packet.data(), packet.size() - 1)).error().message, Catch::Contains("does not match"));
        packet.push_back(0);
        CHECK_FALSE(parseFrame(packet).ok());
        packet.pop_back();
        packet[7] = 1;
        CHECK_THAT(parseFrame(packet).error().message, Catch::Contains("reserved"));
    }
}
