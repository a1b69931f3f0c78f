#include "kiosk/log/KioskKey.h"

#include <sodium.h>

#include <filesystem>
#include <sstream>

#include "kiosk/AtomicFile.h"

namespace kiosk::log {
namespace {

constexpr const char* kTag = "qkiosk-kiosk-key";
constexpr const char* kPublicTag = "qkiosk-kiosk-public";

std::string hex(const unsigned char* p, std::size_t n) {
    std::string out(n * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), p, n);
    out.pop_back();
    return out;
}

bool unhex(const std::string& text, unsigned char* out, std::size_t n) {
    std::size_t len = 0;
    return sodium_hex2bin(out, n, text.data(), text.size(), nullptr, &len, nullptr) == 0 && len == n;
}

}  // namespace

Result<KioskKey> KioskKey::load(const std::string& path) {
    if (sodium_init() < 0) return makeError("libsodium cannot be initialised");
    auto text = readTextFile(path);
    if (!text) return text.error();
    std::istringstream in(*text);
    std::string tag, secretHex;
    in >> tag >> secretHex;
    KioskKey k;
    if (tag != kTag || !unhex(secretHex, k.secret_.data(), k.secret_.size()))
        return makeError(path + ": not a qkiosk kiosk key");
    crypto_sign_ed25519_sk_to_pk(k.public_.data(), k.secret_.data());
    return k;
}

Result<KioskKey> KioskKey::loadOrCreate(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return load(path);
    if (sodium_init() < 0) return makeError("libsodium cannot be initialised");
    KioskKey k;
    crypto_sign_keypair(k.public_.data(), k.secret_.data());
    std::string text = std::string(kTag) + " " + hex(k.secret_.data(), k.secret_.size()) + "\n";
    auto st = writeFileAtomically(path, text, 0600);
    sodium_memzero(text.data(), text.size());
    if (!st) return st.error();
    return k;
}

std::string KioskKey::sign(const std::string& message) const {
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         secret_.data());
    return hex(sig, sizeof sig);
}

std::string KioskKey::signRaw(const std::string& message) const {
    std::string sig(crypto_sign_BYTES, '\0');
    crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_.data());
    return sig;
}

std::string KioskKey::publicHex() const { return hex(public_.data(), public_.size()); }

std::string KioskKey::publicKeyFileText() const { return std::string(kPublicTag) + " " + publicHex() + "\n"; }

Result<std::vector<std::string>> KioskKey::readPublicKeys(const std::string& path) {
    auto text = readTextFile(path);
    if (!text) return text.error();
    std::vector<std::string> keys;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string tag, keyHex, extra;
        if (!(words >> tag)) continue;
        unsigned char pk[crypto_sign_PUBLICKEYBYTES];
        if (tag != kPublicTag || !(words >> keyHex) || (words >> extra) || !unhex(keyHex, pk, sizeof pk))
            return makeError(path + ": not a qkiosk kiosk public key file (lines \"" + kPublicTag + " <64 hex digits>\")");
        keys.push_back(keyHex);
    }
    if (keys.empty()) return makeError(path + ": holds no kiosk public key");
    return keys;
}

bool KioskKey::verifyRaw(const std::string& publicKeyHex, const std::string& message, const std::string& signature) {
    if (sodium_init() < 0 || signature.size() != crypto_sign_BYTES) return false;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    if (!unhex(publicKeyHex, pk, sizeof pk)) return false;
    return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), pk) == 0;
}

bool KioskKey::verify(const std::string& publicKeyHex, const std::string& message, const std::string& signatureHex) {
    if (sodium_init() < 0) return false;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
    if (!unhex(publicKeyHex, pk, sizeof pk) || !unhex(signatureHex, sig, sizeof sig)) return false;
    return crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(message.data()), message.size(), pk) == 0;
}

}  // namespace kiosk::log
