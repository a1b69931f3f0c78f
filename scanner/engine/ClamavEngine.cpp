#include "ClamavEngine.h"

#include "Containers.h"
#include "LibarchiveReader.h"
#include "MemoryBuffer.h"
#include "qkiosk/formats/Installers.h"
#include "qkiosk/formats/ZipDirectory.h"
#include "qkiosk/formats/Zisofs.h"
#include "qkiosk/base/Dates.h"
#include "qkiosk/base/Sha256.h"
#include "qkiosk/base/Text.h"
#include "qkiosk/protocol/Wire.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

namespace kiosk::scan {

// libclamav does not enter a layer it found clean before in the same
// process (its clean cache): a second copy of a container shows no members.
// The first copy was accounted for, and what was found in it (the scanner's
// own findings: libclamav never caches a layer it detected something in) is
// given to every other copy, so that each path gets its reasons. A copy
// whose first copy is still being scanned on another thread waits for it.
class Repeats {
public:
    void started(const Digest& d) {
        std::lock_guard lock(mu_);
        ++inProgress_[d];
    }
    // `hits` are named relative to the container.
    void finished(const Digest& d, std::vector<proto::Hit> hits) {
        {
            std::lock_guard lock(mu_);
            if (!hits.empty()) found_.emplace(d, std::move(hits));
            if (--inProgress_[d] == 0) inProgress_.erase(d);
        }
        cv_.notify_all();
    }
    // Never called while the calling scan has containers in progress (its
    // own are finished first), so two scans cannot wait for each other.
    std::vector<proto::Hit> findingsOf(const Digest& d) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !inProgress_.contains(d); });
        const auto it = found_.find(d);
        return it == found_.end() ? std::vector<proto::Hit>{} : it->second;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<Digest, int> inProgress_;
    std::map<Digest, std::vector<proto::Hit>> found_;
};

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::span<const std::uint8_t>;
using formats::Format;

// The name libclamav gives a detection raised by a callback returning CL_VIRUS.
constexpr std::string_view kStoppedByCallback = "Detected.By.Callback";

// libclamav does not look at content of this many bytes or fewer (measured:
// no inspection, no signature); neither need the scanner's own passes.
constexpr std::uint64_t kTooSmallToScan = 5;

// A container libclamav should open is copied, in case it shows no members
// and libarchive must try, only up to this size: an archive larger than this
// from which nothing came out is not an empty one.
constexpr std::uint64_t kSmallContainer = 16ull << 20;

// Debian's libclamav is built without the non-free unrar: RAR archives would
// be scanned as opaque bytes and come back "clean". Such files are unscannable.
bool unrarAvailable() {
    static const bool available = [] {
        for (const char* name : {"libclamunrar_iface.so.12", "libclamunrar_iface.so"}) {
            if (void* h = ::dlopen(name, RTLD_LAZY | RTLD_LOCAL)) {
                ::dlclose(h);
                return true;
            }
        }
        return false;
    }();
    return available;
}

// "outer.zip!inner.tar.zst": member names inside members.
std::string join(const std::string& outer, const std::string& inner) {
    if (outer.empty()) return inner;
    if (inner.empty()) return outer;
    return outer + "!" + inner;
}

// Whether libclamav 1.4 extracts zip members stored with `method`, as
// measured: stored, deflate, deflate64, bzip2. It skips LZMA (14) and PPMd
// (98) members without a word; anything not measured counts as skipped.
bool libclamavUnzips(std::uint16_t method) { return method == 0 || method == 8 || method == 9 || method == 12; }

// A zip member libclamav is known to skip: libarchive will have to read it.
bool needsLibarchive(const formats::ZipDirectory& dir) {
    return std::any_of(dir.members.begin(), dir.members.end(), [](const formats::ZipMember& m) {
        return m.hasData() && m.size > kTooSmallToScan && !m.encrypted() && !libclamavUnzips(m.method);
    });
}

// An ARJ main header checks out: its CRC-32 follows it. Two bytes of
// signature alone are found by chance in other data.
bool arjHeader(Bytes b) {
    if (b.size() < 8 || b[0] != 0x60 || b[1] != 0xEA) return false;
    const std::size_t size = static_cast<std::size_t>(b[2] | (b[3] << 8));
    if (size == 0 || b.size() < 4 + size + 4) return false;
    const auto* crc = b.data() + 4 + size;
    const auto stored = static_cast<std::uint32_t>(crc[0]) | (static_cast<std::uint32_t>(crc[1]) << 8) |
                        (static_cast<std::uint32_t>(crc[2]) << 16) | (static_cast<std::uint32_t>(crc[3]) << 24);
    return ::crc32(0L, b.data() + 4, static_cast<uInt>(size)) == stored;
}

// The one entry of a bare compressed stream, named after the stream: "a.tar.zst" holds "a.tar".
std::string streamEntryName(const std::string& streamName) {
    static constexpr std::pair<std::string_view, std::string_view> kSuffixes[] = {
        {".tzst", ".tar"}, {".tlz4", ".tar"}, {".tlz", ".tar"}, {".tlzma", ".tar"}, {".taz", ".tar"}, {".tz", ".tar"},
        {".tgz", ".tar"}, {".tbz2", ".tar"}, {".tbz", ".tar"}, {".txz", ".tar"}, {".zst", ""}, {".zstd", ""},
        {".lz4", ""}, {".lzma", ""}, {".lz", ""}, {".Z", ""}, {".gz", ""}, {".bz2", ""}, {".xz", ""}, {".z", ""},
    };
    for (const auto& [suffix, replacement] : kSuffixes)
        if (streamName.size() > suffix.size() && streamName.ends_with(suffix))
            return streamName.substr(0, streamName.size() - suffix.size()) + std::string(replacement);
    return "(decompressed)";
}

bool isLimit(std::string_view sig) { return sig.starts_with("Heuristics.Limits.Exceeded"); }
bool isEncryption(std::string_view sig) { return sig.starts_with("Heuristics.Encrypted"); }
bool isLimitOrEncryption(std::string_view sig) { return isLimit(sig) || isEncryption(sig); }

// What one file's scan may still spend, shared by libclamav's scan of the
// file and every scan of what the scanner extracts itself.
struct Budget {
    std::uint64_t bytesLeft = 0;   // max_scan_size: everything scanned, extracted content included
    std::uint64_t keepLeft = 0;    // bytes copied and waiting for a second pass, at most max_scan_size too
    std::uint32_t filesLeft = 0;   // max_files: members the scanner extracts itself
    Clock::time_point deadline;    // max_scan_time for the whole file
    bool infected = false;         // a real signature matched: the file is done
};

// Bytes copied out of libclamav's callback (its buffer is gone afterwards),
// given back to the budget when they are let go.
class Kept {
public:
    Kept() = default;
    Kept(MemoryBuffer b, Budget* budget) : buffer_(std::move(b)), budget_(budget) {}
    Kept(Kept&& o) noexcept : buffer_(std::exchange(o.buffer_, std::nullopt)), budget_(std::exchange(o.budget_, nullptr)) {}
    Kept& operator=(Kept&& o) noexcept {
        if (this != &o) {
            release();
            buffer_ = std::exchange(o.buffer_, std::nullopt);
            budget_ = std::exchange(o.budget_, nullptr);
        }
        return *this;
    }
    ~Kept() { release(); }
    bool has() const { return buffer_.has_value(); }
    Bytes bytes() const { return buffer_ ? buffer_->bytes() : Bytes{}; }

private:
    void release() {
        if (buffer_ && budget_) budget_->keepLeft += buffer_->size();
        buffer_.reset();
        budget_ = nullptr;
    }
    std::optional<MemoryBuffer> buffer_;
    Budget* budget_ = nullptr;
};

// A layer libclamav showed, held until the layers below it are known.
struct Layer {
    std::uint32_t level = 0;
    std::string member;   // within this scan ("" for its level 0)
    std::string name;     // its own name
    std::optional<formats::Identity> id;
    Opener opener = Opener::None;
    bool children = false;
    bool ignored = false;     // below a layer that answers for it: not accounted for on its own
    bool answersBelow = false;   // what lies below is accounted for already (a disk image, a format nobody opens)
    bool entered = false;     // libclamav scanned it, rather than finding it in its clean cache
    std::optional<Digest> digest;   // a container's content, for its copies (Repeats)
    bool plausible = true;
    // A self-extracting archive: the archive appended to a program, from
    // `offset` on; libclamav shows its members two levels down.
    bool selfExtracting = false;
    std::uint64_t offset = 0;
    std::optional<formats::ZipDirectory> zip;
    std::vector<bool> zipSeen;
    Kept kept;
};

// Work for after libclamav's scan: a container libarchive or the zisofs
// decoder opens.
struct Pass {
    enum class Kind { Archive, ZipMembers, Zisofs };
    Kind kind = Kind::Archive;
    formats::Identity id{};
    std::string member;   // within the file
    std::string name;
    std::uint32_t depth = 0;   // nesting of the container within the file
    Kept kept;
    Bytes bytes;               // the kept copy, or the scan's own content
    bool weak = false;         // a signature found by chance: "not this format after all" is no finding
    std::vector<std::pair<std::string, std::uint64_t>> only;   // ZipMembers: (name, size) libclamav skipped
};

// What one libclamav scan learns through its callbacks.
struct ScanContext {
    const ScanLimits* limits = nullptr;
    Budget* budget = nullptr;
    std::string prefix;       // this scan's content within the file ("" for the file itself)
    std::string rootName;     // its own name
    std::uint32_t depth = 0;  // nesting of this scan's content within the file
    bool media = false;       // level 0 is a file the media reader opens
    Bytes content;            // level 0's bytes

    std::string currentMember;
    std::vector<std::pair<std::string, std::string>> matches;  // (member, signature)
    std::vector<proto::Hit> unscannable;
    std::vector<proto::Hit> encrypted;   // ours, dropped when libclamav's heuristic says the same
    bool stopped = false;     // a callback stopped the scan on purpose
    std::uint64_t fileSize = 0;   // the content being scanned (no member can be larger compressed)
    std::string lastMetaName; // an archive member's full name, from the archive's directory
    std::vector<Layer> open;  // layers whose members may still come, outermost first
    std::vector<Pass> passes;
    // Containers by content and full (printable) path: scanned here, or found in libclamav's cache.
    Repeats* repeats = nullptr;
    std::vector<std::pair<Digest, std::string>>* scannedContainers = nullptr;
    std::vector<std::pair<Digest, std::string>>* cachedContainers = nullptr;
    bool shown = false;       // libclamav showed level 0: it really looked at the content

    void fail(const std::string& member, std::string detail) {
        if (unscannable.size() < proto::kMaxNames)
            unscannable.push_back({proto::Verdict::Unscannable, member, std::move(detail)});
    }
    Bytes bytesOf(const Layer& l) const { return l.level == 0 ? content.subspan(static_cast<std::size_t>(l.offset)) : l.kept.bytes(); }
    bool haveBytes(const Layer& l) const { return l.level == 0 ? !content.empty() : l.kept.has(); }
};

// Copies a layer's bytes out of libclamav's buffer, within the budget.
bool keep(ScanContext& c, Layer& l, Bytes whole) {
    if (l.level == 0) return true;   // the scan's own content, there until its passes are done
    const Bytes part = whole.subspan(static_cast<std::size_t>(l.offset));
    if (part.size() > c.budget->keepLeft) return false;
    auto copy = MemoryBuffer::copyOf(part);
    if (!copy) return false;
    c.budget->keepLeft -= part.size();
    l.kept = Kept(std::move(*copy), c.budget);
    return true;
}

void addPass(ScanContext& c, Layer& l, Pass::Kind kind, bool weak) {
    Pass p;
    p.kind = kind;
    p.id = *l.id;
    p.member = join(c.prefix, l.member);
    p.name = l.name;
    p.depth = c.depth + l.level;
    p.bytes = c.bytesOf(l);
    p.kept = std::move(l.kept);
    p.weak = weak;
    c.passes.push_back(std::move(p));
}

// A zip member came out: tick it off the archive's own directory. Names
// are compared as libclamav gives them (the base name); members of the same
// name and size are told apart by their CRC-32.
void noteZipMember(Layer& z, const char* fileName, std::uint64_t size, const char* buffer) {
    const std::string name = fileName ? fileName : "";
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < z.zip->members.size(); ++i) {
        const auto& m = z.zip->members[i];
        if (z.zipSeen[i] || !m.hasData() || m.size != size) continue;
        const auto backslash = m.name.find_last_of('\\');
        if (name.empty() || name == m.baseName() || name == m.name ||
            (backslash != std::string::npos && name == m.name.substr(backslash + 1)))
            candidates.push_back(i);
    }
    if (candidates.empty()) return;
    if (candidates.size() == 1 && !name.empty()) {
        z.zipSeen[candidates[0]] = true;
        return;
    }
    if (!buffer) return;   // which one it was cannot be told: all of them go to libarchive
    const auto crc = static_cast<std::uint32_t>(::crc32_z(0L, reinterpret_cast<const Bytef*>(buffer), static_cast<z_size_t>(size)));
    for (std::size_t i : candidates)
        if (z.zip->members[i].crc32 == crc) {
            z.zipSeen[i] = true;
            return;
        }
}

void finishZip(ScanContext& c, Layer& l) {
    const auto& members = l.zip->members;
    std::vector<std::size_t> missing;
    std::size_t encrypted = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (!members[i].hasData() || members[i].size <= kTooSmallToScan || l.zipSeen[i]) continue;
        if (members[i].encrypted()) ++encrypted;
        else missing.push_back(i);
    }
    if (encrypted > 0 && c.encrypted.size() < proto::kMaxNames)
        c.encrypted.push_back({proto::Verdict::Unscannable, l.member,
                               "a zip archive with " + std::to_string(encrypted) + " encrypted member" +
                                   (encrypted == 1 ? "" : "s") + ": they cannot be scanned"});
    if (missing.empty()) return;
    if (c.haveBytes(l)) {
        addPass(c, l, Pass::Kind::ZipMembers, l.selfExtracting);
        for (std::size_t i : missing) c.passes.back().only.emplace_back(members[i].name, members[i].size);
        return;
    }
    for (std::size_t i : missing)
        c.fail(join(l.member, members[i].name), "a zip member compressed with method " + std::to_string(members[i].method) +
                                                    " that libclamav did not extract: it was not scanned");
}

// A layer's members are all known: was it opened?
void finish(ScanContext& c, Layer& l) {
    if (l.ignored || !l.id) return;
    // Found in libclamav's clean cache: the same bytes were scanned earlier
    // in this session (each session's worker starts with an empty cache),
    // and what was found in them then counts for the whole media.
    if (!l.entered) {
        if (l.digest) c.cachedContainers->emplace_back(*l.digest, printableName(join(c.prefix, l.member)));
        return;
    }
    switch (l.opener) {
        case Opener::Libclamav:
            if (l.children) return;
            if (c.haveBytes(l)) addPass(c, l, Pass::Kind::Archive, weakSignature(l.id->format));
            else c.fail(l.member, nothingExtracted(*l.id));
            return;
        case Opener::LibclamavOnly:
            if (!l.children && l.plausible) c.fail(l.member, nothingExtracted(*l.id));
            return;
        case Opener::Zip:
            finishZip(c, l);
            return;
        case Opener::Libarchive:
            if (c.haveBytes(l)) addPass(c, l, Pass::Kind::Archive, l.selfExtracting || weakSignature(l.id->format));
            return;
        case Opener::Zisofs:
            if (c.haveBytes(l)) addPass(c, l, Pass::Kind::Zisofs, false);
            return;
        case Opener::None: case Opener::Media: case Opener::Nobody:
            return;
    }
}

// Every layer at `level` or deeper is complete.
void settle(ScanContext& c, std::uint32_t level) {
    while (!c.open.empty() && c.open.back().level >= level) {
        Layer l = std::move(c.open.back());
        c.open.pop_back();
        finish(c, l);
    }
}

// A program with an archive appended (7-Zip's and WinZip's installers, zip
// -A): libclamav finds the archive inside the program and opens it with the
// same gaps as a file of its own, so it is checked the same way. Only data
// appended after the program's last section counts: an archive among its
// resources is not a self-extractor's. Weak: when libarchive cannot read it
// from its very first header it was not one.
void selfExtracting(ScanContext& c, Layer& l, Bytes whole) {
    const auto overlay = formats::programOverlay(whole);
    if (!overlay) return;
    // 7-Zip's installers put a configuration block before the archive.
    static constexpr std::string_view k7z("7z\xBC\xAF\x27\x1C", 6);
    const Bytes appended = whole.subspan(static_cast<std::size_t>(*overlay));
    const auto window = appended.first(std::min<std::size_t>(appended.size(), formats::kHeadBytes));
    const auto at = std::search(window.begin(), window.end(), k7z.begin(), k7z.end(),
                                [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); });
    if (at != window.end()) {
        l.id = formats::Identity{Format::SevenZip, formats::Kind::Archive, "a self-extracting 7z archive"};
        l.offset = *overlay + static_cast<std::uint64_t>(at - window.begin());
        l.selfExtracting = true;
        return;
    }
    auto dir = formats::readZipDirectory(whole, c.limits->maxFiles + 1ull);
    if (!dir || dir->members.empty()) return;
    // Offsets relative to the archive (a zip appended as it is) or to the
    // file (zip -A): either way the first member lies in the appended data.
    std::uint64_t first = UINT64_MAX;
    for (const auto& m : dir->members) first = std::min(first, m.localHeaderOffset);
    if (dir->archiveStart + first < *overlay) return;
    l.id = formats::Identity{Format::Zip, formats::Kind::Archive, "a self-extracting zip archive"};
    l.offset = dir->archiveStart;
    l.selfExtracting = true;
    l.zipSeen.assign(dir->members.size(), false);
    l.zip = std::move(*dir);
}

// What the scanner makes of a layer when libclamav shows it.
Layer inspectLayer(ScanContext& c, const Layer* parent, std::uint32_t level, const std::string& member,
                   const char* fileName, const char* type, const char* buffer, std::uint64_t size) {
    Layer l;
    l.level = level;
    l.member = member;
    l.name = level == 0 ? c.rootName : (fileName ? fileName : "");
    // The media reader opens this file as media and sends its files.
    if (c.depth == 0 && level == 0 && c.media) {
        l.ignored = true;
        return l;
    }
    if (parent && (parent->ignored || parent->answersBelow)) {
        l.ignored = true;
        return l;
    }
    if (!buffer || size == 0) return l;
    const Bytes whole(reinterpret_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(size));
    const std::size_t headLen = static_cast<std::size_t>(std::min<std::uint64_t>(formats::kHeadBytes, size));
    const std::size_t tailLen = static_cast<std::size_t>(std::min<std::uint64_t>(formats::kTailBytes, size));
    l.id = formats::identify(whole.first(headLen), whole.last(tailLen), size);
    const std::string_view clType = type ? type : "";
    if (!l.id && (clType == "CL_TYPE_MSEXE" || clType == "CL_TYPE_MSOLE2")) l.id = formats::identifyInstaller(whole);
    if (!l.id && clType == "CL_TYPE_MSEXE") selfExtracting(c, l, whole);
    if (!l.id) return l;
    const auto& id = *l.id;
    const bool fileItself = c.depth == 0 && level == 0;

    l.opener = openerFor(id.format, unrarAvailable());
    switch (l.opener) {
        case Opener::Media:
            c.fail(member, mediaNotOpened(id, !fileItself));
            l.answersBelow = true;   // libclamav's partitions of CL_TYPE_MBR are not the filesystem opened
            break;
        case Opener::Nobody:
            c.fail(member, cannotOpen(id));
            l.answersBelow = true;
            break;
        case Opener::Libarchive:
        case Opener::Zisofs:
            // Opened again in full after libclamav's scan. What libclamav
            // extracts of it is accounted for as usual: the same members
            // from libarchive are then found in libclamav's cache.
            if (!keep(c, l, whole)) c.fail(member, tooLargeToKeep(id));
            break;
        case Opener::Zip: {
            if (l.zip) {   // a self-extracting zip: its directory is known already
                if (needsLibarchive(*l.zip) || size - l.offset <= kSmallContainer) (void)keep(c, l, whole);
                break;
            }
            auto dir = formats::readZipDirectory(whole, c.limits->maxFiles + 1ull);
            if (!dir) {
                // No directory to check libclamav against: libarchive reads it entry by entry.
                l.opener = Opener::Libarchive;
                if (!keep(c, l, whole)) c.fail(member, tooLargeToKeep(id));
                break;
            }
            // A member of a method libclamav lacks is certain to need
            // libarchive; a small zip is kept anyway, for members libclamav
            // skips for other reasons (zip64 records, measured).
            if (needsLibarchive(*dir) || size <= kSmallContainer) (void)keep(c, l, whole);
            l.zipSeen.assign(dir->members.size(), false);
            l.zip = std::move(*dir);
            break;
        }
        case Opener::Libclamav:
            if (size <= kSmallContainer) (void)keep(c, l, whole);
            break;
        case Opener::LibclamavOnly:
            if (id.format == Format::Arj) l.plausible = arjHeader(whole);
            break;
        case Opener::None:
            break;
    }
    if (l.opener != Opener::None) l.digest = kiosk::Sha256::of(whole);
    return l;
}

cl_error_t onInspect(int, const char* type, const char** ancestors, size_t, const char* fileName, size_t fileSize,
                     const char* buffer, uint32_t level, uint32_t, void* context) {
    auto* c = static_cast<ScanContext*>(context);
    if (!c) return CL_SUCCESS;
    // Level 0 is the file itself; deeper levels are archive members and
    // embedded objects. Build "a.zip!dir/b.exe" from the ancestors' names.
    std::string member;
    for (uint32_t i = 1; i < level && ancestors; ++i) {
        if (!member.empty()) member += "!";
        member += ancestors[i] ? ancestors[i] : "(embedded)";
    }
    if (level > 0) {
        if (!member.empty()) member += "!";
        // libclamav names an extracted member by its base name only; the
        // archive's directory, seen just before, has its folders too.
        std::string name = fileName ? fileName : "(embedded)";
        const std::string& full = c->lastMetaName;
        if (fileName && (full == name || (full.size() > name.size() && full.ends_with("/" + name)))) name = full;
        member += name;
    }
    c->lastMetaName.clear();
    c->currentMember = member;
    c->shown = true;

    // The layers at this level or deeper are complete; the nearest shallower
    // one is this layer's parent.
    settle(*c, level);
    Layer* parent = c->open.empty() ? nullptr : &c->open.back();
    if (parent) {
        parent->children = true;
        if (parent->zip && (level == parent->level + 1 || (parent->selfExtracting && level == parent->level + 2)))
            noteZipMember(*parent, fileName, fileSize, buffer);
    }

    // libclamav cuts an extracted member at the size limit without saying so.
    if (level > 0 && fileSize >= c->limits->maxFileSize)
        c->fail(member, "archive member cut at the scan limit of " + std::to_string(c->limits->maxFileSize) +
                            " bytes: the rest was not scanned");
    if (type && std::string_view(type) == "CL_TYPE_RAR" && !unrarAvailable()) c->fail(member, kRarWithoutUnrar);
    // libclamav counts nesting within one scan; the scanner's own passes
    // start new scans deeper in the same file.
    if (c->depth > 0 && c->depth + level > c->limits->maxRecursion) {
        c->fail(member, "archives nested deeper than " + std::to_string(c->limits->maxRecursion) +
                            " levels (max_recursion): the innermost were not scanned");
        c->stopped = true;
        return CL_VIRUS;
    }
    c->open.push_back(inspectLayer(*c, parent, level, member, fileName, type, buffer, fileSize));
    return CL_SUCCESS;
}

// Called after the inspection of a layer libclamav really scans, and not
// for a layer it finds in its clean cache (measured: inspection, cache
// check, pre-scan, in this order).
cl_error_t onPreScan(int, const char*, void* context) {
    auto* c = static_cast<ScanContext*>(context);
    if (!c || c->open.empty()) return CL_SUCCESS;
    Layer& l = c->open.back();
    l.entered = true;
    if (l.digest) {
        c->repeats->started(*l.digest);
        c->scannedContainers->emplace_back(*l.digest, printableName(join(c->prefix, l.member)));
    }
    return CL_SUCCESS;
}

void onVirus(int, const char* name, void* context) {
    auto* c = static_cast<ScanContext*>(context);
    if (!c || !name) return;
    if (c->matches.size() < proto::kMaxNames) c->matches.emplace_back(c->currentMember, name);
}

// libclamav truncates an archive member larger than its file-size limit and
// scans only the start, without saying so. The declared size arrives here.
cl_error_t onMeta(const char* containerType, unsigned long compressedSize, const char* fileName, unsigned long realSize,
                  int encrypted, unsigned int, void* context) {
    auto* c = static_cast<ScanContext*>(context);
    if (!c) return CL_CLEAN;
    // The callback does not say how deep the container sits, so the member is
    // named on its own rather than with a possibly wrong chain of ancestors.
    const std::string member = fileName ? fileName : "(unnamed member)";
    c->lastMetaName = member;
    if (c->unscannable.size() >= proto::kMaxNames) return CL_VIRUS;
    // Encrypted members: libclamav's own heuristic (Heuristics.Encrypted.*)
    // reports those it really meets; the flag here is also set on noise.
    (void)encrypted;
    (void)containerType;
    if (realSize > c->limits->maxFileSize) {
        // libclamav also "finds" archive headers inside programs and other
        // archives; their sizes are noise, and stopping would fail a clean
        // file. Stop early only when the member is plausible: its compressed
        // bytes fit inside the file being scanned, and the ratio is one that
        // deflate can reach (at most ~1032:1). Anything else is still caught
        // by onInspect if libclamav really cuts a member at the limit.
        const unsigned long compressed = compressedSize;
        const bool fits = compressed > 0 && compressed <= c->fileSize;
        const bool deflateRatio = realSize / 1100 <= compressed;
        const bool textName = proto::isValidUtf8(member) && printableName(member) == member;
        if (!fits || !deflateRatio || !textName) return CL_CLEAN;
        c->fail(member, "archive member of " + std::to_string(realSize) + " bytes exceeds the scan limit of " +
                            std::to_string(c->limits->maxFileSize) + " bytes");
        // Stop here: extracting it would fill the temporary directory (RAM)
        // with up to the limit and scan only a part anyway. libclamav reports
        // this as a detection named kStoppedByCallback, which the scan turns
        // back into "unscannable".
        c->stopped = true;
        return CL_VIRUS;
    }
    return CL_CLEAN;
}

// One file's scan: libclamav's scan of its content, then the scanner's own
// passes over the containers libclamav could not open, each member they
// yield scanned the same way in turn.
class FileScanner {
public:
    FileScanner(const cl_engine* engine, const ScanLimits& limits, Budget& budget, FileScan& out, Repeats& repeats)
        : engine_(engine), limits_(limits), budget_(budget), out_(out), repeats_(repeats) {}

    // `prefix` names the content within the file, `depth` its nesting.
    void scanContent(Bytes content, const std::string& name, const std::string& prefix, std::uint32_t depth, bool media);
    // After the last scan: what each container scanned here held goes to
    // Repeats, and each container libclamav had in its cache gets what its
    // first copy held.
    void settleRepeats();

private:
    void add(proto::Hit h);
    void addPrintable(proto::Hit h);
    void fail(const std::string& member, std::string detail) { add({proto::Verdict::Unscannable, member, std::move(detail)}); }
    void runPass(Pass& p);
    void runArchive(Pass& p);
    void runZisofs(Pass& p);
    // Scans one member the scanner extracted; false when nothing more should be extracted.
    bool scanMember(MemoryBuffer& content, const std::string& name, const std::string& member, std::uint32_t depth);

    const cl_engine* engine_;
    const ScanLimits& limits_;
    Budget& budget_;
    FileScan& out_;
    Repeats& repeats_;
    std::vector<std::pair<Digest, std::string>> scannedContainers_, cachedContainers_;
};

void FileScanner::add(proto::Hit h) {
    // Member names come from inside hostile archives.
    h.member = printableName(h.member);
    h.detail = printableName(h.detail);
    addPrintable(std::move(h));
}

void FileScanner::addPrintable(proto::Hit h) {
    for (const auto& x : out_.hits)
        if (x.kind == h.kind && x.member == h.member && x.detail == h.detail) return;  // zip reports members twice
    if (out_.hits.size() < proto::kMaxNames) out_.hits.push_back(std::move(h));
}

void FileScanner::settleRepeats() {
    for (const auto& [digest, path] : scannedContainers_) {
        std::vector<proto::Hit> inside;
        for (const auto& h : out_.hits) {
            if (path.empty()) inside.push_back(h);
            else if (h.member == path) inside.push_back({h.kind, "", h.detail});
            else if (h.member.size() > path.size() && h.member.starts_with(path) && h.member[path.size()] == '!')
                inside.push_back({h.kind, h.member.substr(path.size() + 1), h.detail});
        }
        repeats_.finished(digest, std::move(inside));
    }
    scannedContainers_.clear();
    for (const auto& [digest, path] : cachedContainers_)
        for (const auto& h : repeats_.findingsOf(digest)) addPrintable({h.kind, join(path, h.member), h.detail});
    cachedContainers_.clear();
}

void FileScanner::scanContent(Bytes content, const std::string& name, const std::string& prefix, std::uint32_t depth,
                              bool media) {
    ScanContext ctx;
    ctx.repeats = &repeats_;
    ctx.scannedContainers = &scannedContainers_;
    ctx.cachedContainers = &cachedContainers_;
    ctx.limits = &limits_;
    ctx.budget = &budget_;
    ctx.prefix = prefix;
    ctx.rootName = name;
    ctx.depth = depth;
    ctx.media = media;
    ctx.content = content;
    ctx.fileSize = content.size();
    cl_scan_options opts{};
    // Not all-match: the first real signature ends the scan, and so does our
    // meta callback's stop on an oversized member (all-match would go on and
    // extract it anyway). Heuristic alerts (limits, encryption) are deferred
    // by libclamav until the file is done, so a real signature still wins.
    opts.general = CL_SCAN_GENERAL_HEURISTICS;
    // A file the media reader opens as media is matched as raw bytes only:
    // its files come from the reader. What libclamav would extract from the
    // raw image (partitions, fragments of files) is not what the reader
    // reads, and would enter libclamav's clean cache as if it were: the
    // reader's own copy of a file would then be skipped unchecked.
    opts.parse = media ? 0u : ~0u;
    opts.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
    const char* virname = nullptr;
    unsigned long scanned = 0;
    cl_error_t rc = CL_EMAP;
    if (cl_fmap_t* fmap = cl_fmap_open_memory(content.data(), content.size())) {
        rc = cl_scanmap_callback(fmap, name.c_str(), &virname, &scanned, engine_, &opts, &ctx);
        cl_fmap_close(fmap);
    }
    const std::uint64_t bytes = static_cast<std::uint64_t>(scanned) * CL_COUNT_PRECISION;
    out_.bytesScanned += bytes;
    budget_.bytesLeft -= std::min(budget_.bytesLeft, bytes);

    // Take the matches even when the call reports an error: fail closed.
    if (virname && ctx.matches.empty()) ctx.matches.emplace_back("", virname);
    bool infected = false, limitHit = false, libclamavEncryption = false;
    for (const auto& [member, sig] : ctx.matches) {
        if (ctx.stopped && sig.starts_with(kStoppedByCallback)) continue;  // our own stop, reported below
        infected |= !isLimitOrEncryption(sig);
        limitHit |= isLimit(sig);
        libclamavEncryption |= isEncryption(sig);
    }
    // A scan that ended early (a signature, a limit, a stop, an error) left
    // layers without the members they would have shown: only a scan that
    // ran to the end tells which containers libclamav did not open.
    const bool complete = !infected && !limitHit && !ctx.stopped && (rc == CL_SUCCESS || rc == CL_VIRUS);
    if (complete) settle(ctx, 0);
    ctx.open.clear();

    for (const auto& [member, sig] : ctx.matches) {
        if (ctx.stopped && sig.starts_with(kStoppedByCallback)) continue;
        add({isLimitOrEncryption(sig) ? proto::Verdict::Unscannable : proto::Verdict::Infected, join(prefix, member), sig});
    }
    for (auto& h : ctx.unscannable) add({h.kind, join(prefix, h.member), std::move(h.detail)});
    if (!libclamavEncryption)
        for (auto& h : ctx.encrypted) add({h.kind, join(prefix, h.member), std::move(h.detail)});
    if (rc != CL_SUCCESS && rc != CL_VIRUS) fail(prefix, std::string("scanner error: ") + cl_strerror(rc));
    // libclamav 1.4 returns "clean" without looking at anything when it
    // cannot make its temporary folder for the scan (measured).
    if (rc == CL_SUCCESS && !ctx.shown && content.size() > kTooSmallToScan)
        fail(prefix, "the scan engine did not look at this content (no temporary folder for the scan?)");
    if (rc == CL_VIRUS && ctx.matches.empty() && !ctx.stopped) add({proto::Verdict::Infected, prefix, "unnamed signature"});
    if (infected) budget_.infected = true;
    if (!complete) return;
    for (auto& p : ctx.passes) {
        if (budget_.infected) return;
        runPass(p);
        p.kept = Kept();   // let go as soon as it is done
    }
}

bool FileScanner::scanMember(MemoryBuffer& content, const std::string& name, const std::string& member, std::uint32_t depth) {
    if (content.size() > kTooSmallToScan) scanContent(content.bytes(), name, member, depth, false);
    return !budget_.infected;
}

void FileScanner::runPass(Pass& p) {
    if (p.depth + 1 > limits_.maxRecursion) {
        fail(p.member, "archives nested deeper than " + std::to_string(limits_.maxRecursion) +
                           " levels (max_recursion): the innermost were not scanned");
        return;
    }
    if (p.kind == Pass::Kind::Zisofs) runZisofs(p);
    else runArchive(p);
}

void FileScanner::runZisofs(Pass& p) {
    const Bytes packed = p.bytes;
    auto reader = formats::ZisofsReader::open(
        [packed](std::uint64_t offset, std::span<std::uint8_t> buf) -> Status {
            if (offset > packed.size() || packed.size() - offset < buf.size()) return makeError("zisofs: read past the end");
            std::memcpy(buf.data(), packed.data() + offset, buf.size());
            return {};
        },
        packed.size());
    if (!reader) return fail(p.member, "a zisofs-compressed file the scanner could not decode (" + reader.error().message + ")");
    const std::uint64_t size = reader->size();
    if (size > limits_.maxFileSize)
        return fail(p.member, "archive member of " + std::to_string(size) + " bytes exceeds the scan limit of " +
                                  std::to_string(limits_.maxFileSize) + " bytes");
    if (size > budget_.bytesLeft)
        return fail(p.member, "the content beyond the scan size limit of " + std::to_string(limits_.maxScanSize) +
                                  " bytes (max_scan_size) was not scanned");
    auto out = MemoryBuffer::create(size);
    if (!out) return fail(p.member, "a zisofs-compressed file the scanner could not decode: " + out.error().message);
    std::vector<std::uint8_t> chunk(1 << 17);
    for (std::uint64_t at = 0; at < size;) {
        auto n = reader->read(at, chunk);
        if (!n) return fail(p.member, "a zisofs-compressed file the scanner could not decode (" + n.error().message + ")");
        if (*n == 0) return fail(p.member, "a zisofs-compressed file that ends early");
        if (auto st = out->append({chunk.data(), *n}); !st) return fail(p.member, st.error().message);
        at += *n;
    }
    // The decoded bytes are the member itself: same name, one level deeper
    // so that a zisofs stream inside a zisofs stream still ends.
    scanMember(*out, p.name, p.member, p.depth + 1);
}

void FileScanner::runArchive(Pass& p) {
    const auto& id = p.id;
    auto opened = LibarchiveReader::open(p.bytes, id.format);
    if (!opened) return fail(p.member, unreadable(id, opened.error().message));
    if (!opened->has_value()) {
        if (!p.weak) fail(p.member, notRecognised(id));
        return;
    }
    LibarchiveReader& reader = **opened;
    const bool stream = LibarchiveReader::isStream(id.format);
    auto only = p.only;
    bool encryptedSeen = false;
    std::size_t entries = 0;
    for (;;) {
        if (Clock::now() > budget_.deadline)
            return fail(p.member, "scanning this file took longer than the scan time limit of " +
                                      std::to_string(limits_.maxScanTimeMs / 1000) + " s (max_scan_time): the rest was not scanned");
        auto next = reader.next();
        if (!next) {
            if (reader.sawEncryption()) return fail(p.member, std::string(id.name) + " with encrypted contents: they cannot be scanned");
            // Not even a first header: a weak signature that was not this format after all.
            if (p.weak && entries == 0) return;
            return fail(p.member, unreadable(id, next.error().message));
        }
        if (!next->has_value()) break;
        ++entries;
        const auto& e = **next;
        if (p.kind == Pass::Kind::ZipMembers) {
            auto it = std::find_if(only.begin(), only.end(),
                                   [&](const auto& o) { return o.first == e.name && (!e.size || o.second == *e.size); });
            if (it == only.end()) continue;   // libclamav extracted and scanned it
            only.erase(it);
        }
        if (!e.regular) continue;   // a folder, or a link whose bytes are a name
        const std::string entryName = stream ? streamEntryName(p.name) : e.name;
        const std::string member = join(p.member, entryName);
        if (e.encrypted) {
            if (!encryptedSeen) fail(member, encryptedMember(id));
            encryptedSeen = true;
            continue;
        }
        if (e.size && *e.size <= kTooSmallToScan) continue;
        if (e.size && *e.size > limits_.maxFileSize) {
            fail(member, "archive member of " + std::to_string(*e.size) + " bytes exceeds the scan limit of " +
                             std::to_string(limits_.maxFileSize) + " bytes");
            continue;
        }
        if (budget_.filesLeft == 0)
            return fail(p.member, "more than " + std::to_string(limits_.maxFiles) +
                                      " members in one file (max_files): the rest was not scanned");
        if (e.size && *e.size > budget_.bytesLeft)
            return fail(member, "the content beyond the scan size limit of " + std::to_string(limits_.maxScanSize) +
                                    " bytes (max_scan_size) was not scanned");
        --budget_.filesLeft;
        auto content = MemoryBuffer::create(e.size.value_or(64 * 1024));
        if (!content) return fail(member, content.error().message);
        const std::uint64_t limit = std::min(limits_.maxFileSize, budget_.bytesLeft);
        auto end = reader.read(*content, limit, budget_.deadline);
        if (!end) {
            fail(member, unreadable(id, end.error().message));
            if (reader.fatal()) return;
            continue;
        }
        if (*end == LibarchiveReader::ReadEnd::OutOfTime) continue;   // the loop's check says so
        if (*end == LibarchiveReader::ReadEnd::OverLimit) {
            if (limit < limits_.maxFileSize)
                return fail(member, "the content beyond the scan size limit of " + std::to_string(limits_.maxScanSize) +
                                        " bytes (max_scan_size) was not scanned");
            fail(member, "archive member larger than the scan limit of " + std::to_string(limits_.maxFileSize) +
                             " bytes: it was not scanned");
            continue;
        }
        const auto slash = entryName.find_last_of('/');
        if (!scanMember(*content, slash == std::string::npos ? entryName : entryName.substr(slash + 1), member, p.depth + 1))
            return;
    }
    // libarchive's list and the directory libclamav was checked against disagree.
    for (const auto& [name, size] : only)
        fail(join(p.member, name), "a zip member that neither libclamav nor libarchive extracted: it was not scanned");
}


DatabaseInfo describeDatabases(const std::string& dir, unsigned int sigs) {
    DatabaseInfo info;
    info.signatures = sigs;
    std::map<std::string, unsigned int> versions;
    std::time_t newest = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& entry = *it;
        const std::string path = entry.path().string();
        const std::string ext = entry.path().extension().string();
        if (ext == ".cvd" || ext == ".cld") {
            if (cl_cvd* head = cl_cvdhead(path.c_str())) {
                versions[entry.path().stem().string()] = head->version;
                newest = std::max<std::time_t>(newest, static_cast<std::time_t>(head->stime));
                cl_cvdfree(head);
                continue;
            }
        }
        struct stat st{};
        if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) newest = std::max(newest, st.st_mtime);
    }
    for (const auto& [name, version] : versions) {
        if (!info.version.empty()) info.version += " ";
        info.version += name + ":" + std::to_string(version);
    }
    if (info.version.empty()) info.version = "local";
    info.time = newest ? rfc3339(std::chrono::system_clock::from_time_t(newest)) : "";
    return info;
}

}  // namespace

Status ClamavEngine::configure(const ScanLimits& limits, const std::string& tmpDir) {
    limits_ = limits;
    auto* e = engine_;
    auto setNum = [e](cl_engine_field f, long long v) { return cl_engine_set_num(e, f, v); };
    if (setNum(CL_ENGINE_MAX_FILESIZE, static_cast<long long>(limits.maxFileSize)) ||
        setNum(CL_ENGINE_MAX_SCANSIZE, static_cast<long long>(limits.maxScanSize)) ||
        setNum(CL_ENGINE_MAX_RECURSION, limits.maxRecursion) || setNum(CL_ENGINE_MAX_FILES, limits.maxFiles) ||
        setNum(CL_ENGINE_MAX_SCANTIME, limits.maxScanTimeMs) ||
        cl_engine_set_str(e, CL_ENGINE_TMPDIR, tmpDir.c_str()))
        return makeError("cannot set libclamav limits");
    return {};
}

Result<std::shared_ptr<ClamavEngine>> ClamavEngine::load(const std::string& dbDir, const ScanLimits& limits,
                                                         const std::string& tmpDir) {
    static std::once_flag initOnce;
    static cl_error_t initRc = CL_SUCCESS;
    std::call_once(initOnce, [] { initRc = cl_init(CL_INIT_DEFAULT); });
    if (initRc != CL_SUCCESS) return makeError(std::string("libclamav init failed: ") + cl_strerror(initRc));

    std::shared_ptr<ClamavEngine> self(new ClamavEngine());
    self->engine_ = cl_engine_new();
    if (!self->engine_) return makeError("cannot create libclamav engine (out of memory?)");
    auto* e = self->engine_;
    if (auto st = self->configure(limits, tmpDir); !st) return st.error();
    cl_engine_set_clcb_file_inspection(e, onInspect);
    // Tells a layer libclamav scans from one it finds in its clean cache,
    // which shows no members.
    cl_engine_set_clcb_pre_scan(e, onPreScan);
    cl_engine_set_clcb_virus_found(e, onVirus);
    cl_engine_set_clcb_meta(e, onMeta);

    struct stat st{};
    if (::stat(dbDir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return makeError(dbDir + ": signature database directory not found");
    bool anyFile = false;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dbDir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code entry;
        anyFile |= it->is_regular_file(entry);
    }
    if (ec) return makeError(dbDir + ": signature database directory cannot be read: " + ec.message());
    if (!anyFile) return makeError(dbDir + ": contains no signature database files (.cvd, .cld, .hdb, .ndb, ...)");
    unsigned int sigs = 0;
    cl_error_t rc = cl_load(dbDir.c_str(), e, &sigs, CL_DB_STDOPT);
    if (rc != CL_SUCCESS) return makeError(dbDir + ": cannot load signatures: " + cl_strerror(rc));
    if (sigs == 0) return makeError(dbDir + ": no signatures found");
    rc = cl_engine_compile(e);
    if (rc != CL_SUCCESS) return makeError(dbDir + ": cannot compile signatures: " + cl_strerror(rc));
    self->db_ = describeDatabases(dbDir, sigs);
    return self;
}

ClamavEngine::ClamavEngine() : repeats_(std::make_unique<Repeats>()) {}

ClamavEngine::~ClamavEngine() {
    if (engine_) cl_engine_free(engine_);
}

FileScan ClamavEngine::scan(int fd, const std::string& name, bool media) const {
    FileScan out;
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        out.hits.push_back({proto::Verdict::Unscannable, "", std::string("the content cannot be examined: ") + std::strerror(errno)});
        return out;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size == 0) return out;   // nothing in it to scan
    // Scan the sealed memfd through a read-only mapping: libclamav then reads
    // its pages in place. Given the descriptor instead, it would pread every
    // file into anonymous memory, a second copy whose copy-on-write faults
    // cost a TLB flush on the other core each (docs/performance.md). The
    // scanner's own passes read the same mapping.
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        out.hits.push_back({proto::Verdict::Unscannable, "",
                            errno == ENOMEM ? "the scan worker had no memory left for this file (its memory limit, or the kiosk's RAM)"
                                            : std::string("the content cannot be mapped for scanning: ") + std::strerror(errno)});
        return out;
    }
    Budget budget;
    budget.bytesLeft = limits_.maxScanSize;
    budget.keepLeft = limits_.maxScanSize;
    budget.filesLeft = limits_.maxFiles;
    budget.deadline = Clock::now() + std::chrono::milliseconds(limits_.maxScanTimeMs);
    const Bytes content(static_cast<const std::uint8_t*>(map), static_cast<std::size_t>(size));
    // The media reader's word is taken for what is media by content only:
    // any other file it might flag is scanned as files are.
    if (media) {
        const auto id = formats::identify(content.first(std::min<std::size_t>(content.size(), formats::kHeadBytes)),
                                          content.last(std::min<std::size_t>(content.size(), formats::kTailBytes)), size);
        media = id && formats::isMedia(*id);
    }
    FileScanner scanner(engine_, limits_, budget, out, *repeats_);
    scanner.scanContent(content, name, "", 0, media);
    ::munmap(map, size);
    scanner.settleRepeats();
    return out;
}

}  // namespace kiosk::scan
