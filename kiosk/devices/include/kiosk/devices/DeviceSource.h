// Where USB devices come from. The kiosk asks a DeviceSource; the real one is
// UdevDeviceSource (libudev + sysfs + libusb), which runs unchanged against a
// umockdev test bed in the tests and against a real kernel in QEMU.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kiosk/devices/UsbDevice.h"
#include "qkiosk/base/Result.h"

namespace kiosk::devices {

struct DeviceEvent {
    enum class Kind { Added, Removed, BlockAdded, BlockRemoved } kind;
    std::string name;        // USB device sysfs name ("1-1"), or the disk's devnode for block events
    std::string syspath;
};

class DeviceSource {
public:
    virtual ~DeviceSource() = default;
    // Every USB device on every bus, root hubs excluded, in bus order.
    virtual Result<std::vector<UsbDevice>> enumerate() = 0;
    // One device by sysfs name, read afresh.
    virtual Result<UsbDevice> device(const std::string& name) = 0;
    // The USB device a block device (/dev/sdb or /dev/sdb1) belongs to.
    virtual Result<UsbDevice> deviceOfBlock(const std::string& devnode) = 0;
    // Starts listening for hotplug events; fd() is then pollable.
    virtual Status startMonitor() = 0;
    virtual int fd() const = 0;
    // The next pending event, if any (non-blocking).
    virtual std::optional<DeviceEvent> nextEvent() = 0;
    // The root hubs' sysfs names ("usb1", …), for bus-wide authorization defaults.
    virtual Result<std::vector<std::string>> rootHubs() = 0;
};

}  // namespace kiosk::devices
