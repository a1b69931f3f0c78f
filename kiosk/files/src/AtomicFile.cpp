#include "kiosk/files/AtomicFile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "qkiosk/base/UniqueFd.h"

namespace kiosk {

Status writeFileAtomically(const std::string& path, const std::string& content, unsigned mode) {
    const std::filesystem::path target(path);
    const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    std::string hidden(".");   // (built by appends: g++ 12 warns falsely on "." + string)
    hidden.append(target.filename().string()).append(".XXXXXX");
    std::string tmpl = (dir / hidden).string();
    UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));   // created 0600
    if (!fd.valid()) return makeError(path + ": cannot create: " + std::strerror(errno));
    auto fail = [&](const char* what) {
        const std::string msg = path + ": " + what + ": " + std::strerror(errno);
        ::unlink(tmpl.c_str());
        return makeError(msg);
    };
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("cannot write");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) return fail("cannot set permissions");
    if (::fsync(fd.get()) != 0) return fail("cannot sync");
    fd.reset();
    if (::rename(tmpl.c_str(), path.c_str()) != 0) return fail("cannot rename into place");
    UniqueFd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirFd.valid()) ::fsync(dirFd.get());
    return {};
}

Result<std::string> readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(path + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return makeError(path + ": read error");
    return ss.str();
}

Result<std::uint64_t> freeBytes(const std::string& dir) {
    struct statvfs st{};
    if (::statvfs(dir.empty() ? "." : dir.c_str(), &st) != 0) return makeError(dir + ": " + std::strerror(errno));
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

Result<bool> pathExists(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return makeError(path + ": " + std::strerror(errno));
}

bool isPlainFileName(const std::string& name) {
    if (name.empty() || name.size() > 64 || name.front() == '.') return false;
    for (const char ch : name)
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_' || ch == '.'))
            return false;
    return true;
}

}  // namespace kiosk
