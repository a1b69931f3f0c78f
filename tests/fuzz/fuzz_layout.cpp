// Fuzz harness for the media's layout (scanner/reader/Layout.h): the input is
// the first bytes of a stick as a hostile one could hold them (partition
// tables, EBR chains, GPT headers, boot sectors, superblocks), read through a
// MemorySource. readLayout (with 512- and 4096-byte logical sectors), then
// findHiddenVolumes over the layout's own extents. Checks what Layout.h
// promises, not only that nothing crashes. libtsk is reached through the
// fallback for other partition schemes; never libclamav.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>

#include "Layout.h"

namespace {

using namespace kiosk;
using namespace kiosk::scan;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool pathOfVolume(const std::string& path, const std::set<std::uint32_t>& indexes) {
    if (path == "/") return true;
    if (path.size() < 4 || path.rfind("/p", 0) != 0 || path.back() != '/') return false;
    const std::string digits = path.substr(2, path.size() - 3);
    if (digits.empty() || digits.size() > 10 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    return indexes.count(static_cast<std::uint32_t>(std::stoull(digits))) == 1;
}

// Indexes are 0 for the bare volume only, then 1, 2, ... in order.
std::set<std::uint32_t> checkVolumes(const std::vector<VolumeSpan>& volumes, std::uint32_t first, bool bareAllowed) {
    std::set<std::uint32_t> indexes;
    std::uint32_t next = first;
    for (const auto& v : volumes) {
        check(!v.scheme.empty());
        check(v.length <= UINT64_MAX - v.offset);
        if (v.index == 0) {
            check(bareAllowed && v.scheme == "none" && v.offset == 0 && indexes.empty());
        } else {
            check(v.index == next++);
            check(v.scheme != "none");
        }
        check(v.claimed == 0 || !v.content.empty());
        indexes.insert(v.index);
    }
    return indexes;
}

void checkFindings(const std::vector<LayoutFinding>& findings, const std::set<std::uint32_t>& indexes) {
    for (const auto& f : findings) {
        check(!f.detail.empty());
        check(pathOfVolume(f.path, indexes));
    }
}

void readOnce(const ByteSource& media, std::uint32_t sectorSize) {
    const Layout layout = readLayout(media, sectorSize);
    check(!layout.volumes.empty());
    const auto indexes = checkVolumes(layout.volumes, 1, true);
    checkFindings(layout.findings, indexes);
    for (const auto& s : layout.structures) check(s.length > 0 && s.offset < media.size());

    const std::uint32_t next = *indexes.rbegin() + 1;
    const Layout hidden = findHiddenVolumes(media, usedExtents(layout), next);
    check(hidden.structures.empty());
    const auto hiddenIndexes = checkVolumes(hidden.volumes, next, false);
    checkFindings(hidden.findings, hiddenIndexes);
    for (const auto& v : hidden.volumes) {
        check(v.scheme == "unpartitioned" && !v.content.empty() && v.offset < media.size());
        // A hidden volume never starts inside another one found before it.
        for (const auto& w : hidden.volumes) {
            if (&w == &v) break;
            check(v.offset < w.offset || v.offset - w.offset >= w.length);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const MemorySource media(std::span<const std::uint8_t>(data, size));
    readOnce(media, 512);
    readOnce(media, 4096);
    return 0;
}
