// Writing one file onto an officer's stick: the quarantine log export goes
// into the root folder of the stick's FAT filesystem. The kiosk never mounts
// a stick (docs/threat-model.md); mtools writes the filesystem from user
// space instead, run without a shell, with a clean environment and a
// deadline (RunProgram.h). The file is read back and compared before it
// counts as written, and the device is flushed, so that "written" means the
// stick has it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "qkiosk/base/Result.h"

namespace kiosk {

// Each mtools program gets this long; then it is stopped and the write failed.
inline constexpr std::chrono::seconds kFatToolTimeout{60};

// Whether `name` may be written: 1 to 100 characters of A-Z a-z 0-9 . _ -,
// neither first nor last a dot. The error says what is wrong.
Status checkFatFileName(const std::string& name);

// Writes `content` as the file `name` in the root folder of the FAT
// filesystem that starts `offsetBytes` into `device` (a block device such as
// /dev/sdb, or an image file). A file of that name (in any case) already
// there is never overwritten: an error. The content passes through a private
// temporary folder under `tempBase`. Errors are one line naming the device:
// "/dev/sdb: not a FAT filesystem at offset 1048576", "...: the stick is full",
// "/dev/sdb: the stick did not keep the file (read back differs)".
Status writeFileToFat(const std::string& device, std::uint64_t offsetBytes, const std::string& name,
                      const std::string& content, const std::string& tempBase);

// The free space of that FAT filesystem, in bytes, as mtools counts it: so
// that a caller can refuse an export that cannot fit before writing anything.
Result<std::uint64_t> fatFreeBytes(const std::string& device, std::uint64_t offsetBytes, const std::string& tempBase);

}  // namespace kiosk
