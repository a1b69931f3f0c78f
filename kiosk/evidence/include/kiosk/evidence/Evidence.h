// The evidence vault. On a FAIL with findings the kiosk keeps, root-only, the
// files that carry the findings and (where configured) a raw image of the
// whole media, each with its SHA-256, and records the chain of custody in the
// quarantine log, so that an incident team can investigate (the ministry's
// guidance asks to preserve evidence when something is found). The bytes are
// copied, never interpreted.
//
//   <evidence_dir>/                 0700
//     <ticket_id>/                  0700: one case per session
//       <sha256>                    0400: an offending file, named by its hash (never
//                                   executable, no original name to double-click)
//       media.img                   0400: the raw media, when taken (sparse)
//       case.json                   0400: what the case holds and why; written last
//     .incoming-XXXXXX/             a case being collected, or one a crash cut short
//
// A case appears under its ticket id in one rename, with its case.json.
// Nothing is lost and nothing crashes: evidence that cannot be stored (full
// disk, unusable vault) leaves the verdict FAIL and says what is missing and
// why, in the report, case.json and the log. Every piece leaves at least
// `evidence_reserve` bytes free on the vault's disk, for the quarantine log.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kiosk/config/Config.h"
#include "kiosk/model/Report.h"

namespace kiosk {

struct Media;

inline constexpr const char* kCaseFile = "case.json";
inline constexpr const char* kImageFile = "media.img";

// The findings whose files are kept: infected, blocked-file-type, type-mismatch,
// deceptive-name.
bool isEvidenceFinding(proto::ReasonCode code);
bool hasEvidenceFindings(const Report& r);


// One session's evidence, from the scan to the case.
class EvidenceCollection {
public:
    // Opens the vault (creating it 0700; it must belong to this user) and a
    // private staging folder in it. Never fails: a vault that cannot be used
    // is remembered, and finish() says the evidence is missing and why.
    explicit EvidenceCollection(EvidenceSettings settings);
    ~EvidenceCollection();   // a case that never reached a verdict is removed
    EvidenceCollection(const EvidenceCollection&) = delete;
    EvidenceCollection& operator=(const EvidenceCollection&) = delete;

    // During the scan: keeps a file with a finding. `fd` is its sealed content
    // (-1 when the kiosk never held it: an empty file, or one over the scan
    // limit), `file` its manifest entry. A copy that cannot be stored is
    // recorded as missing; the error returned is only for content that does
    // not match the manifest's SHA-256 (a finding about the media reader).
    Status keep(int fd, const FileRecord& file);

    // Once the verdict is final (ticket id set): on a FAIL with findings,
    // takes the media image, writes case.json, moves the case to
    // <vault>/<ticket_id> and sets report.evidence; otherwise removes the
    // staging folder. Takes as long as reading the media once.
    void finish(Report& report, const Media& media, const std::string& kioskId);

private:
    Status roomFor(std::uint64_t bytes) const;
    EvidenceImage takeImage(const Media& media) const;

    EvidenceSettings settings_;
    std::string staging_;   // "" when the vault cannot be used
    std::string problem_;   // why not
    std::vector<EvidenceFile> files_;
    std::set<std::string> stored_;   // names already in the case (one copy per content)
};

// The chain-of-custody record for the quarantine log of a report with
// evidence: ("evidence-collected", data), or ("evidence-not-stored", data)
// when no case could be stored. The data names the case, every file's path,
// size and SHA-256 (or why it is missing), the image's, and case.json's hash.
std::pair<std::string, std::string> custodyRecord(const Report& report);

}  // namespace kiosk
