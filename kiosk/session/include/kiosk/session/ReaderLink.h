// The session's side of the media reader (qkiosk-reader): starting it in its
// sandbox with its own read-only descriptor of the media, and turning each of
// its messages into what the session state records (volumes, files, findings,
// its last word) or into the reason it was stopped. A reader that says
// anything out of order, or anything before it said it is sandboxed, is
// stopped, and the media counts as not read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "kiosk/config/Config.h"
#include "kiosk/session/SessionState.h"
#include "kiosk/session/WorkerLink.h"
#include "kiosk/workers/Media.h"
#include "qkiosk/base/UniqueFd.h"

namespace kiosk {

// A file the reader announced and the state took in, for the session to pass on.
struct ReaderFile {
    proto::FileEntry entry;
    UniqueFd content;             // its sealed bytes, when `fate` is Scan
    FileFate fate = FileFate::Done;
    std::size_t reasonsBefore = 0;   // the state's reason count before it: evidenceSince() tells what its name alone found
};

class ReaderLink {
public:
    // Starts qkiosk-reader and queues what to read: `scanning` false hands over
    // no content (every file is only hashed).
    static Result<ReaderLink> start(const Media& media, const ScanSettings& settings, const SandboxSettings& sandbox,
                                    const WorkerLimits& limits, bool scanning);
    // Over any worker (a unit test's socket pair).
    ReaderLink(std::unique_ptr<Worker> worker, WorkerLimits limits) : worker_(std::move(worker)), limits_(limits) {}

    proto::Channel& channel() { return worker_->channel(); }

    // Sends what is queued; a reader still reading that takes nothing more is stopped.
    void flush(SessionState& state);
    // File `id` is dealt with: the reader may hand over more.
    void acknowledge(std::uint64_t id);
    // Takes one message (the channel is readable) and applies it to `state`;
    // the first one's sandbox summary goes into `sandbox["reader"]`. Returns
    // the file it announced, if it announced one that was taken.
    std::optional<ReaderFile> take(SessionState& state, std::map<std::string, std::string>& sandbox);
    // Ends the reader before the end of the media: a reason on "/".
    void stop(SessionState& state, proto::ReasonCode code, const std::string& why);
    // Kills it and hangs up (the state already knows why).
    void end();
    // After the session: hangs up, waits for it, and a reader that had said it
    // was done but then did not exit cleanly is a reason still.
    void collect(SessionState& state);

private:
    std::optional<ReaderFile> apply(SessionState& state, proto::Received& msg, Status& st);

    std::unique_ptr<Worker> worker_;
    WorkerLimits limits_;
};

}  // namespace kiosk
