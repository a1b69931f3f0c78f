// Fuzz harness for the USB descriptor parser: the input is the blob a (maybe
// BadUSB) device makes the kernel show in sysfs `descriptors`. The parser must
// refuse with a message or return a value whose counts agree with the
// descriptors (so that no interface was dropped or invented).
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <utility>

#include "kiosk/devices/UsbDescriptors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kiosk::devices;
    auto d = parseUsbDescriptors(std::span<const std::uint8_t>(data, size));
    if (!d) {
        if (d.error().message.empty()) __builtin_trap();
        return 0;
    }
    // Accepted: at least the device descriptor and one configuration descriptor each.
    if (size < 18 + 9 * d->configurations.size()) __builtin_trap();
    if (d->numConfigurations != d->configurations.size() || d->configurations.empty() ||
        d->configurations.size() > kMaxUsbConfigurations)
        __builtin_trap();
    std::set<std::uint8_t> values;
    for (const auto& c : d->configurations) {
        if (!values.insert(c.value).second) __builtin_trap();
        std::set<std::uint8_t> numbers;
        std::set<std::pair<std::uint8_t, std::uint8_t>> settings;
        for (const auto& i : c.interfaces) {
            numbers.insert(i.number);
            if (!settings.insert({i.number, i.altSetting}).second) __builtin_trap();
        }
        if (numbers.size() != c.numInterfaces) __builtin_trap();
    }
    return 0;
}
