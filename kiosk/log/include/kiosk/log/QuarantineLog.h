// The quarantine log: one SQLite database (WAL, synchronous=FULL), one row per
// event, append-only and tamper-evident. Each record carries the SHA-256 of
// the one before it; the chain head is signed with the kiosk's Ed25519 key
// (KioskKey) whenever a session ends. verify() walks the whole chain and
// names the first record that was edited, deleted, inserted or reordered.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiosk/log/KioskKey.h"
#include "qkiosk/base/Result.h"

namespace kiosk::log {

struct Record {
    std::int64_t seq = 0;       // 1, 2, 3, … without gaps
    std::string time;           // RFC 3339, UTC
    std::string kind;           // "daemon-start", "session-end", "refusal", "signature-update", …
    std::string ticketId;       // "" for events outside a session
    std::string data;           // a JSON object: the event's details
    std::string prevHash;       // hex SHA-256 of the previous record ("0"×64 for the first)
    std::string hash;           // hex SHA-256 of this record (recordHash)
};

// SHA-256 over the record's fields, each length-prefixed, so that no two
// different records can share a hash input.
std::string recordHash(const Record& r);

struct Verification {
    std::int64_t records = 0;        // records checked
    std::int64_t signedUpTo = 0;     // the last record covered by a valid head signature
    std::optional<std::int64_t> firstBad;   // the first record that does not verify
    std::string problem;             // what is wrong there, in words
    bool ok() const { return !firstBad; }
};

class QuarantineLog {
public:
    // Opens (creating if needed) the log at `path`, mode 0600.
    static Result<std::unique_ptr<QuarantineLog>> open(const std::string& path);
    ~QuarantineLog();
    QuarantineLog(const QuarantineLog&) = delete;
    QuarantineLog& operator=(const QuarantineLog&) = delete;

    // Appends one record, chained to the last, durably (one transaction).
    Result<Record> append(const std::string& kind, const std::string& ticketId, const std::string& dataJson);
    // Signs the current chain head with the kiosk's key.
    Status signHead(const KioskKey& key);

    Result<std::vector<Record>> records(std::int64_t fromSeq = 1, std::int64_t limit = -1);
    // Records by kind and/or session, for the officer's screens.
    struct Query {
        std::string kind;              // "" for any
        std::string ticketId;          // "" for any
        bool newestFirst = false;
        std::int64_t limit = -1;       // -1: all
        // Without the report's "files" array (a session's manifest: most of
        // its bytes), dropped by SQLite before the record is read; such
        // records no longer match their hash.
        bool withoutFiles = false;
    };
    Result<std::vector<Record>> find(const Query& query);

    // Retention: deletes records 1..`throughSeq` (an officer's explicit
    // action) in one transaction with a "log-pruned" record that names the
    // officer and anchors the chain's new start (the first kept record's
    // previous hash), then signs the head. The chain stays verifiable; the
    // last record is always kept.
    Result<Record> prune(std::int64_t throughSeq, const std::string& officer, const std::string& throughDay,
                         const KioskKey& key);
    // Every record and every head signature; `publicKeyHex` is the kiosk's
    // public key the signatures must verify with.
    Result<Verification> verify(const std::string& publicKeyHex);

    // Syslog forwarding (SyslogForwarder): the last record `collector` is
    // known to have received, 0 for none. Kept beside the chain, not in it:
    // verify() does not read it. The cursor only moves forward.
    Result<std::int64_t> forwardedUpTo(const std::string& collector);
    Status setForwardedUpTo(const std::string& collector, std::int64_t seq);
    // How many records there are after `seq`.
    Result<std::int64_t> countAfter(std::int64_t seq);

private:
    explicit QuarantineLog(sqlite3* db) : db_(db) {}
    Status exec(const char* sql);
    Result<std::vector<Record>> select(const std::string& sql, const std::function<void(sqlite3_stmt*)>& bind);
    Result<Record> appendInTransaction(const std::string& kind, const std::string& ticketId, const std::string& dataJson);
    // Where a pruned chain starts: (first kept seq, its previous hash), or (0, "") if never pruned.
    Result<std::pair<std::int64_t, std::string>> pruneAnchor(const std::string& publicKeyHex);
    sqlite3* db_;
};

// The log and the key that signs it, as every writer needs them: folders
// created, the key made on first use.
struct SignedLog {
    std::unique_ptr<QuarantineLog> log;
    KioskKey key;

    // Appends one record and signs the new head.
    Result<Record> appendSigned(const std::string& kind, const std::string& ticketId, const std::string& dataJson);
};
Result<SignedLog> openSignedLog(const std::string& logPath, const std::string& keyPath);

}  // namespace kiosk::log
