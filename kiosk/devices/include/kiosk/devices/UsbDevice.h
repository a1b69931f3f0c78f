// What the kiosk knows about one USB device, read before the kernel may use
// it: identity from sysfs, every interface of every configuration (and
// alternate setting) from the descriptors. An immutable value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiosk::devices {

struct UsbInterface {
    std::uint8_t number = 0;
    std::uint8_t altSetting = 0;
    std::uint8_t cls = 0, subclass = 0, protocol = 0;

    // "08:06:50", as in the whitelist and the report.
    std::string triple() const;
};

struct UsbConfiguration {
    std::uint8_t value = 0;
    std::vector<UsbInterface> interfaces;
};

struct UsbDevice {
    std::string name;          // sysfs name: "1-1", "1-2.3"; root hubs are "usb1"
    std::string syspath;       // /sys/devices/...
    std::uint16_t vendorId = 0, productId = 0;
    std::string serial;        // "" when the device has none
    std::string manufacturer, product;
    std::string speed;         // Mbit/s as sysfs says: "480", "5000"
    std::uint8_t deviceClass = 0;
    bool authorized = false;
    std::vector<UsbConfiguration> configurations;
    // Why the raw descriptors cannot be trusted: our own strict parser
    // (UsbDescriptors.h) rejects them, or they disagree with what libusb
    // read. "" when both agree.
    std::string descriptorProblem;
    std::vector<std::string> blockDevices;   // "/dev/sdb" once the storage driver is bound

    std::string vendorHex() const;     // "0781"
    std::string productHex() const;    // "5567"
    // Every interface class triple the device offers in any configuration, sorted, unique.
    std::vector<std::string> interfaceTriples() const;
    bool isHub() const;
};

// Mass storage the kiosk reads: SCSI transparent command set over
// bulk-only transport (08:06:50) or USB Attached SCSI (08:06:62).
bool isStorageInterface(const UsbInterface& i);
std::string hex4(std::uint16_t v);

}  // namespace kiosk::devices
