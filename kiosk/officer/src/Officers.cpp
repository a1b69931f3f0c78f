#include "kiosk/officer/Officers.h"

#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "kiosk/files/AtomicFile.h"

namespace kiosk::officer {
namespace {

struct Account {
    std::string hash, name;
};

bool validName(const std::string& name) {
    if (name.empty() || name.size() > 128 || name.front() == ' ' || name.back() == ' ') return false;
    return std::none_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

Result<std::vector<Account>> readAccounts(const Settings& s) {
    auto present = pathExists(s.file);
    if (!present) return present.error();
    if (!*present) return std::vector<Account>{};
    auto text = readTextFile(s.file);
    if (!text) return text.error();
    std::vector<Account> out;
    std::istringstream in(*text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line.front() == '#') continue;
        const auto space = line.find(' ');
        if (space == std::string::npos || line.rfind("$argon2id$", 0) != 0 || !validName(line.substr(space + 1)))
            return makeError(s.file + ":" + std::to_string(number) + ": not \"<argon2id hash> <name>\"");
        out.push_back({line.substr(0, space), line.substr(space + 1)});
    }
    return out;
}

Status writeAccounts(const Settings& s, const std::vector<Account>& accounts) {
    std::string text = "# qkiosk officers: \"<Argon2id hash> <name>\", managed with qkiosk officer add|remove\n";
    for (const auto& a : accounts) text += a.hash + " " + a.name + "\n";
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(s.file).parent_path(), ec);
    return writeFileAtomically(s.file, text, 0600);
}

// Failures in a row and the end of a lockout, per name (the name as given,
// so that unknown names are counted and locked too: nothing tells which exist).
struct Failures {
    std::uint32_t count = 0;
    std::int64_t lockedUntil = 0;   // unix time
};

// A missing file: nobody has failed yet. A damaged one refuses every login
// until root looks at it: it must never unlock anybody.
Result<nlohmann::json> readLockouts(const Settings& s) {
    auto present = pathExists(s.lockoutFile);
    if (!present) return present.error();
    if (!*present) return nlohmann::json::object();
    auto text = readTextFile(s.lockoutFile);
    if (!text) return text.error();
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) return makeError(s.lockoutFile + ": damaged (every officer login is refused until root removes it)");
    return j;
}

// Entries that no longer matter: no lockout in force and no failure within
// the last `lockout_minutes`. Names typed at random do not grow the file
// without end, and failures in a row count within that window.
void pruneLockouts(const Settings& s, nlohmann::json& lockouts, std::int64_t now) {
    const std::int64_t window = static_cast<std::int64_t>(s.lockoutMinutes) * 60;
    for (auto it = lockouts.begin(); it != lockouts.end();) {
        const auto& e = it.value();
        const auto number = [&](const char* key) {
            return e.is_object() && e.contains(key) && e[key].is_number_integer() ? e[key].get<std::int64_t>() : -1;
        };
        const bool spent = number("locked_until") >= 0 && number("locked_until") <= now && number("last") >= 0 &&
                           number("last") + window <= now;
        it = spent ? lockouts.erase(it) : std::next(it);
    }
}

Status writeLockouts(const Settings& s, const nlohmann::json& j) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(s.lockoutFile).parent_path(), ec);
    return writeFileAtomically(s.lockoutFile, j.dump() + "\n", 0600);
}

// PAM's conversation: the password for every hidden prompt, nothing else.
int answerWithPassword(int count, const struct pam_message** messages, struct pam_response** responses, void* password) {
    if (count <= 0 || count > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
    auto* out = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (!out) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        if (messages[i]->msg_style != PAM_PROMPT_ECHO_OFF) continue;   // info and errors: nobody to show them to
        out[i].resp = ::strdup(static_cast<const std::string*>(password)->c_str());
        if (!out[i].resp) {
            for (int j = 0; j < i; ++j) std::free(out[j].resp);
            std::free(out);
            return PAM_BUF_ERR;
        }
    }
    *responses = out;
    return PAM_SUCCESS;
}

// A system (or directory) account that may act as an officer: PAM says the
// password is right and the account is usable, and the user is in the
// officers' group. Why not, for the log.
std::optional<std::string> pamRefusal(const Settings& s, const std::string& name, const std::string& password) {
    std::string secret = password;
    pam_conv conv{answerWithPassword, &secret};
    pam_handle_t* pam = nullptr;
    int rc = ::pam_start(s.pamService.c_str(), name.c_str(), &conv, &pam);
    if (rc == PAM_SUCCESS) rc = ::pam_authenticate(pam, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS) rc = ::pam_acct_mgmt(pam, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    std::optional<std::string> why;
    if (rc != PAM_SUCCESS) why = std::string("PAM ") + s.pamService + ": " + (pam ? ::pam_strerror(pam, rc) : "cannot start");
    if (pam) ::pam_end(pam, rc);
    sodium_memzero(secret.data(), secret.size());
    if (why) return why;
    // Membership: the group's gid among the user's groups (primary and supplementary).
    const group* g = ::getgrnam(s.pamGroup.c_str());
    const passwd* pw = ::getpwnam(name.c_str());
    if (!g || !pw) return "not in the group " + s.pamGroup;
    const gid_t wanted = g->gr_gid;
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (::getgrouplist(name.c_str(), pw->pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        if (::getgrouplist(name.c_str(), pw->pw_gid, groups.data(), &n) < 0) return "not in the group " + s.pamGroup;
    }
    groups.resize(static_cast<std::size_t>(n));
    if (std::find(groups.begin(), groups.end(), wanted) == groups.end()) return "not in the group " + s.pamGroup;
    return std::nullopt;
}

}  // namespace

Result<std::vector<std::string>> list(const Settings& s) {
    auto accounts = readAccounts(s);
    if (!accounts) return accounts.error();
    std::vector<std::string> names;
    for (const auto& a : *accounts) names.push_back(a.name);
    return names;
}

Status setPassword(const Settings& s, const std::string& name, const std::string& password) {
    if (!validName(name)) return makeError("an officer's name must be 1 to 128 bytes, without control characters or outer spaces");
    if (password.size() < 10) return makeError("the password must have at least 10 characters");
    if (sodium_init() < 0) return makeError("libsodium cannot be initialised");
    auto accounts = readAccounts(s);
    if (!accounts) return accounts.error();
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return makeError("out of memory while hashing the password");
    auto it = std::find_if(accounts->begin(), accounts->end(), [&](const Account& a) { return a.name == name; });
    if (it == accounts->end()) accounts->push_back({hash, name});
    else it->hash = hash;
    return writeAccounts(s, *accounts);
}

Status remove(const Settings& s, const std::string& name) {
    auto accounts = readAccounts(s);
    if (!accounts) return accounts.error();
    const auto before = accounts->size();
    std::erase_if(*accounts, [&](const Account& a) { return a.name == name; });
    if (accounts->size() == before) return makeError("no officer named \"" + name + "\"");
    return writeAccounts(s, *accounts);
}

Result<Answer> login(const Settings& s, const std::string& given, const std::string& password, log::SignedLog& log,
                     const std::string& where) {
    if (sodium_init() < 0) return makeError("libsodium cannot be initialised");
    // A name no account can have (a NUL, a line break, outer spaces) is a
    // failure of its own kind, counted and recorded under a name of its own:
    // it must not reach PAM, which would read "alice\0x" as "alice" with a
    // fresh failure count each time.
    const std::string name = validName(given) ? given : std::string("(invalid name)");
    auto accounts = readAccounts(s);
    if (!accounts) return accounts.error();
    auto read = readLockouts(s);
    if (!read) return read.error();
    auto& lockouts = *read;
    const std::int64_t now = std::time(nullptr);
    pruneLockouts(s, lockouts, now);
    Failures f;
    // A damaged entry counts as a lockout: failing closed costs a wait, not a guess.
    if (lockouts.contains(name)) {
        const auto& e = lockouts[name];
        if (e.is_object() && e.contains("count") && e["count"].is_number_unsigned() && e.contains("locked_until") &&
            e["locked_until"].is_number_integer()) {
            f.count = e["count"].get<std::uint32_t>();
            f.lockedUntil = e["locked_until"].get<std::int64_t>();
        } else {
            f.lockedUntil = now + static_cast<std::int64_t>(s.lockoutMinutes) * 60;
        }
    }
    nlohmann::json record = {{"name", name}, {"where", where}};
    if (f.lockedUntil > now) {
        record["locked_for_seconds"] = f.lockedUntil - now;
        record["why"] = "locked out";
        if (auto r = log.appendSigned("officer-login-failed", "", record.dump()); !r) return r.error();
        return Answer{Outcome::LockedOut, "Too many wrong passwords: try again in " +
                                              std::to_string((f.lockedUntil - now + 59) / 60) + " minutes."};
    }
    const auto it = std::find_if(accounts->begin(), accounts->end(), [&](const Account& a) { return a.name == name; });
    // An unknown name costs the same time as a wrong password.
    static const std::string dummy = [] {
        char h[crypto_pwhash_STRBYTES];
        const std::string p = "qkiosk-no-such-officer";
        if (crypto_pwhash_str_alg(h, p.data(), p.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0)
            return std::string();
        return std::string(h);
    }();
    const std::string& hash = it == accounts->end() ? dummy : it->hash;
    bool ok = !hash.empty() && crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0 &&
              it != accounts->end() && name == given;
    // Not a local officer: a system or directory account, if the site uses PAM.
    record["how"] = "local";
    if (it == accounts->end() && !s.pamService.empty() && name == given) {
        record["how"] = "pam";
        const auto refusal = pamRefusal(s, name, password);
        ok = !refusal;
        if (refusal) record["pam"] = *refusal;
    }
    if (ok) {
        lockouts.erase(name);
        if (auto st = writeLockouts(s, lockouts); !st) return st.error();
        if (auto r = log.appendSigned("officer-login", "", record.dump()); !r) return r.error();
        return Answer{Outcome::Accepted, "Welcome, " + name + "."};
    }
    ++f.count;
    const bool lock = f.count >= s.attempts;
    if (lock) f.lockedUntil = now + static_cast<std::int64_t>(s.lockoutMinutes) * 60;
    lockouts[name] = {{"count", lock ? 0u : f.count}, {"locked_until", f.lockedUntil}, {"last", now}};
    if (auto st = writeLockouts(s, lockouts); !st) return st.error();
    record["failures"] = f.count;
    record["why"] = "wrong name or password";
    if (auto r = log.appendSigned("officer-login-failed", "", record.dump()); !r) return r.error();
    if (lock) {
        if (auto r = log.appendSigned("officer-locked-out", "",
                                      nlohmann::json{{"name", name}, {"minutes", s.lockoutMinutes}, {"where", where}}.dump());
            !r)
            return r.error();
        return Answer{Outcome::LockedOut, "Too many wrong passwords: try again in " + std::to_string(s.lockoutMinutes) + " minutes."};
    }
    return Answer{Outcome::Refused, "Wrong name or password."};
}

}  // namespace kiosk::officer
