// Reading a whole file, and writing one so that a reader (or a power cut) sees the old content or the
// new content, never a mix: temporary file in the same folder, fsync, rename,
// fsync of the folder.
#pragma once

#include <cstdint>
#include <string>


#include "qkiosk/base/Result.h"

namespace kiosk {

// `mode`: the file's permissions (0600 for secrets: never readable by others, not even briefly).
Status writeFileAtomically(const std::string& path, const std::string& content, unsigned mode = 0644);

// The whole file, or an error naming it.
Result<std::string> readTextFile(const std::string& path);

// A name that is one plain file in a folder (a ticket id, a hash): 1 to 64 of
// [A-Za-z0-9._-], not starting with a dot. No path, no dot file.
bool isPlainFileName(const std::string& name);

// The bytes an unprivileged writer may still use in the filesystem of `dir`.
Result<std::uint64_t> freeBytes(const std::string& dir);

// Whether something is at `path` (a symlink is followed). Only "no such file"
// is false: any other failure to look (a folder this user may not enter, an
// I/O error) is an error naming the path, never taken for "missing", so that
// a file that is there but unreadable is not replaced by a default.
Result<bool> pathExists(const std::string& path);

}  // namespace kiosk
