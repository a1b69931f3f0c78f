#include "Common.h"

#include <filesystem>

namespace kiosk::app {

Result<Config> loadConfigOrDefault(const std::optional<std::string>& path) {
    if (path) return loadConfig(*path);
    if (std::filesystem::exists(kDefaultConfigPath)) return loadConfig(kDefaultConfigPath);
    return Config{};
}

Result<policy::Whitelist> loadPolicy(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return policy::Whitelist{};
    return policy::loadWhitelist(path);
}

}  // namespace kiosk::app
