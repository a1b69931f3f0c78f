#include "kiosk/session/FileTypePolicy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <span>
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

// Extensions Windows runs (or opens with a program that runs code) when the
// file is double-clicked.
constexpr std::array<std::string_view, 20> kRunnableExtensions{
    "exe", "com", "scr", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "msi", "msp",
    "cpl", "lnk", "ps1", "jar", "reg"};

bool among(std::string_view ext, std::span<const std::string_view> list) {
    return std::find(list.begin(), list.end(), ext) != list.end();
}

// One character of a UTF-8 string: its code point (U+FFFD for an invalid
// byte) and its length in bytes.
std::pair<char32_t, std::size_t> decodeAt(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return {0xFFFD, 1};
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return {0xFFFD, 1};
        cp = (cp << 6) | (b & 0x3F);
    }
    return {cp, n};
}

bool isBidiControl(char32_t c) {
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C;
}

// Characters that take no room on screen.
bool isInvisible(char32_t c) {
    return (c >= 0x200B && c <= 0x200D) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF || c == 0x180E || c == 0x034F ||
           c == 0x115F || c == 0x1160 || c == 0x3164 || c == 0xFFA0 || c == 0x00AD;
}

// Spaces other than the ASCII one, that look like it or like nothing.
bool isOtherSpace(char32_t c) {
    return c == 0x00A0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000 ||
           c == 0x2800;
}

bool isSpace(char32_t c) { return c == ' ' || isOtherSpace(c); }

std::string visible(char32_t c) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "<U+%04X>", static_cast<unsigned>(c));
    return buf;
}

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

FileTypePolicy::FileTypePolicy(std::vector<std::string> blockedNames, bool deceptiveNames)
    : blocked_(std::move(blockedNames)), deceptiveNames_(deceptiveNames) {}

std::vector<std::string> FileTypePolicy::defaultBlockedNames() { return {"autorun.inf", "*.lnk"}; }

std::string unescapeName(std::string_view p) {
    std::string out;
    out.reserve(p.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\' && i + 3 < p.size() && p[i + 1] == 'x' && hex(p[i + 2]) >= 0 && hex(p[i + 3]) >= 0) {
            out += static_cast<char>(hex(p[i + 2]) * 16 + hex(p[i + 3]));
            i += 3;
        } else {
            out += p[i];
        }
    }
    return out;
}

std::optional<TypeFinding> FileTypePolicy::checkDeception(const std::string& path) const {
    if (!deceptiveNames_) return std::nullopt;
    const std::string name = unescapeName(baseName(path));
    // The name with every hidden character shown, and what was found.
    std::string shown;
    std::string why;
    auto because = [&why](const std::string& w) {
        if (why.find(w) == std::string::npos) why += (why.empty() ? "" : "; ") + w;
    };
    const auto dot = name.rfind('.');
    std::vector<std::pair<char32_t, std::size_t>> chars;   // code point, byte offset
    for (std::size_t i = 0; i < name.size();) {
        const auto [cp, n] = decodeAt(name, i);
        chars.emplace_back(cp, i);
        i += n;
    }
    for (std::size_t k = 0; k < chars.size(); ++k) {
        const auto [cp, at] = chars[k];
        // Beside any dot: "写真<U+3000>.jpg.exe" hides the inner extension's gap too.
        const bool nearDot = (k + 1 < chars.size() && chars[k + 1].first == '.') || (k > 0 && chars[k - 1].first == '.');
        if (isBidiControl(cp)) {
            shown += visible(cp);
            because("a bidirectional control character, which makes the name show its characters in another order");
        } else if (isInvisible(cp)) {
            shown += visible(cp);
            because("an invisible character");
        } else if (isOtherSpace(cp) && nearDot) {
            shown += visible(cp);
            because("a look-alike space beside a dot of the extension");
        } else {
            shown += name.substr(at, k + 1 < chars.size() ? chars[k + 1].second - at : name.size() - at);
        }
    }
    // Spaces in front of the extension push it out of sight in a file list.
    if (dot != std::string::npos) {
        std::size_t spaces = 0;
        for (std::size_t k = 0; k < chars.size() && chars[k].second < dot; ++k) spaces = isSpace(chars[k].first) ? spaces + 1 : 0;
        if (spaces >= 2) because("a run of spaces that pushes the real extension out of sight");
    }
    if (!chars.empty() && (chars.back().first == '.' || isSpace(chars.back().first)))
        because("trailing dots or spaces, which Windows drops (the name opens as if they were not there)");
    // "report.pdf.exe": Windows hides known extensions by default.
    if (dot != std::string::npos && dot > 0) {
        const std::string outer = lower(std::string_view(name).substr(dot + 1));
        const auto inner = name.rfind('.', dot - 1);
        if (inner != std::string::npos && among(outer, kRunnableExtensions)) {
            const std::string innerExt = lower(std::string_view(name).substr(inner + 1, dot - inner - 1));
            if (among(innerExt, kInertExtensions) && innerExt != "zip" && innerExt != "7z" && innerExt != "lzh")
                because("a program named like a ." + innerExt + " document (." + outer + " behind it is hidden where Windows hides extensions)");
        }
    }
    if (why.empty()) return std::nullopt;
    return TypeFinding{proto::ReasonCode::DeceptiveName, "the name \"" + shown + "\" contains " + why};
}

std::optional<TypeFinding> FileTypePolicy::checkName(const std::string& path) const {
    // Windows drops trailing dots and spaces: "evil.lnk." opens as evil.lnk.
    std::string_view name = baseName(path);
    while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.remove_suffix(1);
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
