#include "TskImage.h"

#include <cstdlib>
#include <span>

#include "qkiosk/protocol/Text.h"

namespace kiosk::scan {
namespace {

// TSK's external image: our struct begins with TSK_IMG_INFO, TSK reads
// through `readImage`, and TSK's close hook frees the struct.
struct SourceImage {
    TSK_IMG_INFO info;  // must stay first
    const ByteSource* source;
};

ssize_t readImage(TSK_IMG_INFO* img, TSK_OFF_T off, char* buf, size_t len) {
    const auto* self = reinterpret_cast<SourceImage*>(img);
    if (off < 0) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("read at a negative offset");
        return -1;
    }
    // libtsk clamps its reads to the image's size; a read that still fails
    // is an error, never a short read that libtsk would take for data.
    auto st = self->source->readAt(static_cast<std::uint64_t>(off), std::span(reinterpret_cast<std::uint8_t*>(buf), len));
    if (!st) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%s", st.error().message.c_str());
        return -1;
    }
    return static_cast<ssize_t>(len);
}

void closeImage(TSK_IMG_INFO* img) { std::free(img); }
void statImage(TSK_IMG_INFO*, FILE*) {}

}  // namespace

TskImagePtr openTskImage(const ByteSource& source) {
    auto* ext = static_cast<SourceImage*>(std::calloc(1, sizeof(SourceImage)));
    if (!ext) return nullptr;
    ext->source = &source;
    TSK_IMG_INFO* img = tsk_img_open_external(ext, static_cast<TSK_OFF_T>(source.size()), 512, readImage, closeImage, statImage);
    if (!img) std::free(ext);
    return TskImagePtr(img);
}

std::string takeTskError(const char* fallback) {
    const char* e = tsk_error_get();
    std::string s = (e && *e) ? e : fallback;
    tsk_error_reset();
    // TSK's messages end in newlines and may quote hostile bytes.
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    for (auto& c : s)
        if (c == '\n') c = ' ';
    return printableName(s);
}

}  // namespace kiosk::scan
