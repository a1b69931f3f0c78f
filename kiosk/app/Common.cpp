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

DeviceIdentity identityOf(const devices::UsbDevice& d, const policy::Decision& decision) {
    DeviceIdentity id;
    id.vendorId = d.vendorHex();
    id.productId = d.productHex();
    id.serial = d.serial;
    id.interfaces = d.interfaceTriples();
    id.port = d.name;
    id.manufacturer = d.manufacturer;
    id.product = d.product;
    if (decision.approval) id.approval = ApprovalInfo{decision.approval->owner, decision.approval->purpose, decision.approval->expires};
    return id;
}

}  // namespace kiosk::app
