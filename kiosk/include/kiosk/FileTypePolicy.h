// Site policy on file names and true file types, applied by the front end to
// what the scanner reports (libmagic's MIME type) and the file's name:
//  - blocked-file-type: names matching a blocked pattern (default autorun.inf
//    and *.lnk, the classic USB infection paths) or content that is a Windows
//    shortcut whatever its name;
//  - type-mismatch: an executable whose extension claims a document, image,
//    media or text file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qkiosk/protocol/Messages.h"

namespace kiosk {

struct TypeFinding {
    proto::ReasonCode code;
    std::string detail;
};

class FileTypePolicy {
public:
    // Patterns are matched case-insensitively against the file's base name;
    // '*' and '?' are wildcards.
    explicit FileTypePolicy(std::vector<std::string> blockedNames = defaultBlockedNames());

    static std::vector<std::string> defaultBlockedNames();

    // `path` as in the report; `mime` from libmagic ("" when unknown).
    std::optional<TypeFinding> check(const std::string& path, const std::string& mime) const;
    // Name-only check, for files whose content was not typed (too large, empty).
    std::optional<TypeFinding> checkName(const std::string& path) const;

    const std::vector<std::string>& blockedNames() const { return blocked_; }

private:
    std::vector<std::string> blocked_;
};

bool globMatchNoCase(std::string_view pattern, std::string_view text);

}  // namespace kiosk
