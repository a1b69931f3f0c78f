// qkiosk devices: every attached USB device with its identity, interfaces and
// the policy decision the kiosk would take for it.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "Commands.h"
#include "Common.h"
#include "kiosk/devices/UdevDeviceSource.h"

namespace kiosk::app {

int devicesCommand(const std::vector<std::string>& args) {
    std::optional<std::string> policyPath, configPath;
    bool json = false;
    if (auto st = readOptions("devices", args, 0, {{{"--policy", &policyPath}, {"--config", &configPath}}, {{"--json", &json}}, nullptr});
        !st)
        return usageError(st.error().message);
    auto config = loadConfigOrDefault(configPath);
    if (!config) return usageError(config.error().message);
    const auto whitelist = loadPolicy(policyPath.value_or(config->whitelistPath));
    if (!whitelist) return usageError(whitelist.error().message);

    auto source = devices::UdevDeviceSource::open();
    if (!source) return usageError(source.error().message);
    auto list = (*source)->enumerate();
    if (!list) return usageError(list.error().message);

    const std::string today = todayLocal();
    nlohmann::json out = nlohmann::json::array();
    if (!json) std::printf("%-8s %-9s  %-22s %-26s %-7s %s\n", "PORT", "VID:PID", "SERIAL", "INTERFACES", "DECISION", "WHY");
    for (const auto& d : *list) {
        const auto decision = policy::decide(d, whitelist, *config, today);
        std::string interfaces, codes, why;
        for (const auto& t : d.interfaceTriples()) interfaces += (interfaces.empty() ? "" : ",") + t;
        nlohmann::json reasons = nlohmann::json::array(), details = nlohmann::json::array();
        for (const auto& r : decision.reasons) {
            reasons.push_back(proto::reasonCodeName(r.code));
            details.push_back(r.detail);
            why += (why.empty() ? "" : "; ") + std::string(proto::reasonCodeName(r.code)) + ": " + r.detail;
        }
        if (why.empty()) {
            if (decision.approval) why = "approved: " + decision.approval->owner + " (" + decision.approval->purpose + ") until " + decision.approval->expires;
            else if (decision.role == policy::Role::Storage) why = "unknown media: scanned (unknown_media = \"scan\")";
            else why = policy::roleName(decision.role);
        }
        if (json) {
            nlohmann::json e = {{"sysfs", d.name}, {"vendor_id", d.vendorHex()}, {"product_id", d.productHex()},
                                {"serial", d.serial}, {"interfaces", d.interfaceTriples()},
                                {"decision", decision.admit ? "admit" : "refuse"}, {"reasons", reasons},
                                {"details", details}, {"role", policy::roleName(decision.role)},
                                {"manufacturer", d.manufacturer}, {"product", d.product},
                                {"authorized", d.authorized}, {"block_devices", d.blockDevices}};
            if (decision.approval)
                e["approval"] = {{"owner", decision.approval->owner}, {"purpose", decision.approval->purpose},
                                 {"expires", decision.approval->expires}};
            else
                e["approval"] = nullptr;
            out.push_back(std::move(e));
        } else {
            std::printf("%-8s %s:%s  %-22s %-26s %-7s %s\n", d.name.c_str(), d.vendorHex().c_str(), d.productHex().c_str(),
                        d.serial.empty() ? "-" : d.serial.c_str(), interfaces.c_str(), decision.admit ? "admit" : "refuse",
                        why.c_str());
        }
    }
    if (json) std::printf("%s\n", out.dump(2).c_str());
    return 0;
}

}  // namespace kiosk::app
