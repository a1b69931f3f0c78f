// qkiosk run: the kiosk daemon. Runs as root (it writes sysfs authorization
// files and opens block devices); stops cleanly on SIGTERM or SIGINT.
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "Commands.h"
#include "Common.h"
#include "kiosk/Daemon.h"
#include "kiosk/devices/UdevDeviceSource.h"

namespace kiosk::app {
namespace {
std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }
}  // namespace

int runCommand(const std::vector<std::string>& args) {
    std::optional<std::string> configPath;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--config" && i + 1 < args.size()) configPath = args[++i];
        else return usageError("run: unknown option \"" + args[i] + "\"");
    }
    auto config = loadConfigOrDefault(configPath);
    if (!config) return usageError(config.error().message);
    auto source = devices::UdevDeviceSource::open();
    if (!source) return usageError(source.error().message);
    devices::UsbAuthorizer authorizer;

    struct sigaction sa{};
    sa.sa_handler = onSignal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    Daemon daemon(*config, **source, authorizer, [](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
    });
    if (auto s = daemon.start(); !s) return usageError(s.error().message);
    if (auto s = daemon.run(gStop); !s) return usageError(s.error().message);
    std::printf("STOPPED\n");
    return 0;
}

}  // namespace kiosk::app
