#include "kiosk/devices/UsbAuthorizer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "qkiosk/base/UniqueFd.h"

namespace kiosk::devices {

Status UsbAuthorizer::write(const std::string& relPath, const std::string& value) {
    const std::string path = root_ + "/" + relPath;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
    if (!fd.valid()) return makeError(path + ": " + std::strerror(errno));
    const ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n != static_cast<ssize_t>(value.size())) return makeError(path + ": cannot write \"" + value + "\": " + std::strerror(errno));
    return {};
}

int UsbAuthorizer::activeConfiguration(const std::string& device) const {
    const std::string path = root_ + "/bus/usb/devices/" + device + "/bConfigurationValue";
    for (int attempt = 0; attempt < 50; ++attempt) {
        std::ifstream in(path);
        int value = 0;
        if (in >> value && value > 0) return value;
        ::usleep(20000);   // the kernel configures the device right after authorization
    }
    return 1;
}

Status UsbAuthorizer::lockDown(const std::vector<std::string>& rootHubs) {
    for (const auto& hub : rootHubs) {
        if (auto s = write("bus/usb/devices/" + hub + "/authorized_default", "0"); !s) return s;
        if (auto s = write("bus/usb/devices/" + hub + "/interface_authorized_default", "0"); !s) return s;
    }
    return {};
}

Status UsbAuthorizer::authorizeAll(const UsbDevice& d) {
    if (auto s = write("bus/usb/devices/" + d.name + "/authorized", "1"); !s) return s;
    // Interfaces created while interface_authorized_default=0 need their own yes.
    std::set<int> numbers;
    for (const auto& c : d.configurations)
        for (const auto& i : c.interfaces) numbers.insert(i.number);
    for (const int n : numbers) {
        const std::string itf = d.name + ":1." + std::to_string(n);
        if (::access((root_ + "/bus/usb/devices/" + itf + "/authorized").c_str(), F_OK) == 0)
            (void)write("bus/usb/devices/" + itf + "/authorized", "1");
        (void)write("bus/usb/drivers_probe", itf);
    }
    return {};
}

Status UsbAuthorizer::authorizeStorage(const UsbDevice& d) {
    if (auto s = write("bus/usb/devices/" + d.name + "/authorized", "1"); !s) return s;
    // Interfaces are named <device>:<configuration>.<interface>. The kernel
    // chooses the configuration when the device is authorized; ask it which.
    const int config = activeConfiguration(d.name);
    std::set<int> storage, other;
    for (const auto& c : d.configurations) {
        if (c.value != config) continue;
        for (const auto& i : c.interfaces) (isStorageInterface(i) ? storage : other).insert(i.number);
    }
    if (storage.empty()) return makeError(d.name + ": no mass-storage interface to authorize");
    for (const int n : storage) {
        const std::string itf = d.name + ":" + std::to_string(config) + "." + std::to_string(n);
        // The interface appears as the kernel configures the device: give it
        // the same second that the configuration gets (activeConfiguration).
        const std::string attr = root_ + "/bus/usb/devices/" + itf + "/authorized";
        for (int attempt = 0; attempt < 50 && ::access(attr.c_str(), F_OK) != 0; ++attempt) ::usleep(20000);
        if (auto s = write("bus/usb/devices/" + itf + "/authorized", "1"); !s) return s;
        if (auto s = write("bus/usb/drivers_probe", itf); !s) return s;
    }
    for (const int n : other) {
        if (storage.count(n)) continue;
        (void)write("bus/usb/devices/" + d.name + ":" + std::to_string(config) + "." + std::to_string(n) + "/authorized", "0");
    }
    return {};
}

Status UsbAuthorizer::refuse(const UsbDevice& d) { return write("bus/usb/devices/" + d.name + "/authorized", "0"); }

}  // namespace kiosk::devices
