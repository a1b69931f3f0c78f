// Importing an officer's signature update: the whole way from a stick (or a
// folder) to the database folder in use, for `qkiosk signatures import` and
// for the officer's request to the daemon (docs/officer-protocol.md).
//
// From a stick or an image, the medium is scanned first with the signatures
// in use: it must pass (old signatures aside: that is what the update is
// for), and the update is copied out of its /pN/qkiosk-signatures/ folder
// while it is read, never mounted. Then the update is verified (a site
// bundle's signature, or libclamav's check of official CVDs in the sandbox),
// test-loaded on the side, checked not to be older than what is in use,
// recorded, and swapped in atomically (SignatureUpdate.h).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "kiosk/config/Config.h"
#include "kiosk/model/Report.h"
#include "qkiosk/base/Result.h"

namespace kiosk::signatures {

struct ImportSource {
    enum Kind { Image, Device, Dir };
    Kind kind = Dir;
    std::string path;   // a disk image, a block device (/dev/sdX), or a folder holding the update's files
};

struct Imported {
    std::size_t files = 0;     // database files installed
    EngineInfo engine;         // the new signatures, as they loaded
    bool siteSigned = false;   // a site bundle (else official ClamAV databases)
    std::string created;       // RFC 3339: when the site bundle was built ("" for official ones)
};

struct ImportFailure {
    // true: the update was looked at and is not acceptable (the medium did
    // not pass, a signature or hash is wrong, it does not load, it is older
    // than the signatures in use); recorded as signature-update-refused
    // (CLI exit 1). false: an error on the kiosk's side (CLI exit 2).
    bool refused = false;
    std::string message;       // one line, naming what was wrong
    std::string recordError;   // refused only: why the refusal could not be recorded ("" if it was)
};

using ImportResult = std::variant<Imported, ImportFailure>;

// Appends one signed record of `kind` with `data` to the quarantine log. The
// CLI opens the log for it; the daemon passes its own recorder, which also
// notifies the syslog forwarder.
using Recorder = std::function<Status(const std::string& kind, const nlohmann::json& data)>;

// Imports the update from `source` into `dbDir` (usually config.dbDir).
// Every outcome that looked at the update is recorded through `record`
// with "by": `by` (who asked): "signature-update" before it is installed
// (an update that cannot be recorded is not installed), or
// "signature-update-refused" with the reason. The signatures in use stay
// unless Imported is returned. Needs the worker executables (qkiosk-reader,
// qkiosk-scanner; WorkerProcess.h).
ImportResult importUpdate(const ImportSource& source, const Config& config, const std::string& dbDir,
                          const Recorder& record, const std::string& by);

// Loads the databases of `dir` in a scanner service: the proof that they work,
// and what they are (version, count, build time).
Result<EngineInfo> testLoad(const std::string& dir, const std::string& tempBase);

}  // namespace kiosk::signatures
