// Writing one file onto a stick's FAT filesystem with mtools. See kiosk/officer/FatExport.h.
#include "kiosk/officer/FatExport.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "kiosk/files/PrivateTempDir.h"
#include "kiosk/files/RunProgram.h"
#include "qkiosk/base/UniqueFd.h"

namespace kiosk {
namespace {

constexpr std::size_t kMaxFileName = 100;
// Enough for mdir's listing of the largest root folder FAT32 can have (65536
// entries), so that its last line, the free space, is never cut off.
constexpr std::size_t kMaxListing = 8 * 1024 * 1024;

std::string offsetText(std::uint64_t offset) { return std::to_string(offset); }

// The mtools programs against one filesystem: the device we opened, passed
// as the programs' fd 3 and named /proc/self/fd/3 with its offset (so they
// write to exactly the device we checked, whatever its name points to by
// then), and an environment that holds nothing of the caller's. HOME is a
// private empty folder (no ~/.mtoolsrc of root's applies), MTOOLSRC names an
// empty file there, and MTOOLS_SKIP_CHECK accepts the odd geometries of
// real sticks.
class Mtools {
public:
    Mtools(std::string device, int fd, std::uint64_t offset, const PrivateTempDir& home)
        : device_(std::move(device)), fd_(fd), offset_(offset), home_(home.path()) {}

    std::string image() const {
        std::string s = "/proc/self/fd/3@@";
        s.append(offsetText(offset_));
        return s;
    }

    Result<ProgramResult> run(std::vector<std::string> argv, std::size_t maxCapture = 64 * 1024) const {
        ProgramRun r;
        r.argv = std::move(argv);
        r.deadline = std::chrono::steady_clock::now() + kFatToolTimeout;
        r.timeout = kFatToolTimeout;
        std::string home = "HOME=", rc = "MTOOLSRC=";
        home.append(home_);
        rc.append(home_).append("/mtoolsrc");
        r.environment = std::vector<std::string>{"PATH=/usr/bin:/bin", "MTOOLS_SKIP_CHECK=1", "LC_ALL=C", home, rc};
        r.package = "mtools";
        r.maxCapture = maxCapture;
        r.passFd = fd_;
        auto result = runProgram(r);
        if (!result) return result.error().context(device_);
        return result;
    }

    // What went wrong, in one line naming the device; mtools' own first line appended.
    Error failure(const std::string& program, const ProgramResult& r) const {
        const std::string line = firstLine(r.err);
        std::string msg = device_;
        if (r.err.find("non DOS media") != std::string::npos) {
            msg.append(": not a FAT filesystem at offset ").append(offsetText(offset_));
        } else if (r.err.find("Disk full") != std::string::npos) {
            msg.append(": the stick is full");
        } else if (r.err.find("Can't open") != std::string::npos) {
            msg.append(": cannot open it");
        } else {
            msg.append(": ").append(program).append(" failed with status ").append(std::to_string(r.exitCode));
        }
        if (!line.empty()) msg.append(" (").append(program).append(": ").append(line).append(")");
        return makeError(msg);
    }

private:
    std::string device_;
    int fd_;
    std::uint64_t offset_;
    std::string home_;
};

// A device or an image file, opened for reading and writing.
Result<UniqueFd> openDevice(const std::string& device) {
    if (device.empty()) return makeError("no device given");
    UniqueFd fd(::open(device.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid() && errno == EISDIR) return makeError(device + ": not a block device or an image file");
    if (!fd.valid()) return makeError(device + ": cannot open it: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return makeError(device + ": " + std::strerror(errno));
    if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) return makeError(device + ": not a block device or an image file");
    return fd;
}

Status writePrivateFile(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) return makeError(path + ": cannot write the temporary copy");
    return {};
}

Result<std::string> readPrivateFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(path + ": cannot read it back");
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) return makeError(path + ": cannot read it back");
    return s.str();
}

Result<PrivateTempDir> mtoolsHome(const std::string& tempBase) {
    auto dir = PrivateTempDir::create(tempBase, "qkiosk-fat-");
    if (!dir) return dir.error();
    std::string rc = dir->path();
    rc.append("/mtoolsrc");
    if (auto st = writePrivateFile(rc, ""); !st) return st.error();
    return dir;
}

}  // namespace

Status checkFatFileName(const std::string& name) {
    std::string what = "file name \"";
    what.append(name).append("\": ");
    if (name.empty() || name.size() > kMaxFileName)
        return makeError(what + "must be 1 to " + std::to_string(kMaxFileName) + " characters");
    const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
    });
    if (!plain) return makeError(what + "only letters A-Z a-z, digits and . _ - are allowed");
    // A leading dot hides the file; Windows drops a trailing one, so the name
    // on the stick would not be the name asked for.
    if (name.front() == '.' || name.back() == '.') return makeError(what + "must neither start nor end with a dot");
    return {};
}

Status writeFileToFat(const std::string& device, std::uint64_t offsetBytes, const std::string& name,
                      const std::string& content, const std::string& tempBase) {
    if (auto st = checkFatFileName(name); !st) return st;
    auto fd = openDevice(device);
    if (!fd) return fd.error();
    auto home = mtoolsHome(tempBase);
    if (!home) return home.error();
    const Mtools mtools(device, fd->get(), offsetBytes, *home);
    std::string target = "::";
    target.append(name);

    // Never over a file that is there: mdir finds a name in any case, as FAT does.
    auto existing = mtools.run({"mdir", "-b", "-i", mtools.image(), target});
    if (!existing) return existing.error();
    if (existing->exitCode == 0)
        return makeError(device + ": a file named " + name + " is already on the stick; it is not overwritten");
    if (existing->err.find("not found") == std::string::npos) return mtools.failure("mdir", *existing);

    std::string source = home->path();
    source.append("/content");
    if (auto st = writePrivateFile(source, content); !st) return st;
    // -D s: should the name appear after all, skip (fail) rather than overwrite or ask.
    auto copied = mtools.run({"mcopy", "-i", mtools.image(), "-D", "s", source, target});
    if (!copied) return copied.error();
    if (copied->exitCode != 0) return mtools.failure("mcopy", *copied);

    // "Written" means the stick gives the same bytes back.
    std::string back = home->path();
    back.append("/read-back");
    auto readBack = mtools.run({"mcopy", "-n", "-i", mtools.image(), target, back});
    if (!readBack) return readBack.error();
    if (readBack->exitCode != 0) {
        std::string msg = device + ": the stick did not keep the file (it cannot be read back";
        if (const auto line = firstLine(readBack->err); !line.empty()) msg.append(": ").append(line);
        return makeError(msg + ")");
    }
    auto bytes = readPrivateFile(back);
    if (!bytes) return bytes.error();
    if (*bytes != content) return makeError(device + ": the stick did not keep the file (read back differs)");

    // mtools leaves its writes in the kernel's cache: to the stick with them
    // before anybody is told to pull it out.
    if (::fsync(fd->get()) != 0) return makeError(device + ": the file could not be flushed to the stick: " + std::strerror(errno));
    return {};
}

Result<std::uint64_t> fatFreeBytes(const std::string& device, std::uint64_t offsetBytes, const std::string& tempBase) {
    auto fd = openDevice(device);
    if (!fd) return fd.error();
    auto home = mtoolsHome(tempBase);
    if (!home) return home.error();
    const Mtools mtools(device, fd->get(), offsetBytes, *home);
    auto listing = mtools.run({"mdir", "-i", mtools.image(), "::"}, kMaxListing);
    if (!listing) return listing.error();
    if (listing->exitCode != 0) return mtools.failure("mdir", *listing);
    // The last lines: "  1 file   13 bytes" and "  40 311 808 bytes free" (digits grouped by spaces).
    std::istringstream in(listing->out);
    for (std::string line; std::getline(in, line);) {
        const auto at = line.find(" bytes free");
        if (at == std::string::npos) continue;
        std::string digits;
        for (char c : line.substr(0, at)) {
            if (c >= '0' && c <= '9') {
                digits.push_back(c);
            } else if (c != ' ') {
                digits.clear();
            }
        }
        std::uint64_t free = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), free);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) break;
        return free;
    }
    return makeError(device + ": mdir did not say how much space is free at offset " + offsetText(offsetBytes));
}

}  // namespace kiosk
