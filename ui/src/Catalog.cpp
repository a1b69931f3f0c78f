#include "qkiosk/ui/Catalog.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiosk::ui {
namespace {

constexpr std::uint32_t kMagic = 0x950412de;
constexpr std::uint32_t kMagicSwapped = 0xde120495;

std::uint32_t readU32(const std::string& b, std::size_t at, bool swap) {
    std::uint32_t v = 0;
    std::memcpy(&v, b.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
}

}  // namespace

kiosk::Result<MessageCatalog> MessageCatalog::parse(const std::string& b, const std::string& name) {
    auto bad = [&](const std::string& why) { return makeError(name + ": not a valid message catalogue: " + why); };
    if (b.size() < 20) return bad("too short");
    std::uint32_t magic = 0;
    std::memcpy(&magic, b.data(), 4);
    if (magic != kMagic && magic != kMagicSwapped) return bad("wrong magic number");
    const bool swap = magic == kMagicSwapped;
    if (readU32(b, 4, swap) >> 16 != 0) return bad("unknown major revision");
    const std::uint64_t n = readU32(b, 8, swap), origAt = readU32(b, 12, swap), transAt = readU32(b, 16, swap);
    if (origAt + n * 8 > b.size() || transAt + n * 8 > b.size()) return bad("string tables out of bounds");
    auto stringAt = [&](std::uint64_t table, std::uint64_t i, std::string& out) {
        const std::uint64_t len = readU32(b, static_cast<std::size_t>(table + i * 8), swap);
        const std::uint64_t off = readU32(b, static_cast<std::size_t>(table + i * 8 + 4), swap);
        // Each string is followed by a NUL that the length does not count.
        if (off + len + 1 > b.size() || b[static_cast<std::size_t>(off + len)] != '\0') return false;
        out.assign(b, static_cast<std::size_t>(off), static_cast<std::size_t>(len));
        return true;
    };
    MessageCatalog cat;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string id, str;
        if (!stringAt(origAt, i, id) || !stringAt(transAt, i, str)) return bad("string " + std::to_string(i) + " out of bounds");
        // The header (msgid ""), plural forms and contexts are not used by the screens.
        if (id.empty() || id.find('\0') != std::string::npos || id.find('\x04') != std::string::npos) continue;
        if (!str.empty()) cat.entries_.emplace(std::move(id), std::move(str));
    }
    return cat;
}

kiosk::Result<MessageCatalog> MessageCatalog::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(path + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path);
}

const std::string* MessageCatalog::find(const std::string& msgid) const {
    const auto it = entries_.find(msgid);
    return it == entries_.end() ? nullptr : &it->second;
}

kiosk::Result<Catalogs> Catalogs::load(const std::string& localeDir) {
    Catalogs c;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(localeDir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& entry = *it;
        const std::string path = (entry.path() / "LC_MESSAGES" / "qkiosk.mo").string();
        std::error_code ec2;
        if (!std::filesystem::is_regular_file(path, ec2)) continue;
        auto cat = MessageCatalog::load(path);
        if (!cat) return cat.error();
        c.byLanguage_.emplace(entry.path().filename().string(), std::move(*cat));
    }
    return c;
}

const std::string& Catalogs::tr(const Language& lang, const std::string& msgid) const {
    const auto it = byLanguage_.find(lang);
    if (it == byLanguage_.end()) return msgid;
    const std::string* s = it->second.find(msgid);
    return s ? *s : msgid;
}

bool Catalogs::has(const Language& lang) const { return byLanguage_.count(lang) != 0; }

std::vector<Language> Catalogs::languages() const {
    std::vector<Language> out{kJapanese, kEnglish};
    for (const auto& [code, cat] : byLanguage_)
        if (code != kJapanese && code != kEnglish) out.push_back(code);
    return out;
}

std::string Catalogs::nameOf(const Language& lang) const {
    if (lang == kEnglish) return "English";
    if (const auto it = byLanguage_.find(lang); it != byLanguage_.end())
        if (const std::string* name = it->second.find("English")) return *name;
    return lang == kJapanese ? "日本語" : lang;
}

std::string defaultLocaleDir() {
    if (const char* d = std::getenv("QKIOSK_LOCALEDIR"); d && *d) return d;
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto dir = self.parent_path().parent_path() / "share" / "locale";
        if (std::filesystem::exists(dir / "ja" / "LC_MESSAGES" / "qkiosk.mo", ec)) return dir.string();
    }
    return "/usr/share/locale";
}

std::string format(const std::string& text, const std::vector<std::string>& args) {
    std::string out;
    std::size_t next = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 1 < text.size()) {
            if (text[i + 1] == 's') {
                if (next < args.size()) out += args[next];
                ++next;
                ++i;
                continue;
            }
            if (text[i + 1] == '%') {
                out += '%';
                ++i;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

}  // namespace kiosk::ui
