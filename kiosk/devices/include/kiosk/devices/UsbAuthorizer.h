// USB authorization through sysfs: the kiosk, not the kernel, decides which
// devices and which of their interfaces may bind a driver. All writes go to
// files under `sysRoot` ("/sys"), so a test bed can check what was written.
#pragma once

#include <string>
#include <vector>

#include "kiosk/devices/UsbDevice.h"
#include "qkiosk/base/Result.h"

namespace kiosk::devices {

class UsbAuthorizer {
public:
    explicit UsbAuthorizer(std::string sysRoot = "/sys") : root_(std::move(sysRoot)) {}

    // New devices on these buses stay unauthorized, and so do the interfaces
    // of devices the kiosk authorizes, until it authorizes them one by one.
    Status lockDown(const std::vector<std::string>& rootHubs);
    // The whole device, every interface (the kiosk's own keyboard, printer; hubs).
    Status authorizeAll(const UsbDevice& d);
    // The device, then only its mass-storage interfaces, which are then bound
    // through drivers_probe. Every other interface stays unauthorized.
    Status authorizeStorage(const UsbDevice& d);
    // Keeps a refused device unauthorized (writes 0, in case it was not).
    Status refuse(const UsbDevice& d);

private:
    Status write(const std::string& relPath, const std::string& value);
    // The configuration the kernel chose (sysfs bConfigurationValue); 1 if it does not say.
    int activeConfiguration(const std::string& device) const;
    std::string root_;
};

}  // namespace kiosk::devices
