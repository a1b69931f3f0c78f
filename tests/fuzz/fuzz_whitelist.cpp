// Fuzz harness for the two TOML files an officer writes: the whitelist of
// approved devices (policy::parseWhitelist) and the kiosk configuration
// (parseConfig). Both get every input. Besides not crashing, each must either
// refuse with a message that names the file, or return values that keep the
// promises of Whitelist.h and Config.h.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kiosk/config/Config.h"
#include "kiosk/policy/Whitelist.h"

namespace {

constexpr const char* kSource = "fuzz.toml";

void requireNamesSource(const kiosk::Error& e) {
    if (e.message.rfind(std::string(kSource) + ":", 0) != 0) __builtin_trap();
}

bool isLowerHex(const std::string& s, std::size_t len) {
    if (s.size() != len) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

void checkWhitelist(const std::string& text) {
    auto w = kiosk::policy::parseWhitelist(text, kSource);
    if (!w) return requireNamesSource(w.error());
    for (const auto& a : w->devices) {
        if (!isLowerHex(a.vendorId, 4) || !isLowerHex(a.productId, 4)) __builtin_trap();
        if (a.serial.empty() || a.owner.empty() || a.expires.size() != 10) __builtin_trap();
        // The exact interface set: non-empty, sorted, unique, "cc:ss:pp" in lower-case hex.
        if (a.interfaces.empty()) __builtin_trap();
        for (std::size_t i = 0; i < a.interfaces.size(); ++i) {
            const auto& t = a.interfaces[i];
            if (t.size() != 8 || t[2] != ':' || t[5] != ':') __builtin_trap();
            if (!isLowerHex(t.substr(0, 2), 2) || !isLowerHex(t.substr(3, 2), 2) || !isLowerHex(t.substr(6, 2), 2))
                __builtin_trap();
            if (i > 0 && !(a.interfaces[i - 1] < t)) __builtin_trap();
        }
    }
}

void checkConfig(const std::string& text) {
    auto c = kiosk::parseConfig(text, kSource);
    if (!c) return requireNamesSource(c.error());
    if (c->unknownMedia != "scan" && c->unknownMedia != "refuse") __builtin_trap();
    if (c->maxSignatureAgeDays < 1 || c->maxSignatureAgeDays > 365) __builtin_trap();
    constexpr std::uint64_t kClamMax = (2ull << 30) - 1;
    const auto& s = c->scan;
    if (s.maxFileSize == 0 || s.maxFileSize > kClamMax || s.maxScanSize == 0 || s.maxScanSize > kClamMax) __builtin_trap();
    if (s.inflightBytes == 0 || s.inflightBytes > (1ull << 40)) __builtin_trap();
    for (const auto& d : c->fixedDevices)
        if (d.port.empty() || d.vendorId.size() != 4 || d.productId.size() != 4) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    checkWhitelist(text);
    checkConfig(text);
    return 0;
}
