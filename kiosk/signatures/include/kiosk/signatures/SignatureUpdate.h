// Offline signature updates. The kiosk has no Internet: an officer brings the
// databases on a stick, either
//   - official ClamAV .cvd files, whose Cisco Talos signature libclamav checks
//     (qkiosk-scanner --verify-cvd, in the sandbox), or
//   - a bundle signed with the site's own Ed25519 key (libsodium): a folder
//     with the database files, bundle.toml listing each file's size and
//     SHA-256, and bundle.sig, the signature of bundle.toml's exact bytes.
// Nothing is installed unless it verifies AND loads; the install swaps the
// whole database folder in one rename, so the kiosk never sees half an update.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk::signatures {

inline constexpr const char* kBundleFolder = "qkiosk-signatures";   // on the officer's stick
inline constexpr const char* kManifestName = "bundle.toml";
inline constexpr const char* kSignatureName = "bundle.sig";

// Writes a new key pair: the secret key (mode 0600) stays with the officer
// who builds bundles, the public key goes into the kiosk's `update_keys`.
Status generateKeys(const std::string& secretPath, const std::string& publicPath);

// Builds a signed bundle in `outDir` (created; must not exist) from database files.
Status makeBundle(const std::string& secretKeyPath, const std::vector<std::string>& files, const std::string& outDir);

struct BundleFile {
    std::string name;
    std::uint64_t size = 0;
    std::string sha256;
};

struct VerifiedUpdate {
    bool siteSigned = false;        // false: official CVDs (still to be checked by libclamav)
    std::string created;            // RFC 3339, from a signed bundle
    std::vector<BundleFile> files;  // the database files, names only (no folders)
};

// Checks what is in `dir` (a staging copy, never the officer's stick itself):
// a site-signed bundle against `publicKeyPaths`, else only .cvd files are
// accepted (their official signatures are checked separately). Any file that
// is not listed, any size or hash that differs, any odd name: an error.
Result<VerifiedUpdate> verifyUpdate(const std::string& dir, const std::vector<std::string>& publicKeyPaths);

// Whether a file name may be a signature database we install.
bool isDatabaseName(const std::string& name);

// Replaces the contents of `dbDir` with the database files of `stagingDir`
// in one atomic exchange of folders; the old databases are removed after.
// `created` (RFC 3339, may be empty) becomes the files' modification time, so
// that plain signature files of a site bundle age from when it was built.
Status installDatabases(const std::string& stagingDir, const std::string& dbDir, const std::vector<BundleFile>& files,
                        const std::string& created);

}  // namespace kiosk::signatures
