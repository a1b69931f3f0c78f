// Security officers' accounts on the kiosk: who may use the officer screens
// of the kiosk terminal and the officer commands. Passwords are stored only as
// Argon2id hashes (libsodium crypto_pwhash_str) in a root-only file, one
// officer per line "<hash> <name>" (names may be Japanese). With
// `pam_service` set, other names are checked through PAM (system or directory
// accounts) and must belong to `pam_group`. Repeated failures
// lock a name out for a while; every login, failure and lockout is a record
// in the quarantine log, written before the answer is given.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "kiosk/config/Config.h"
#include "kiosk/log/QuarantineLog.h"
#include "qkiosk/base/Result.h"

namespace kiosk::officer {

using Settings = OfficerSettings;   // Config.h

// The officers' names, in file order.
Result<std::vector<std::string>> list(const Settings& s);
// Adds an officer or sets a new password (at least 10 characters).
Status setPassword(const Settings& s, const std::string& name, const std::string& password);
Status remove(const Settings& s, const std::string& name);

enum class Outcome { Accepted, Refused, LockedOut };
struct Answer {
    Outcome outcome = Outcome::Refused;
    std::string message;    // for the screen: never says whether the name exists
};

// Checks a login, records it in the log (officer-login, officer-login-failed,
// officer-locked-out) and keeps the failure count. An error: nothing could be
// checked or recorded, which refuses the login too.
Result<Answer> login(const Settings& s, const std::string& name, const std::string& password, log::SignedLog& log,
                     const std::string& where);

}  // namespace kiosk::officer
