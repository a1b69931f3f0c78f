#include "Layout.h"

#include "TskImage.h"

namespace kiosk::scan {

Layout readLayout(const ByteSource& media) {
    Layout out;
    auto img = tsk::openImage(media);
    if (img) {
        tsk::VsPtr vs(tsk_vs_open(img.get(), 0, TSK_VS_TYPE_DETECT));
        tsk_error_reset();
        std::uint32_t index = 0;
        if (vs) {
            const std::string scheme = vs->vstype == TSK_VS_TYPE_GPT ? "gpt" : vs->vstype == TSK_VS_TYPE_DOS ? "mbr"
                                                                                                              : tsk_vs_type_toname(vs->vstype);
            for (TSK_PNUM_T i = 0; i < vs->part_count; ++i) {
                const TSK_VS_PART_INFO* p = tsk_vs_part_get(vs.get(), i);
                if (!p || !(p->flags & TSK_VS_PART_FLAG_ALLOC)) continue;
                out.volumes.push_back({++index, scheme, static_cast<std::uint64_t>(p->start) * vs->block_size,
                                       static_cast<std::uint64_t>(p->len) * vs->block_size});
            }
        }
    }
    if (out.volumes.empty()) out.volumes.push_back({0, "none", 0, media.size()});
    return out;
}

std::vector<VolumeSpan> findHiddenVolumes(const ByteSource&, const std::vector<std::pair<std::uint64_t, std::uint64_t>>&,
                                          std::uint32_t) {
    return {};
}

}  // namespace kiosk::scan
