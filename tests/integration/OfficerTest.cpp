// Security officers' accounts through the real `qkiosk officer`: Argon2id
// hashes only, a lockout after repeated wrong passwords, and every login,
// failure and lockout in the signed quarantine log.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "Harness.h"

using namespace qktest;

namespace {

struct OfficerSite {
    Workspace ws;
    fs::path config;
    explicit OfficerSite(const std::string& extra = "") {
        config = ws.write("k.toml", join({"log = \"", (ws.path() / "log.db").string(), "\"\nkiosk_key = \"",
                                          (ws.path() / "kiosk.key").string(), "\"\n[officers]\nfile = \"",
                                          (ws.path() / "officers").string(), "\"\nlockout_file = \"",
                                          (ws.path() / "lockout.json").string(), "\"\nattempts = 3\nlockout_minutes = 15\n", extra}));
    }
    // The password arrives on stdin, as from a script (a terminal would ask without echo).
    RunResult officer(const std::string& sub, const std::string& name, const std::string& password) {
        return run({"sh", "-c", "printf '%s\\n' \"$1\" | \"$2\" officer \"$3\" \"$4\" --config \"$5\"", "sh", password,
                    QKIOSK_BIN, sub, name, config.string()});
    }
    std::string records(const std::string& kind) {
        return run({QKIOSK_BIN, "log", "list", "--kind", kind, "--config", config.string()}).out;
    }
    // The records of `kind` with their data (JSON Lines).
    std::string recordData(const std::string& kind) {
        return run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", kind, "--config", config.string()}).out;
    }
};

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("An officer logs in with a password kept only as an Argon2id hash, and every login is a signed record",
          "[officer]") {
    OfficerSite site;
    const std::string password = "correct horse 電池";
    auto added = site.officer("add", "山田 太郎", password);
    INFO(added.out << added.err);
    REQUIRE(added.exitCode == 0);
    struct stat st{};
    REQUIRE(::stat((site.ws.path() / "officers").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const auto file = slurp(site.ws.path() / "officers");
    CHECK_THAT(file, Catch::Contains("$argon2id$") && Catch::Contains(" 山田 太郎"));
    CHECK(file.find("correct horse") == std::string::npos);
    CHECK(run({QKIOSK_BIN, "officer", "list", "--config", site.config.string()}).out == "山田 太郎\n");

    auto ok = site.officer("login", "山田 太郎", password);
    CHECK(ok.exitCode == 0);
    CHECK_THAT(site.records("officer-login"), Catch::Contains("officer-login"));
    CHECK(site.officer("add", "佐藤", "short").exitCode == 2);   // fewer than 10 characters
    CHECK_THAT(site.records("officer-added"), Catch::Contains("officer-added"));
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", site.config.string()}).exitCode == 0);
}

TEST_CASE("Wrong passwords lock the name out, unknown names get the same answer, and all of it is logged", "[officer]") {
    OfficerSite site;
    REQUIRE(site.officer("add", "yamada", "a long enough password").exitCode == 0);

    // An unknown name and a wrong password look the same to whoever tries.
    const auto unknown = site.officer("login", "nobody-here", "whatever1234");
    const auto wrong = site.officer("login", "yamada", "not the password");
    CHECK(unknown.exitCode == 1);
    CHECK(wrong.exitCode == 1);
    CHECK(unknown.out == wrong.out);
    CHECK(site.officer("login", "yamada", "still not it").exitCode == 1);
    const auto third = site.officer("login", "yamada", "nor this one");   // the third in a row: locked
    CHECK(third.exitCode == 1);
    CHECK_THAT(third.out, Catch::Contains("Too many wrong passwords") && Catch::Contains("15 minutes"));
    // Even the right password waits for the lockout to end.
    const auto locked = site.officer("login", "yamada", "a long enough password");
    CHECK(locked.exitCode == 1);
    CHECK_THAT(locked.out, Catch::Contains("Too many wrong passwords"));

    CHECK(count(site.records("officer-login-failed"), "officer-login-failed") == 5);   // unknown, 3 wrong, 1 while locked
    CHECK(count(site.records("officer-locked-out"), "officer-locked-out") == 1);
    CHECK(count(site.records("officer-login"), " officer-login ") == 0);
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", site.config.string()}).exitCode == 0);

    // An officer removed cannot log in.
    REQUIRE(run({QKIOSK_BIN, "officer", "remove", "yamada", "--config", site.config.string()}).exitCode == 0);
    CHECK(run({QKIOSK_BIN, "officer", "list", "--config", site.config.string()}).out.empty());
    CHECK_THAT(site.records("officer-removed"), Catch::Contains("officer-removed"));

    // A damaged lockout file never unlocks anybody; it locks the name it cannot read.
    REQUIRE(site.officer("add", "sato", "another long password").exitCode == 0);
    site.ws.write("lockout.json", "{\"sato\": {\"count\": \"x\"}}\n");
    const auto damaged = site.officer("login", "sato", "another long password");
    CHECK(damaged.exitCode == 1);
    CHECK_THAT(damaged.out, Catch::Contains("Too many wrong passwords"));
    site.ws.write("lockout.json", "not json\n");
    const auto garbled = site.officer("login", "sato", "another long password");
    CHECK(garbled.exitCode == 2);
    CHECK_THAT(garbled.err, Catch::Contains("lockout.json: damaged"));
}

namespace {

// System accounts for the PAM test, removed again whatever happens: a group
// of officers, one member and one user outside it, and a PAM service of
// pam_unix (without its delay after a failure).
struct SystemAccounts {
    std::string tag = std::to_string(::getpid());
    std::string group = "qkg" + tag, officer = "qko" + tag, outsider = "qkn" + tag;
    fs::path service = fs::path("/etc/pam.d") / ("qkiosk-test-" + tag);
    SystemAccounts() {
        if (::geteuid() != 0) {
            WARN("SKIP: PAM accounts need root");
            std::exit(77);
        }
        for (const char* tool : {"useradd", "userdel", "groupadd", "groupdel", "chpasswd"}) requireTool(tool);
        if (!fs::exists("/lib/x86_64-linux-gnu/security/pam_unix.so") && !fs::exists("/usr/lib/x86_64-linux-gnu/security/pam_unix.so")) {
            WARN("SKIP: pam_unix.so is not installed");
            std::exit(77);
        }
        std::ofstream(service) << "auth    required pam_unix.so nodelay\naccount required pam_unix.so\n";
        REQUIRE(run({"groupadd", group}).exitCode == 0);
        REQUIRE(run({"useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G", group, officer}).exitCode == 0);
        REQUIRE(run({"useradd", "-M", "-N", "-s", "/usr/sbin/nologin", outsider}).exitCode == 0);
        const auto set = run({"sh", "-c", "printf '%s:%s\\n%s:%s\\n' \"$1\" 'system password 1' \"$2\" 'system password 2' | chpasswd", "sh",
                              officer, outsider});
        INFO(set.err);
        REQUIRE(set.exitCode == 0);
    }
    ~SystemAccounts() {
        (void)run({"userdel", officer});
        (void)run({"userdel", outsider});
        (void)run({"groupdel", group});
        std::error_code ec;
        fs::remove(service, ec);
    }
};

}  // namespace

TEST_CASE("Through PAM, a system account in the officers' group logs in, and nobody else", "[officer][pam]") {
    SystemAccounts accounts;
    OfficerSite site(join({"pam_service = \"", accounts.service.filename().string(), "\"\npam_group = \"", accounts.group, "\"\n"}));
    const auto in = site.officer("login", accounts.officer, "system password 1");
    INFO(in.out << in.err);
    CHECK(in.exitCode == 0);
    CHECK_THAT(site.recordData("officer-login"), Catch::Contains("\"how\":\"pam\""));
    // A wrong password, and a right one of a user outside the group: refused alike.
    const auto wrong = site.officer("login", accounts.officer, "not the password");
    const auto outside = site.officer("login", accounts.outsider, "system password 2");
    CHECK(wrong.exitCode == 1);
    CHECK(outside.exitCode == 1);
    CHECK(wrong.out == outside.out);
    const auto failed = site.recordData("officer-login-failed");
    CHECK_THAT(failed, Catch::Contains("Authentication failure") && Catch::Contains("not in the group " + accounts.group));
    // A local officer's name is never handed to PAM.
    REQUIRE(site.officer("add", accounts.officer, "a local password 1").exitCode == 0);
    CHECK(site.officer("login", accounts.officer, "system password 1").exitCode == 1);
    CHECK(site.officer("login", accounts.officer, "a local password 1").exitCode == 0);
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", site.config.string()}).exitCode == 0);
}
