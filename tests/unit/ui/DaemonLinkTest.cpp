// The terminal's connection to the daemon, against a real Unix socket in a
// temporary folder standing in for the daemon's ui_socket: lines arrive whole
// however they are cut, the officer's requests go out as the contract's
// lines, replies find the request they answer, and a daemon that hangs up
// or stops answering is noticed.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "qkiosk/ui/DaemonLink.h"

using namespace kiosk;
using nlohmann::json;

namespace {

// A listening socket, and the daemon's end of the one connection to it.
struct FakeDaemon {
    std::string dir, path;
    int listener = -1, peer = -1;

    FakeDaemon() {
        char tmpl[] = "/tmp/qkiosk-link-XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        dir = tmpl;
        path = dir + "/ui.sock";
        listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path.c_str());
        REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listener, 4) == 0);
    }
    ~FakeDaemon() {
        hangUp();
        ::close(listener);
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    void accept() {
        peer = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        REQUIRE(peer >= 0);
    }
    void write(const std::string& text) { REQUIRE(::write(peer, text.data(), text.size()) == static_cast<ssize_t>(text.size())); }
    // What the terminal sent, once `bytes` of it are in.
    std::string read(std::size_t bytes) {
        std::string got;
        char chunk[4096];
        while (got.size() < bytes) {
            const ssize_t n = ::read(peer, chunk, sizeof chunk);
            REQUIRE(n > 0);
            got.append(chunk, static_cast<std::size_t>(n));
        }
        return got;
    }
    void hangUp() {
        if (peer >= 0) ::close(peer);
        peer = -1;
    }
};

// Every line that has arrived (they are on the socket already: one read takes them).
std::vector<std::string> arrived(ui::DaemonConnection& c) {
    auto lines = c.lines();
    REQUIRE(lines);
    return *lines;
}

}  // namespace

TEST_CASE("The terminal gets the daemon's lines whole, however the socket cuts them, and notices when it hangs up", "[DaemonLink]") {
    FakeDaemon daemon;
    ui::DaemonConnection link;
    REQUIRE_FALSE(link.connect(daemon.path));
    daemon.accept();
    CHECK(link.connected());
    CHECK(arrived(link).empty());
    daemon.write("READY signatures=8 version=27482 age_days=1\nIDENTIFYING 1");
    CHECK(arrived(link) == std::vector<std::string>{"READY signatures=8 version=27482 age_days=1"});
    daemon.write("-1\nSCANNING 1-1 /dev/sdb\n");
    CHECK(arrived(link) == std::vector<std::string>{"IDENTIFYING 1-1", "SCANNING 1-1 /dev/sdb"});
    daemon.hangUp();
    CHECK_FALSE(link.lines());
    CHECK_FALSE(link.connected());
    CHECK_FALSE(link.send("REQUEST 1 {}\n"));
}

TEST_CASE("A daemon that is not there is said in words, not waited for", "[DaemonLink]") {
    ui::DaemonConnection link;
    const auto why = link.connect("/nonexistent/qkiosk/ui.sock");
    REQUIRE(why);
    CHECK(*why == std::strerror(ENOENT));
    CHECK_FALSE(link.connected());
    CHECK(link.connect("/" + std::string(200, 'x')) == std::optional<std::string>("the socket path is too long"));
}

TEST_CASE("The officer's requests go out numbered, and each reply finds the request and session it answers", "[DaemonLink]") {
    FakeDaemon daemon;
    ui::DaemonConnection link;
    REQUIRE_FALSE(link.connect(daemon.path));
    daemon.accept();
    ui::OfficerRequests requests;
    const auto t0 = ui::OfficerRequests::Clock::now();
    REQUIRE(requests.send(link, {messages::StatusRequest{}, messages::SessionRequest{"T1"}}, 4, t0));
    const std::string expected = "REQUEST 1 {\"op\":\"status\"}\nREQUEST 2 {\"op\":\"session\",\"ticket_id\":\"T1\"}\n";
    CHECK(daemon.read(expected.size()) == expected);

    CHECK_FALSE(requests.answer("READY signatures=8 version=27482 age_days=1"));   // a status line
    CHECK_FALSE(requests.answer("REPLY 9 {\"ok\":true}"));                           // nobody asked 9

    auto second = requests.answer(R"(REPLY 2 {"ok":true,"report":{"ticket_id":"T1","verdict":"pass"},"records":[]})");
    REQUIRE(second);
    CHECK(second->session == 4);
    CHECK(std::holds_alternative<messages::SessionRequest>(second->request));
    REQUIRE(std::holds_alternative<messages::SessionReply>(second->reply));
    CHECK(std::get<messages::SessionReply>(second->reply).report.at("verdict") == "pass");
    CHECK_FALSE(requests.answer(R"(REPLY 2 {"ok":true})"));   // answered already

    SECTION("a request not answered in time is overdue") {
        CHECK_FALSE(requests.overdue(std::chrono::minutes(30), t0 + std::chrono::minutes(29)));
        CHECK(requests.overdue(std::chrono::minutes(30), t0 + std::chrono::minutes(31)));
        requests.clear();
        CHECK_FALSE(requests.overdue(std::chrono::minutes(30), t0 + std::chrono::minutes(31)));
    }
    SECTION("a reply that cannot be read is a failure of the request it answers") {
        auto first = requests.answer("REPLY 1 {not json");
        REQUIRE(first);
        REQUIRE(std::holds_alternative<messages::Refusal>(first->reply));
        CHECK(std::get<messages::Refusal>(first->reply).code == messages::ReplyCode::Failed);
        CHECK_FALSE(requests.overdue(std::chrono::minutes(30), t0 + std::chrono::hours(1)));
    }
}
