// Reading a whole file, and writing one so that a reader (or a power cut) sees the old content or the
// new content, never a mix: temporary file in the same folder, fsync, rename,
// fsync of the folder.
#pragma once

#include <cstdint>
#include <string>


#include "qkiosk/protocol/Result.h"

namespace kiosk {

// `mode`: the file's permissions (0600 for secrets: never readable by others, not even briefly).
Status writeFileAtomically(const std::string& path, const std::string& content, unsigned mode = 0644);

// The whole file, or an error naming it.
Result<std::string> readTextFile(const std::string& path);

// The bytes an unprivileged writer may still use in the filesystem of `dir`.
Result<std::uint64_t> freeBytes(const std::string& dir);

}  // namespace kiosk
