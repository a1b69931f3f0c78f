// Who opens each kind of container the scanner meets inside a file, and the
// sentences that name a container nobody opened (they reach the officer's
// screen and the printed ticket). docs/architecture.md ("Scanning") has the
// same table for people, with the reasons.
#pragma once

#include <string>

#include "qkiosk/formats/Formats.h"

namespace kiosk::scan {

enum class Opener {
    None,            // not a container the scanner checks
    Libclamav,       // libclamav unpacks it; it must show members, else libarchive tries, else unscannable
    LibclamavOnly,   // libclamav unpacks it and nothing else here can: no members is unscannable
    Zip,             // libclamav unpacks it; every member of its own directory must come out, libarchive does the rest
    Libarchive,      // libclamav cannot, or only in part: libarchive unpacks it after libclamav's scan
    Zisofs,          // a zisofs-compressed file: decoded by formats::ZisofsReader
    Media,           // a disk or filesystem image: opened by the media reader when it is a file on the media
    Nobody,          // nothing here can open it: unscannable, naming the format
};

// `unrar`: whether libclamav's unrar module is loaded (Debian's is not).
Opener openerFor(formats::Format format, bool unrar);

// A signature short or loose enough to turn up by chance (two bytes of cpio,
// a tar checksum): when no reader recognises such a container, it was not one.
bool weakSignature(formats::Format format);

// The sentences. `what` is the identity's name ("a squashfs image").
std::string cannotOpen(const formats::Identity& id);
std::string mediaNotOpened(const formats::Identity& id, bool insideArchive);
std::string nothingExtracted(const formats::Identity& id);
std::string unreadable(const formats::Identity& id, const std::string& why);
std::string notRecognised(const formats::Identity& id);
std::string encryptedMember(const formats::Identity& id);
std::string tooLargeToKeep(const formats::Identity& id);
extern const char* const kRarWithoutUnrar;

}  // namespace kiosk::scan
