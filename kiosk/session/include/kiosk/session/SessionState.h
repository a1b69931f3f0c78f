// The verdict of one scan session as it accumulates: the volumes and files
// the reader announced, the scanner's answers, every reason, and where each
// worker stands. No process, no descriptor and no clock of its own: the
// session (ScanSession.cpp) feeds it what the workers said and did, and this
// is where the fail-closed rule lives. Whatever was not read to the end,
// answered by the scanner and found clean leaves a reason, and any reason is
// a FAIL.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiosk/config/Config.h"
#include "kiosk/model/Report.h"
#include "kiosk/session/FileTypePolicy.h"
#include "qkiosk/base/Result.h"
#include "qkiosk/protocol/Messages.h"

namespace kiosk {

// What becomes of a file the reader announced.
enum class FileFate {
    Scan,   // its content came with it and goes to the scanner; the file waits for the answer
    Done,   // nothing to scan (empty, over the scan limit, or only hashed): it is dealt with
};

class SessionState {
public:
    // `manifestOnly`: the files are hashed, not scanned; only what kept the
    // media from being read completely is a reason. There is no scanner then.
    SessionState(const ScanSettings& settings, bool manifestOnly);

    void reason(proto::ReasonCode code, std::string path, std::string detail);

    // --- What the reader says. An error means the reader broke the protocol;
    // the caller stops it (stopReader) with that error as the reason.
    Status partition(const proto::Partition& p);
    // Checks a file announcement against what came before; records the file
    // and the reasons its name or size alone give.
    Result<FileFate> file(const proto::FileEntry& e, bool hasFd);
    // The reader's last message: its own count of files must match what arrived.
    Status readerFinished(std::uint64_t files);

    // --- What the scanner says.
    Status result(const proto::ScanResult& r);

    // --- Where the workers stand. Each worker's first message says it is
    // sandboxed; nothing else is taken before it.
    void readerSandboxed() { readerSandboxed_ = true; }
    void scannerReady() { scannerReady_ = true; }
    // The reader is stopped before the end of the media: a reason on "/".
    void stopReader(proto::ReasonCode code, std::string why);
    // The reader hung up: a FAIL with `why` unless it had said it was done.
    void readerHungUp(std::string why);
    // The scanner is gone or unusable (`why`): nothing sent to it will be
    // answered, so every file waiting for it is unscannable, and a reader still
    // reading is stopped too (it would wait for acknowledgements forever).
    // Returns whether the reader was stopped by this, for the caller to end it.
    [[nodiscard]] bool scannerGone(const std::string& why);
    // Whatever was sent but never answered cannot pass.
    void abandonPending(const std::string& why);
    // Nothing came from either worker for `seconds`: both are stopped.
    // Returns whether the reader was stopped by this.
    [[nodiscard]] bool stalled(std::uint32_t seconds);

    bool readerOpen() const { return readerOpen_; }
    bool readerDone() const { return readerDone_; }
    bool readerIsSandboxed() const { return readerSandboxed_; }
    // Still reading: neither done nor stopped.
    bool readerReading() const { return readerOpen_ && !readerDone_; }
    bool scannerOpen() const { return scannerOpen_; }
    bool scannerIsReady() const { return scannerReady_; }
    // Done when the media is read (or the reader stopped), every file sent is
    // answered, and the engine is known (the report names the signatures even
    // for an empty stick) or the scanner is gone.
    bool finished() const;

    bool hasPending() const { return !pending_.empty(); }
    // The size of a file sent to the scanner and not answered yet (0 if none).
    std::uint64_t pendingSize(std::uint64_t id) const;
    std::size_t reasonCount() const { return reasons_.size(); }
    // Whether a finding that calls for evidence was recorded after the first `from` reasons.
    bool evidenceSince(std::size_t from) const;
    std::size_t fileCount() const { return files_.size(); }

    // Current signatures are part of "scanned": signatures older than
    // `maxDays` at `now`, or of unknown age, are a FAIL signatures-outdated.
    // Nothing to check when only a manifest is made.
    void requireFreshSignatures(const EngineInfo& engine, std::uint32_t maxDays,
                                TimePoint now = std::chrono::system_clock::now());

    // The report: files sorted by path, reasons by path then code (otherwise
    // in the order they came), the manifest, the counts, and PASS only when
    // there is no reason at all.
    Report finish(Report r);

private:
    struct PendingFile {
        std::string path;
        std::uint64_t size = 0;
    };

    FileTypePolicy policy_;
    ScanSettings settings_;
    bool manifestOnly_ = false;
    std::vector<Reason> reasons_;
    std::vector<PartitionInfo> partitions_;
    std::map<std::uint32_t, std::string> partitionPaths_;   // Partition::id -> its path
    std::vector<FileRecord> files_;
    std::map<std::uint64_t, PendingFile> pending_;
    std::map<std::uint64_t, std::size_t> fileIndex_;
    std::uint64_t lastId_ = 0;
    std::uint64_t filesScanned_ = 0, bytesScanned_ = 0;
    bool readerOpen_ = true, readerDone_ = false, readerSandboxed_ = false;
    bool scannerOpen_ = true, scannerReady_ = false;
};

}  // namespace kiosk
