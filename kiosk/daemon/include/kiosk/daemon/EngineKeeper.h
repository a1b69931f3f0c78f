// The signatures the daemon scans with, kept across sessions. At start the
// engine loads and the kiosk waits for it (LOADING, then READY). When the
// database folder changes (an imported update, freshclam), a new engine
// loads on the side while the old one stays in use; it is swapped in at a
// look between sessions once it is ready (ENGINE-UPDATED). If it fails, the
// old one stays, the failure is said and logged, and the same files are not
// tried again. An engine that died is reported and loaded again.
//
// maintain() never runs during a scan: the daemon calls it from its loop, so
// a scan never loses the engine it started with.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "kiosk/daemon/Parts.h"
#include "kiosk/model/Report.h"

namespace kiosk {

class ScannerService;

// A signature engine, loading or loaded: a ScannerService in the kiosk, a fake in tests.
class Engine {
public:
    virtual ~Engine() = default;
    // Non-blocking: true once loaded, false while loading, an error when
    // loading failed or the engine died.
    virtual Result<bool> poll() = 0;
    virtual Status waitReady(std::chrono::milliseconds timeout) = 0;
    virtual const EngineInfo& info() const = 0;
    // What a scan uses (nullptr for an engine that cannot scan).
    virtual ScannerService* service() = 0;
};

class EngineKeeper {
public:
    using Start = std::function<Result<std::unique_ptr<Engine>>()>;
    // Changes when the database files change.
    using Stamp = std::function<std::string()>;
    using WallTime = std::function<TimePoint()>;

    // The kiosk's: qkiosk-scanner services on `dbDir`, stamped by its files' names, sizes and times.
    static EngineKeeper forDatabase(const std::string& dbDir, const std::string& tempBase, StatusSink status,
                                    Recorder record);

    EngineKeeper(std::string dbDir, Start start, Stamp stamp, StatusSink status, Recorder record,
                 WallTime now = [] { return std::chrono::system_clock::now(); });

    // Loads a changed database on the side, swaps it in when ready, restarts a dead engine.
    void maintain();
    // The engine in use; nullptr when none could be loaded.
    Engine* current() { return engine_.get(); }
    const Engine* current() const { return engine_.get(); }
    // READY with the engine in use (there must be one).
    messages::Ready readyEvent() const;

private:
    std::string dbDir_;
    Start start_;
    Stamp stamp_;
    StatusSink status_;
    Recorder record_;
    WallTime now_;
    std::unique_ptr<Engine> engine_;   // in use
    std::unique_ptr<Engine> next_;     // loading on the side
    std::string engineStamp_, nextStamp_, failedStamp_;
};

}  // namespace kiosk
