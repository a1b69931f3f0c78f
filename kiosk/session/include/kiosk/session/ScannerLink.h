// The session's side of its scan worker (a fresh, sandboxed child of the warm
// engine, ScannerService): sending it each file's sealed content, and turning
// its answers into what the session state records. A scanner that says
// anything out of turn, sends a descriptor, or stops is gone: the session
// then ends it and every file still waiting for it is unscannable
// (SessionState::scannerGone).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "kiosk/config/Config.h"
#include "kiosk/session/SessionState.h"
#include "kiosk/session/WorkerLink.h"
#include "qkiosk/base/UniqueFd.h"

namespace kiosk {

// What one message from the scanner came to.
struct ScannerWord {
    enum class Kind {
        Nothing,   // taken in, nothing for the session to do (its sandbox summary)
        Answer,    // a file's result, recorded in the state: the file is dealt with
        Gone,      // the scanner stopped or misbehaved, `why`
    };
    Kind kind = Kind::Nothing;
    std::uint64_t id = 0;            // Answer: the file
    std::uint64_t size = 0;          // Answer: its size
    std::size_t reasonsBefore = 0;   // Answer: the state's reason count before its result
    std::string why;                 // Gone
};

class ScannerLink {
public:
    // A fresh scan worker with this session's limits, extracting into `tmpdir`.
    static Result<ScannerLink> open(ScannerService& service, const ScanSettings& settings, const WorkerLimits& limits,
                                    const std::string& tmpdir);
    // Over any worker (a unit test's socket pair).
    ScannerLink(std::unique_ptr<Worker> worker, WorkerLimits limits) : worker_(std::move(worker)), limits_(limits) {}

    proto::Channel& channel() { return worker_->channel(); }

    // Queues file `e` (named `name` in libclamav's messages) with its content.
    void send(const proto::FileEntry& e, const std::string& name, UniqueFd content);
    // Sends what is queued. Returns why the scanner is gone if it takes
    // nothing more while the state still counts on it, else "".
    std::string flush(const SessionState& state);
    // Takes one message (the channel is readable) and applies it to `state`;
    // its sandbox summary goes into `sandbox["scanner"]`.
    ScannerWord take(SessionState& state, std::map<std::string, std::string>& sandbox);
    // Kills it and hangs up.
    void end();
    // There is no more work: hang up, so that it ends.
    void hangUp() { channel().close(); }
    // After the session: waits for it; a scanner the session still counted on
    // that did not exit cleanly is a reason.
    void collect(SessionState& state);

private:
    std::unique_ptr<Worker> worker_;
    WorkerLimits limits_;
};

}  // namespace kiosk
