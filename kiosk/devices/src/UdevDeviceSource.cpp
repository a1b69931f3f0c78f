#include "kiosk/devices/UdevDeviceSource.h"
#include "kiosk/devices/UsbDescriptors.h"

#include <libudev.h>
#include <libusb.h>

#include <array>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "qkiosk/base/Text.h"

namespace kiosk::devices {
namespace {

struct UdevDeleter {
    void operator()(udev* p) const { udev_unref(p); }
    void operator()(udev_device* p) const { udev_device_unref(p); }
    void operator()(udev_enumerate* p) const { udev_enumerate_unref(p); }
    void operator()(udev_monitor* p) const { udev_monitor_unref(p); }
};
template <typename T>
using UdevPtr = std::unique_ptr<T, UdevDeleter>;

struct UsbContextDeleter {
    void operator()(libusb_context* p) const { libusb_exit(p); }
};
struct ConfigDeleter {
    void operator()(libusb_config_descriptor* p) const { libusb_free_config_descriptor(p); }
};

std::string attr(udev_device* d, const char* name) {
    const char* v = udev_device_get_sysattr_value(d, name);
    std::string s = v ? v : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::uint16_t hexAttr(udev_device* d, const char* name) {
    const std::string v = attr(d, name);
    return v.empty() ? 0 : static_cast<std::uint16_t>(std::strtoul(v.c_str(), nullptr, 16));
}

int decAttr(udev_device* d, const char* name) {
    const std::string v = attr(d, name);
    return v.empty() ? -1 : std::atoi(v.c_str());
}

bool isUsbDevice(udev_device* d) {
    const char* type = udev_device_get_devtype(d);
    return type && std::strcmp(type, "usb_device") == 0;
}

}  // namespace

struct UdevDeviceSource::Impl {
    UdevPtr<udev> udev_;
    UdevPtr<udev_monitor> monitor_;

    // Interfaces from the configuration descriptors, via libusb, matched by bus
    // and address. A fresh libusb context each time: its device list is then
    // read from sysfs now, not from hotplug bookkeeping that may lag behind.
    std::vector<UsbConfiguration> configurations(int busnum, int devnum) {
        std::vector<UsbConfiguration> out;
        libusb_context* ctx = nullptr;
        if (libusb_init(&ctx) != 0) return out;
        std::unique_ptr<libusb_context, UsbContextDeleter> usb(ctx);
        libusb_device** list = nullptr;
        const ssize_t n = libusb_get_device_list(usb.get(), &list);
        if (n < 0) return out;
        for (ssize_t k = 0; k < n; ++k) {
            libusb_device* dev = list[k];
            if (libusb_get_bus_number(dev) != busnum || libusb_get_device_address(dev) != devnum) continue;
            libusb_device_descriptor dd{};
            if (libusb_get_device_descriptor(dev, &dd) != 0) break;
            for (std::uint8_t c = 0; c < dd.bNumConfigurations; ++c) {
                libusb_config_descriptor* raw = nullptr;
                if (libusb_get_config_descriptor(dev, c, &raw) != 0 || !raw) continue;
                std::unique_ptr<libusb_config_descriptor, ConfigDeleter> cfg(raw);
                UsbConfiguration conf;
                conf.value = cfg->bConfigurationValue;
                for (int i = 0; i < cfg->bNumInterfaces; ++i) {
                    const libusb_interface& itf = cfg->interface[i];
                    for (int a = 0; a < itf.num_altsetting; ++a) {
                        const libusb_interface_descriptor& alt = itf.altsetting[a];
                        conf.interfaces.push_back(UsbInterface{alt.bInterfaceNumber, alt.bAlternateSetting,
                                                               alt.bInterfaceClass, alt.bInterfaceSubClass,
                                                               alt.bInterfaceProtocol});
                    }
                }
                out.push_back(std::move(conf));
            }
            break;
        }
        libusb_free_device_list(list, 1);
        return out;
    }

    // The same descriptors read a second way: sysfs's raw copy through our own
    // strict parser. A malformed blob, or any interface one reader sees and the
    // other does not, means the device's descriptors cannot be trusted.
    static std::string crossCheck(const std::string& syspath, const std::vector<UsbConfiguration>& fromLibusb) {
        std::ifstream in(syspath + "/descriptors", std::ios::binary);
        std::vector<std::uint8_t> blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.eof() && !in.good()) return "the device's descriptors cannot be read from sysfs";
        if (blob.empty()) return "the device's descriptors cannot be read";
        auto parsed = parseUsbDescriptors(blob);
        if (!parsed) return "malformed USB descriptors: " + parsed.error().message;
        using Key = std::array<int, 6>;
        std::vector<Key> ours, theirs;
        for (const auto& c : parsed->configurations)
            for (const auto& i : c.interfaces) ours.push_back({c.value, i.number, i.altSetting, i.cls, i.subclass, i.protocol});
        for (const auto& c : fromLibusb)
            for (const auto& i : c.interfaces) theirs.push_back({c.value, i.number, i.altSetting, i.cls, i.subclass, i.protocol});
        std::sort(ours.begin(), ours.end());
        std::sort(theirs.begin(), theirs.end());
        if (ours != theirs) return "the device's descriptors read two ways do not agree (libusb and sysfs)";
        return "";
    }

    std::vector<std::string> blockDevicesOf(const std::string& syspath) {
        std::vector<std::string> out;
        UdevPtr<udev_enumerate> e(udev_enumerate_new(udev_.get()));
        if (!e) return out;
        udev_enumerate_add_match_subsystem(e.get(), "block");
        udev_enumerate_add_match_property(e.get(), "DEVTYPE", "disk");
        udev_enumerate_scan_devices(e.get());
        udev_list_entry* entry;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e.get())) {
            const char* path = udev_list_entry_get_name(entry);
            if (!std::string_view(path).starts_with(syspath + "/")) continue;
            UdevPtr<udev_device> d(udev_device_new_from_syspath(udev_.get(), path));
            if (!d) continue;
            if (const char* node = udev_device_get_devnode(d.get())) out.emplace_back(node);
            else out.push_back("/dev/" + std::string(udev_device_get_sysname(d.get())));
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    UsbDevice read(udev_device* d) {
        UsbDevice u;
        u.name = udev_device_get_sysname(d);
        u.syspath = udev_device_get_syspath(d);
        u.vendorId = hexAttr(d, "idVendor");
        u.productId = hexAttr(d, "idProduct");
        // String descriptors are whatever the device says: make them printable.
        u.serial = printableName(attr(d, "serial"));
        u.manufacturer = printableName(attr(d, "manufacturer"));
        u.product = printableName(attr(d, "product"));
        u.speed = attr(d, "speed");
        u.deviceClass = static_cast<std::uint8_t>(hexAttr(d, "bDeviceClass"));
        u.authorized = attr(d, "authorized") == "1";
        u.configurations = configurations(decAttr(d, "busnum"), decAttr(d, "devnum"));
        u.descriptorProblem = crossCheck(u.syspath, u.configurations);
        u.blockDevices = blockDevicesOf(u.syspath);
        return u;
    }
};

UdevDeviceSource::UdevDeviceSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UdevDeviceSource::~UdevDeviceSource() = default;

Result<std::unique_ptr<UdevDeviceSource>> UdevDeviceSource::open() {
    auto impl = std::make_unique<Impl>();
    impl->udev_.reset(udev_new());
    if (!impl->udev_) return makeError("cannot open libudev");
    libusb_context* ctx = nullptr;
    const int rc = libusb_init(&ctx);
    if (rc != 0) return makeError(std::string("cannot initialise libusb: ") + libusb_error_name(rc));
    libusb_exit(ctx);
    return std::unique_ptr<UdevDeviceSource>(new UdevDeviceSource(std::move(impl)));
}

Result<std::vector<UsbDevice>> UdevDeviceSource::enumerate() {
    UdevPtr<udev_enumerate> e(udev_enumerate_new(impl_->udev_.get()));
    if (!e) return makeError("libudev: cannot enumerate");
    udev_enumerate_add_match_subsystem(e.get(), "usb");
    udev_enumerate_add_match_property(e.get(), "DEVTYPE", "usb_device");
    if (udev_enumerate_scan_devices(e.get()) < 0) return makeError("libudev: cannot scan USB devices");
    std::vector<UsbDevice> out;
    udev_list_entry* entry;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e.get())) {
        UdevPtr<udev_device> d(udev_device_new_from_syspath(impl_->udev_.get(), udev_list_entry_get_name(entry)));
        if (!d || !isUsbDevice(d.get())) continue;
        if (std::string_view(udev_device_get_sysname(d.get())).starts_with("usb")) continue;  // root hub
        out.push_back(impl_->read(d.get()));
    }
    std::sort(out.begin(), out.end(), [](const UsbDevice& a, const UsbDevice& b) { return a.name < b.name; });
    return out;
}

Result<std::vector<std::string>> UdevDeviceSource::rootHubs() {
    UdevPtr<udev_enumerate> e(udev_enumerate_new(impl_->udev_.get()));
    if (!e) return makeError("libudev: cannot enumerate");
    udev_enumerate_add_match_subsystem(e.get(), "usb");
    udev_enumerate_add_match_property(e.get(), "DEVTYPE", "usb_device");
    udev_enumerate_scan_devices(e.get());
    std::vector<std::string> out;
    udev_list_entry* entry;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e.get())) {
        UdevPtr<udev_device> d(udev_device_new_from_syspath(impl_->udev_.get(), udev_list_entry_get_name(entry)));
        if (d && std::string_view(udev_device_get_sysname(d.get())).starts_with("usb")) out.emplace_back(udev_device_get_sysname(d.get()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

Result<UsbDevice> UdevDeviceSource::device(const std::string& name) {
    UdevPtr<udev_device> d(udev_device_new_from_subsystem_sysname(impl_->udev_.get(), "usb", name.c_str()));
    if (!d || !isUsbDevice(d.get())) return makeError("USB device " + name + " not found");
    return impl_->read(d.get());
}

Result<UsbDevice> UdevDeviceSource::deviceOfBlock(const std::string& devnode) {
    struct stat st{};
    if (::stat(devnode.c_str(), &st) != 0) return makeError(devnode + ": " + std::strerror(errno));
    if (!S_ISBLK(st.st_mode)) return makeError(devnode + ": not a block device");
    UdevPtr<udev_device> b(udev_device_new_from_devnum(impl_->udev_.get(), 'b', st.st_rdev));
    if (!b) return makeError(devnode + ": not known to udev");
    // The parent is owned by its child; take our own reference.
    udev_device* parent = udev_device_get_parent_with_subsystem_devtype(b.get(), "usb", "usb_device");
    if (!parent) return makeError(devnode + ": not a USB device");
    return impl_->read(parent);
}

Status UdevDeviceSource::startMonitor() {
    // Without udevd (the kiosk image, the QEMU tests) events come straight from the kernel.
    // umockdev test beds deliver their events on the udev source too.
    const bool udevd = ::access("/run/udev/control", F_OK) == 0 || std::getenv("UMOCKDEV_DIR") != nullptr;
    impl_->monitor_.reset(udev_monitor_new_from_netlink(impl_->udev_.get(), udevd ? "udev" : "kernel"));
    if (!impl_->monitor_) return makeError("cannot listen for USB events (netlink)");
    udev_monitor_filter_add_match_subsystem_devtype(impl_->monitor_.get(), "usb", "usb_device");
    udev_monitor_filter_add_match_subsystem_devtype(impl_->monitor_.get(), "block", "disk");
    if (udev_monitor_enable_receiving(impl_->monitor_.get()) < 0) return makeError("cannot receive USB events");
    return {};
}

int UdevDeviceSource::fd() const { return impl_->monitor_ ? udev_monitor_get_fd(impl_->monitor_.get()) : -1; }

std::optional<DeviceEvent> UdevDeviceSource::nextEvent() {
    if (!impl_->monitor_) return std::nullopt;
    for (;;) {
        UdevPtr<udev_device> d(udev_monitor_receive_device(impl_->monitor_.get()));
        if (!d) return std::nullopt;
        const char* action = udev_device_get_action(d.get());
        const char* subsystem = udev_device_get_subsystem(d.get());
        if (!action || !subsystem) continue;
        const std::string a = action, s = subsystem;
        const std::string sysname = udev_device_get_sysname(d.get());
        if (s == "usb") {
            if (sysname.starts_with("usb")) continue;  // root hubs come and go with controllers
            if (a == "add") return DeviceEvent{DeviceEvent::Kind::Added, sysname, udev_device_get_syspath(d.get())};
            if (a == "remove") return DeviceEvent{DeviceEvent::Kind::Removed, sysname, udev_device_get_syspath(d.get())};
        } else if (s == "block") {
            const char* node = udev_device_get_devnode(d.get());
            const std::string devnode = node ? node : "/dev/" + sysname;
            if (a == "add") return DeviceEvent{DeviceEvent::Kind::BlockAdded, devnode, udev_device_get_syspath(d.get())};
            if (a == "remove") return DeviceEvent{DeviceEvent::Kind::BlockRemoved, devnode, udev_device_get_syspath(d.get())};
        }
    }
}

}  // namespace kiosk::devices
