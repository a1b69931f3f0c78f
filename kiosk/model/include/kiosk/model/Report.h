// The outcome of one scan session: the JSON report of docs/design.md (see
// docs/report-format.md) as an immutable value, built by ScanSession.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qkiosk/protocol/Messages.h"
#include "qkiosk/base/Dates.h"
#include "qkiosk/base/Text.h"   // humanBytes

namespace kiosk {

struct Reason {
    proto::ReasonCode code;
    std::string path;     // "/p1/docs/a.zip!b.exe", "/p1/" for a volume, "/" for the media
    std::string detail;
};

struct PartitionInfo {
    std::uint32_t index = 0;
    std::string path;     // "/p1/"; "/p1/images/disk.vhd//p1/" for a volume inside a disk image on the media
    std::string scheme;
    std::string fs;
    std::string label;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;

    // A volume of the media itself, not one inside a disk image file on it.
    bool onMedia() const { return path.find("//") == std::string::npos; }
};

struct FileRecord {
    std::string path;
    std::uint64_t size = 0;
    std::string sha256;   // hex
    std::string mime;     // "" when not scanned (too large, empty, unreadable)
};

struct EngineInfo {
    std::string libclamav;
    std::uint64_t signatures = 0;
    std::string dbVersion;
    std::string dbTime;
    std::uint64_t loadMillis = 0;
};

// Days from when the newest signature database was built (db_time) to `now`,
// or nullopt when the engine does not say.
std::optional<double> signatureAgeDays(const EngineInfo& engine, TimePoint now = std::chrono::system_clock::now());
// The same for people and status lines: "3.2", or "unknown".
std::string signatureAgeText(const EngineInfo& engine, TimePoint now = std::chrono::system_clock::now());

struct ApprovalInfo {
    std::string owner, purpose, expires;
};

struct DeviceIdentity {
    std::string vendorId, productId, serial;
    std::vector<std::string> interfaces;
    std::string port;                       // sysfs name, "1-1"
    std::string manufacturer, product;
    std::optional<ApprovalInfo> approval;   // the whitelist entry it matched
};

// What a FAIL with findings left in the evidence vault (kiosk/evidence/Evidence.h).
struct EvidenceFile {
    std::string path;      // on the media; for a hit inside an archive, the whole top-level file
    std::uint64_t size = 0;
    std::string sha256;    // hex, of the content (the manifest's)
    std::string stored;    // its name in the case folder (its SHA-256), "" when it is not there
    std::string missing;   // why it is not there
};

struct EvidenceImage {
    std::string stored;    // "media.img", "" when not taken
    std::uint64_t size = 0;
    std::string sha256;    // hex, of the whole media as read
    std::string skipped;   // why it was not taken
};

struct Evidence {
    std::string caseDir;      // the case folder, "" when nothing could be stored
    std::string caseSha256;   // hex, of its case.json
    std::vector<EvidenceFile> files;
    EvidenceImage image;
    std::string missing;      // why the case (or its case.json) could not be stored
};

struct Report {
    bool pass = false;
    std::vector<Reason> reasons;
    std::optional<DeviceIdentity> device;
    std::string source;                  // the image or device path that was scanned
    std::uint64_t mediaSize = 0;
    std::vector<PartitionInfo> partitions;
    std::vector<FileRecord> files;       // sorted by path
    std::uint64_t filesScanned = 0;
    std::uint64_t bytesScanned = 0;
    std::string manifestSha256;
    EngineInfo engine;
    std::map<std::string, std::string> sandbox;   // worker -> what its sandbox held ("seccomp,no_new_privs,...")
    std::string ticketId;
    std::string started, finished;       // RFC 3339, UTC
    double seconds = 0;
    std::optional<Evidence> evidence;    // set on a FAIL with findings when evidence is collected
};

// A ticket id: the UTC time of `now` and 32 random bits, "20261204-223434-9f2c01ab".
std::string newTicketId(TimePoint now = std::chrono::system_clock::now());

// Adds findings from outside the media (device policy, signature age): any
// reason makes the verdict FAIL.
void addReason(Report& r, proto::ReasonCode code, std::string path, std::string detail);

// JSON text of the report (the schema of docs/design.md plus documented extensions).
std::string toJson(const Report& r);

// JSON text of the report's "evidence" object (docs/report-format.md).
std::string toJson(const Evidence& e);

// The summary `qkiosk scan` prints for a person.
std::string toSummary(const Report& r);

}  // namespace kiosk
