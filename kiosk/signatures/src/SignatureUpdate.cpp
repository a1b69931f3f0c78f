#include "kiosk/signatures/SignatureUpdate.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "kiosk/files/AtomicFile.h"
#include "kiosk/files/KeyFile.h"
#include "qkiosk/base/Dates.h"
#include "qkiosk/base/Sha256.h"
#include "qkiosk/base/UniqueFd.h"

namespace fs = std::filesystem;

namespace kiosk::signatures {
namespace {

constexpr const char* kPublicTag = "qkiosk-ed25519-public";
constexpr const char* kSecretTag = "qkiosk-ed25519-secret";
constexpr const char* kSignatureTag = "qkiosk-ed25519-signature";

Status initSodium() {
    if (sodium_init() < 0) return makeError("libsodium cannot be initialised");
    return {};
}

Result<std::vector<unsigned char>> readTagged(const std::string& path, const char* tag, std::size_t bytes) {
    auto lines = readTaggedHex(path, tag, bytes, true);
    if (!lines) return lines.error();
    return std::move(lines->front());
}

Result<std::string> sha256Of(const std::string& path, std::uint64_t& size) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return makeError(path + ": " + std::strerror(errno));
    Sha256 h;
    std::vector<std::uint8_t> buf(1 << 20);
    size = 0;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) return makeError(path + ": " + std::strerror(errno));
        if (n == 0) break;
        h.update(std::span(buf.data(), static_cast<std::size_t>(n)));
        size += static_cast<std::uint64_t>(n);
    }
    const auto d = h.finish();
    return toHex(d);
}

Status copyFile(const std::string& from, const std::string& to) {
    std::error_code ec;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) return makeError(to + ": " + ec.message());
    UniqueFd fd(::open(to.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || ::fsync(fd.get()) != 0) return makeError(to + ": cannot be written to disk: " + std::strerror(errno));
    return {};
}

Status syncDir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid() || ::fsync(fd.get()) != 0) return makeError(dir + ": " + std::strerror(errno));
    return {};
}

}  // namespace

bool isDatabaseName(const std::string& name) {
    // What cl_load reads, and nothing that could be a path or a hidden file.
    static const std::regex re(
        R"(^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.(cvd|cld|cud|hdb|hsb|hdu|hsu|mdb|msb|mdu|msu|ndb|ndu|ldb|ldu|idb|cdb|cat|crb|ftm|fp|sfp|ign|ign2|pdb|gdb|wdb|cfg|info|yar|yara|pwdb|imp|hdbx)$)");
    return std::regex_match(name, re);
}

Status generateKeys(const std::string& secretPath, const std::string& publicPath) {
    if (auto st = initSodium(); !st) return st;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    const std::string secret = taggedHexLine(kSecretTag, sk, sizeof sk);
    sodium_memzero(sk, sizeof sk);
    auto st = writeFileAtomically(secretPath, secret, 0600);
    sodium_memzero(const_cast<char*>(secret.data()), secret.size());
    if (!st) return st;
    return writeFileAtomically(publicPath, taggedHexLine(kPublicTag, pk, sizeof pk));
}

Status makeBundle(const std::string& secretKeyPath, const std::vector<std::string>& files, const std::string& outDir) {
    if (auto st = initSodium(); !st) return st;
    auto sk = readTagged(secretKeyPath, kSecretTag, crypto_sign_SECRETKEYBYTES);
    if (!sk) return sk.error();
    if (files.empty()) return makeError("a bundle needs at least one database file");
    auto taken = pathExists(outDir);
    if (!taken) return taken.error();
    if (*taken) return makeError(outDir + ": already exists");
    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec) return makeError(outDir + ": " + ec.message());

    std::ostringstream manifest;
    manifest << "# qkiosk signature update bundle: verify with the site's public key before use\n"
             << "format = 1\ncreated = \"" << rfc3339Now() << "\"\n";
    std::set<std::string> names;
    for (const auto& f : files) {
        const std::string name = fs::path(f).filename().string();
        if (!isDatabaseName(name)) return makeError(f + ": not a signature database file name");
        if (!names.insert(name).second) return makeError(name + ": given twice");
        if (auto st = copyFile(f, outDir + "/" + name); !st) return st;
        std::uint64_t size = 0;
        auto sha = sha256Of(outDir + "/" + name, size);
        if (!sha) return sha.error();
        manifest << "\n[[file]]\nname = \"" << name << "\"\nsize = " << size << "\nsha256 = \"" << *sha << "\"\n";
    }
    const std::string text = manifest.str();
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(text.data()), text.size(), sk->data());
    sodium_memzero(sk->data(), sk->size());
    if (auto st = writeFileAtomically(outDir + "/" + kManifestName, text); !st) return st;
    return writeFileAtomically(outDir + "/" + kSignatureName, taggedHexLine(kSignatureTag, sig, sizeof sig));
}

Result<VerifiedUpdate> verifyUpdate(const std::string& dir, const std::vector<std::string>& publicKeyPaths) {
    if (auto st = initSodium(); !st) return st.error();
    std::set<std::string> present;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!it->is_regular_file(ec) || it->is_symlink(ec)) return makeError(name + ": not a plain file");
        present.insert(name);
    }
    if (ec) return makeError(dir + ": " + ec.message());
    if (present.empty()) return makeError("the update is empty");

    VerifiedUpdate out;
    const bool hasManifest = present.count(kManifestName) > 0;
    if (!hasManifest) {
        // Unsigned by the site: only official databases, which carry their own signature.
        for (const auto& name : present) {
            if (!name.ends_with(".cvd"))
                return makeError(name + ": only official .cvd files may come without a site-signed bundle (" +
                                 kManifestName + " and " + kSignatureName + ")");
            if (!isDatabaseName(name)) return makeError(name + ": not a signature database file name");
            BundleFile f{name, 0, ""};
            auto sha = sha256Of(dir + "/" + name, f.size);
            if (!sha) return sha.error();
            f.sha256 = *sha;
            out.files.push_back(f);
        }
        return out;
    }

    // A site-signed bundle: the signature first, then every file against the signed list.
    if (!present.count(kSignatureName)) return makeError(std::string(kManifestName) + " has no " + kSignatureName);
    if (publicKeyPaths.empty())
        return makeError("the bundle is signed by a site key, but no update_keys are configured on this kiosk");
    auto manifest = readTextFile(dir + "/" + kManifestName);
    if (!manifest) return manifest.error();
    auto sig = readTagged(dir + "/" + kSignatureName, kSignatureTag, crypto_sign_BYTES);
    if (!sig) return sig.error();
    bool valid = false;
    for (const auto& keyPath : publicKeyPaths) {
        auto pk = readTagged(keyPath, kPublicTag, crypto_sign_PUBLICKEYBYTES);
        if (!pk) return pk.error();
        valid |= crypto_sign_verify_detached(sig->data(), reinterpret_cast<const unsigned char*>(manifest->data()),
                                             manifest->size(), pk->data()) == 0;
    }
    if (!valid) return makeError("the bundle's signature does not match any of the kiosk's update keys");
    out.siteSigned = true;

    try {
        const auto root = toml::parse(std::string_view(*manifest), std::string_view(kManifestName));
        if (root["format"].value_or(std::int64_t{0}) != 1) return makeError("bundle format is not 1");
        out.created = root["created"].value_or(std::string{});
        std::tm tm{};
        const char* end = ::strptime(out.created.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!end || *end) return makeError("bundle has no valid creation time");
        const auto* files = root["file"].as_array();
        if (!files || files->empty()) return makeError("bundle lists no files");
        std::set<std::string> listed;
        for (const auto& node : *files) {
            const auto* t = node.as_table();
            if (!t) return makeError("bundle: each [[file]] must be a table");
            BundleFile f{(*t)["name"].value_or(std::string{}),
                         static_cast<std::uint64_t>((*t)["size"].value_or(std::int64_t{-1})),
                         (*t)["sha256"].value_or(std::string{})};
            if (!isDatabaseName(f.name)) return makeError("bundle lists an invalid file name: " + f.name);
            if (!listed.insert(f.name).second) return makeError("bundle lists " + f.name + " twice");
            if (!present.count(f.name)) return makeError(f.name + ": listed in the bundle but missing");
            std::uint64_t size = 0;
            auto sha = sha256Of(dir + "/" + f.name, size);
            if (!sha) return sha.error();
            if (size != f.size || *sha != f.sha256) return makeError(f.name + ": differs from the signed bundle (size or SHA-256)");
            out.files.push_back(f);
        }
        for (const auto& name : present)
            if (name != kManifestName && name != kSignatureName && !listed.count(name))
                return makeError(name + ": not listed in the signed bundle");
    } catch (const toml::parse_error& e) {
        return makeError(std::string(kManifestName) + ": " + std::string(e.description()));
    }
    return out;
}

Status installDatabases(const std::string& stagingDir, const std::string& dbDir, const std::vector<BundleFile>& files,
                        const std::string& created) {
    timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (const auto when = parseRfc3339(created)) {
        times[0] = {std::chrono::system_clock::to_time_t(*when), 0};
        times[1] = times[0];
    }
    std::error_code ec;
    const fs::path target = fs::absolute(dbDir, ec).lexically_normal();
    if (ec) return makeError(dbDir + ": " + ec.message());
    const std::string parent = target.parent_path().string();
    fs::create_directories(parent, ec);
    // A fresh folder beside the database folder (same filesystem, so it can be renamed).
    std::string fresh = target.string() + ".new-XXXXXX";
    if (!::mkdtemp(fresh.data())) return makeError(parent + ": " + std::strerror(errno));
    auto cleanup = [&] { fs::remove_all(fresh, ec); };
    ::chmod(fresh.c_str(), 0755);
    for (const auto& f : files) {
        if (auto st = copyFile(stagingDir + "/" + f.name, fresh + "/" + f.name); !st) {
            cleanup();
            return st;
        }
        ::chmod((fresh + "/" + f.name).c_str(), 0644);
        ::utimensat(AT_FDCWD, (fresh + "/" + f.name).c_str(), times, 0);
    }
    if (auto st = syncDir(fresh); !st) {
        cleanup();
        return st;
    }
    auto installed = pathExists(target.string());
    if (!installed) {
        cleanup();
        return installed.error();
    }
    if (!*installed) {
        if (::rename(fresh.c_str(), target.c_str()) != 0) {
            cleanup();
            return makeError(target.string() + ": " + std::strerror(errno));
        }
        return syncDir(parent);
    }
    // One step: whoever looks sees either the old folder or the new one.
    if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
        cleanup();
        return makeError(target.string() + ": cannot swap in the new databases: " + std::strerror(errno));
    }
    auto st = syncDir(parent);
    cleanup();   // now the old databases
    return st;
}

}  // namespace kiosk::signatures
