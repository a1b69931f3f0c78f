// The quarantine log's promises: every record chained and signed, any edit,
// deletion, insertion or reordering named by verify(), and a log that still
// opens and verifies after the writer was killed mid-write.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "kiosk/log/QuarantineLog.h"

using namespace kiosk::log;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "qkiosk-log-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()));
        path = t;
    }
    ~TempDir() { fs::remove_all(path); }
};

// Changes the database behind the log's back, as an attacker with the file would.
void tamper(const fs::path& db, const std::string& sql) {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(h);
    REQUIRE(rc == SQLITE_OK);
}

// Text built by appends (g++ 12 warns falsely on "literal" + std::string).
std::string join(std::initializer_list<std::string> parts) {
    std::string out;
    for (const auto& p : parts) out.append(p);
    return out;
}

}  // namespace

TEST_CASE("The quarantine log chains and signs its records, and names the first one tampered with", "[log]") {
    TempDir dir;
    const auto dbPath = dir.path / "log.db";
    auto key = KioskKey::loadOrCreate((dir.path / "kiosk.key").string());
    REQUIRE(key);
    CHECK((fs::status(dir.path / "kiosk.key").permissions() & fs::perms::others_read) == fs::perms::none);
    {
        auto log = QuarantineLog::open(dbPath.string());
        REQUIRE(log);
        for (int i = 1; i <= 5; ++i) {
            auto r = (*log)->append("session-end", join({"T", std::to_string(i)}),
                                    join({"{\"verdict\":\"pass\",\"n\":", std::to_string(i), "}"}));
            REQUIRE(r);
            CHECK(r->seq == i);
        }
        REQUIRE((*log)->signHead(*key));
    }
    auto verify = [&] {
        auto log = QuarantineLog::open(dbPath.string());
        REQUIRE(log);
        auto v = (*log)->verify(key->publicHex());
        REQUIRE(v);
        return *v;
    };

    SECTION("untouched: every record verifies and all are signed") {
        const auto v = verify();
        CHECK(v.ok());
        CHECK(v.records == 5);
        CHECK(v.signedUpTo == 5);
    }
    SECTION("one record edited") {
        tamper(dbPath, "UPDATE records SET data = '{\"verdict\":\"fail\",\"n\":3}' WHERE seq = 3");
        const auto v = verify();
        REQUIRE_FALSE(v.ok());
        CHECK(*v.firstBad == 3);
        CHECK_THAT(v.problem, Catch::Contains("changed"));
    }
    SECTION("one record deleted") {
        tamper(dbPath, "DELETE FROM records WHERE seq = 3");
        const auto v = verify();
        REQUIRE_FALSE(v.ok());
        CHECK(*v.firstBad == 3);
        CHECK_THAT(v.problem, Catch::Contains("missing"));
    }
    SECTION("two records swapped") {
        tamper(dbPath, "UPDATE records SET seq = -2 WHERE seq = 2; UPDATE records SET seq = 2 WHERE seq = 3; "
                       "UPDATE records SET seq = 3 WHERE seq = -2");
        const auto v = verify();
        REQUIRE_FALSE(v.ok());
        CHECK(*v.firstBad == 2);
    }
    SECTION("a record inserted in the middle, even with a correct hash of its own") {
        Record fake{3, "2026-01-01T00:00:00Z", "session-end", "FAKE", "{}", "", ""};
        {
            auto log = QuarantineLog::open(dbPath.string());
            REQUIRE(log);
            auto two = (*log)->records(2, 1);
            REQUIRE(two);
            fake.prevHash = two->at(0).hash;
        }
        fake.hash = recordHash(fake);
        tamper(dbPath, "UPDATE records SET seq = seq + 10 WHERE seq >= 3; UPDATE records SET seq = seq - 9 WHERE seq >= 13; "
                       "INSERT INTO records VALUES(3, '" + fake.time + "', 'session-end', 'FAKE', '{}', '" + fake.prevHash +
                       "', '" + fake.hash + "')");
        const auto v = verify();
        REQUIRE_FALSE(v.ok());
        CHECK(*v.firstBad == 4);
    }
    SECTION("the end cut off after it was signed") {
        tamper(dbPath, "DELETE FROM records WHERE seq >= 4");
        const auto v = verify();
        REQUIRE_FALSE(v.ok());
        CHECK(*v.firstBad == 5);
        CHECK_THAT(v.problem, Catch::Contains("signed but is missing"));
    }
    SECTION("a head re-signed with another key") {
        TempDir other;
        auto forger = KioskKey::loadOrCreate((other.path / "k").string());
        REQUIRE(forger);
        tamper(dbPath, "UPDATE heads SET signature = '" + forger->sign("anything") + "'");
        const auto v = verify();
        REQUIRE_FALSE(v.ok());
        CHECK_THAT(v.problem, Catch::Contains("does not verify"));
    }
}

TEST_CASE("Pruning old records is itself a signed record, and the shorter chain still verifies", "[log]") {
    TempDir dir;
    const auto dbPath = dir.path / "log.db";
    auto key = KioskKey::loadOrCreate((dir.path / "kiosk.key").string());
    REQUIRE(key);
    auto log = QuarantineLog::open(dbPath.string());
    REQUIRE(log);
    for (int i = 1; i <= 5; ++i) REQUIRE((*log)->append("session", join({"T", std::to_string(i)}), "{}"));
    REQUIRE((*log)->signHead(*key));
    auto pruned = (*log)->prune(3, "山田 officer", "2025-01-01", *key);
    REQUIRE(pruned);
    CHECK(pruned->seq == 6);
    CHECK_THAT(pruned->data, Catch::Contains("山田 officer") && Catch::Contains("\"first_kept\":4"));
    auto left = (*log)->records();
    REQUIRE(left);
    REQUIRE(left->size() == 3);   // 4, 5 and the pruning record
    CHECK(left->front().seq == 4);
    auto v = (*log)->verify(key->publicHex());
    REQUIRE(v);
    INFO(v->problem);
    CHECK(v->ok());
    CHECK(v->signedUpTo == 6);

    SECTION("deleting a kept record after the pruning is still caught") {
        tamper(dbPath, "DELETE FROM records WHERE seq = 4");
        auto after = (*log)->verify(key->publicHex());
        REQUIRE(after);
        REQUIRE_FALSE(after->ok());
        CHECK(*after->firstBad == 4);
    }
    SECTION("the last record is always kept") {
        CHECK_FALSE((*log)->prune(6, "x", "2025-01-01", *key));
    }
}

TEST_CASE("Deleting old records without the officer's signed pruning record is caught", "[log]") {
    TempDir dir;
    const auto dbPath = dir.path / "log.db";
    auto key = KioskKey::loadOrCreate((dir.path / "kiosk.key").string());
    REQUIRE(key);
    {
        auto log = QuarantineLog::open(dbPath.string());
        REQUIRE(log);
        for (int i = 1; i <= 4; ++i) REQUIRE((*log)->append("session", "T", "{}"));
        REQUIRE((*log)->signHead(*key));
    }
    // A forged "log-pruned" record appended by hand: its hash is right, but no head signature covers it.
    tamper(dbPath, "DELETE FROM records WHERE seq <= 2");
    {
        auto log = QuarantineLog::open(dbPath.string());
        REQUIRE(log);
        REQUIRE((*log)->append("log-pruned", "", "{\"first_kept\":3,\"first_kept_prev_hash\":\"x\"}"));
        auto v = (*log)->verify(key->publicHex());
        REQUIRE(v);
        REQUIRE_FALSE(v->ok());
        CHECK(*v->firstBad == 1);
        CHECK_THAT(v->problem, Catch::Contains("missing"));
    }
}

TEST_CASE("A writer killed in mid-write (kill -9) leaves a log that opens and verifies", "[log]") {
    TempDir dir;
    const auto dbPath = (dir.path / "log.db").string();
    auto key = KioskKey::loadOrCreate((dir.path / "kiosk.key").string());
    REQUIRE(key);
    for (int round = 0; round < 3; ++round) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            auto log = QuarantineLog::open(dbPath);
            if (!log) ::_exit(2);
            for (int i = 0;; ++i) {
                if (!(*log)->append("session-end", "T", join({"{\"i\":", std::to_string(i), "}"}))) ::_exit(3);
                if (i % 7 == 0) (void)(*log)->signHead(*key);
            }
        }
        ::usleep(150000 + 50000 * round);
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(WIFSIGNALED(status));
        auto log = QuarantineLog::open(dbPath);
        REQUIRE(log);
        auto v = (*log)->verify(key->publicHex());
        REQUIRE(v);
        INFO(v->problem);
        CHECK(v->ok());
        CHECK(v->records > 0);
    }
}

TEST_CASE("The syslog forwarding cursor is kept per collector beside the chain and only moves forward", "[log][syslog]") {
    TempDir dir;
    const auto dbPath = dir.path / "log.db";
    auto key = KioskKey::loadOrCreate((dir.path / "kiosk.key").string());
    REQUIRE(key);
    auto log = QuarantineLog::open(dbPath.string());
    REQUIRE(log);
    for (int i = 1; i <= 4; ++i) REQUIRE((*log)->append("device", "", "{}"));
    REQUIRE((*log)->signHead(*key));

    CHECK(*(*log)->forwardedUpTo("siem.example:6514") == 0);
    CHECK(*(*log)->countAfter(0) == 4);
    REQUIRE((*log)->setForwardedUpTo("siem.example:6514", 3));
    CHECK(*(*log)->forwardedUpTo("siem.example:6514") == 3);
    CHECK(*(*log)->countAfter(3) == 1);
    // Two forwarders at once (the daemon and `log forward`): the later, smaller one does not move it back.
    REQUIRE((*log)->setForwardedUpTo("siem.example:6514", 2));
    CHECK(*(*log)->forwardedUpTo("siem.example:6514") == 3);
    // Another collector has its own cursor.
    CHECK(*(*log)->forwardedUpTo("backup.example:514") == 0);

    // The chain does not include it: the log verifies, whatever the cursor says.
    auto v = (*log)->verify(key->publicHex());
    REQUIRE(v);
    CHECK(v->ok());
    CHECK(v->records == 4);
    tamper(dbPath, "UPDATE forwarding SET seq = 99");
    v = (*log)->verify(key->publicHex());
    REQUIRE(v);
    CHECK(v->ok());
}
