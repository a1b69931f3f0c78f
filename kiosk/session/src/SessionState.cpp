#include "kiosk/session/SessionState.h"

#include <algorithm>

#include "kiosk/evidence/Evidence.h"
#include "kiosk/model/Manifest.h"
#include "qkiosk/base/Sha256.h"
#include "qkiosk/base/Text.h"

namespace kiosk {

using proto::ReasonCode;

SessionState::SessionState(const ScanSettings& settings, bool manifestOnly)
    : policy_(settings.blockedNames, settings.deceptiveNames),
      settings_(settings),
      manifestOnly_(manifestOnly),
      scannerOpen_(!manifestOnly) {}

void SessionState::reason(ReasonCode code, std::string path, std::string detail) {
    reasons_.push_back(Reason{code, std::move(path), std::move(detail)});
}

Status SessionState::partition(const proto::Partition& p) {
    if (p.id != partitionPaths_.size() + 1) return makeError("partition ids out of order");
    for (const auto& [id, path] : partitionPaths_)
        if (path == p.path) return makeError("partition " + p.path + " reported twice");
    partitionPaths_[p.id] = p.path;
    partitions_.push_back(PartitionInfo{p.index, p.path, p.scheme, p.fs, p.label, p.offset, p.length});
    return {};
}

Result<FileFate> SessionState::file(const proto::FileEntry& e, bool hasFd) {
    const auto part = partitionPaths_.find(e.partition);
    if (part == partitionPaths_.end()) return makeError("file in an unannounced partition");
    const std::string& prefix = part->second;
    if (!e.path.starts_with(prefix) || e.path.size() == prefix.size()) return makeError("file path outside its partition");
    if (e.id <= lastId_) return makeError("file ids out of order");
    lastId_ = e.id;
    if (hasFd != (e.content == proto::Content::Attached)) return makeError("content descriptor missing or unexpected");

    FileRecord rec{e.path, e.size, toHex(e.sha256), ""};
    if (!manifestOnly_)
        if (auto d = policy_.checkDeception(e.path)) reason(d->code, e.path, d->detail);
    if (manifestOnly_) {
        if (e.content == proto::Content::Attached) return makeError("file content sent although nothing is scanned");
    } else if (e.content == proto::Content::TooLarge) {
        // A disk image the reader opens is scanned through its own files, which follow.
        if (!e.media)
            reason(ReasonCode::Unscannable, e.path,
                   "file of " + humanBytes(e.size) + " exceeds the scan limit of " + humanBytes(settings_.maxFileSize));
        if (auto t = policy_.checkName(e.path)) reason(t->code, e.path, t->detail);
    } else if (e.content == proto::Content::Empty) {
        if (auto t = policy_.checkName(e.path)) reason(t->code, e.path, t->detail);
        ++filesScanned_;
    } else {
        pending_[e.id] = PendingFile{e.path, e.size};
        fileIndex_[e.id] = files_.size();
    }
    files_.push_back(std::move(rec));
    return e.content == proto::Content::Attached ? FileFate::Scan : FileFate::Done;
}

Status SessionState::readerFinished(std::uint64_t files) {
    // The reader's own count must match what arrived: nothing lost on the way.
    if (files != files_.size())
        return makeError("reader counted " + std::to_string(files) + " files but announced " + std::to_string(files_.size()));
    readerDone_ = true;
    readerOpen_ = false;
    return {};
}

Status SessionState::result(const proto::ScanResult& r) {
    auto it = pending_.find(r.id);
    if (it == pending_.end()) return makeError("result for a file that was not sent");
    const PendingFile f = it->second;
    pending_.erase(it);
    files_[fileIndex_[r.id]].mime = r.mime;
    for (const auto& h : r.hits) {
        const std::string where = h.member.empty() ? f.path : f.path + "!" + h.member;
        reason(h.kind == proto::Verdict::Infected ? ReasonCode::Infected : ReasonCode::Unscannable, where, h.detail);
    }
    if (r.verdict() != proto::Verdict::Unscannable) {
        ++filesScanned_;
        bytesScanned_ += f.size;
    }
    if (auto t = policy_.check(f.path, r.mime)) reason(t->code, f.path, t->detail);
    return {};
}

void SessionState::stopReader(ReasonCode code, std::string why) {
    readerOpen_ = false;
    reason(code, "/", std::move(why));
}

void SessionState::readerHungUp(std::string why) {
    readerOpen_ = false;
    if (!readerDone_) reason(ReasonCode::Unscannable, "/", std::move(why));
}

bool SessionState::scannerGone(const std::string& why) {
    scannerOpen_ = false;
    reason(ReasonCode::Unscannable, "/", why);
    abandonPending("not scanned: the scanner stopped");
    if (!readerReading()) return false;
    stopReader(ReasonCode::Unscannable, "scan stopped: " + why);
    return true;
}

void SessionState::abandonPending(const std::string& why) {
    for (const auto& [id, f] : pending_) reason(ReasonCode::Unscannable, f.path, why);
    pending_.clear();
}

bool SessionState::stalled(std::uint32_t seconds) {
    const std::string why = "no progress for " + std::to_string(seconds) + " s: the scan was stopped";
    const bool stopped = readerReading();
    if (stopped) stopReader(ReasonCode::ReadError, "media reader stalled: " + why);
    if (!manifestOnly_) (void)scannerGone(why);
    return stopped;
}

bool SessionState::finished() const {
    return (readerDone_ || !readerOpen_) && pending_.empty() && (scannerReady_ || !scannerOpen_);
}

std::uint64_t SessionState::pendingSize(std::uint64_t id) const {
    const auto it = pending_.find(id);
    return it == pending_.end() ? 0 : it->second.size;
}

bool SessionState::evidenceSince(std::size_t from) const {
    return std::any_of(reasons_.begin() + static_cast<std::ptrdiff_t>(from), reasons_.end(),
                       [](const Reason& r) { return isEvidenceFinding(r.code); });
}

void SessionState::requireFreshSignatures(const EngineInfo& engine, std::uint32_t maxDays, TimePoint now) {
    if (manifestOnly_) return;
    const auto age = signatureAgeDays(engine, now);
    if (age && !(*age > maxDays)) return;
    reason(ReasonCode::SignaturesOutdated, "/",
           (age ? "the signatures are " + signatureAgeText(engine, now) + " days old"
                : std::string("the signatures' age is unknown")) +
               " (the limit is " + std::to_string(maxDays) + " days): call the security officer to import a signature update");
}

Report SessionState::finish(Report r) {
    std::sort(files_.begin(), files_.end(), [](const FileRecord& a, const FileRecord& b) { return a.path < b.path; });
    std::stable_sort(reasons_.begin(), reasons_.end(), [](const Reason& a, const Reason& b) {
        return a.path != b.path ? a.path < b.path : a.code < b.code;
    });
    r.manifestSha256 = manifestSha256(files_);
    r.files = std::move(files_);
    r.partitions = std::move(partitions_);
    r.reasons = std::move(reasons_);
    r.filesScanned = filesScanned_;
    r.bytesScanned = bytesScanned_;
    r.pass = r.reasons.empty();
    return r;
}

}  // namespace kiosk
