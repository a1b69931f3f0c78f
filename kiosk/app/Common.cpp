#include "Common.h"

#include <filesystem>

#include "kiosk/log/KioskKey.h"

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

Result<std::vector<std::string>> trustedKioskKeys(const std::optional<std::string>& pubkeyFile, const Config& config) {
    if (pubkeyFile) return log::KioskKey::readPublicKeys(*pubkeyFile);
    auto key = log::KioskKey::load(config.kioskKey);
    if (!key) return key.error().context("the kiosk's key (use --pubkey FILE on another machine)");
    return std::vector<std::string>{key->publicHex()};
}

}  // namespace kiosk::app
