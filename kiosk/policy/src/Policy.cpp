#include "kiosk/policy/Policy.h"

#include <algorithm>
#include <ctime>
#include <set>

namespace kiosk::policy {
namespace {

using proto::ReasonCode;

// Plain words for an interface class, for the refusal a person reads.
std::string describe(const devices::UsbInterface& i) {
    std::string what;
    switch (i.cls) {
        case 0x01: what = "audio"; break;
        case 0x02: what = "communications (network or serial)"; break;
        case 0x03: what = i.protocol == 1 ? "keyboard (HID)" : i.protocol == 2 ? "mouse (HID)" : "HID input device"; break;
        case 0x05: what = "physical interface"; break;
        case 0x06: what = "camera/imaging"; break;
        case 0x07: what = "printer"; break;
        case 0x08: what = "mass storage with an unsupported protocol"; break;
        case 0x09: what = "hub"; break;
        case 0x0a: what = "communications data (network or serial)"; break;
        case 0x0b: what = "smart card"; break;
        case 0x0e: what = "video"; break;
        case 0x10: what = "audio/video"; break;
        case 0xe0: what = "wireless (Bluetooth/RNDIS)"; break;
        case 0xef: what = "miscellaneous"; break;
        case 0xfe: what = "application-specific (firmware update)"; break;
        case 0xff: what = "vendor-specific"; break;
        default: what = "unknown class"; break;
    }
    return what + " " + i.triple();
}

bool isFixed(const devices::UsbDevice& d, const Config& c) {
    return std::any_of(c.fixedDevices.begin(), c.fixedDevices.end(), [&](const FixedDevice& f) {
        auto lower = [](std::string s) {
            std::transform(s.begin(), s.end(), s.begin(), ::tolower);
            return s;
        };
        return f.port == d.name && lower(f.vendorId) == d.vendorHex() && lower(f.productId) == d.productHex();
    });
}

}  // namespace

const char* roleName(Role r) {
    switch (r) {
        case Role::Storage: return "storage";
        case Role::Fixed: return "fixed";
        case Role::Hub: return "hub";
        case Role::Refused: return "refused";
    }
    return "refused";
}

DeviceIdentity identityOf(const devices::UsbDevice& d, const Decision& decision) {
    DeviceIdentity id;
    id.vendorId = d.vendorHex();
    id.productId = d.productHex();
    id.serial = d.serial;
    id.interfaces = d.interfaceTriples();
    id.port = d.name;
    id.manufacturer = d.manufacturer;
    id.product = d.product;
    if (decision.approval) id.approval = ApprovalInfo{decision.approval->owner, decision.approval->purpose, decision.approval->expires};
    return id;
}

Decision decide(const devices::UsbDevice& device, const Result<Whitelist>& whitelist, const Config& config,
                const std::string& today) {
    Decision d;
    if (isFixed(device, config)) {
        d.admit = true;
        d.role = Role::Fixed;
        return d;
    }
    // Malformed or inconsistent descriptors: whatever the device claims to be
    // (a hub too), nothing it says can be trusted.
    if (!device.descriptorProblem.empty()) {
        d.reasons.push_back({ReasonCode::BadUsb, device.descriptorProblem});
        return d;
    }
    if (device.isHub()) {
        d.admit = true;
        d.role = Role::Hub;
        return d;
    }

    // Every interface of every configuration and alternate setting counts: a
    // device could switch to a configuration we did not look at.
    std::vector<std::string> others;
    bool storage = false;
    for (const auto& c : device.configurations)
        for (const auto& i : c.interfaces) {
            if (devices::isStorageInterface(i)) storage = true;
            else others.push_back(describe(i));
        }
    std::sort(others.begin(), others.end());
    others.erase(std::unique(others.begin(), others.end()), others.end());
    if (device.configurations.empty()) {
        d.reasons.push_back({ReasonCode::BadUsb, "the device's descriptors could not be read"});
        return d;
    }
    if (!others.empty()) {
        std::string list;
        for (const auto& o : others) list += (list.empty() ? "" : ", ") + o;
        d.reasons.push_back({ReasonCode::BadUsb, storage ? "a storage device that also offers: " + list
                                                         : "not a storage device: offers " + list});
        return d;
    }
    if (!storage) {
        d.reasons.push_back({ReasonCode::BadUsb, "the device offers no interface at all"});
        return d;
    }

    d.role = Role::Storage;
    if (!whitelist) {
        // A broken whitelist never means "allow all".
        d.reasons.push_back({ReasonCode::DeviceNotApproved, "the whitelist cannot be used: " + whitelist.error().message});
        return d;
    }
    // A device may be listed more than once (an approval renewed at the kiosk
    // terminal is a new entry): the entry with the same interfaces that
    // expires last decides.
    const auto triples = device.interfaceTriples();
    const policy::Approval* best = nullptr;
    const policy::Approval* otherInterfaces = nullptr;
    for (const auto& a : whitelist->devices) {
        if (a.vendorId != device.vendorHex() || a.productId != device.productHex()) continue;
        if (device.serial.empty() || a.serial != device.serial) continue;
        if (a.interfaces != triples) {
            if (!otherInterfaces) otherInterfaces = &a;
            continue;
        }
        if (!best || a.expires > best->expires) best = &a;
    }
    if (best) {
        d.approval = *best;
        if (today > best->expires) {
            d.reasons.push_back(
                {ReasonCode::DeviceExpired, "approval for " + best->owner + " (" + best->purpose + ") expired on " + best->expires});
            return d;
        }
        d.admit = true;
        return d;
    }
    if (otherInterfaces) {
        d.reasons.push_back({ReasonCode::DeviceNotApproved,
                             "serial matches the approval at " + otherInterfaces->source + " but the interfaces differ"});
        return d;
    }
    if (config.unknownMedia == "scan") {
        d.admit = true;
        return d;
    }
    d.reasons.push_back({ReasonCode::DeviceNotApproved,
                         device.serial.empty() ? "not on the whitelist (the device has no serial number)"
                                               : "not on the whitelist, and this kiosk does not scan unknown media"});
    return d;
}

}  // namespace kiosk::policy
