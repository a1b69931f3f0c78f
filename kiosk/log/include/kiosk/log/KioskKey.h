// The kiosk's own Ed25519 key pair (libsodium): it signs the quarantine log's
// chain head and every ticket. The secret key lives in one root-only
// file on the kiosk; the public key is what officers and the closed-network
// side verify with.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::log {

class KioskKey {
public:
    // Loads the key at `path`, or creates it (mode 0600) when there is none.
    static Result<KioskKey> loadOrCreate(const std::string& path);
    static Result<KioskKey> load(const std::string& path);

    std::string sign(const std::string& message) const;   // hex signature
    std::string signRaw(const std::string& message) const;   // the 64 signature bytes
    std::string publicHex() const;
    // The public key file officers hand to verifying machines: "qkiosk-kiosk-public <hex>".
    std::string publicKeyFileText() const;

    static bool verify(const std::string& publicKeyHex, const std::string& message, const std::string& signatureHex);
    static bool verifyRaw(const std::string& publicKeyHex, const std::string& message, const std::string& signature);
    // Reads a public key file: one or more "qkiosk-kiosk-public <hex>" lines
    // (a site with several kiosks lists them all); '#' starts a comment.
    static Result<std::vector<std::string>> readPublicKeys(const std::string& path);

private:
    std::array<unsigned char, 64> secret_{};
    std::array<unsigned char, 32> public_{};
};

}  // namespace kiosk::log
