#include "kiosk/files/KeyFile.h"

#include <sodium.h>

#include <sstream>

#include "kiosk/files/AtomicFile.h"

namespace kiosk {

std::string taggedHexLine(std::string_view tag, const unsigned char* bytes, std::size_t n) {
    std::string hex(n * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), bytes, n);
    hex.pop_back();
    std::string line(tag);
    line += " ";
    line += hex;
    line += "\n";
    sodium_memzero(hex.data(), hex.size());
    return line;
}

Result<std::vector<std::vector<unsigned char>>> readTaggedHex(const std::string& path, std::string_view tag,
                                                              std::size_t bytes, bool single) {
    auto text = readTextFile(path);
    if (!text) return text.error();
    std::vector<std::vector<unsigned char>> out;
    std::istringstream in(*text);
    std::string line;
    const std::string wanted = std::string(tag) + " <" + std::to_string(bytes * 2) + " hex digits>";
    while (std::getline(in, line)) {
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string t, hex, extra;
        if (!(words >> t)) continue;
        std::vector<unsigned char> value(bytes);
        std::size_t len = 0;
        if (t != tag || !(words >> hex) || (words >> extra) ||
            sodium_hex2bin(value.data(), value.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 || len != bytes)
            return makeError(path + ": not a " + std::string(tag) + " file (lines \"" + wanted + "\")");
        out.push_back(std::move(value));
    }
    sodium_memzero(text->data(), text->size());
    if (out.empty()) return makeError(path + ": holds no " + std::string(tag) + " line");
    if (single && out.size() > 1) return makeError(path + ": holds more than one " + std::string(tag) + " line");
    return out;
}

std::string base64url(std::string_view bytes) {
    std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(std::char_traits<char>::length(out.c_str()));
    return out;
}

std::optional<std::string> unbase64url(std::string_view text) {
    std::string out(text.size(), '\0');
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                          &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text.data() + text.size())
        return std::nullopt;
    out.resize(len);
    return out;
}

}  // namespace kiosk
