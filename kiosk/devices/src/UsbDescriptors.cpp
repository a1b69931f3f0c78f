#include "kiosk/devices/UsbDescriptors.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

namespace kiosk::devices {
namespace {

// bDescriptorType values (USB 2.0 table 9-5, USB 3.2 table 9-6).
constexpr std::uint8_t kDevice = 1;
constexpr std::uint8_t kConfiguration = 2;
constexpr std::uint8_t kInterface = 4;
constexpr std::uint8_t kEndpoint = 5;
constexpr std::uint8_t kOtherSpeedConfiguration = 7;

constexpr std::size_t kDeviceLength = 18;
constexpr std::size_t kConfigLength = 9;
constexpr std::size_t kInterfaceLength = 9;
constexpr std::size_t kEndpointLength = 7;
constexpr std::size_t kAudioEndpointLength = 9;  // USB Audio 1.0 endpoints carry two more bytes

std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8);
}

std::string hex2(std::uint8_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    return {'0', 'x', digits[v >> 4], digits[v & 15]};
}

// The descriptors of one configuration: `config` is exactly its wTotalLength bytes.
class ConfigParser {
public:
    ConfigParser(std::span<const std::uint8_t> config, std::size_t base, std::string where)
        : bytes_(config), base_(base), where_(std::move(where)) {}

    Result<ConfigDescriptor> parse() {
        auto& c = config_;
        c.numInterfaces = bytes_[4];
        c.value = bytes_[5];
        std::size_t pos = kConfigLength;
        while (pos < bytes_.size()) {
            const std::size_t left = bytes_.size() - pos;
            if (left < 2) return fail(pos, "a descriptor header is cut off (1 byte left in the configuration)");
            const std::uint8_t length = bytes_[pos], type = bytes_[pos + 1];
            if (length == 0) return fail(pos, "zero-length descriptor");
            if (length < 2) return fail(pos, "descriptor of bLength 1 is shorter than its header");
            if (length > left)
                return fail(pos, "descriptor of bLength " + std::to_string(length) + " runs past the end of its configuration (" +
                                     std::to_string(left) + " bytes left of wTotalLength)");
            const auto d = bytes_.subspan(pos, length);
            if (type == kDevice || type == kConfiguration || type == kOtherSpeedConfiguration)
                return fail(pos, "a descriptor of type " + hex2(type) + " inside a configuration");
            if (type == kInterface) {
                if (auto s = closeInterface(); !s) return s.error();
                if (length != kInterfaceLength)
                    return fail(pos, "interface descriptor of bLength " + std::to_string(length) + ", must be 9");
                const InterfaceDescriptor i{d[2], d[3], d[5], d[6], d[7], d[4]};
                if (!seen_.insert({i.number, i.altSetting}).second)
                    return fail(pos, "second descriptor for interface " + std::to_string(i.number) + " alternate setting " +
                                         std::to_string(i.altSetting));
                c.interfaces.push_back(i);
                currentAt_ = pos;
                endpoints_ = 0;
            } else if (type == kEndpoint) {
                if (config_.interfaces.empty()) return fail(pos, "endpoint descriptor before any interface descriptor");
                if (length != kEndpointLength && length != kAudioEndpointLength)
                    return fail(pos, "endpoint descriptor of bLength " + std::to_string(length) + ", must be 7 or 9");
                ++endpoints_;
            }
            // Anything else (class-specific, interface association, SuperSpeed
            // companion, vendor-defined) is opaque here: its length was checked.
            pos += length;
        }
        if (auto s = closeInterface(); !s) return s.error();
        std::set<std::uint8_t> numbers;
        for (const auto& i : c.interfaces) numbers.insert(i.number);
        if (numbers.size() != c.numInterfaces)
            return fail(0, "bNumInterfaces " + std::to_string(c.numInterfaces) + " but " + std::to_string(numbers.size()) +
                               " distinct interfaces follow");
        return std::move(c);
    }

private:
    // The interface before the next one (or the end) must have had exactly the endpoints it announced.
    Status closeInterface() {
        if (config_.interfaces.empty()) return {};
        const auto& i = config_.interfaces.back();
        if (endpoints_ == i.numEndpoints) return {};
        return fail(currentAt_, "interface " + std::to_string(i.number) + " alternate setting " + std::to_string(i.altSetting) +
                                    " announces " + std::to_string(i.numEndpoints) + " endpoints but " +
                                    std::to_string(endpoints_) + " follow");
    }

    Error fail(std::size_t pos, const std::string& what) const {
        return makeError(where_ + ", descriptor at offset " + std::to_string(base_ + pos) + ": " + what);
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t base_;          // offset of the configuration in the whole blob, for messages
    std::string where_;
    ConfigDescriptor config_;
    std::set<std::pair<std::uint8_t, std::uint8_t>> seen_;   // (interface, alternate setting)
    std::size_t currentAt_ = 0;  // offset of the last interface descriptor
    std::size_t endpoints_ = 0;  // endpoint descriptors seen since it
};

}  // namespace

Result<UsbDescriptors> parseUsbDescriptors(std::span<const std::uint8_t> blob) {
    if (blob.empty()) return makeError("USB descriptors: empty (0 bytes)");
    if (blob.size() < kDeviceLength)
        return makeError("USB device descriptor: cut off at " + std::to_string(blob.size()) + " of 18 bytes");
    if (blob[0] != kDeviceLength) return makeError("USB device descriptor: bLength " + std::to_string(blob[0]) + ", must be 18");
    if (blob[1] != kDevice) return makeError("USB device descriptor: type " + hex2(blob[1]) + ", must be 0x01");
    UsbDescriptors d;
    d.bcdUsb = le16(blob, 2);
    d.deviceClass = blob[4];
    d.deviceSubclass = blob[5];
    d.deviceProtocol = blob[6];
    d.vendorId = le16(blob, 8);
    d.productId = le16(blob, 10);
    d.bcdDevice = le16(blob, 12);
    d.numConfigurations = blob[17];
    if (d.numConfigurations == 0) return makeError("USB device descriptor: bNumConfigurations is 0");
    if (d.numConfigurations > kMaxUsbConfigurations)
        return makeError("USB device descriptor: bNumConfigurations " + std::to_string(d.numConfigurations) +
                         " exceeds the maximum of " + std::to_string(kMaxUsbConfigurations));

    std::set<std::uint8_t> values;
    std::size_t pos = kDeviceLength;
    for (unsigned n = 1; n <= d.numConfigurations; ++n) {
        const std::string where = "USB configuration " + std::to_string(n) + " of " + std::to_string(d.numConfigurations);
        const std::size_t left = blob.size() - pos;
        const std::string at = where + " at offset " + std::to_string(pos) + ": ";
        if (left == 0) return makeError(at + "missing (the descriptors end after " + std::to_string(n - 1) + ")");
        if (left < kConfigLength)
            return makeError(at + "configuration descriptor cut off at " + std::to_string(left) + " of 9 bytes");
        if (blob[pos] != kConfigLength) return makeError(at + "bLength " + std::to_string(blob[pos]) + ", must be 9");
        if (blob[pos + 1] != kConfiguration) return makeError(at + "type " + hex2(blob[pos + 1]) + ", must be 0x02");
        const std::size_t total = le16(blob, pos + 2);
        if (total < kConfigLength) return makeError(at + "wTotalLength " + std::to_string(total) + " is shorter than the configuration descriptor");
        if (total > left)
            return makeError(at + "wTotalLength " + std::to_string(total) + " runs past the end of the descriptors (" +
                             std::to_string(left) + " bytes left)");
        auto config = ConfigParser(blob.subspan(pos, total), pos, where).parse();
        if (!config) return config.error();
        if (!values.insert(config->value).second)
            return makeError(at + "bConfigurationValue " + std::to_string(config->value) + " is used twice");
        d.configurations.push_back(std::move(config).value());
        pos += total;
    }
    if (pos != blob.size())
        return makeError("USB descriptors: " + std::to_string(blob.size() - pos) + " bytes after the last of " +
                         std::to_string(d.numConfigurations) + " configurations (offset " + std::to_string(pos) + ")");
    return d;
}

}  // namespace kiosk::devices
