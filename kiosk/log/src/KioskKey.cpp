#include "kiosk/log/KioskKey.h"

#include <sodium.h>

#include <filesystem>
#include <sstream>

#include "kiosk/files/AtomicFile.h"
#include "kiosk/files/KeyFile.h"

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
    auto secret = readTaggedHex(path, kTag, crypto_sign_SECRETKEYBYTES, true);
    if (!secret) return secret.error();
    KioskKey k;
    std::copy(secret->front().begin(), secret->front().end(), k.secret_.begin());
    sodium_memzero(secret->front().data(), secret->front().size());
    crypto_sign_ed25519_sk_to_pk(k.public_.data(), k.secret_.data());
    return k;
}

Result<KioskKey> KioskKey::loadOrCreate(const std::string& path) {
    // Only a key that is not there is made: one that cannot be looked at is
    // an error, never replaced by a new key.
    auto present = pathExists(path);
    if (!present) return present.error();
    if (*present) return load(path);
    if (sodium_init() < 0) return makeError("libsodium cannot be initialised");
    KioskKey k;
    crypto_sign_keypair(k.public_.data(), k.secret_.data());
    std::string text = taggedHexLine(kTag, k.secret_.data(), k.secret_.size());
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

std::string KioskKey::publicKeyFileText() const { return taggedHexLine(kPublicTag, public_.data(), public_.size()); }

Result<std::vector<std::string>> KioskKey::readPublicKeys(const std::string& path) {
    auto keys = readTaggedHex(path, kPublicTag, crypto_sign_PUBLICKEYBYTES, false);
    if (!keys) return keys.error();
    std::vector<std::string> out;
    for (const auto& k : *keys) out.push_back(hex(k.data(), k.size()));
    return out;
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
