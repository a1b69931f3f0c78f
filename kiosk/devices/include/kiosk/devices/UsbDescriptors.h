// A strict parser of a USB device's raw descriptors as sysfs shows them in
// /sys/bus/usb/devices/<dev>/descriptors: the 18-byte device descriptor, then
// each configuration's whole descriptor set (wTotalLength bytes: the
// configuration descriptor, its interface, endpoint, class-specific and other
// descriptors), one configuration after the other. The bytes come from the
// device, which may be hostile (BadUSB): anything inconsistent is an error,
// never a guess, so that no interface can hide behind a malformed descriptor.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::devices {

// One interface descriptor: an interface number with one of its alternate settings.
struct InterfaceDescriptor {
    std::uint8_t number = 0;        // bInterfaceNumber
    std::uint8_t altSetting = 0;    // bAlternateSetting
    std::uint8_t cls = 0, subclass = 0, protocol = 0;
    std::uint8_t numEndpoints = 0;  // bNumEndpoints, equal to the endpoint descriptors that follow it
};

struct ConfigDescriptor {
    std::uint8_t value = 0;         // bConfigurationValue
    std::uint8_t numInterfaces = 0; // bNumInterfaces, equal to the distinct interface numbers
    std::vector<InterfaceDescriptor> interfaces;  // in descriptor order, every alternate setting
};

struct UsbDescriptors {
    std::uint16_t bcdUsb = 0;
    std::uint8_t deviceClass = 0, deviceSubclass = 0, deviceProtocol = 0;
    std::uint16_t vendorId = 0, productId = 0;
    std::uint16_t bcdDevice = 0;
    std::uint8_t numConfigurations = 0;           // bNumConfigurations, equal to configurations.size()
    std::vector<ConfigDescriptor> configurations;
};

// Linux keeps at most this many configurations (USB_MAXCONFIG) and never
// shows a device without one.
inline constexpr std::uint8_t kMaxUsbConfigurations = 8;

// Errors name the offset in the blob and what is wrong there, e.g.
// "configuration 1 at offset 18: wTotalLength 57 runs past the end of the descriptors (32 bytes left)".
Result<UsbDescriptors> parseUsbDescriptors(std::span<const std::uint8_t> blob);

}  // namespace kiosk::devices
