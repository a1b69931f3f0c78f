#include "kiosk/files/HashedCopy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "qkiosk/base/UniqueFd.h"

namespace kiosk {
namespace {

constexpr std::size_t kChunk = 1 << 20;

bool allZero(const char* p, std::size_t n) { return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0); }

std::string errnoText() { return std::strerror(errno); }

}  // namespace

Result<Digest> copyHashed(int from, std::uint64_t size, int to, const std::string& fromName, const std::string& toName,
                          bool sparse) {
    Sha256 hash;
    std::vector<char> buf(kChunk);
    std::uint64_t off = 0;
    bool hole = false;   // the last chunk was skipped: the file must be extended at the end
    while (off < size) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - off));
        const ssize_t n = ::pread(from, buf.data(), want, static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return makeError(fromName + ": cannot read at byte " + std::to_string(off) + ": " + errnoText());
        if (n == 0)
            return makeError(fromName + ": ends after " + std::to_string(off) + " bytes, " + std::to_string(size) +
                             " were expected");
        const auto got = static_cast<std::size_t>(n);
        hash.update(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buf.data()), got));
        if (to >= 0) {
            if (sparse && allZero(buf.data(), got)) {
                if (::lseek(to, static_cast<off_t>(got), SEEK_CUR) < 0) return makeError(toName + ": cannot seek: " + errnoText());
                hole = true;
            } else {
                hole = false;
                std::size_t done = 0;
                while (done < got) {
                    const ssize_t w = ::write(to, buf.data() + done, got - done);
                    if (w < 0 && errno == EINTR) continue;
                    if (w < 0) return makeError(toName + ": cannot write: " + errnoText());
                    done += static_cast<std::size_t>(w);
                }
            }
        }
        off += got;
    }
    if (to >= 0 && hole && ::ftruncate(to, static_cast<off_t>(size)) != 0)
        return makeError(toName + ": cannot write: " + errnoText());
    return hash.finish();
}

Result<Digest> copyToNewFile(int from, std::uint64_t size, const std::string& fromName, const std::string& path, unsigned mode,
                             bool sparse) {
    UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, static_cast<mode_t>(mode)));
    if (!out.valid()) return makeError(path + ": cannot create: " + errnoText());
    auto fail = [&](Error e) {
        out.reset();
        ::unlink(path.c_str());
        return e;
    };
    auto digest = copyHashed(from, size, out.get(), fromName, path, sparse);
    if (!digest) return fail(digest.error());
    // The mode again, explicitly: the umask may have taken bits from the open.
    if (::fchmod(out.get(), static_cast<mode_t>(mode)) != 0) return fail(makeError(path + ": cannot set permissions: " + errnoText()));
    if (::fsync(out.get()) != 0) return fail(makeError(path + ": cannot write: " + errnoText()));
    return digest;
}

}  // namespace kiosk
