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
// A running daemon notices the new folder and switches between sessions. The
// import itself is kiosk/signatures/Import.h, shared with the daemon.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "Commands.h"
#include "Common.h"
#include "kiosk/session/ScanSession.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/signatures/Import.h"
#include "kiosk/signatures/SignatureUpdate.h"

namespace kiosk::app {
namespace {

struct Options {
    std::optional<std::string> image, device, dir, db, configPath, secret, publicKey, key, out;
    std::vector<std::string> files;
};

Result<Options> parseOptions(const std::string& sub, const std::vector<std::string>& args) {
    Options o;
    const OptionSpec spec{{{"--image", &o.image},
                           {"--device", &o.device},
                           {"--dir", &o.dir},
                           {"--db", &o.db},
                           {"--config", &o.configPath},
                           {"--secret", &o.secret},
                           {"--public", &o.publicKey},
                           {"--key", &o.key},
                           {"--out", &o.out}},
                          {},
                          nullptr,
                          sub == "bundle" ? &o.files : nullptr};
    if (auto st = readOptions("signatures " + sub, args, 1, spec); !st) return st.error();
    return o;
}

int status(const Options& o, const Config& config) {
    const std::string db = o.db.value_or(config.dbDir);
    auto engine = signatures::testLoad(db, config.scan.tempDir);
    if (!engine) return usageError(engine.error().message);
    const auto age = signatureAgeDays(*engine);
    const bool current = age && *age <= config.maxSignatureAgeDays;
    std::printf("Signatures: %s\nVersion:    %s\nCount:      %llu\nBuilt:      %s\nAge:        %s (limit %u days)\nStatus:     %s\n",
                db.c_str(), engine->dbVersion.c_str(), static_cast<unsigned long long>(engine->signatures),
                engine->dbTime.c_str(), (signatureAgeText(*engine) + " days").c_str(), config.maxSignatureAgeDays,
                current ? "current" : "OUTDATED: no stick can pass until an update is imported");
    return current ? 0 : 1;
}

int importUpdate(const Options& o, const Config& config) {
    const int sources = o.image.has_value() + o.device.has_value() + o.dir.has_value();
    if (sources != 1) return usageError("signatures import: give exactly one of --image FILE, --device DEV or --dir DIR");
    const std::string db = o.db.value_or(config.dbDir);
    const signatures::ImportSource source = o.image    ? signatures::ImportSource{signatures::ImportSource::Image, *o.image}
                                            : o.device ? signatures::ImportSource{signatures::ImportSource::Device, *o.device}
                                                       : signatures::ImportSource{signatures::ImportSource::Dir, *o.dir};
    // The log is opened for each record, as it is needed: a refusal is still
    // reported as one when the log cannot be written.
    const signatures::Recorder record = [&config](const std::string& kind, const nlohmann::json& data) -> Status {
        auto qlog = log::openSignedLog(config.logPath, config.kioskKey);
        if (!qlog) return qlog.error();
        if (auto r = qlog->appendSigned(kind, "", data.dump()); !r) return r.error();
        return {};
    };
    const auto result = signatures::importUpdate(source, config, db, record, personOf(std::nullopt));
    if (const auto* failure = std::get_if<signatures::ImportFailure>(&result)) {
        if (!failure->refused) return usageError(failure->message);
        std::fprintf(stderr, "qkiosk: update refused: %s; the signatures in use stay\n", failure->message.c_str());
        if (!failure->recordError.empty()) std::fprintf(stderr, "qkiosk: %s\n", failure->recordError.c_str());
        return 1;
    }
    const auto& imported = std::get<signatures::Imported>(result);
    std::printf("Imported %zu file(s) into %s: version %s, %llu signatures%s.\n"
                "A running kiosk switches to them between sessions.\n",
                imported.files, db.c_str(), imported.engine.dbVersion.c_str(),
                static_cast<unsigned long long>(imported.engine.signatures),
                imported.siteSigned ? (", site bundle of " + imported.created).c_str() : ", official ClamAV databases");
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
