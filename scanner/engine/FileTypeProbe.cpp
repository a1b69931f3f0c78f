#include "FileTypeProbe.h"

#include "qkiosk/protocol/Text.h"

namespace kiosk::scan {

Result<FileTypeProbe> FileTypeProbe::open() {
    // No decompression and no following of anything: the bytes are hostile and
    // libclamav looks inside compressed content anyway.
    magic_t cookie = magic_open(MAGIC_NONE | MAGIC_ERROR);
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
    FileType t;
    magic_setflags(cookie_, MAGIC_MIME_TYPE | MAGIC_ERROR);
    // Descriptions can quote the file's own bytes (titles, tags): make them printable.
    if (const char* m = magic_buffer(cookie_, head.data(), head.size())) t.mime = printableName(m);
    magic_setflags(cookie_, MAGIC_NONE | MAGIC_ERROR);
    if (const char* d = magic_buffer(cookie_, head.data(), head.size())) t.description = printableName(d);
    if (t.mime.empty()) t.mime = "application/octet-stream";
    return t;
}

}  // namespace kiosk::scan
