// Site policy on file names and true file types, applied by the front end to
// what the scanner reports (libmagic's MIME type) and the file's name:
//  - blocked-file-type: names matching a blocked pattern (default autorun.inf
//    and *.lnk, the classic USB infection paths) or content that is a Windows
//    shortcut whatever its name;
//  - type-mismatch: an executable whose extension claims a document, image,
//    media or text file;
//  - deceptive-name: a name built to show another extension than it has:
//    bidirectional controls ("invoice<U+202E>fdp.exe" shows as
//    "invoiceexe.pdf"), invisible characters, spaces that push the real
//    extension out of sight or look-alike spaces around it, trailing dots and
//    spaces (Windows drops them), an executable extension behind a document's
//    ("report.pdf.exe" shows as "report.pdf" where extensions are hidden).
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
    explicit FileTypePolicy(std::vector<std::string> blockedNames = defaultBlockedNames(), bool deceptiveNames = true);

    static std::vector<std::string> defaultBlockedNames();

    // `path` as in the report; `mime` from libmagic ("" when unknown).
    std::optional<TypeFinding> check(const std::string& path, const std::string& mime) const;
    // Name-only check, for files whose content was not typed (too large, empty).
    std::optional<TypeFinding> checkName(const std::string& path) const;
    // deceptive-name, whatever the content (off when the site turned it off).
    // The detail shows the name with every hidden character made visible.
    std::optional<TypeFinding> checkDeception(const std::string& path) const;

    const std::vector<std::string>& blockedNames() const { return blocked_; }

private:
    std::vector<std::string> blocked_;
    bool deceptiveNames_ = true;
};

// The bytes a report path stands for: printableName()'s "\xNN" escapes undone.
std::string unescapeName(std::string_view printable);

bool globMatchNoCase(std::string_view pattern, std::string_view text);

}  // namespace kiosk
