#include "kiosk/log/QuarantineLog.h"

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "qkiosk/base/Dates.h"
#include "qkiosk/base/Sha256.h"

namespace kiosk::log {
namespace {

const std::string kGenesis(64, '0');

// A prepared statement that finalizes itself.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    bool ok() const { return rc_ == SQLITE_OK && stmt_; }
    sqlite3_stmt* get() { return stmt_; }
    void bind(int i, const std::string& s) { sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
    std::string text(int col) {
        const auto* p = sqlite3_column_text(stmt_, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
    }
    std::int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }

private:
    sqlite3_stmt* stmt_ = nullptr;
    int rc_;
};

Error sqlError(sqlite3* db, const std::string& what) { return makeError(what + ": " + sqlite3_errmsg(db)); }

std::string headMessage(std::int64_t seq, const std::string& hash, const std::string& time) {
    return "qkiosk-log-head\n" + std::to_string(seq) + "\n" + hash + "\n" + time + "\n";
}

}  // namespace

std::string recordHash(const Record& r) {
    Sha256 h;
    auto field = [&](const std::string& s) {
        const std::string len = std::to_string(s.size()) + ":";
        h.update(std::span(reinterpret_cast<const std::uint8_t*>(len.data()), len.size()));
        h.update(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    };
    field("qkiosk-log-v1");
    field(std::to_string(r.seq));
    field(r.time);
    field(r.kind);
    field(r.ticketId);
    field(r.data);
    field(r.prevHash);
    const auto d = h.finish();
    return toHex(d);
}

Result<std::unique_ptr<QuarantineLog>> QuarantineLog::open(const std::string& path) {
    sqlite3* db = nullptr;
    const mode_t old = ::umask(077);   // the log and its WAL files: root only
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                   nullptr);
    ::umask(old);
    std::unique_ptr<QuarantineLog> log(new QuarantineLog(db));
    if (rc != SQLITE_OK) return makeError(path + ": cannot open the quarantine log: " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_busy_timeout(db, 10000);
    // WAL with a full sync at every commit: a power cut loses nothing that was
    // reported as written, and the log always opens.
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                            "CREATE TABLE IF NOT EXISTS records(seq INTEGER PRIMARY KEY, time TEXT NOT NULL, "
                            "kind TEXT NOT NULL, ticket TEXT NOT NULL, data TEXT NOT NULL, prev TEXT NOT NULL, "
                            "hash TEXT NOT NULL)",
                            "CREATE TABLE IF NOT EXISTS heads(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, "
                            "hash TEXT NOT NULL, time TEXT NOT NULL, signature TEXT NOT NULL)",
                            "CREATE INDEX IF NOT EXISTS records_ticket ON records(ticket)",
                            "CREATE TABLE IF NOT EXISTS forwarding(collector TEXT PRIMARY KEY, seq INTEGER NOT NULL)"}) {
        if (auto st = log->exec(sql); !st) return st.error().context(path);
    }
    return log;
}

QuarantineLog::~QuarantineLog() { sqlite3_close_v2(db_); }

Status QuarantineLog::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        Error e = makeError(err ? err : sqlite3_errmsg(db_));
        sqlite3_free(err);
        return e;
    }
    return {};
}

Result<Record> QuarantineLog::append(const std::string& kind, const std::string& ticketId, const std::string& dataJson) {
    // IMMEDIATE: the last hash read and the new row written under one write lock.
    if (auto st = exec("BEGIN IMMEDIATE"); !st) return st.error().context("quarantine log");
    auto r = appendInTransaction(kind, ticketId, dataJson);
    if (!r) {
        (void)exec("ROLLBACK");
        return r.error();
    }
    if (auto st = exec("COMMIT"); !st) {
        (void)exec("ROLLBACK");
        return st.error().context("quarantine log: cannot commit the record");
    }
    return r;
}

Result<Record> QuarantineLog::appendInTransaction(const std::string& kind, const std::string& ticketId,
                                                  const std::string& dataJson) {
    Record r;
    {
        Statement last(db_, "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1");
        if (!last.ok()) return sqlError(db_, "quarantine log");
        if (sqlite3_step(last.get()) == SQLITE_ROW) {
            r.seq = last.integer(0) + 1;
            r.prevHash = last.text(1);
        } else {
            r.seq = 1;
            r.prevHash = kGenesis;
        }
    }
    r.time = rfc3339Now();
    r.kind = kind;
    r.ticketId = ticketId;
    r.data = dataJson;
    r.hash = recordHash(r);
    {
        Statement ins(db_, "INSERT INTO records(seq, time, kind, ticket, data, prev, hash) VALUES(?,?,?,?,?,?,?)");
        if (!ins.ok()) return sqlError(db_, "quarantine log");
        ins.bind(1, r.seq);
        ins.bind(2, r.time);
        ins.bind(3, r.kind);
        ins.bind(4, r.ticketId);
        ins.bind(5, r.data);
        ins.bind(6, r.prevHash);
        ins.bind(7, r.hash);
        if (sqlite3_step(ins.get()) != SQLITE_DONE) return sqlError(db_, "quarantine log: cannot write the record");
    }
    return r;
}

Result<Record> QuarantineLog::prune(std::int64_t throughSeq, const std::string& officer, const std::string& throughDay,
                                    const KioskKey& key) {
    if (auto st = exec("BEGIN IMMEDIATE"); !st) return st.error().context("quarantine log");
    auto fail = [&](Error e) -> Result<Record> {
        (void)exec("ROLLBACK");
        return e;
    };
    std::string keptPrev;
    std::int64_t deleted = 0;
    {
        Statement q(db_, "SELECT prev, (SELECT COUNT(*) FROM records WHERE seq <= ?) FROM records WHERE seq = ?");
        if (!q.ok()) return fail(sqlError(db_, "quarantine log"));
        q.bind(1, throughSeq);
        q.bind(2, throughSeq + 1);
        if (sqlite3_step(q.get()) != SQLITE_ROW) return fail(makeError("nothing to prune: the last record is always kept"));
        keptPrev = q.text(0);
        deleted = q.integer(1);
    }
    if (deleted == 0) return fail(makeError("nothing to prune"));
    const nlohmann::json data = {{"officer", officer}, {"through_day", throughDay}, {"deleted_through", throughSeq},
                                 {"deleted_count", deleted}, {"first_kept", throughSeq + 1},
                                 {"first_kept_prev_hash", keptPrev}};
    auto r = appendInTransaction("log-pruned", "", data.dump());
    if (!r) return fail(r.error());
    for (const char* sql : {"DELETE FROM records WHERE seq <= ?", "DELETE FROM heads WHERE seq <= ?"}) {
        Statement del(db_, sql);
        if (!del.ok()) return fail(sqlError(db_, "quarantine log"));
        del.bind(1, throughSeq);
        if (sqlite3_step(del.get()) != SQLITE_DONE) return fail(sqlError(db_, "quarantine log: cannot prune"));
    }
    if (auto st = exec("COMMIT"); !st) return fail(st.error().context("quarantine log: cannot commit the pruning"));
    if (auto st = signHead(key); !st) return st.error();
    return r;
}

Status QuarantineLog::signHead(const KioskKey& key) {
    Statement last(db_, "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1");
    if (!last.ok()) return sqlError(db_, "quarantine log");
    if (sqlite3_step(last.get()) != SQLITE_ROW) return {};   // nothing to sign yet
    const std::int64_t seq = last.integer(0);
    const std::string hash = last.text(1);
    const std::string time = rfc3339Now();
    Statement ins(db_, "INSERT INTO heads(seq, hash, time, signature) VALUES(?,?,?,?)");
    if (!ins.ok()) return sqlError(db_, "quarantine log");
    ins.bind(1, seq);
    ins.bind(2, hash);
    ins.bind(3, time);
    ins.bind(4, key.sign(headMessage(seq, hash, time)));
    if (sqlite3_step(ins.get()) != SQLITE_DONE) return sqlError(db_, "quarantine log: cannot sign the chain head");
    return {};
}

Result<std::vector<Record>> QuarantineLog::select(const std::string& sql, const std::function<void(sqlite3_stmt*)>& bind) {
    Statement q(db_, sql.c_str());
    if (!q.ok()) return sqlError(db_, "quarantine log");
    bind(q.get());
    std::vector<Record> out;
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW)
        out.push_back(Record{q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6)});
    if (rc != SQLITE_DONE) return sqlError(db_, "quarantine log: cannot read");
    return out;
}

Result<std::vector<Record>> QuarantineLog::records(std::int64_t fromSeq, std::int64_t limit) {
    return select("SELECT seq, time, kind, ticket, data, prev, hash FROM records WHERE seq >= ? ORDER BY seq LIMIT ?",
                  [&](sqlite3_stmt* q) {
                      sqlite3_bind_int64(q, 1, fromSeq);
                      sqlite3_bind_int64(q, 2, limit);
                  });
}

Result<std::vector<Record>> QuarantineLog::find(const Query& query) {
    // Fixed SQL fragments only; the values are bound.
    std::string sql = "SELECT seq, time, kind, ticket, ";
    sql += query.withoutFiles ? "json_remove(data, '$.files')" : "data";
    sql += ", prev, hash FROM records WHERE (?1 = '' OR kind = ?1) AND (?2 = '' OR ticket = ?2) ORDER BY seq ";
    sql += query.newestFirst ? "DESC" : "ASC";
    sql += " LIMIT ?3";
    return select(sql, [&](sqlite3_stmt* q) {
        sqlite3_bind_text(q, 1, query.kind.data(), static_cast<int>(query.kind.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, query.ticketId.data(), static_cast<int>(query.ticketId.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, query.limit);
    });
}

Result<std::pair<std::int64_t, std::string>> QuarantineLog::pruneAnchor(const std::string& publicKeyHex) {
    // The newest "log-pruned" record that a valid head signature covers.
    std::int64_t signedSeq = 0;
    {
        Statement h(db_, "SELECT seq, hash, time, signature FROM heads");
        if (!h.ok()) return sqlError(db_, "quarantine log");
        while (sqlite3_step(h.get()) == SQLITE_ROW) {
            const auto seq = h.integer(0);
            if (KioskKey::verify(publicKeyHex, headMessage(seq, h.text(1), h.text(2)), h.text(3)))
                signedSeq = std::max(signedSeq, seq);
        }
    }
    Statement q(db_, "SELECT data FROM records WHERE kind = 'log-pruned' AND seq <= ? ORDER BY seq DESC LIMIT 1");
    if (!q.ok()) return sqlError(db_, "quarantine log");
    q.bind(1, signedSeq);
    if (sqlite3_step(q.get()) != SQLITE_ROW) return std::pair<std::int64_t, std::string>{0, ""};
    const auto j = nlohmann::json::parse(q.text(0), nullptr, false);
    if (!j.is_object() || !j.contains("first_kept") || !j["first_kept"].is_number_integer() ||
        !j.contains("first_kept_prev_hash") || !j["first_kept_prev_hash"].is_string())
        return std::pair<std::int64_t, std::string>{0, ""};
    return std::pair<std::int64_t, std::string>{j["first_kept"].get<std::int64_t>(), j["first_kept_prev_hash"].get<std::string>()};
}

Result<Verification> QuarantineLog::verify(const std::string& publicKeyHex) {
    Verification v;
    auto bad = [&](std::int64_t seq, std::string why) {
        if (!v.firstBad || seq < *v.firstBad) {
            v.firstBad = seq;
            v.problem = std::move(why);
        }
    };
    // The chain: consecutive numbers, each record pointing at the one before,
    // each hash matching its content.
    std::map<std::int64_t, std::string> hashes;
    {
        // After an officer pruned old records the chain starts where the
        // newest signed "log-pruned" record says it does.
        std::int64_t expected = 1;
        std::string prev = kGenesis;
        if (auto anchor = pruneAnchor(publicKeyHex); !anchor) return anchor.error();
        else if (anchor->first > 0) {
            expected = anchor->first;
            prev = anchor->second;
        }
        Statement q(db_, "SELECT seq, time, kind, ticket, data, prev, hash FROM records ORDER BY seq");
        if (!q.ok()) return sqlError(db_, "quarantine log");
        int rc;
        while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
            Record r{q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6)};
            ++v.records;
            if (!v.firstBad) {
                if (r.seq != expected) bad(expected, "record " + std::to_string(expected) + " is missing (deleted)");
                else if (r.prevHash != prev)
                    bad(r.seq, "record " + std::to_string(r.seq) + " does not follow record " + std::to_string(r.seq - 1) +
                                   " (a record was edited, inserted or reordered before it)");
                else if (recordHash(r) != r.hash)
                    bad(r.seq, "record " + std::to_string(r.seq) + " was changed after it was written");
            }
            hashes[r.seq] = r.hash;
            prev = r.hash;
            expected = r.seq + 1;
        }
        if (rc != SQLITE_DONE) return sqlError(db_, "quarantine log: cannot read");
    }
    // The signed heads: each must verify with the kiosk's key and match the
    // record it signed, which must still be there (the end was not cut off).
    Statement h(db_, "SELECT seq, hash, time, signature FROM heads ORDER BY id");
    if (!h.ok()) return sqlError(db_, "quarantine log");
    int rc;
    while ((rc = sqlite3_step(h.get())) == SQLITE_ROW) {
        const std::int64_t seq = h.integer(0);
        const std::string hash = h.text(1), time = h.text(2), sig = h.text(3);
        if (!KioskKey::verify(publicKeyHex, headMessage(seq, hash, time), sig)) {
            bad(seq, "the signature of the chain head at record " + std::to_string(seq) +
                         " does not verify with the kiosk's key");
            continue;
        }
        const auto it = hashes.find(seq);
        if (it == hashes.end()) bad(seq, "record " + std::to_string(seq) + " was signed but is missing (deleted)");
        else if (it->second != hash) bad(seq, "record " + std::to_string(seq) + " differs from what was signed");
        else v.signedUpTo = std::max(v.signedUpTo, seq);
    }
    if (rc != SQLITE_DONE) return sqlError(db_, "quarantine log: cannot read");
    return v;
}

Result<std::int64_t> QuarantineLog::forwardedUpTo(const std::string& collector) {
    Statement q(db_, "SELECT seq FROM forwarding WHERE collector = ?");
    if (!q.ok()) return sqlError(db_, "quarantine log");
    q.bind(1, collector);
    const int rc = sqlite3_step(q.get());
    if (rc == SQLITE_ROW) return q.integer(0);
    if (rc != SQLITE_DONE) return sqlError(db_, "quarantine log: cannot read the forwarding cursor");
    return std::int64_t{0};
}

Status QuarantineLog::setForwardedUpTo(const std::string& collector, std::int64_t seq) {
    // max(): two forwarders at once (the daemon and `log forward`) never move it back.
    Statement q(db_, "INSERT INTO forwarding(collector, seq) VALUES(?, ?) "
                     "ON CONFLICT(collector) DO UPDATE SET seq = max(seq, excluded.seq)");
    if (!q.ok()) return sqlError(db_, "quarantine log");
    q.bind(1, collector);
    q.bind(2, seq);
    if (sqlite3_step(q.get()) != SQLITE_DONE) return sqlError(db_, "quarantine log: cannot write the forwarding cursor");
    return {};
}

Result<std::int64_t> QuarantineLog::countAfter(std::int64_t seq) {
    Statement q(db_, "SELECT COUNT(*) FROM records WHERE seq > ?");
    if (!q.ok()) return sqlError(db_, "quarantine log");
    q.bind(1, seq);
    if (sqlite3_step(q.get()) != SQLITE_ROW) return sqlError(db_, "quarantine log: cannot read");
    return q.integer(0);
}

Result<SignedLog> openSignedLog(const std::string& logPath, const std::string& keyPath) {
    std::error_code ec;
    for (const auto& file : {logPath, keyPath}) {
        const auto dir = std::filesystem::path(file).parent_path();
        if (!dir.empty()) std::filesystem::create_directories(dir, ec);
        if (ec) return makeError(dir.string() + ": " + ec.message());
    }
    auto key = KioskKey::loadOrCreate(keyPath);
    if (!key) return key.error();
    auto log = QuarantineLog::open(logPath);
    if (!log) return log.error();
    return SignedLog{std::move(*log), std::move(*key)};
}

Result<Record> SignedLog::appendSigned(const std::string& kind, const std::string& ticketId, const std::string& dataJson) {
    auto r = log->append(kind, ticketId, dataJson);
    if (!r) return r;
    if (auto st = log->signHead(key); !st) return st.error();
    return r;
}

}  // namespace kiosk::log
