// libtsk's view of a ByteSource: a TSK image that reads through readAt, so
// that code working on ByteSources (Layout's fallback for partition schemes
// it does not parse itself) can still ask libtsk, and RAII handles for it.
#pragma once

#include <tsk/libtsk.h>

#include <memory>
#include <string>

#include "ByteSource.h"

namespace kiosk::scan {

struct TskImageClose {
    void operator()(TSK_IMG_INFO* img) const { tsk_img_close(img); }
};
struct TskVolumeSystemClose {
    void operator()(TSK_VS_INFO* vs) const { tsk_vs_close(vs); }
};
using TskImagePtr = std::unique_ptr<TSK_IMG_INFO, TskImageClose>;
using TskVolumeSystemPtr = std::unique_ptr<TSK_VS_INFO, TskVolumeSystemClose>;

// An image of `source`'s size and bytes, 512-byte sectors. `source` must
// outlive it. nullptr when libtsk refuses (takeTskError() says why).
TskImagePtr openTskImage(const ByteSource& source);

// libtsk's last error as one printable line (or `fallback`), and clears it.
std::string takeTskError(const char* fallback);

}  // namespace kiosk::scan
