// What a filesystem reader reports while it walks one volume: every file with
// a way to read its content, and every problem that keeps the volume from
// being read completely or the same way every operating system reads it.
// Both filesystem readers (The Sleuth Kit's, and the FAT reader of our own)
// report through it; MediaReader turns it into the worker protocol.
#pragma once

#include <cstdint>
#include <string>

#include "ByteSource.h"
#include "qkiosk/protocol/Messages.h"
#include "qkiosk/base/Result.h"

namespace kiosk::scan {

class VolumeVisitor {
public:
    virtual ~VolumeVisitor() = default;
    // `path` is relative to the volume's root, its components joined by '/',
    // in UTF-8 as the filesystem stores the name (not yet made printable):
    // "DOCS/報告書.pdf", "setup.exe:Zone.Identifier" for an NTFS stream.
    // `read` is valid only during the call.
    virtual Status file(const std::string& path, std::uint64_t size, const ContentReader& read) = 0;
    // A problem with the volume: `path` is relative to its root as above
    // ("" for the volume as a whole, "DOCS/" for a directory).
    virtual Status problem(proto::ReasonCode code, const std::string& path, const std::string& detail) = 0;
};

}  // namespace kiosk::scan
