// qkiosk log: the officer's access to the quarantine log.
//
//   qkiosk log list   [filters] [--log DB] [--config FILE]
//   qkiosk log show   SEQ|TICKET [--log DB] [--config FILE]   (a record; or a JSON array of the ticket's records)
//   qkiosk log export --format csv|jsonl [--out FILE] [--officer NAME] [filters] [--log DB] [--config FILE]   (recorded as log-exported)
//   qkiosk log verify [--pubkey FILE] [--log DB] [--config FILE]
//   qkiosk log pubkey [--config FILE]
//   qkiosk log prune --through YYYY-MM-DD --officer NAME [--log DB] [--config FILE]   (records of that day and older)
//   qkiosk log forward [--once] [--status] [--log DB] [--config FILE]   (to the [syslog] collector)
// filters: --from YYYY-MM-DD --to YYYY-MM-DD --verdict pass|fail --device VID:PID[:SERIAL] --owner TEXT --kind KIND
//
// Exit status: 0 success (verify: the chain is intact), 1 verify found a bad
// record, 2 error. forward: 0 the collector has every record, 1 it could not
// be reached or refused them (they stay pending), 2 error; --status: 0 nothing
// pending, 1 records pending.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "Commands.h"
#include "Common.h"
#include "kiosk/files/AtomicFile.h"
#include "kiosk/log/LogQuery.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/log/SyslogForwarder.h"

namespace kiosk::app {
namespace {

using nlohmann::json;

using log::Filter;

struct Options {
    std::string sub;
    std::optional<std::string> log, configPath, format, out, pubkey, target, through, officer;
    bool once = false, status = false;   // forward
    Filter filter;
};

Result<Options> parseOptions(const std::vector<std::string>& args) {
    Options o;
    o.sub = args.front();
    OptionSpec spec{{{"--log", &o.log},
                     {"--config", &o.configPath},
                     {"--format", &o.format},
                     {"--out", &o.out},
                     {"--pubkey", &o.pubkey},
                     {"--through", &o.through},
                     {"--officer", &o.officer},
                     {"--from", &o.filter.from},
                     {"--to", &o.filter.to},
                     {"--verdict", &o.filter.verdict},
                     {"--device", &o.filter.device},
                     {"--owner", &o.filter.owner},
                     {"--kind", &o.filter.kind}},
                    {},
                    o.sub == "show" ? &o.target : nullptr};
    if (o.sub == "forward") spec.flags = {{"--once", &o.once}, {"--status", &o.status}};
    if (auto st = readOptions("log " + o.sub, args, 1, spec); !st) return st.error();
    return o;
}

std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// qkiosk log forward: sends what the syslog collector does not have yet.
int forwardCommand(const Options& o, const Config& config, log::QuarantineLog& qlog) {
    const auto& s = config.syslog;
    if (s.target.empty()) return usageError("log forward: no syslog collector is configured ([syslog] target)");
    if (o.status) {
        auto cursor = qlog.forwardedUpTo(s.target);
        if (!cursor) return usageError(cursor.error().message);
        auto pending = qlog.countAfter(*cursor);
        if (!pending) return usageError(pending.error().message);
        std::printf("syslog %s: forwarded up to record %lld, %lld pending\n", s.target.c_str(),
                    static_cast<long long>(*cursor), static_cast<long long>(*pending));
        return *pending == 0 ? 0 : 1;
    }
    if (auto st = log::SyslogClient::checkCredentials(s); !st) return usageError("log forward: " + st.error().message);
    log::SyslogSender sender(s, log::syslogOrigin(config));
    auto delay = std::chrono::seconds(1);
    for (;;) {
        const auto r = sender.forwardPending(qlog);
        if (r.ok()) {
            std::printf("OK: the syslog collector %s has every record (up to record %lld; %lld sent now)\n", s.target.c_str(),
                        static_cast<long long>(r.forwardedUpTo), static_cast<long long>(r.sent));
            return 0;
        }
        std::string line = "log forward: syslog collector ";
        line.append(s.target).append(": ").append(r.error->message);
        line.append(" (").append(messages::pendingText(r.pending)).append(")");
        if (!r.collectorFault) return usageError(line);
        if (o.once) {
            std::fprintf(stderr, "qkiosk: %s\n", line.c_str());
            return 1;
        }
        std::fprintf(stderr, "qkiosk: %s; retrying in %lld s\n", line.c_str(), static_cast<long long>(delay.count()));
        ::sleep(static_cast<unsigned>(delay.count()));
        delay = std::min(delay * 2, std::chrono::seconds(60));
    }
}

}  // namespace

int logCommand(const std::vector<std::string>& args) {
    if (args.empty()) return usageError("log: give list, show, export, verify, prune, forward or pubkey (see qkiosk help)");
    auto o = parseOptions(args);
    if (!o) return usageError(o.error().message);
    // A filter that could never match is a mistake in the command, not an empty log.
    if (o->sub == "list" || o->sub == "export")
        if (auto st = log::checkFilter(o->filter); !st) return usageError("log " + o->sub + ": --" + st.error().message);
    auto config = loadConfigOrDefault(o->configPath);
    if (!config) return usageError(config.error().message);
    if (o->sub == "pubkey") {
        auto key = log::KioskKey::loadOrCreate(config->kioskKey);
        if (!key) return usageError(key.error().message);
        std::fputs(key->publicKeyFileText().c_str(), stdout);
        return 0;
    }
    auto qlog = log::QuarantineLog::open(o->log.value_or(config->logPath));
    if (!qlog) return usageError(qlog.error().message);
    if (o->sub == "forward") return forwardCommand(*o, *config, **qlog);
    if (o->sub == "verify") {
        auto keys = trustedKioskKeys(o->pubkey, *config);
        if (!keys) return usageError(keys.error().message);
        // A key file may list several kiosks: the log is this kiosk's if one key verifies it.
        auto v = (*qlog)->verify(keys->front());
        for (std::size_t k = 1; k < keys->size() && v && !v->ok(); ++k)
            if (auto other = (*qlog)->verify((*keys)[k]); other && other->ok()) v = std::move(other);
        if (!v) return usageError(v.error().message);
        if (!v->ok()) {
            std::printf("TAMPERED: %s\n", v->problem.c_str());
            return 1;
        }
        std::printf("OK: %lld records, chained; signed by the kiosk up to record %lld\n",
                    static_cast<long long>(v->records), static_cast<long long>(v->signedUpTo));
        return 0;
    }
    if (o->sub == "prune") {
        if (!o->through || !o->officer || o->officer->empty())
            return usageError("log prune: --through YYYY-MM-DD and --officer NAME are required");
        std::tm tm{};
        const char* end = ::strptime(o->through->c_str(), "%Y-%m-%d", &tm);
        if (!end || *end) return usageError("log prune: --through must be a date YYYY-MM-DD");
        // Nothing younger than the retention period, whoever asks (local days, as --through is).
        const std::string latest = localDayAfter(-static_cast<int>(config->logRetentionDays));
        if (*o->through > latest)
            return usageError("log prune: records must be kept " + std::to_string(config->logRetentionDays) +
                              " days: --through can be " + latest + " at the latest");
        auto key = log::KioskKey::load(config->kioskKey);
        if (!key) return usageError(key.error().message);
        auto v = (*qlog)->verify(key->publicHex());
        if (!v) return usageError(v.error().message);
        if (!v->ok()) return usageError("log prune: the log does not verify (" + v->problem + "): nothing was pruned");
        auto records = (*qlog)->records();
        if (!records) return usageError(records.error().message);
        std::int64_t through = 0;
        for (const auto& r : *records)
            if (r.time.substr(0, 10) <= *o->through && &r != &records->back()) through = r.seq;
        if (through == 0) {
            std::printf("Nothing to prune through %s.\n", o->through->c_str());
            return 0;
        }
        // Nothing is deleted that the syslog collector does not have yet.
        if (const auto& target = config->syslog.target; !target.empty()) {
            auto cursor = (*qlog)->forwardedUpTo(target);
            if (!cursor) return usageError(cursor.error().message);
            if (*cursor < through)
                return usageError("log prune: the syslog collector " + target + " has the records up to " +
                                  std::to_string(*cursor) + " only: nothing was pruned (qkiosk log forward first)");
        }
        auto pruned = (*qlog)->prune(through, *o->officer, *o->through, *key);
        if (!pruned) return usageError(pruned.error().message);
        std::printf("Pruned the records up to %lld (through %s); record %lld says so, with the officer's name.\n",
                    static_cast<long long>(through), o->through->c_str(), static_cast<long long>(pruned->seq));
        return 0;
    }
    auto all = (*qlog)->records();
    if (!all) return usageError(all.error().message);
    if (o->sub == "show") {
        if (!o->target) return usageError("log show: give a record number or a ticket id");
        // A record number shows that record; a ticket id every record of its session, in order.
        const bool bySeq = std::all_of(o->target->begin(), o->target->end(), [](char c) { return c >= '0' && c <= '9'; });
        json shown = json::array();
        for (const auto& r : *all)
            if (bySeq ? std::to_string(r.seq) == *o->target : r.ticketId == *o->target) shown.push_back(log::recordJson(r));
        if (shown.empty()) return usageError("log show: no record " + *o->target);
        std::printf("%s\n", (bySeq ? shown.front() : shown).dump(2).c_str());
        return 0;
    }
    if (o->sub == "list") {
        for (const auto& r : *all) {
            if (!log::matches(r, o->filter)) continue;
            const json d = log::dataOf(r);
            std::printf("%6lld  %s  %-16s %-26s %-5s %-28s %s\n", static_cast<long long>(r.seq), r.time.c_str(),
                        r.kind.c_str(), r.ticketId.c_str(), str(d, "verdict").c_str(), log::deviceText(d).c_str(),
                        log::ownerOf(d).c_str());
        }
        return 0;
    }
    if (o->sub == "export") {
        const auto format = o->format ? log::exportFormatNamed(*o->format) : std::nullopt;
        if (!format) return usageError("log export: --format csv or jsonl");
        const std::string out = log::exportText(*all, o->filter, *format);
        if (!o->out || *o->out == "-") {
            std::fwrite(out.data(), 1, out.size(), stdout);
        } else if (auto st = writeFileAtomically(*o->out, out); !st) {
            return usageError(st.error().message);
        }
        // Who took the kiosk's own log out, and what: itself a record. (A copy
        // examined elsewhere, without the kiosk's key, is left as it is.)
        std::error_code ec;
        if (o->log.value_or(config->logPath) == config->logPath && std::filesystem::exists(config->kioskKey, ec)) {
            const json what = log::exportRecordData(o->filter, *format, o->out.value_or("-"), personOf(o->officer));
            auto signedLog = log::openSignedLog(config->logPath, config->kioskKey);
            if (auto r = signedLog ? signedLog->appendSigned("log-exported", "", what.dump()) : Result<log::Record>(signedLog.error()); !r)
                return usageError("the export was written but could not be recorded in the log: " + r.error().message);
        }
        return 0;
    }
    return usageError("log: unknown subcommand \"" + o->sub + "\"");
}

}  // namespace kiosk::app
