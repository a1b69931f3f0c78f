// Fuzz harness for the media reader: the input is a whole disk image (partition
// table and filesystems) as a hostile stick could hold it. It is put in a memfd
// and read by MediaReader exactly as qkiosk-reader reads a device: every
// partition, every filesystem libtsk opens, every file's content through its
// ContentReader. The sink keeps nothing. Links libtsk, never libclamav.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "MediaReader.h"
#include "qkiosk/base/UniqueFd.h"

namespace {

using namespace kiosk;
using namespace kiosk::scan;

// A filesystem in a 1 MiB image may claim files of 2^64 bytes (sparse or
// uninitialised runs that libtsk fills with zeros). Reading those to the end
// would only measure memset, so each file is read up to a cap and each input
// up to a budget; everything below the cap is read in full. Before its first
// read libtsk also maps every block a file claims, about 4 us per block under
// ASan (a legitimate 4 GiB sparse file on ext2 takes 17 s), so files are read
// only while the sizes they claim add up to less than kMaxClaimedPerInput.
// qkiosk-reader itself reads every byte (see MediaReader.h).
constexpr std::uint64_t kMaxReadPerFile = 8ull << 20;
constexpr std::uint64_t kMaxReadPerInput = 32ull << 20;
constexpr std::uint64_t kMaxClaimedPerInput = 256ull << 20;

class DiscardingSink : public MediaSink {
public:
    Status partition(const proto::Partition& p) override {
        if (p.scheme.empty()) __builtin_trap();
        return {};
    }

    Status finding(proto::ReasonCode, const std::string& path, const std::string& detail) override {
        // What the reader reports goes into the protocol: it must be printable UTF-8 paths.
        if (path.empty() || path.front() != '/' || detail.empty()) __builtin_trap();
        return {};
    }

    Status file(std::uint32_t, const std::string& path, std::uint64_t size, bool, const ContentReader& read) override {
        if (path.rfind("/p", 0) != 0) __builtin_trap();
        if (size > claimed_) return {};
        claimed_ -= size;
        const std::uint64_t want = std::min({size, kMaxReadPerFile, budget_});
        std::uint64_t off = 0;
        while (off < want) {
            const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(buf_.size(), want - off));
            auto n = read(off, std::span(buf_.data(), chunk));
            if (!n) break;        // a read error: qkiosk-reader reports it as a finding
            if (*n == 0) break;   // the file ends early: the same
            if (*n > chunk) __builtin_trap();
            off += *n;
        }
        budget_ -= off;
        return {};
    }

private:
    std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(64 * 1024);
    std::uint64_t budget_ = kMaxReadPerInput;
    std::uint64_t claimed_ = kMaxClaimedPerInput;
};

}  // namespace

// The reader should run under a memory limit, and the harness does too:
// ASan's shadow memory rules out RLIMIT_DATA here, so single allocations over
// 512 MiB fail (return NULL) instead. libtsk 4.11 otherwise allocates and
// clears whatever an ext4 inline-data inode claims as its size (a 75 KB image
// asked for 2 x 883 MiB, regressions/fuzz_media_reader/ext4-inline-root-huge-size);
// with the limit its allocation fails and the reader reports a finding.
// Our own code's `new` still reports any failed allocation as a crash.
extern "C" const char* __asan_default_options() { return "max_allocation_size_mb=512:allocator_may_return_null=1"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    UniqueFd fd(::memfd_create("fuzz-media", MFD_CLOEXEC));
    if (!fd.valid()) __builtin_trap();
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd.get(), data + done, size - done);
        if (n <= 0) __builtin_trap();
        done += static_cast<std::size_t>(n);
    }
    DiscardingSink sink;
    FdSource source(fd.get(), size);
    MediaReader reader(source);
    // The sink never fails, so neither may the reader: media problems are findings.
    if (!reader.run(sink)) __builtin_trap();
    return 0;
}
