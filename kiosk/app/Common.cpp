#include "Common.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "kiosk/files/AtomicFile.h"
#include "kiosk/log/KioskKey.h"

namespace kiosk::app {

Status readOptions(const std::string& command, const std::vector<std::string>& args, std::size_t from, const OptionSpec& spec) {
    for (std::size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (const auto f = spec.flags.find(a); f != spec.flags.end()) {
            *f->second = true;
        } else if (const auto v = spec.values.find(a); v != spec.values.end()) {
            if (i + 1 >= args.size() || args[i + 1].empty()) return makeError(command + ": " + a + " needs a value");
            *v->second = args[++i];
        } else if (spec.word && !*spec.word && !a.starts_with("-")) {
            *spec.word = a;
        } else if (spec.words && !a.starts_with("-")) {
            spec.words->push_back(a);
        } else {
            return makeError(command + ": unknown option \"" + a + "\"");
        }
    }
    return {};
}

Result<Config> loadConfigOrDefault(const std::optional<std::string>& path) {
    if (path) return loadConfig(*path);
    // A default config that is there but cannot be read is an error, not "defaults".
    auto present = pathExists(kDefaultConfigPath);
    if (!present) return present.error();
    if (*present) return loadConfig(kDefaultConfigPath);
    return Config{};
}

Result<policy::Whitelist> loadPolicy(const std::string& path) {
    auto present = pathExists(path);
    if (!present) return present.error().context("the whitelist");
    if (!*present) return policy::Whitelist{};
    return policy::loadWhitelist(path);
}

Status checkDatabaseDir(const std::string& dir) {
    std::error_code ec;
    const auto st = std::filesystem::status(dir, ec);
    if (st.type() == std::filesystem::file_type::not_found)
        return makeError(dir + ": signature database directory not found (use --db DIR)");
    if (ec) return makeError(dir + ": signature database directory cannot be reached: " + ec.message());
    if (!std::filesystem::is_directory(st)) return makeError(dir + ": not a directory (the signature databases; use --db DIR)");
    const std::filesystem::directory_iterator listing(dir, ec);
    if (ec) return makeError(dir + ": signature database directory cannot be read: " + ec.message());
    return {};
}

std::string personOf(const std::optional<std::string>& officer) {
    if (officer && !officer->empty()) return *officer;
    const uid_t uid = ::getuid();
    std::string who;
    if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) who = std::string(sudo) + " via sudo as ";
    const passwd* pw = ::getpwuid(uid);
    who += pw ? pw->pw_name : "?";
    return who + " (uid " + std::to_string(uid) + ")";
}

Result<std::vector<std::string>> trustedKioskKeys(const std::optional<std::string>& pubkeyFile, const Config& config) {
    if (pubkeyFile) return log::KioskKey::readPublicKeys(*pubkeyFile);
    auto key = log::KioskKey::load(config.kioskKey);
    if (!key) return key.error().context("the kiosk's key (use --pubkey FILE on another machine)");
    return std::vector<std::string>{key->publicHex()};
}

}  // namespace kiosk::app
