#include "FileTypeProbe.h"

#include "qkiosk/base/Text.h"

namespace kiosk::scan {

Result<FileTypeProbe> FileTypeProbe::open() {
    // No decompression and no following of anything: the bytes are hostile and
    // libclamav looks inside compressed content anyway.
    magic_t cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (!cookie) return makeError("libmagic: cannot open");
    if (magic_load(cookie, nullptr) != 0) {
        std::string why = magic_error(cookie) ? magic_error(cookie) : "unknown error";
        magic_close(cookie);
        return makeError("libmagic: cannot load its database: " + why);
    }
    return FileTypeProbe(cookie);
}

FileTypeProbe::~FileTypeProbe() {
    if (cookie_) magic_close(cookie_);
}

FileType FileTypeProbe::identify(std::span<const std::uint8_t> head) {
    // One query, for the MIME type only: the policy needs nothing more, and
    // libmagic's text analysis is the costly part of every call.
    FileType t;
    if (const char* m = magic_buffer(cookie_, head.data(), head.size())) t.mime = printableName(m);
    if (t.mime.empty()) t.mime = "application/octet-stream";
    return t;
}

}  // namespace kiosk::scan
