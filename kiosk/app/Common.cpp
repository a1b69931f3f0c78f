#include "Common.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
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

std::string personOf(const std::optional<std::string>& officer) {
    if (officer && !officer->empty()) return *officer;
    const uid_t uid = ::getuid();
    std::string who;
    if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) who = std::string(sudo) + " via sudo as ";
    const passwd* pw = ::getpwuid(uid);
    who += pw ? pw->pw_name : "?";
    return who + " (uid " + std::to_string(uid) + ")";
}

Result<std::vector<std::string>> trustedKioskKeys(const std::optional<std::string>& pubkeyFile, const Config& config) {
    if (pubkeyFile) return log::KioskKey::readPublicKeys(*pubkeyFile);
    auto key = log::KioskKey::load(config.kioskKey);
    if (!key) return key.error().context("the kiosk's key (use --pubkey FILE on another machine)");
    return std::vector<std::string>{key->publicHex()};
}

}  // namespace kiosk::app
