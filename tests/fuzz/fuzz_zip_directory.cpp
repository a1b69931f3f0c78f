// Fuzz harness for the zip central-directory reader the scanner checks
// libclamav's extractions against (scanner/formats/ZipDirectory.h). The input
// is a whole file as it would be handed to the scanner. The reader must refuse
// with a message or return a directory that could have come from these bytes:
// no more members than directory entries fit, names made of input bytes,
// base names without folders, and an archive start inside the input.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "qkiosk/formats/ZipDirectory.h"

namespace {
constexpr std::size_t kMaxMembers = 1000;
constexpr std::size_t kEntryBytes = 46;   // a central directory entry without its name
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kiosk::formats;
    const std::span<const std::uint8_t> input(data, size);
    auto dir = readZipDirectory(input, kMaxMembers);
    if (!dir) {
        if (dir.error().message.empty()) __builtin_trap();
        return 0;
    }
    if (dir->archiveStart > size || dir->members.size() > kMaxMembers) __builtin_trap();
    std::size_t directoryBytes = 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (std::size_t i = 0; i < dir->members.size(); ++i) {
        const auto& m = dir->members[i];
        directoryBytes += kEntryBytes + m.name.size();
        if (directoryBytes > size) __builtin_trap();
        // (A search per name: only for the first few, to keep runs fast.)
        if (i < 8 && !m.name.empty() && bytes.find(m.name) == std::string_view::npos) __builtin_trap();
        const std::string base = m.baseName();
        if (base.find('/') != std::string::npos || !std::string_view(m.name).ends_with(base)) __builtin_trap();
        if (m.hasData() && (m.directory() || m.size == 0)) __builtin_trap();
    }
    return 0;
}
