#include "DeviceBed.h"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace qktest {
namespace {

// Paragraphs of a .umockdev file: the first three are the controller, the
// root hub and its interface; the rest is the device.
std::vector<std::string> paragraphs(const fs::path& file) {
    std::vector<std::string> out;
    std::istringstream in(slurp(file));
    std::string line, cur;
    while (std::getline(in, line)) {
        if (line.empty()) {
            if (!cur.empty()) out.push_back(cur + "\n");
            cur.clear();
        } else {
            cur += line + "\n";
        }
    }
    if (!cur.empty()) out.push_back(cur + "\n");
    return out;
}

}  // namespace

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string rootOnly(const std::string& name) {
    const auto parts = paragraphs(kBeds / (name + ".umockdev"));
    REQUIRE(parts.size() > 3);
    return parts[0] + "\n" + parts[1] + "\n" + parts[2];
}

std::string deviceOnly(const std::string& name) {
    const auto parts = paragraphs(kBeds / (name + ".umockdev"));
    std::string device;
    for (std::size_t i = 3; i < parts.size(); ++i) device += parts[i] + "\n";
    return device;
}

Testbed::Testbed() : tb_(umockdev_testbed_new()) { REQUIRE(tb_ != nullptr); }
Testbed::~Testbed() { g_object_unref(tb_); }
void Testbed::load(const std::string& name) { addString(slurp(kBeds / (name + ".umockdev"))); }
void Testbed::addString(const std::string& text) {
    GError* err = nullptr;
    const bool ok = umockdev_testbed_add_from_string(tb_, text.c_str(), &err);
    INFO((err ? err->message : ""));
    if (err) g_error_free(err);
    REQUIRE(ok);
}
void Testbed::uevent(const std::string& syspath, const char* action) { umockdev_testbed_uevent(tb_, syspath.c_str(), action); }
void Testbed::remove(const std::string& syspath) { umockdev_testbed_remove_device(tb_, syspath.c_str()); }
fs::path Testbed::root() const { return umockdev_testbed_get_root_dir(tb_); }
std::string Testbed::attr(const std::string& syspath) const { return trimmed(slurp(root() / syspath.substr(1))); }
void Testbed::backDisk(const fs::path& image) {
    const auto node = root() / "dev" / "sdb";
    std::ofstream out(node, std::ios::binary | std::ios::trunc);
    out << slurp(image);
    REQUIRE(out.good());
}
void Testbed::addDriversProbe() {
    fs::create_directories(root() / "sys/bus/usb");
    std::ofstream(root() / "sys/bus/usb/drivers_probe");
}

void Testbed::plugInStick(const fs::path& image) {
    load("approved-stick");
    backDisk(image);
    addDriversProbe();
}

Site writeSite(Workspace& ws, const std::string& expires, const std::string& extra) {
    Site s{ws.path() / "qkiosk.toml", ws.path() / "whitelist.toml", ws.path() / "spool"};
    ws.write("whitelist.toml", "[[device]]\nvendor_id = \"0781\"\nproduct_id = \"5567\"\nserial = \"4C530001231118116223\"\n"
                               "interfaces = [\"08:06:50\"]\nowner = \"Example Medical Systems K.K.\"\n"
                               "purpose = \"CT firmware maintenance\"\nexpires = \"" + expires + "\"\n");
    ws.write("qkiosk.toml", "db_dir = \"" + ws.database().string() + "\"\npolicy = \"" + s.whitelist.string() +
                                "\"\nspool_dir = \"" + s.spool.string() + "\"\nlog = \"" + (ws.path() / "log.db").string() +
                                "\"\nkiosk_key = \"" + (ws.path() / "kiosk.key").string() + "\"\nevidence_dir = \"" +
                                (ws.path() / "evidence").string() + "\"\n" + extra);
    return s;
}

UiClient::UiClient(const fs::path& path) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
}
UiClient::~UiClient() { ::close(fd); }

std::string UiClient::waitFor(const std::string& prefix, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
            const std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (line.rfind(prefix, 0) == 0) return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return "";
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char chunk[4096];
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return "";
        buffer.append(chunk, static_cast<std::size_t>(n));
        all.append(chunk, static_cast<std::size_t>(n));
    }
}

nlohmann::json UiClient::request(const nlohmann::json& body, double seconds) {
    const std::string id = std::to_string(nextId++);
    const std::string line = "REQUEST " + id + " " + body.dump() + "\n";
    REQUIRE(::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size()));
    const auto reply = waitFor("REPLY " + id + " ", seconds);
    if (reply.empty()) return nullptr;
    return nlohmann::json::parse(reply.substr(7 + id.size()));
}

TmuxTerminal::TmuxTerminal(Workspace& ws, const std::string& command) : sock_((ws.path() / "tmux.sock").string()) {
    if (run({"sh", "-c", "command -v tmux"}).exitCode != 0) {
        WARN("SKIP: tmux is not installed");
        std::exit(77);
    }
    std::string start = "tmux -S " + sock_ + " new-session -d -s ui -x 80 -y 24 '" + command + "'";
    struct stat st{};
    if (::stat("/dev/null", &st) != 0 || !S_ISCHR(st.st_mode)) {
        const auto null = ws.path() / "null";
        REQUIRE(run({"mknod", "-m", "666", null.string(), "c", "1", "3"}).exitCode == 0);
        start = "exec unshare -m sh -c \"mount --bind " + null.string() + " /dev/null && " + start + "\"";
    }
    const auto r = run({"sh", "-c", start});
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
}
TmuxTerminal::~TmuxTerminal() { (void)run({"tmux", "-S", sock_, "kill-server"}); }
std::string TmuxTerminal::screen() const { return run({"tmux", "-S", sock_, "capture-pane", "-p", "-t", "ui"}).out; }
std::string TmuxTerminal::waitFor(const std::string& text, double seconds) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto s = screen();
        if (s.find(text) != std::string::npos) return s;
        ::usleep(200 * 1000);
    }
    return "";
}
void TmuxTerminal::keys(const std::string& k) const { (void)run({"tmux", "-S", sock_, "send-keys", "-t", "ui", k}); }
void TmuxTerminal::type(const std::string& text) const {
    (void)run({"tmux", "-S", sock_, "send-keys", "-t", "ui", "-l", text});
}

}  // namespace qktest
