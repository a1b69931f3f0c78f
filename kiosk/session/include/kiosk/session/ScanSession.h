// One scan of one medium, start to verdict: starts a sandboxed reader, asks
// the scanner service for a fresh sandboxed scan worker, hands the reader the read-only media descriptor, forwards each
// file's sealed content to the scanner, applies the file-type policy, and
// turns everything into a Report. The front end never parses media bytes; it
// only validates the workers' messages. Fail closed: a worker that stops,
// stalls or misbehaves turns the session into a FAIL with a reason.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "kiosk/config/Config.h"
#include "kiosk/workers/Media.h"
#include "kiosk/model/Report.h"
#include "qkiosk/base/Result.h"

namespace kiosk {

class ScannerService;
class EvidenceCollection;

struct ScanOptions {
    ScannerService* scanner = nullptr;   // the warm engine; must be ready
    ScanSettings settings;
    SandboxSettings sandbox;
    std::uint32_t maxSignatureAgeDays = 7;   // older signatures: FAIL signatures-outdated
    std::optional<DeviceIdentity> device;
    // Files copied out of the media while it is read, from the sealed content
    // the reader sent: only their bytes, never interpreted, hashed on the way
    // and checked against the reader's SHA-256 (a mismatch is a read-error).
    //  * `keep(path)` says which files are wanted whatever their scan result (a
    //    signature update on an officer's stick); they land in `keepDir` under
    //    their base name.
    //  * `evidence`: the files with an infected, blocked-file-type or
    //    type-mismatch finding go to this session's evidence (kiosk/evidence/Evidence.h).
    //    Each file's content is held only while its scan result is pending, so
    //    memory stays bounded by what is in flight anyway.
    std::function<bool(const std::string& path)> keep;
    std::string keepDir;
    // Read and hash every file, scan none (`qkiosk verify`): no scanner and no
    // signatures are needed, and the report is a manifest, never a verdict.
    bool manifestOnly = false;
    EvidenceCollection* evidence = nullptr;
};

struct Progress {
    std::uint64_t filesSeen = 0, filesDone = 0;
    std::uint64_t bytesSeen = 0, bytesDone = 0;
    std::string currentPath;
};

class ScanSession {
public:
    explicit ScanSession(ScanOptions options) : options_(std::move(options)) {}

    // Called as files are read and scanned (for a progress display).
    void onProgress(std::function<void(const Progress&)> cb) { progress_ = std::move(cb); }

    // An error means no verdict could be reached at all (the workers could not
    // start, the signatures could not be loaded): the caller reports exit 2.
    Result<Report> run(Media& media);

private:
    ScanOptions options_;
    std::function<void(const Progress&)> progress_;
};

}  // namespace kiosk
