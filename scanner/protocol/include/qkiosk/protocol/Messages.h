// The messages that cross process boundaries between the front end and its two
// workers (reader, scanner). Every message is a frame: a fixed header (length,
// type) and a payload encoded with Wire.h, at most kMaxPayload bytes, plus at
// most one file descriptor passed with SCM_RIGHTS. Decoding validates every
// field, so a compromised worker can send nothing the parent does not expect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"
#include "qkiosk/base/Sha256.h"

namespace kiosk::proto {

inline constexpr std::uint32_t kMaxPayload = 64 * 1024;
inline constexpr std::size_t kMaxPath = 32768;      // bytes of a path inside the media, UTF-8
inline constexpr std::size_t kMaxText = 2048;       // detail strings, names, labels
inline constexpr std::size_t kMaxNames = 32;        // signature names reported for one file

enum class MsgType : std::uint16_t {
    // front end -> reader
    ReadStart = 1,
    FileAck = 2,
    // reader -> front end
    Partition = 10,
    FileEntry = 11,
    Finding = 12,
    ReaderDone = 13,
    Fatal = 14,
    // front end -> scanner
    ScanRequest = 20,
    // scanner -> front end
    ScannerReady = 30,
    ScanResult = 31,
    // front end -> scanner service (the warm engine), and its answers
    SessionStart = 40,
    SessionStarted = 41,
    SessionEnded = 42,
    // any worker -> front end, its first message: what its sandbox holds
    Sandboxed = 50,
};

// Reason codes (docs/design.md). Workers may only report the ones about media.
enum class ReasonCode : std::uint8_t {
    Infected = 1,
    Unscannable,
    EncryptedVolume,
    UnknownFilesystem,
    ReadError,
    BlockedFileType,
    TypeMismatch,
    DeviceNotApproved,
    DeviceExpired,
    BadUsb,
    SignaturesOutdated,
    CorruptFilesystem,   // a filesystem whose structures contradict themselves (loops, cross-links, FAT copies that differ)
    AmbiguousLayout,     // media that operating systems would read in different ways, one of them unreadable here
    DeceptiveName,       // a file name built to show another extension than it has (bidi controls, hidden spaces)
};
const char* reasonCodeName(ReasonCode code);
std::optional<ReasonCode> reasonCodeFromName(std::string_view name);

struct ReadStart {
    std::uint64_t mediaSize = 0;
    std::uint64_t maxFileSize = 0;      // larger files are hashed but not handed over for scanning
    std::uint64_t inflightBytes = 0;    // content handed over but not yet acknowledged
    std::uint32_t inflightFiles = 0;
    // This many files may always be in flight, whatever their size, so that
    // one large file cannot leave the other scan threads idle.
    std::uint32_t minInflightFiles = 1;
    // Disk images on the media are opened as media of their own this deep,
    // and up to this many bytes of images in all.
    std::uint32_t maxImageDepth = 3;
    std::uint64_t maxImageBytes = 512ull << 30;
    std::uint32_t sectorSize = 512;     // the device's logical sectors: 512, 1024, 2048 or 4096
};

struct FileAck {
    std::uint64_t fileId = 0;
};

// One volume the reader reads: a partition, the bare filesystem, a volume
// found where no partition is, or one of these inside a disk image on the
// media. Its files' paths begin with `path`.
struct Partition {
    std::uint32_t id = 0;               // 1, 2, ... in the order announced; FileEntry::partition names it
    std::uint32_t index = 0;            // 0 = bare filesystem, 1.. = partitions in table order
    std::string path;                   // "/p1/", or "/p1/images/disk.vhd//p1/" inside a disk image
    std::string scheme;                 // "none", "mbr", "gpt", "unpartitioned", ...
    std::string fs;                     // "fat32", "ntfs", ... or "" when unrecognised
    std::string label;
    std::uint64_t offset = 0;           // within the media, or within its disk image
    std::uint64_t length = 0;
};

enum class Content : std::uint8_t {
    Attached = 0,     // a sealed memfd with the file's bytes comes with the message
    TooLarge = 1,     // hashed, but larger than maxFileSize: not scanned
    Empty = 2,        // zero bytes, nothing to scan
};

struct FileEntry {
    std::uint64_t id = 0;
    std::uint32_t partition = 0;        // the Partition::id it lies in
    std::string path;                   // "/p1/docs/a.pdf", already made printable UTF-8
    std::uint64_t size = 0;
    Digest sha256{};
    Content content = Content::Attached;
    // A disk or filesystem image the reader opens as media of its own: its
    // files follow under "<path>//pN/", so its content is scanned through them.
    bool media = false;
};

struct Finding {
    ReasonCode code = ReasonCode::ReadError;
    std::string path;
    std::string detail;
};

struct ReaderDone {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

struct Fatal {
    std::string message;
};

struct ScanRequest {
    std::uint64_t id = 0;
    std::uint64_t size = 0;
    std::string name;                   // the file's name, for libclamav's messages
    bool media = false;                 // the reader opens this file as media (FileEntry::media)
};

struct ScannerReady {
    std::string libclamavVersion;
    std::uint64_t signatures = 0;
    std::string dbVersion;
    std::string dbTime;                 // RFC 3339, newest database file's build time, or ""
    std::uint64_t loadMillis = 0;
};

// Asks the scanner service for a fresh, sandboxed scan worker with its own
// limits and temporary folder; the frame carries the worker's socket.
struct SessionStart {
    std::uint64_t maxFileSize = 0;
    std::uint64_t maxScanSize = 0;
    std::uint32_t maxRecursion = 0;
    std::uint32_t maxFiles = 0;
    std::uint32_t maxScanTimeMs = 0;
    std::uint32_t threads = 0;
    std::string tmpdir;
    std::uint32_t uid = 0, gid = 0;
    std::uint64_t memoryBytes = 0;      // address space beyond the loaded engine; 0 = unlimited
    std::uint64_t cpuSeconds = 0;       // 0 = unlimited
};

// The worker runs; the frame carries a pidfd of it (to kill it, to see it end).
struct SessionStarted {
    std::uint32_t pid = 0;
};

struct SessionEnded {
    std::uint32_t pid = 0;
    std::string how;                    // "" = exited cleanly, else "killed by signal 24 (CPU time limit exceeded)"
};

struct Sandboxed {
    std::string summary;                // "seccomp,no_new_privs,landlock,netns,uid=65534"
};

enum class Verdict : std::uint8_t { Clean = 0, Infected = 1, Unscannable = 2 };

// One thing found in a file: a signature match or a reason it could not be
// scanned completely, with the archive member it concerns ("" = the file itself,
// "a.zip!b.exe" style for nested members).
struct Hit {
    Verdict kind = Verdict::Unscannable;   // Infected or Unscannable
    std::string member;
    std::string detail;                    // signature name or reason
};

struct ScanResult {
    std::uint64_t id = 0;
    std::vector<Hit> hits;
    std::string mime;                   // libmagic's MIME type of the content
    std::uint64_t bytesScanned = 0;

    // Infected if any signature matched, else Unscannable if anything was not
    // fully scanned, else Clean.
    Verdict verdict() const;
};

// One frame as it travels: type, encoded payload, optional descriptor.
struct Frame {
    MsgType type{};
    std::vector<std::uint8_t> payload;
};

Frame encode(const ReadStart&);
Frame encode(const FileAck&);
Frame encode(const Partition&);
Frame encode(const FileEntry&);
Frame encode(const Finding&);
Frame encode(const ReaderDone&);
Frame encode(const Fatal&);
Frame encode(const ScanRequest&);
Frame encode(const ScannerReady&);
Frame encode(const ScanResult&);
Frame encode(const SessionStart&);
Frame encode(const SessionStarted&);
Frame encode(const SessionEnded&);
Frame encode(const Sandboxed&);

Result<ReadStart> decodeReadStart(const Frame&);
Result<FileAck> decodeFileAck(const Frame&);
Result<Partition> decodePartition(const Frame&);
Result<FileEntry> decodeFileEntry(const Frame&);
Result<Finding> decodeFinding(const Frame&);
Result<ReaderDone> decodeReaderDone(const Frame&);
Result<Fatal> decodeFatal(const Frame&);
Result<ScanRequest> decodeScanRequest(const Frame&);
Result<ScannerReady> decodeScannerReady(const Frame&);
Result<ScanResult> decodeScanResult(const Frame&);
Result<SessionStart> decodeSessionStart(const Frame&);
Result<SessionStarted> decodeSessionStarted(const Frame&);
Result<SessionEnded> decodeSessionEnded(const Frame&);
Result<Sandboxed> decodeSandboxed(const Frame&);

}  // namespace kiosk::proto
