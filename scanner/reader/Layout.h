// The media's layout: which volumes to read. (Interim: libtsk's partition
// table detection, as before; replaced by the layout probe.)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ByteSource.h"
#include "qkiosk/protocol/Messages.h"

namespace kiosk::scan {

struct VolumeSpan {
    std::uint32_t index = 0;
    std::string scheme;
    std::uint64_t offset = 0, length = 0;
};
struct LayoutFinding {
    proto::ReasonCode code;
    std::string path;
    std::string detail;
};
struct Layout {
    std::vector<VolumeSpan> volumes;
    std::vector<LayoutFinding> findings;
};

Layout readLayout(const ByteSource& media);
std::vector<VolumeSpan> findHiddenVolumes(const ByteSource& media,
                                          const std::vector<std::pair<std::uint64_t, std::uint64_t>>& used,
                                          std::uint32_t nextIndex);

}  // namespace kiosk::scan
