#include "kiosk/workers/Media.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace kiosk {
namespace {

// Size of a block device when BLKGETSIZE64 is unavailable (e.g. umockdev
// test beds): sysfs counts 512-byte sectors; lseek is the last resort.
std::uint64_t sizeFromSysfs(dev_t dev) {
    std::ifstream in("/sys/dev/block/" + std::to_string(major(dev)) + ":" + std::to_string(minor(dev)) + "/size");
    std::uint64_t sectors = 0;
    if (in >> sectors) return sectors * 512;
    return 0;
}

}  // namespace

Result<Media> openMedia(const std::string& path, bool expectDevice) {
    Media m;
    m.path = path;
    m.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!m.fd.valid()) return makeError(path + ": " + std::strerror(errno));
    struct stat st{};
    if (::fstat(m.fd.get(), &st) != 0) return makeError(path + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return makeError(path + ": is a directory, not a disk image or device");
    // The path's own type counts too: umockdev test beds fake block nodes for
    // path-based stat() only, and back them with an image file.
    struct stat byPath{};
    const bool pathIsBlock = ::stat(path.c_str(), &byPath) == 0 && S_ISBLK(byPath.st_mode);
    m.blockDevice = S_ISBLK(st.st_mode) || pathIsBlock;
    if (pathIsBlock && !S_ISBLK(st.st_mode)) st.st_rdev = byPath.st_rdev;
    if (expectDevice && !m.blockDevice) return makeError(path + ": not a block device");
    if (!m.blockDevice && !S_ISREG(st.st_mode)) return makeError(path + ": not a regular file or block device");

    if (m.blockDevice) {
        int ro = 1;
        if (::ioctl(m.fd.get(), BLKROSET, &ro) != 0)
            m.warning = path + ": cannot set the device read-only in the kernel (" + std::strerror(errno) +
                        "); reading it read-only anyway";
        std::uint64_t size = 0;
        if (::ioctl(m.fd.get(), BLKGETSIZE64, &size) == 0 && size > 0) m.size = size;
        int sector = 0;
        if (::ioctl(m.fd.get(), BLKSSZGET, &sector) == 0 && (sector == 512 || sector == 1024 || sector == 2048 || sector == 4096))
            m.sectorSize = static_cast<std::uint32_t>(sector);
        if (m.size == 0) m.size = sizeFromSysfs(st.st_rdev);
        if (m.size == 0) {
            const off_t end = ::lseek(m.fd.get(), 0, SEEK_END);
            if (end > 0) m.size = static_cast<std::uint64_t>(end);
        }
        if (m.size == 0) return makeError(path + ": cannot determine the device size (no media inserted?)");
    } else {
        m.size = static_cast<std::uint64_t>(st.st_size);
    }
    return m;
}

}  // namespace kiosk
