// Importing an officer's signature update. See kiosk/signatures/Import.h.
#include "kiosk/signatures/Import.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "kiosk/files/AtomicFile.h"
#include "kiosk/workers/Media.h"
#include "kiosk/files/PrivateTempDir.h"
#include "kiosk/session/ScanSession.h"
#include "kiosk/model/Report.h"
#include "qkiosk/base/Dates.h"
#include "kiosk/workers/ScannerService.h"
#include "kiosk/workers/WorkerProcess.h"
#include "kiosk/signatures/SignatureUpdate.h"
#include "qkiosk/protocol/SandboxSpec.h"

namespace fs = std::filesystem;

namespace kiosk::signatures {
namespace {

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

// Why the update is older than the signatures in use, if it is: a lower
// version of a CVD we have, or a site bundle built before the current files.
std::optional<std::string> olderThanInUse(const EngineInfo& update, const VerifiedUpdate& verified,
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
        return file.parent_path().filename() == kBundleFolder && file.parent_path().parent_path().parent_path() == "/";
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

ImportFailure failed(std::string message) { return ImportFailure{false, std::move(message), ""}; }

}  // namespace

Result<EngineInfo> testLoad(const std::string& dir, const std::string& tempBase) {
    auto service = ScannerService::start(dir, tempBase);
    if (!service) return service.error();
    if (auto st = (*service)->waitReady(std::chrono::minutes(10)); !st) return st.error();
    return (*service)->engine();
}

ImportResult importUpdate(const ImportSource& source, const Config& config, const std::string& db, const Recorder& record,
                          const std::string& by) {
    // Every refusal is in the quarantine log, signed, with who tried.
    auto refused = [&](const std::string& why) {
        ImportFailure f{true, why, ""};
        if (auto st = record("signature-update-refused", {{"source", source.path}, {"reason", why}, {"by", by}}); !st)
            f.recordError = st.error().message;
        return f;
    };
    std::optional<EngineInfo> current;   // the signatures in use, when known
    auto staging = PrivateTempDir::create(config.scan.tempDir, "qkiosk-update-");
    if (!staging) return failed(staging.error().message);

    if (source.kind == ImportSource::Dir) {
        std::error_code ec;
        for (fs::directory_iterator it(source.path, ec), end; !ec && it != end; it.increment(ec)) {
            const auto& e = *it;
            std::error_code entry;   // of this entry, apart from the listing's own
            if (!e.is_regular_file(entry) || e.is_symlink(entry)) continue;
            fs::copy_file(e.path(), fs::path(staging->path()) / e.path().filename(), entry);
            if (entry) return failed(e.path().string() + ": " + entry.message());
        }
        if (ec) return failed(source.path + ": " + ec.message());
    } else if (auto inUse = fromMedia(source.path, source.kind == ImportSource::Device, config, db, staging->path());
               !inUse) {
        return refused(inUse.error().message);
    } else {
        current = *inUse;   // already loaded to scan the stick: no second load for the version check
    }

    auto update = verifyUpdate(staging->path(), config.updateKeys);
    if (!update) return refused(update.error().message);
    if (!update->siteSigned) {
        // libclamav checks Talos' signature of every .cvd, in the sandbox,
        // as the sandbox user: the staging folder is handed to it.
        auto limits = resolveWorkerLimits(config.sandbox, config.scan, 0);
        if (!limits) return failed(limits.error().message);
        std::error_code ec;
        if (::geteuid() == 0) {
            (void)::chown(staging->path().c_str(), limits->uid, limits->gid);
            for (fs::directory_iterator it(staging->path(), ec), end; !ec && it != end; it.increment(ec))
                (void)::chown(it->path().c_str(), limits->uid, limits->gid);
        }
        sandbox::Spec spec;
        spec.uid = limits->uid;
        spec.gid = limits->gid;
        std::vector<std::string> args = {"--verify-cvd", staging->path()};
        for (auto& a : sandbox::toOptions(spec)) args.push_back(std::move(a));
        auto check = WorkerProcess::start(workerPath("qkiosk-scanner"), args);
        if (!check) return failed(check.error().message);
        if (const auto how = check->wait(); !how.empty())
            return refused("official database check failed (" + how + "; see the line above)");
    }
    auto engine = testLoad(staging->path(), config.scan.tempDir);
    if (!engine) return refused("the update does not load: " + engine.error().message);

    // Never back in time: an older database than the one in use is refused.
    // A database folder that is there but cannot be looked at is an error:
    // taken for "none yet", it would let an older update in.
    if (!current) {
        auto installed = pathExists(db);
        if (!installed) return failed(installed.error().message + " (the signatures in use)");
        if (*installed)
            if (auto loaded = testLoad(db, config.scan.tempDir)) current = *loaded;
    }
    if (current)
        if (auto older = olderThanInUse(*engine, *update, *current)) return refused(*older);
    // Recorded before it takes effect: an update that is not in the log is not installed.
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : update->files) files.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
    if (auto st = record("signature-update", {{"source", source.path},
                                              {"db_dir", db},
                                              {"db_version", engine->dbVersion},
                                              {"db_time", engine->dbTime},
                                              {"signatures", engine->signatures},
                                              {"site_signed", update->siteSigned},
                                              {"bundle_created", update->created},
                                              {"files", files},
                                              {"by", by}});
        !st)
        return failed(st.error().message + " (the update was not installed)");
    if (auto st = installDatabases(staging->path(), db, update->files, update->siteSigned ? update->created : ""); !st)
        return failed(st.error().message);
    return Imported{update->files.size(), *engine, update->siteSigned, update->created};
}

}  // namespace kiosk::signatures
