// The admission decision for one USB device: pure, no I/O. Approval is
// necessary for vendor media but never sufficient: an admitted device is
// still scanned. The order of the rules (docs/admin.md):
//   1. the kiosk's own fixed devices (config, by port and VID:PID): admitted;
//   2. hubs (only hub interfaces): admitted, so the devices behind them can
//      be inspected one by one;
//   3. anything that is not purely mass storage (HID, network, serial,
//      vendor-specific, audio, video, … alone or beside storage): badusb;
//   4. storage on the whitelist: admitted with its approval, or
//      device-expired; a whitelist that did not load: device-not-approved;
//   5. unknown storage: scanned or refused as the site's unknown_media says.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kiosk/config/Config.h"
#include "kiosk/model/Report.h"
#include "kiosk/devices/UsbDevice.h"
#include "kiosk/policy/Whitelist.h"
#include "qkiosk/protocol/Messages.h"

namespace kiosk::policy {

enum class Role { Storage, Fixed, Hub, Refused };

struct PolicyReason {
    proto::ReasonCode code;
    std::string detail;
};

struct Decision {
    bool admit = false;
    Role role = Role::Refused;
    std::vector<PolicyReason> reasons;
    std::optional<Approval> approval;
};

// `whitelist` is the loaded whitelist or the error it failed with.
// `today` is the local date "YYYY-MM-DD".
Decision decide(const devices::UsbDevice& device, const Result<Whitelist>& whitelist, const Config& config,
                const std::string& today);

const char* roleName(Role r);

// The device as the report and ticket name it, with the approval it matched.
DeviceIdentity identityOf(const devices::UsbDevice& d, const Decision& decision);

}  // namespace kiosk::policy
