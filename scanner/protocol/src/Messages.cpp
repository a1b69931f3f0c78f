#include "qkiosk/protocol/Messages.h"

#include <algorithm>
#include <array>
#include <utility>

#include "qkiosk/base/Text.h"
#include "qkiosk/protocol/Wire.h"

namespace kiosk::proto {
namespace {

constexpr std::array<std::pair<ReasonCode, const char*>, 14> kReasonNames{{
    {ReasonCode::Infected, "infected"},
    {ReasonCode::Unscannable, "unscannable"},
    {ReasonCode::EncryptedVolume, "encrypted-volume"},
    {ReasonCode::UnknownFilesystem, "unknown-filesystem"},
    {ReasonCode::ReadError, "read-error"},
    {ReasonCode::BlockedFileType, "blocked-file-type"},
    {ReasonCode::TypeMismatch, "type-mismatch"},
    {ReasonCode::DeviceNotApproved, "device-not-approved"},
    {ReasonCode::DeviceExpired, "device-expired"},
    {ReasonCode::BadUsb, "badusb"},
    {ReasonCode::SignaturesOutdated, "signatures-outdated"},
    {ReasonCode::CorruptFilesystem, "corrupt-filesystem"},
    {ReasonCode::AmbiguousLayout, "ambiguous-layout"},
    {ReasonCode::DeceptiveName, "deceptive-name"},
}};

Frame frame(MsgType type, Encoder& e) { return Frame{type, e.take()}; }

Status expectType(const Frame& f, MsgType type) {
    if (f.type != type) return makeError("unexpected message type " + std::to_string(static_cast<int>(f.type)));
    return {};
}

// Unwraps a decoder result into `out` or returns the error from the caller.
#define QK_TRY(out, expr)                 \
    do {                                  \
        auto r_ = (expr);                 \
        if (!r_) return r_.error();       \
        (out) = std::move(r_.value());    \
    } while (0)

#define QK_TRY_STATUS(expr)               \
    do {                                  \
        auto s_ = (expr);                 \
        if (!s_) return s_.error();       \
    } while (0)

}  // namespace

const char* reasonCodeName(ReasonCode code) {
    for (const auto& [c, name] : kReasonNames)
        if (c == code) return name;
    return "unknown";
}

std::optional<ReasonCode> reasonCodeFromName(std::string_view name) {
    for (const auto& [c, n] : kReasonNames)
        if (name == n) return c;
    return std::nullopt;
}

Frame encode(const ReadStart& m) {
    Encoder e;
    e.u64(m.mediaSize);
    e.u64(m.maxFileSize);
    e.u64(m.inflightBytes);
    e.u32(m.inflightFiles);
    e.u32(m.minInflightFiles);
    e.u32(m.maxImageDepth);
    e.u64(m.maxImageBytes);
    e.u32(m.sectorSize);
    return frame(MsgType::ReadStart, e);
}

Result<ReadStart> decodeReadStart(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::ReadStart));
    Decoder d(f.payload);
    ReadStart m;
    QK_TRY(m.mediaSize, d.u64());
    QK_TRY(m.maxFileSize, d.u64());
    QK_TRY(m.inflightBytes, d.u64());
    QK_TRY(m.inflightFiles, d.u32());
    QK_TRY(m.minInflightFiles, d.u32());
    QK_TRY(m.maxImageDepth, d.u32());
    QK_TRY(m.maxImageBytes, d.u64());
    QK_TRY(m.sectorSize, d.u32());
    QK_TRY_STATUS(d.finish());
    if (m.sectorSize != 512 && m.sectorSize != 1024 && m.sectorSize != 2048 && m.sectorSize != 4096)
        return makeError("ReadStart: sector size must be 512, 1024, 2048 or 4096");
    if (m.inflightFiles == 0) return makeError("ReadStart: in-flight file limit is zero");
    if (m.minInflightFiles == 0 || m.minInflightFiles > m.inflightFiles)
        return makeError("ReadStart: minimum in-flight files must be between 1 and the limit");
    return m;
}

Frame encode(const FileAck& m) {
    Encoder e;
    e.u64(m.fileId);
    return frame(MsgType::FileAck, e);
}

Result<FileAck> decodeFileAck(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::FileAck));
    Decoder d(f.payload);
    FileAck m;
    QK_TRY(m.fileId, d.u64());
    QK_TRY_STATUS(d.finish());
    return m;
}

Frame encode(const Partition& m) {
    Encoder e;
    e.u32(m.id);
    e.u32(m.index);
    e.str(m.path);
    e.str(m.scheme);
    e.str(m.fs);
    e.str(m.label);
    e.u64(m.offset);
    e.u64(m.length);
    return frame(MsgType::Partition, e);
}

Result<Partition> decodePartition(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::Partition));
    Decoder d(f.payload);
    Partition m;
    QK_TRY(m.id, d.u32());
    QK_TRY(m.index, d.u32());
    QK_TRY(m.path, d.str(kMaxPath));
    QK_TRY(m.scheme, d.str(32));
    QK_TRY(m.fs, d.str(32));
    QK_TRY(m.label, d.str(kMaxText));
    QK_TRY(m.offset, d.u64());
    QK_TRY(m.length, d.u64());
    QK_TRY_STATUS(d.finish());
    if (m.id == 0) return makeError("Partition: id 0");
    if (m.path.size() < 4 || !m.path.starts_with("/p") || m.path.back() != '/')
        return makeError("Partition: path is not a volume path");
    return m;
}

Frame encode(const FileEntry& m) {
    Encoder e;
    e.u64(m.id);
    e.u32(m.partition);
    e.str(m.path);
    e.u64(m.size);
    e.raw(m.sha256);
    e.u8(static_cast<std::uint8_t>(m.content));
    e.u8(m.media ? 1 : 0);
    return frame(MsgType::FileEntry, e);
}

Result<FileEntry> decodeFileEntry(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::FileEntry));
    Decoder d(f.payload);
    FileEntry m;
    QK_TRY(m.id, d.u64());
    QK_TRY(m.partition, d.u32());
    QK_TRY(m.path, d.str(kMaxPath));
    QK_TRY(m.size, d.u64());
    QK_TRY_STATUS(d.raw(m.sha256));
    std::uint8_t content = 0, media = 0;
    QK_TRY(content, d.u8());
    QK_TRY(media, d.u8());
    QK_TRY_STATUS(d.finish());
    if (content > static_cast<std::uint8_t>(Content::Empty)) return makeError("FileEntry: bad content kind");
    if (media > 1) return makeError("FileEntry: bad media flag");
    m.media = media == 1;
    m.content = static_cast<Content>(content);
    if (m.path.empty() || m.path.front() != '/') return makeError("FileEntry: path is not absolute");
    if ((m.content == Content::Empty) != (m.size == 0)) return makeError("FileEntry: size and content kind disagree");
    return m;
}

Frame encode(const Finding& m) {
    Encoder e;
    e.u8(static_cast<std::uint8_t>(m.code));
    e.str(m.path);
    e.str(m.detail);
    return frame(MsgType::Finding, e);
}

Result<Finding> decodeFinding(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::Finding));
    Decoder d(f.payload);
    Finding m;
    std::uint8_t code = 0;
    QK_TRY(code, d.u8());
    QK_TRY(m.path, d.str(kMaxPath));
    QK_TRY(m.detail, d.str(kMaxText));
    QK_TRY_STATUS(d.finish());
    // A reader may only report what it can know about the media.
    const auto c = static_cast<ReasonCode>(code);
    if (c != ReasonCode::ReadError && c != ReasonCode::UnknownFilesystem && c != ReasonCode::EncryptedVolume &&
        c != ReasonCode::Unscannable && c != ReasonCode::CorruptFilesystem && c != ReasonCode::AmbiguousLayout)
        return makeError("Finding: reason code " + std::to_string(code) + " is not a media finding");
    m.code = c;
    return m;
}

Frame encode(const ReaderDone& m) {
    Encoder e;
    e.u64(m.files);
    e.u64(m.bytes);
    return frame(MsgType::ReaderDone, e);
}

Result<ReaderDone> decodeReaderDone(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::ReaderDone));
    Decoder d(f.payload);
    ReaderDone m;
    QK_TRY(m.files, d.u64());
    QK_TRY(m.bytes, d.u64());
    QK_TRY_STATUS(d.finish());
    return m;
}

Frame encode(const Fatal& m) {
    Encoder e;
    e.str(truncateUtf8(m.message, kMaxText));
    return frame(MsgType::Fatal, e);
}

Result<Fatal> decodeFatal(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::Fatal));
    Decoder d(f.payload);
    Fatal m;
    QK_TRY(m.message, d.str(kMaxText));
    QK_TRY_STATUS(d.finish());
    return m;
}

Frame encode(const ScanRequest& m) {
    Encoder e;
    e.u64(m.id);
    e.u64(m.size);
    e.str(m.name);
    e.u8(m.media ? 1 : 0);
    return frame(MsgType::ScanRequest, e);
}

Result<ScanRequest> decodeScanRequest(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::ScanRequest));
    Decoder d(f.payload);
    ScanRequest m;
    QK_TRY(m.id, d.u64());
    QK_TRY(m.size, d.u64());
    QK_TRY(m.name, d.str(kMaxPath));
    std::uint8_t media = 0;
    QK_TRY(media, d.u8());
    QK_TRY_STATUS(d.finish());
    if (media > 1) return makeError("ScanRequest: bad media flag");
    m.media = media == 1;
    return m;
}

Frame encode(const ScannerReady& m) {
    Encoder e;
    e.str(m.libclamavVersion);
    e.u64(m.signatures);
    e.str(m.dbVersion);
    e.str(m.dbTime);
    e.u64(m.loadMillis);
    return frame(MsgType::ScannerReady, e);
}

Result<ScannerReady> decodeScannerReady(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::ScannerReady));
    Decoder d(f.payload);
    ScannerReady m;
    QK_TRY(m.libclamavVersion, d.str(64));
    QK_TRY(m.signatures, d.u64());
    QK_TRY(m.dbVersion, d.str(kMaxText));
    QK_TRY(m.dbTime, d.str(64));
    QK_TRY(m.loadMillis, d.u64());
    QK_TRY_STATUS(d.finish());
    return m;
}

Verdict ScanResult::verdict() const {
    Verdict v = Verdict::Clean;
    for (const auto& h : hits) {
        if (h.kind == Verdict::Infected) return Verdict::Infected;
        v = Verdict::Unscannable;
    }
    return v;
}

Frame encode(const ScanResult& m) {
    Encoder e;
    e.u64(m.id);
    const auto count = std::min<std::size_t>(m.hits.size(), kMaxNames);
    e.u32(static_cast<std::uint32_t>(count));
    for (std::size_t i = 0; i < count; ++i) {
        e.u8(static_cast<std::uint8_t>(m.hits[i].kind));
        e.str(truncateUtf8(m.hits[i].member, kMaxPath / 2));
        e.str(truncateUtf8(m.hits[i].detail, kMaxText));
    }
    e.str(truncateUtf8(m.mime, 256));
    e.u64(m.bytesScanned);
    return frame(MsgType::ScanResult, e);
}

Result<ScanResult> decodeScanResult(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::ScanResult));
    Decoder d(f.payload);
    ScanResult m;
    QK_TRY(m.id, d.u64());
    std::uint32_t count = 0;
    QK_TRY(count, d.u32());
    if (count > kMaxNames) return makeError("ScanResult: too many hits");
    for (std::uint32_t i = 0; i < count; ++i) {
        Hit h;
        std::uint8_t kind = 0;
        QK_TRY(kind, d.u8());
        if (kind != static_cast<std::uint8_t>(Verdict::Infected) && kind != static_cast<std::uint8_t>(Verdict::Unscannable))
            return makeError("ScanResult: bad hit kind");
        h.kind = static_cast<Verdict>(kind);
        QK_TRY(h.member, d.str(kMaxPath / 2));
        QK_TRY(h.detail, d.str(kMaxText));
        if (h.detail.empty()) return makeError("ScanResult: hit without detail");
        m.hits.push_back(std::move(h));
    }
    QK_TRY(m.mime, d.str(256));
    QK_TRY(m.bytesScanned, d.u64());
    QK_TRY_STATUS(d.finish());
    return m;
}


Frame encode(const SessionStart& m) {
    Encoder e;
    e.u64(m.maxFileSize);
    e.u64(m.maxScanSize);
    e.u32(m.maxRecursion);
    e.u32(m.maxFiles);
    e.u32(m.maxScanTimeMs);
    e.u32(m.threads);
    e.str(m.tmpdir);
    e.u32(m.uid);
    e.u32(m.gid);
    e.u64(m.memoryBytes);
    e.u64(m.cpuSeconds);
    return frame(MsgType::SessionStart, e);
}

Result<SessionStart> decodeSessionStart(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::SessionStart));
    Decoder d(f.payload);
    SessionStart m;
    QK_TRY(m.maxFileSize, d.u64());
    QK_TRY(m.maxScanSize, d.u64());
    QK_TRY(m.maxRecursion, d.u32());
    QK_TRY(m.maxFiles, d.u32());
    QK_TRY(m.maxScanTimeMs, d.u32());
    QK_TRY(m.threads, d.u32());
    QK_TRY(m.tmpdir, d.str(kMaxText));
    QK_TRY(m.uid, d.u32());
    QK_TRY(m.gid, d.u32());
    QK_TRY(m.memoryBytes, d.u64());
    QK_TRY(m.cpuSeconds, d.u64());
    QK_TRY_STATUS(d.finish());
    if (m.threads == 0 || m.threads > 256) return makeError("SessionStart: thread count out of range");
    if (m.tmpdir.empty() || m.tmpdir[0] != '/') return makeError("SessionStart: temporary folder must be an absolute path");
    return m;
}

Frame encode(const SessionStarted& m) {
    Encoder e;
    e.u32(m.pid);
    return frame(MsgType::SessionStarted, e);
}

Result<SessionStarted> decodeSessionStarted(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::SessionStarted));
    Decoder d(f.payload);
    SessionStarted m;
    QK_TRY(m.pid, d.u32());
    QK_TRY_STATUS(d.finish());
    if (m.pid == 0) return makeError("SessionStarted: no process id");
    return m;
}

Frame encode(const SessionEnded& m) {
    Encoder e;
    e.u32(m.pid);
    e.str(truncateUtf8(m.how, kMaxText));
    return frame(MsgType::SessionEnded, e);
}

Result<SessionEnded> decodeSessionEnded(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::SessionEnded));
    Decoder d(f.payload);
    SessionEnded m;
    QK_TRY(m.pid, d.u32());
    QK_TRY(m.how, d.str(kMaxText));
    QK_TRY_STATUS(d.finish());
    return m;
}

Frame encode(const Sandboxed& m) {
    Encoder e;
    e.str(truncateUtf8(m.summary, kMaxText));
    return frame(MsgType::Sandboxed, e);
}

Result<Sandboxed> decodeSandboxed(const Frame& f) {
    QK_TRY_STATUS(expectType(f, MsgType::Sandboxed));
    Decoder d(f.payload);
    Sandboxed m;
    QK_TRY(m.summary, d.str(kMaxText));
    QK_TRY_STATUS(d.finish());
    if (m.summary.find("seccomp") == std::string::npos) return makeError("worker is not sandboxed");
    return m;
}

}  // namespace kiosk::proto
