// qkiosk signatures: the officer's offline signature updates.
//
//   qkiosk signatures status [--config FILE] [--db DIR]
//   qkiosk signatures import (--image FILE | --device DEV | --dir DIR) [--config FILE] [--db DIR]
//   qkiosk signatures keygen --secret FILE --public FILE
//   qkiosk signatures bundle --key SECRET --out DIR FILE...
//
// An import from a stick is a scan first: the stick must pass (old signatures
// aside, that is what the update is for) and the update is copied out of it
// while it is read, never mounted. Then the update is verified (site bundle
// signature, or libclamav's check of official CVDs), test-loaded on the side,
// checked not to be older than what is in use, and swapped in atomically.
// A running daemon notices the new folder and switches between sessions.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "Commands.h"
#include "Common.h"
#include "kiosk/Media.h"
#include "kiosk/PrivateTempDir.h"
#include "kiosk/ScanSession.h"
#include "kiosk/ScannerService.h"
#include "kiosk/WorkerProcess.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/signatures/SignatureUpdate.h"
#include "qkiosk/sandbox/Sandbox.h"

namespace fs = std::filesystem;

namespace kiosk::app {
namespace {

struct Options {
    std::optional<std::string> image, device, dir, db, configPath, secret, publicKey, key, out;
    std::vector<std::string> files;
};

Result<Options> parseOptions(const std::string& sub, const std::vector<std::string>& args) {
    Options o;
    std::map<std::string, std::optional<std::string>*> flags = {
        {"--image", &o.image}, {"--device", &o.device}, {"--dir", &o.dir},     {"--db", &o.db},
        {"--config", &o.configPath}, {"--secret", &o.secret}, {"--public", &o.publicKey},
        {"--key", &o.key},     {"--out", &o.out}};
    for (std::size_t i = 1; i < args.size(); ++i) {
        const auto it = flags.find(args[i]);
        if (it == flags.end()) {
            if (sub == "bundle" && !args[i].starts_with("--")) {
                o.files.push_back(args[i]);
                continue;
            }
            return makeError("signatures " + sub + ": unknown option \"" + args[i] + "\"");
        }
        if (i + 1 >= args.size() || args[i + 1].empty()) return makeError("signatures " + sub + ": " + args[i] + " needs a value");
        *it->second = args[++i];
    }
    return o;
}

// "daily:27412 main:62" -> {daily: 27412, main: 62}
std::map<std::string, long> versions(const std::string& text) {
    std::map<std::string, long> out;
    std::istringstream in(text);
    std::string item;
    while (in >> item) {
        const auto colon = item.find(':');
        if (colon == std::string::npos) continue;
        try {
            out[item.substr(0, colon)] = std::stol(item.substr(colon + 1));
        } catch (const std::exception&) {
        }
    }
    return out;
}

// Loads the databases of `dir` in a scanner service: the proof that they work.
Result<EngineInfo> testLoad(const std::string& dir, const std::string& tempBase) {
    auto service = ScannerService::start(dir, tempBase);
    if (!service) return service.error();
    if (auto st = (*service)->waitReady(std::chrono::minutes(10)); !st) return st.error();
    return (*service)->engine();
}

int status(const Options& o, const Config& config) {
    const std::string db = o.db.value_or(config.dbDir);
    auto engine = testLoad(db, config.scan.tempDir);
    if (!engine) return usageError(engine.error().message);
    const auto age = signatureAgeDays(*engine);
    const bool current = age && *age <= config.maxSignatureAgeDays;
    std::printf("Signatures: %s\nVersion:    %s\nCount:      %llu\nBuilt:      %s\nAge:        %s (limit %u days)\nStatus:     %s\n",
                db.c_str(), engine->dbVersion.c_str(), static_cast<unsigned long long>(engine->signatures),
                engine->dbTime.c_str(), (signatureAgeText(*engine) + " days").c_str(), config.maxSignatureAgeDays,
                current ? "current" : "OUTDATED: no stick can pass until an update is imported");
    return current ? 0 : 1;
}

// Why the update is older than the signatures in use, if it is: a lower
// version of a CVD we have, or a site bundle built before the current files.
std::optional<std::string> olderThanInUse(const EngineInfo& update, const signatures::VerifiedUpdate& verified,
                                          const EngineInfo& current) {
    const auto now = versions(current.dbVersion);
    for (const auto& [name, version] : versions(update.dbVersion))
        if (auto it = now.find(name); it != now.end() && version < it->second)
            return name + " version " + std::to_string(version) + " is older than the " + std::to_string(it->second) +
                   " in use";
    if (verified.siteSigned && update.dbVersion == "local") {
        const auto newAge = signatureAgeDays(EngineInfo{"", 0, "", verified.created, 0});
        const auto oldAge = signatureAgeDays(current);
        if (newAge && oldAge && *newAge > *oldAge) return "the bundle is older than the signatures in use";
    }
    return std::nullopt;
}

// Copies the update out of a stick while scanning it with the signatures in
// use (`db`); the stick must pass. Returns what those signatures are.
Result<EngineInfo> fromMedia(const std::string& path, bool isDevice, const Config& config, const std::string& db,
                             const std::string& staging) {
    auto media = openMedia(path, isDevice);
    if (!media) return media.error();
    auto service = ScannerService::start(db, config.scan.tempDir);
    if (!service) return service.error();
    if (auto st = (*service)->waitReady(std::chrono::minutes(10)); !st) return st.error();
    ScanOptions opts{service->get(), config.scan, config.sandbox, config.maxSignatureAgeDays, std::nullopt, {}, staging};
    // Only the files directly in /pN/qkiosk-signatures/ are taken.
    opts.keep = [](const std::string& p) {
        const fs::path file(p);
        return file.parent_path().filename() == signatures::kBundleFolder &&
               file.parent_path().parent_path().parent_path() == "/";
    };
    ScanSession session(std::move(opts));
    auto report = session.run(*media);
    if (!report) return report.error();
    for (const auto& r : report->reasons)
        if (r.code != proto::ReasonCode::SignaturesOutdated)
            return makeError(path + " did not pass its scan (" + std::string(proto::reasonCodeName(r.code)) + " " + r.path +
                             (r.detail.empty() ? "" : ": " + r.detail) + "): nothing was imported");
    return (*service)->engine();
}

// Every import, refused or installed, goes into the quarantine log, signed.
Status logEvent(const Config& config, const std::string& kind, const nlohmann::json& data) {
    auto qlog = log::openSignedLog(config.log, config.kioskKey);
    if (!qlog) return qlog.error();
    if (auto r = qlog->appendSigned(kind, "", data.dump()); !r) return r.error();
    return {};
}

int importUpdate(const Options& o, const Config& config) {
    const int sources = o.image.has_value() + o.device.has_value() + o.dir.has_value();
    if (sources != 1) return usageError("signatures import: give exactly one of --image FILE, --device DEV or --dir DIR");
    const std::string db = o.db.value_or(config.dbDir);
    const std::string source = o.image ? *o.image : o.device ? *o.device : *o.dir;
    auto refused = [&](const std::string& why) {
        std::fprintf(stderr, "qkiosk: update refused: %s; the signatures in use stay\n", why.c_str());
        if (auto st = logEvent(config, "signature-update-refused", {{"source", source}, {"reason", why}}); !st)
            std::fprintf(stderr, "qkiosk: %s\n", st.error().message.c_str());
        return 1;
    };
    std::optional<EngineInfo> current;   // the signatures in use, when known
    auto staging = PrivateTempDir::create(config.scan.tempDir, "qkiosk-update-");
    if (!staging) return usageError(staging.error().message);

    if (o.dir) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(*o.dir, ec)) {
            if (!e.is_regular_file(ec) || e.is_symlink(ec)) continue;
            fs::copy_file(e.path(), fs::path(staging->path()) / e.path().filename(), ec);
            if (ec) return usageError(e.path().string() + ": " + ec.message());
        }
        if (ec) return usageError(*o.dir + ": " + ec.message());
    } else if (auto inUse = fromMedia(o.image ? *o.image : *o.device, o.device.has_value(), config, db, staging->path());
               !inUse) {
        return refused(inUse.error().message);
    } else {
        current = *inUse;   // already loaded to scan the stick: no second load for the version check
    }

    auto update = signatures::verifyUpdate(staging->path(), config.updateKeys);
    if (!update) return refused(update.error().message);
    if (!update->siteSigned) {
        // libclamav checks Talos' signature of every .cvd, in the sandbox,
        // as the sandbox user: the staging folder is handed to it.
        auto limits = resolveWorkerLimits(config.sandbox, config.scan, 0);
        if (!limits) return usageError(limits.error().message);
        std::error_code ec;
        if (::geteuid() == 0) {
            (void)::chown(staging->path().c_str(), limits->uid, limits->gid);
            for (const auto& e : fs::directory_iterator(staging->path(), ec))
                (void)::chown(e.path().c_str(), limits->uid, limits->gid);
        }
        sandbox::Spec spec;
        spec.uid = limits->uid;
        spec.gid = limits->gid;
        std::vector<std::string> args = {"--verify-cvd", staging->path()};
        for (auto& a : sandbox::toOptions(spec)) args.push_back(std::move(a));
        auto check = WorkerProcess::start(workerPath("qkiosk-scanner"), args);
        if (!check) return usageError(check.error().message);
        if (const auto how = check->wait(); !how.empty())
            return refused("official database check failed (" + how + "; see the line above)");
    }
    auto engine = testLoad(staging->path(), config.scan.tempDir);
    if (!engine) return refused("the update does not load: " + engine.error().message);

    // Never back in time: an older database than the one in use is refused.
    if (!current && fs::is_directory(db))
        if (auto loaded = testLoad(db, config.scan.tempDir)) current = *loaded;
    if (current)
        if (auto older = olderThanInUse(*engine, *update, *current)) return refused(*older);
    // Recorded before it takes effect: an update that is not in the log is not installed.
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : update->files) files.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
    if (auto st = logEvent(config, "signature-update",
                           {{"source", source}, {"db_dir", db}, {"db_version", engine->dbVersion}, {"db_time", engine->dbTime},
                            {"signatures", engine->signatures}, {"site_signed", update->siteSigned},
                            {"bundle_created", update->created}, {"files", files}});
        !st)
        return usageError(st.error().message + " (the update was not installed)");
    if (auto st = signatures::installDatabases(staging->path(), db, update->files, update->siteSigned ? update->created : "");
        !st)
        return usageError(st.error().message);
    std::printf("Imported %zu file(s) into %s: version %s, %llu signatures%s.\n"
                "A running kiosk switches to them between sessions.\n",
                update->files.size(), db.c_str(), engine->dbVersion.c_str(),
                static_cast<unsigned long long>(engine->signatures),
                update->siteSigned ? (", site bundle of " + update->created).c_str() : ", official ClamAV databases");
    return 0;
}

}  // namespace

int signaturesCommand(const std::vector<std::string>& args) {
    if (args.empty()) return usageError("signatures: give status, import, keygen or bundle (see qkiosk help)");
    const std::string sub = args.front();
    auto o = parseOptions(sub, args);
    if (!o) return usageError(o.error().message);
    if (sub == "keygen") {
        if (!o->secret || !o->publicKey) return usageError("signatures keygen: --secret FILE and --public FILE are required");
        if (auto st = signatures::generateKeys(*o->secret, *o->publicKey); !st) return usageError(st.error().message);
        std::printf("Secret key: %s (keep it off the kiosk)\nPublic key: %s (list it in update_keys on every kiosk)\n",
                    o->secret->c_str(), o->publicKey->c_str());
        return 0;
    }
    if (sub == "bundle") {
        if (!o->key || !o->out) return usageError("signatures bundle: --key SECRET and --out DIR are required");
        if (auto st = signatures::makeBundle(*o->key, o->files, *o->out); !st) return usageError(st.error().message);
        std::printf("Bundle written to %s; copy that folder to the top of a stick as %s/\n", o->out->c_str(),
                    signatures::kBundleFolder);
        return 0;
    }
    auto config = loadConfigOrDefault(o->configPath);
    if (!config) return usageError(config.error().message);
    if (sub == "status") return status(*o, *config);
    if (sub == "import") return importUpdate(*o, *config);
    return usageError("signatures: unknown subcommand \"" + sub + "\"");
}

}  // namespace kiosk::app
