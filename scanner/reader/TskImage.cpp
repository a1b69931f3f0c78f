#include "TskImage.h"

#include <cstdlib>
#include <cstring>

#include "qkiosk/base/Text.h"

namespace kiosk::scan::tsk {
namespace {

// libtsk's external image: our struct begins with TSK_IMG_INFO, libtsk reads
// through `readAt`, and its close hook frees the struct.
struct SourceImage {
    TSK_IMG_INFO info;   // must stay first
    const ByteSource* source;
};

ssize_t readAt(TSK_IMG_INFO* img, TSK_OFF_T off, char* buf, size_t len) {
    auto* self = reinterpret_cast<SourceImage*>(img);
    if (off < 0) return -1;
    auto s = self->source->readAt(static_cast<std::uint64_t>(off), std::span(reinterpret_cast<std::uint8_t*>(buf), len));
    if (!s) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%s", s.error().message.c_str());
        return -1;
    }
    return static_cast<ssize_t>(len);
}

void closeImage(TSK_IMG_INFO* img) { std::free(img); }
void statImage(TSK_IMG_INFO*, FILE*) {}

}  // namespace

ImgPtr openImage(const ByteSource& source) {
    auto* ext = static_cast<SourceImage*>(std::calloc(1, sizeof(SourceImage)));
    if (!ext) return nullptr;
    ext->source = &source;
    TSK_IMG_INFO* img =
        tsk_img_open_external(ext, static_cast<TSK_OFF_T>(source.size()), 512, readAt, closeImage, statImage);
    if (!img) std::free(ext);
    return ImgPtr(img);
}

std::string lastError(const char* fallback) {
    const char* e = tsk_error_get();
    std::string s = (e && *e) ? e : fallback;
    tsk_error_reset();
    // libtsk's messages end in newlines and may quote hostile bytes.
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    for (auto& c : s)
        if (c == '\n') c = ' ';
    return printableName(s);
}

Failure lastFailure(const char* fallback) {
    const std::uint32_t e = tsk_error_get_errno();
    const bool corrupt = e == TSK_ERR_FS_BLK_NUM || e == TSK_ERR_FS_INODE_NUM || e == TSK_ERR_FS_INODE_COR ||
                         e == TSK_ERR_FS_CORRUPT || e == TSK_ERR_FS_MAGIC;
    return Failure{corrupt ? proto::ReasonCode::CorruptFilesystem : proto::ReasonCode::ReadError, lastError(fallback)};
}

}  // namespace kiosk::scan::tsk
