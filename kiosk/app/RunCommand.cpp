// qkiosk run: the kiosk daemon. Runs as root (it writes sysfs authorization
// files and opens block devices); stops cleanly on SIGTERM or SIGINT.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "Commands.h"
#include "Common.h"
#include "kiosk/daemon/Daemon.h"
#include "kiosk/status/StatusSocket.h"
#include "kiosk/devices/UdevDeviceSource.h"

namespace kiosk::app {
namespace {
std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }
}  // namespace

int runCommand(const std::vector<std::string>& args) {
    std::optional<std::string> configPath;
    if (auto st = readOptions("run", args, 0, {{{"--config", &configPath}}, {}, nullptr}); !st) return usageError(st.error().message);
    auto config = loadConfigOrDefault(configPath);
    if (!config) return usageError(config.error().message);
    auto source = devices::UdevDeviceSource::open();
    if (!source) return usageError(source.error().message);
    devices::UsbAuthorizer authorizer;

    struct sigaction sa{};
    sa.sa_handler = onSignal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    // Status lines go to stdout and, for the kiosk terminal, to the UI socket
    // (which alone also gets the frequent PROGRESS lines and the VERDICT details).
    std::unique_ptr<StatusSocket> ui;
    if (!config->uiSocket.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(config->uiSocket).parent_path(), ec);
        auto opened = StatusSocket::open(config->uiSocket, config->uiSocketGroup);
        if (!opened) return usageError(opened.error().context("ui_socket").message);
        ui = std::move(*opened);
    }
    Daemon daemon(*config, **source, authorizer, [&ui](const messages::StatusEvent& event) {
        if (ui) ui->publish(event);
        if (messages::isTerminalOnly(event)) return;
        std::printf("%s\n", messages::encode(event).c_str());
        std::fflush(stdout);
    });
    if (ui) daemon.serveOfficers(*ui);
    if (auto s = daemon.start(); !s) return usageError(s.error().message);
    if (auto s = daemon.run(gStop); !s) return usageError(s.error().message);
    std::printf("%s\n", messages::encode(messages::Stopped{}).c_str());
    return 0;
}

}  // namespace kiosk::app
