// Fuzz harness for FatVolume, our own FAT reader: the input is one FAT
// volume (its boot sector first) as a hostile stick could hold it, read
// through a MemorySource: opened, walked, every file read through its
// ContentReader up to a cap, then walked and read a second time. Besides crashes,
// leaks and hangs it checks what FatVolume promises: a walk never fails when
// the visitor does not (media problems are problems), every problem says
// what is wrong, a read returns what was asked or fails (short only at the
// end of the file), and a second walk reports exactly what the first did.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "FatVolume.h"

namespace {

using namespace kiosk;
using namespace kiosk::scan;

// A 1 MiB volume may hold files of 4 GiB (cross-linked or looping chains
// read the same clusters over and over, as Windows would). Reading those to
// the end would only measure memcpy: each file is read up to a cap and each
// input up to a budget; everything below the cap is read in full.
constexpr std::uint64_t kMaxReadPerFile = 4ull << 20;
constexpr std::uint64_t kMaxReadPerInput = 16ull << 20;

class CheckingVisitor : public VolumeVisitor {
public:
    Status file(const std::string& path, std::uint64_t size, const ContentReader& read) override {
        if (path.empty() || size > 0xFFFFFFFFull) __builtin_trap();
        mix(path);
        mix(std::to_string(size));
        const std::uint64_t want = std::min({size, kMaxReadPerFile, budget_});
        std::uint64_t off = 0;
        while (off < want) {
            const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(buf_.size(), want - off));
            auto n = read(off, std::span(buf_.data(), chunk));
            if (!n) {
                if (n.error().message.empty()) __builtin_trap();
                break;   // a broken chain or an unreadable cluster: FatVolume reports it
            }
            if (*n != chunk) __builtin_trap();   // short only at the end of the file, and want <= size
            off += *n;
        }
        // Past the end: nothing, never an error.
        if (auto n = read(size, std::span(buf_.data(), 1)); !n || *n != 0) __builtin_trap();
        budget_ -= off;
        return {};
    }

    Status problem(proto::ReasonCode, const std::string& path, const std::string& detail) override {
        if (detail.empty()) __builtin_trap();
        mix(path);
        mix(detail);
        return {};
    }

    std::uint64_t digest() const { return digest_; }

private:
    void mix(const std::string& s) {
        for (const char c : s) digest_ = (digest_ ^ static_cast<std::uint8_t>(c)) * 1099511628211ull;
        digest_ = (digest_ ^ 0xFF) * 1099511628211ull;
    }

    std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
    std::uint64_t budget_ = kMaxReadPerInput;
    std::uint64_t digest_ = 14695981039346656037ull;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const MemorySource media(std::span(data, size));
    auto vol = FatVolume::open(media, 0, size);
    if (!vol) {
        if (vol.error().message.empty()) __builtin_trap();
        return 0;
    }
    const std::string type = vol->type();
    if (type != "fat12" && type != "fat16" && type != "fat32") __builtin_trap();
    if (vol->extentBytes() == 0 || vol->clusterCount() == 0) __builtin_trap();
    (void)vol->label();

    CheckingVisitor first;
    if (!vol->walk(first)) __builtin_trap();   // the visitor never fails, so neither may the walk
    CheckingVisitor second;
    if (!vol->walk(second) || second.digest() != first.digest()) __builtin_trap();
    return 0;
}
