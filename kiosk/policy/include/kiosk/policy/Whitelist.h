// The approved vendor devices (docs/design.md, "Kiosk config and whitelist"), parsed from TOML.
// Every field of an entry is required; errors name file, line and column.
// A whitelist that fails to parse never means "allow all": the caller keeps
// the error and refuses every device with it.
#pragma once

#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::policy {

struct Approval {
    std::string vendorId, productId;     // 4 lower-case hex digits
    std::string serial;                  // exact
    std::vector<std::string> interfaces; // sorted "08:06:50" triples: the exact set
    std::string owner, purpose;
    std::string expires;                 // "YYYY-MM-DD", last valid day
    std::string source;                  // "whitelist.toml:3" for messages
};

struct Whitelist {
    std::vector<Approval> devices;
};

Result<Whitelist> parseWhitelist(const std::string& text, const std::string& sourceName);
Result<Whitelist> loadWhitelist(const std::string& path);

// One [[device]] entry as TOML text, after a `# comment` line, ready to be
// appended to a whitelist file. Values are TOML basic strings, escaped; a
// value or comment with a control character (a line break) is an error.
Result<std::string> approvalToml(const Approval& approval, const std::string& comment);

}  // namespace kiosk::policy
