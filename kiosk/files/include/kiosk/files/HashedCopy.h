// Copying bytes between descriptors while hashing them (SHA-256): one read of
// the source serves both, so what was written is exactly what was hashed.
// Every copy the front end makes of media content goes through here: files
// kept from a stick (a signature update, evidence), the raw evidence image,
// an evidence export. None of them interprets the bytes.
#pragma once

#include <cstdint>
#include <string>

#include "qkiosk/base/Result.h"
#include "qkiosk/base/Sha256.h"

namespace kiosk {

// Reads exactly `size` bytes of `from`, starting at offset 0 (pread: the
// descriptor's position is left alone), and writes them to `to` (-1: hash
// only). `sparse`: runs of zeros become holes in `to` (a mostly empty stick's
// image takes little room); the hash is the same. Errors name `fromName` or
// `toName` and say whether reading or writing failed.
Result<Digest> copyHashed(int from, std::uint64_t size, int to, const std::string& fromName, const std::string& toName,
                          bool sparse = false);

// Creates `path` with `mode` (never overwriting an existing file, never
// following a symlink), copies into it and fsyncs it. On any error the partial
// file is removed.
Result<Digest> copyToNewFile(int from, std::uint64_t size, const std::string& fromName, const std::string& path, unsigned mode,
                             bool sparse = false);

}  // namespace kiosk
