#include "kiosk/devices/UsbDevice.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace kiosk::devices {

std::string hex4(std::uint16_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04x", v);
    return buf;
}

std::string UsbInterface::triple() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x", cls, subclass, protocol);
    return buf;
}

std::string UsbDevice::vendorHex() const { return hex4(vendorId); }
std::string UsbDevice::productHex() const { return hex4(productId); }

std::vector<std::string> UsbDevice::interfaceTriples() const {
    std::set<std::string> all;
    for (const auto& c : configurations)
        for (const auto& i : c.interfaces) all.insert(i.triple());
    return {all.begin(), all.end()};
}

bool UsbDevice::isHub() const {
    if (deviceClass != 0x09) return false;
    for (const auto& c : configurations)
        for (const auto& i : c.interfaces)
            if (i.cls != 0x09) return false;
    return true;
}

bool isStorageInterface(const UsbInterface& i) {
    return i.cls == 0x08 && i.subclass == 0x06 && (i.protocol == 0x50 || i.protocol == 0x62);
}

}  // namespace kiosk::devices
