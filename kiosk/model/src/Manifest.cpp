#include "kiosk/model/Manifest.h"

#include <algorithm>

#include "qkiosk/base/Sha256.h"

namespace kiosk {

std::string manifestSha256(std::vector<FileRecord> files) {
    std::sort(files.begin(), files.end(), [](const FileRecord& a, const FileRecord& b) { return a.path < b.path; });
    Sha256 h;
    for (const auto& f : files) {
        h.update(f.sha256);
        h.update(" ");
        h.update(std::to_string(f.size));
        h.update(" ");
        h.update(f.path);
        h.update("\n");
    }
    const auto d = h.finish();
    return toHex(d);
}

}  // namespace kiosk
