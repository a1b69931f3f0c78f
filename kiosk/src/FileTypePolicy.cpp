#include "kiosk/FileTypePolicy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace kiosk {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// The base name of a report path; NTFS streams ("a.txt:ads") keep their host's name.
std::string_view baseName(std::string_view path) {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string extensionOf(std::string_view name) {
    const auto colon = name.find(':');
    if (colon != std::string_view::npos) name = name.substr(0, colon);
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return "";
    return lower(name.substr(dot + 1));
}

// Extensions whose owners never expect to run code.
constexpr std::array<std::string_view, 46> kInertExtensions{
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "txt", "csv", "log",
    "xml", "json", "md", "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "heic", "svg", "ico",
    "mp3", "mp4", "m4a", "wav", "avi", "mov", "wmv", "mkv", "mpg", "mpeg", "dcm", "dicom", "zip", "7z",
    "lzh", "htm", "html", "ini"};

bool isExecutableMime(std::string_view mime) {
    return mime == "application/x-dosexec" || mime == "application/vnd.microsoft.portable-executable" ||
           mime == "application/x-msdownload" || mime == "application/x-executable" ||
           mime == "application/x-pie-executable" || mime == "application/x-sharedlib" ||
           mime == "application/x-mach-binary" || mime == "application/x-elf";
}

}  // namespace

bool globMatchNoCase(std::string_view pattern, std::string_view text) {
    // Iterative wildcard match with backtracking to the last '*'.
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    auto eq = [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); };
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || eq(pattern[p], text[t]))) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

FileTypePolicy::FileTypePolicy(std::vector<std::string> blockedNames) : blocked_(std::move(blockedNames)) {}

std::vector<std::string> FileTypePolicy::defaultBlockedNames() { return {"autorun.inf", "*.lnk"}; }

std::optional<TypeFinding> FileTypePolicy::checkName(const std::string& path) const {
    const auto name = baseName(path);
    for (const auto& pattern : blocked_)
        if (globMatchNoCase(pattern, name)) return TypeFinding{proto::ReasonCode::BlockedFileType, "name matches blocked pattern \"" + pattern + "\""};
    return std::nullopt;
}

std::optional<TypeFinding> FileTypePolicy::check(const std::string& path, const std::string& mime) const {
    if (auto byName = checkName(path)) return byName;
    if (mime == "application/x-ms-shortcut")
        return TypeFinding{proto::ReasonCode::BlockedFileType, "content is a Windows shortcut (.lnk)"};
    if (isExecutableMime(mime)) {
        const auto ext = extensionOf(baseName(path));
        if (std::find(kInertExtensions.begin(), kInertExtensions.end(), ext) != kInertExtensions.end())
            return TypeFinding{proto::ReasonCode::TypeMismatch, "named ." + ext + " but the content is an executable (" + mime + ")"};
    }
    return std::nullopt;
}

}  // namespace kiosk
