// Fuzz harness for openVirtualDisk: the input is a virtual disk file as a
// hostile stick could hold it (VHD, VHDX, VMDK, qcow, qcow2, VDI, EnCase
// E01), read through a MemorySource as the reader reads a file found on the
// media. formats::identify() names the format, as the reader's caller does;
// the disk is opened and read: its first 2 MiB, then 64 KiB at 32 places
// spread over the rest, each twice. Links libtsk and the libyal libraries
// (through qkiosk_reader_lib), never libclamav.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "VirtualDisk.h"

namespace {

using namespace kiosk;
using namespace kiosk::scan;

// A disk of terabytes in a 1 MiB file is legitimate (sparse), so the disk
// is sampled, not read to its end: at most this much per input.
constexpr std::uint64_t kHead = 2 << 20;
constexpr std::uint64_t kSample = 64 << 10;
constexpr int kSamples = 32;

// What the reader reports goes into the protocol and onto the officer's
// screen: valid UTF-8 without control characters (what printableName makes
// of hostile bytes; its escapes are printable themselves).
void checkSentence(const std::string& s) {
    if (s.empty()) __builtin_trap();
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || c < 0x20 || c == 0x7F || i + n > s.size()) __builtin_trap();
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) __builtin_trap();
        i += n;
    }
}

void readTwice(const ByteSource& disk, std::uint64_t offset, std::vector<std::uint8_t>& a, std::vector<std::uint8_t>& b) {
    const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(a.size(), disk.size() - offset));
    const auto first = disk.readAt(offset, std::span(a.data(), length));
    const auto second = disk.readAt(offset, std::span(b.data(), length));
    if (!first) checkSentence(first.error().message);
    if (!second) checkSentence(second.error().message);
    // The libraries cache blocks: a read that worked must give the same bytes again.
    if (first && second && std::memcmp(a.data(), b.data(), length) != 0) __builtin_trap();
}

}  // namespace

// The reader runs under a memory limit, and so does the harness: single
// allocations over 512 MiB fail (return NULL) instead of exhausting the
// fuzzer, as they would against the worker's limit (see fuzz_media_reader.cpp).
extern "C" const char* __asan_default_options() { return "max_allocation_size_mb=512:allocator_may_return_null=1"; }

// libewf 20140813 leaks the buffer of a chunk that fails its checksum;
// openVirtualDisk lets that happen once per disk and then stops reading it
// (regressions/fuzz_virtual_disk/ewf-damaged-chunk-leaks-its-buffer).
extern "C" const char* __lsan_default_suppressions() { return "leak:libewf_chunk_data_initialize\n"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const auto head = input.first(std::min(size, formats::kHeadBytes));
    const auto tail = input.last(std::min(size, formats::kTailBytes));
    const auto id = formats::identify(head, tail, size);
    if (!id || id->kind != formats::Kind::VirtualDisk) return 0;

    MemorySource file(input);
    auto opened = openVirtualDisk(file, id->format);
    if (const auto* refused = std::get_if<DiskRefusal>(&opened)) {
        checkSentence(refused->detail);
        return 0;
    }
    const auto& disk = *std::get<VirtualDisk>(opened).disk;
    if (std::get<VirtualDisk>(opened).sectorSize == 0) __builtin_trap();
    std::vector<std::uint8_t> a(kSample), b(kSample);
    const std::uint64_t headEnd = std::min(disk.size(), kHead);
    for (std::uint64_t at = 0; at < headEnd; at += kSample) readTwice(disk, at, a, b);
    if (disk.size() > kHead)
        for (int i = 1; i <= kSamples; ++i) readTwice(disk, kHead + (disk.size() - kHead) / kSamples * (i - 1), a, b);
    // Reads past the end fail; they never reach the library.
    if (disk.readAt(disk.size(), std::span(a.data(), 1)).ok()) __builtin_trap();
    return 0;
}
