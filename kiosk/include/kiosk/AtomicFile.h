// Writing a file so that a reader (or a power cut) sees the old content or the
// new content, never a mix: temporary file in the same folder, fsync, rename,
// fsync of the folder.
#pragma once

#include <string>

#include "qkiosk/protocol/Result.h"

namespace kiosk {

Status writeFileAtomically(const std::string& path, const std::string& content);

}  // namespace kiosk
