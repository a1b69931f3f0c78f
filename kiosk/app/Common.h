// What several subcommands share: loading the config and the whitelist, and
// turning a USB device and its policy decision into report values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiosk/config/Config.h"
#include "kiosk/model/Report.h"
#include "kiosk/devices/UsbDevice.h"
#include "kiosk/policy/Policy.h"

namespace kiosk::app {

// The options one subcommand takes: "--name VALUE" options, flags, and (if
// `word` is set) one argument without "--" (a ticket id, a name).
struct OptionSpec {
    std::map<std::string, std::optional<std::string>*> values;
    std::map<std::string, bool*> flags;
    std::optional<std::string>* word = nullptr;
    std::vector<std::string>* words = nullptr;   // or any number of them (files)
};
// Reads args[from..] into `spec`; the error names the command and the option.
Status readOptions(const std::string& command, const std::vector<std::string>& args, std::size_t from, const OptionSpec& spec);

// The config from --config, else /etc/qkiosk/qkiosk.toml if present, else defaults.
Result<Config> loadConfigOrDefault(const std::optional<std::string>& path);

// The whitelist from `path`. A file that does not exist is an empty whitelist
// (a fresh kiosk has approved nothing yet); a file that cannot be reached or
// does not parse is the error.
Result<policy::Whitelist> loadPolicy(const std::string& path);

// The signature database folder exists and this user can list it; the error
// names it ("/root/sigs: Permission denied", "...: not found (use --db DIR)").
Status checkDatabaseDir(const std::string& dir);

// Who did an officer action, for its log record: the --officer name given,
// else the login behind sudo, else the user running qkiosk ("root (uid 0)").
std::string personOf(const std::optional<std::string>& officer);

// The kiosk public keys to check signatures with: the file given with
// --pubkey (one or more kiosks' keys), else this kiosk's own key.
Result<std::vector<std::string>> trustedKioskKeys(const std::optional<std::string>& pubkeyFile, const Config& config);

}  // namespace kiosk::app
