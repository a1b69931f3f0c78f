#include "kiosk/evidence/Evidence.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kiosk/files/AtomicFile.h"
#include "kiosk/files/HashedCopy.h"
#include "kiosk/workers/Media.h"
#include "kiosk/model/Report.h"
#include "qkiosk/base/Dates.h"
#include "qkiosk/base/UniqueFd.h"

namespace kiosk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string errnoText() { return std::strerror(errno); }

std::string ownerText(uid_t uid) { return uid == 0 ? std::string("root") : "uid " + std::to_string(uid); }

// The vault exists, is a real folder of ours, and nobody else may enter it.
Status openVault(const std::string& dir) {
    const fs::path p(dir);
    std::error_code ignored;   // a parent that cannot be made shows in the mkdir below
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ignored);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return makeError(dir + ": cannot create the evidence vault: " + errnoText());
    struct stat st{};
    if (::lstat(dir.c_str(), &st) != 0) return makeError(dir + ": " + errnoText());
    if (!S_ISDIR(st.st_mode)) return makeError(dir + ": the evidence vault is not a folder");
    // Evidence that someone else could change is worth nothing.
    if (st.st_uid != ::geteuid())
        return makeError(dir + ": the evidence vault belongs to " + ownerText(st.st_uid) + ", not to " + ownerText(::geteuid()));
    if ((st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) != 0)
        return makeError(dir + ": cannot make the evidence vault private (0700): " + errnoText());
    return {};
}

void syncDir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.valid()) ::fsync(fd.get());
}

// The report's findings on this file: its own, and those inside it (archive members).
json findingsOf(const Report& r, const std::string& path) {
    json out = json::array();
    std::string member = path;
    member.push_back('!');
    for (const auto& x : r.reasons)
        if (isEvidenceFinding(x.code) && (x.path == path || x.path.starts_with(member)))
            out.push_back({{"code", proto::reasonCodeName(x.code)}, {"path", x.path}, {"detail", x.detail}});
    return out;
}

std::string caseText(const Report& report, const Evidence& ev, const std::string& kioskId) {
    json full = json::parse(toJson(report));
    full.erase("evidence");
    const json e = json::parse(toJson(ev));
    json files = e.at("files");
    for (auto& f : files) f["findings"] = findingsOf(report, f.at("path").get<std::string>());
    json c = {{"format_version", 1},
              {"ticket_id", report.ticketId},
              {"kiosk_id", kioskId},
              {"collected", rfc3339Now()},
              {"verdict", full.at("verdict")},
              {"device", full.at("device")},
              {"media", {{"source", report.source}, {"size_bytes", report.mediaSize}}},
              {"reasons", full.at("reasons")},
              {"files", std::move(files)},
              {"image", e.at("image")},
              {"report", std::move(full)}};
    return c.dump(2) + "\n";
}

}  // namespace

bool isEvidenceFinding(proto::ReasonCode code) {
    using proto::ReasonCode;
    return code == ReasonCode::Infected || code == ReasonCode::BlockedFileType || code == ReasonCode::TypeMismatch ||
           code == ReasonCode::DeceptiveName;
}

bool hasEvidenceFindings(const Report& r) {
    for (const auto& x : r.reasons)
        if (isEvidenceFinding(x.code)) return true;
    return false;
}

EvidenceCollection::EvidenceCollection(EvidenceSettings settings) : settings_(std::move(settings)) {
    std::error_code ec;   // the report names the case by its full path
    if (const auto full = fs::absolute(settings_.dir, ec); !ec) settings_.dir = full.lexically_normal().string();
    while (settings_.dir.size() > 1 && settings_.dir.back() == '/') settings_.dir.pop_back();
    if (auto st = openVault(settings_.dir); !st) {
        problem_ = st.error().message;
        return;
    }
    std::string tmpl = settings_.dir;
    tmpl.append("/.incoming-XXXXXX");
    if (!::mkdtemp(tmpl.data())) {   // 0700
        problem_ = settings_.dir + ": cannot create a case folder: " + errnoText();
        return;
    }
    staging_ = tmpl;
}

EvidenceCollection::~EvidenceCollection() {
    if (staging_.empty()) return;
    std::error_code ignored;
    fs::remove_all(staging_, ignored);
}

Status EvidenceCollection::roomFor(std::uint64_t bytes) const {
    struct statvfs vfs{};
    if (::statvfs(staging_.c_str(), &vfs) != 0) return makeError(settings_.dir + ": " + errnoText());
    const std::uint64_t avail = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (avail < settings_.reserve || avail - settings_.reserve < bytes)
        return makeError("the vault's disk has " + humanBytes(avail) + " free, and " + humanBytes(settings_.reserve) +
                         " must stay free for the quarantine log (evidence_reserve)");
    return {};
}

Status EvidenceCollection::keep(int fd, const FileRecord& file) {
    EvidenceFile e{file.path, file.size, file.sha256, "", ""};
    auto missing = [&](std::string why) {
        e.missing = std::move(why);
        files_.push_back(e);
        return Status{};
    };
    if (staging_.empty()) return missing("the evidence vault cannot be used: " + problem_);
    if (fd < 0 && file.size > 0)
        return missing("its content was never held by the kiosk (larger than max_file_size); the media image has it, if one was taken");
    // Always copied and hashed: the reader's hash is not trusted to decide
    // that a file is already kept (a duplicate is dropped after the copy, by
    // what was actually copied).
    if (auto room = roomFor(file.size); !room) return missing("not stored: " + room.error().message);
    const std::string partial = staging_ + "/.partial";
    auto digest = copyToNewFile(fd, file.size, file.path, partial, 0400);
    if (!digest) return missing("not stored: " + digest.error().message);
    // Named by what was actually copied, whatever the media reader said.
    const std::string actual = toHex(*digest);
    if (stored_.count(actual)) {
        ::unlink(partial.c_str());
    } else {
        std::string target = staging_;
        target.append("/").append(actual);
        if (::rename(partial.c_str(), target.c_str()) != 0) {
            const std::string why = "not stored: " + target + ": " + errnoText();
            ::unlink(partial.c_str());
            return missing(why);
        }
        stored_.insert(actual);
    }
    e.stored = actual;
    e.sha256 = actual;
    files_.push_back(e);
    if (actual != file.sha256)
        return makeError("the content does not match the SHA-256 the media reader reported (" + file.sha256 + "; the copy kept as evidence is " +
                         actual + ")");
    return {};
}

EvidenceImage EvidenceCollection::takeImage(const Media& media) const {
    EvidenceImage img;
    if (!settings_.image) {
        img.skipped = "evidence_image is false";
        return img;
    }
    if (media.size > settings_.imageLimit) {
        img.skipped = "the media (" + humanBytes(media.size) + ") is larger than evidence_image_limit (" +
                      humanBytes(settings_.imageLimit) + ")";
        return img;
    }
    if (auto room = roomFor(media.size); !room) {
        img.skipped = "the image (" + humanBytes(media.size) + ") would not fit: " + room.error().message;
        return img;
    }
    ::posix_fadvise(media.fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    std::string path = staging_;
    path.append("/").append(kImageFile);
    auto digest = copyToNewFile(media.fd.get(), media.size, media.path, path, 0400, true);
    if (!digest) {
        img.skipped = "the image could not be taken: " + digest.error().message;
        return img;
    }
    img.stored = kImageFile;
    img.size = media.size;
    img.sha256 = toHex(*digest);
    return img;
}

void EvidenceCollection::finish(Report& report, const Media& media, const std::string& kioskId) {
    if (!hasEvidenceFindings(report)) {
        std::error_code ignored;
        if (!staging_.empty()) fs::remove_all(staging_, ignored);
        staging_.clear();
        return;
    }
    Evidence ev;
    ev.files = files_;
    std::sort(ev.files.begin(), ev.files.end(), [](const EvidenceFile& a, const EvidenceFile& b) { return a.path < b.path; });
    if (staging_.empty()) {
        ev.missing = problem_;
        ev.image.skipped = "the evidence vault cannot be used";
        report.evidence = std::move(ev);
        return;
    }
    ev.image = takeImage(media);
    const std::string text = caseText(report, ev, kioskId);
    std::string caseFile = staging_;
    caseFile.append("/").append(kCaseFile);
    if (auto st = writeFileAtomically(caseFile, text, 0400); !st) ev.missing = st.error().context("case.json was not written").message;
    else ev.caseSha256 = toHex(Sha256::of(std::string_view(text)));
    syncDir(staging_);

    // Complete, in one step, under its ticket id; never over another case.
    std::string target = settings_.dir;
    target.append("/").append(report.ticketId);
    if (!isPlainFileName(report.ticketId)) {
        ev.caseDir = staging_;
        if (!ev.missing.empty()) ev.missing.append("; ");
        ev.missing.append("\"" + report.ticketId + "\" cannot name a case folder: the case stays in " + staging_);
    } else if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0) {
        ev.caseDir = staging_;
        if (!ev.missing.empty()) ev.missing.append("; ");
        ev.missing.append(target + ": " + errnoText() + ": the case stays in " + staging_);
    } else {
        ev.caseDir = target;
        syncDir(settings_.dir);
    }
    staging_.clear();   // kept from here on, whatever happened
    report.evidence = std::move(ev);
}

std::pair<std::string, std::string> custodyRecord(const Report& report) {
    if (!report.evidence) return {"evidence-not-stored", json{{"missing", "no evidence was collected"}}.dump()};
    json data = json::parse(toJson(*report.evidence));
    data["ticket_id"] = report.ticketId;
    data["manifest_sha256"] = report.manifestSha256;
    data["media"] = {{"source", report.source}, {"size_bytes", report.mediaSize}};
    return {report.evidence->caseDir.empty() ? "evidence-not-stored" : "evidence-collected", data.dump()};
}

}  // namespace kiosk
