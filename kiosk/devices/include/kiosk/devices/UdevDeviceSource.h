// DeviceSource over libudev (enumeration, hotplug, attributes) and libusb
// (configuration descriptors, readable while the device is unauthorized).
#pragma once

#include <memory>

#include "kiosk/devices/DeviceSource.h"

namespace kiosk::devices {

class UdevDeviceSource : public DeviceSource {
public:
    static Result<std::unique_ptr<UdevDeviceSource>> open();
    ~UdevDeviceSource() override;

    Result<std::vector<UsbDevice>> enumerate() override;
    Result<UsbDevice> device(const std::string& name) override;
    Result<UsbDevice> deviceOfBlock(const std::string& devnode) override;
    Status startMonitor() override;
    int fd() const override;
    std::optional<DeviceEvent> nextEvent() override;
    Result<std::vector<std::string>> rootHubs() override;

    struct Impl;

private:
    explicit UdevDeviceSource(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace kiosk::devices
