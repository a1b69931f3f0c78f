#include "ClamavEngine.h"

#include "qkiosk/protocol/Text.h"
#include "qkiosk/protocol/Wire.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>

namespace kiosk::scan {
namespace {

// What one scan learns through libclamav's callbacks.
struct ScanContext {
    const ScanLimits* limits = nullptr;
    std::string currentMember;
    std::vector<std::pair<std::string, std::string>> matches;  // (member, signature)
    std::vector<proto::Hit> unscannable;
    bool stopped = false;     // onMeta stopped the scan on purpose
    std::uint64_t fileSize = 0;   // the file being scanned (no member can be larger compressed)
    std::string lastMetaName; // an archive member's full name, from the archive's directory
};

// The name libclamav gives a detection raised by a callback returning CL_VIRUS.
constexpr std::string_view kStoppedByCallback = "Detected.By.Callback";

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

cl_error_t onInspect(int, const char* type, const char** ancestors, size_t, const char* fileName, size_t fileSize,
                     const char*, uint32_t level, uint32_t, void* context) {
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
    // libclamav cuts an extracted member at the size limit without saying so.
    if (level > 0 && fileSize >= c->limits->maxFileSize && c->unscannable.size() < proto::kMaxNames)
        c->unscannable.push_back({proto::Verdict::Unscannable, member,
                                  "archive member cut at the scan limit of " + std::to_string(c->limits->maxFileSize) +
                                      " bytes: the rest was not scanned"});
    if (type && std::string_view(type) == "CL_TYPE_RAR" && !unrarAvailable() && c->unscannable.size() < proto::kMaxNames)
        c->unscannable.push_back({proto::Verdict::Unscannable, member,
                                  "RAR archive: this libclamav build cannot unpack RAR (no unrar module)"});
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
        c->unscannable.push_back({proto::Verdict::Unscannable, member,
                                  "archive member of " + std::to_string(realSize) + " bytes exceeds the scan limit of " +
                                      std::to_string(c->limits->maxFileSize) + " bytes"});
        // Stop here: extracting it would fill the temporary directory (RAM)
        // with up to the limit and scan only a part anyway. libclamav reports
        // this as a detection named kStoppedByCallback, which scan() turns
        // back into "unscannable".
        c->stopped = true;
        return CL_VIRUS;
    }
    return CL_CLEAN;
}

bool isLimitOrEncryption(std::string_view sig) {
    return sig.starts_with("Heuristics.Limits.Exceeded") || sig.starts_with("Heuristics.Encrypted");
}

std::string rfc3339(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

DatabaseInfo describeDatabases(const std::string& dir, unsigned int sigs) {
    DatabaseInfo info;
    info.signatures = sigs;
    std::map<std::string, unsigned int> versions;
    std::time_t newest = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
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
    info.time = newest ? rfc3339(newest) : "";
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
    cl_engine_set_clcb_virus_found(e, onVirus);
    cl_engine_set_clcb_meta(e, onMeta);

    struct stat st{};
    if (::stat(dbDir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return makeError(dbDir + ": signature database directory not found");
    bool anyFile = false;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dbDir, ec)) anyFile |= entry.is_regular_file(ec);
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

ClamavEngine::~ClamavEngine() {
    if (engine_) cl_engine_free(engine_);
}

FileScan ClamavEngine::scan(int fd, const std::string& name) const {
    ScanContext ctx;
    ctx.limits = &limits_;
    struct stat st{};
    if (::fstat(fd, &st) == 0) ctx.fileSize = static_cast<std::uint64_t>(st.st_size);
    cl_scan_options opts{};
    // Not all-match: the first real signature ends the scan, and so does our
    // meta callback's stop on an oversized member (all-match would go on and
    // extract it anyway). Heuristic alerts (limits, encryption) are deferred
    // by libclamav until the file is done, so a real signature still wins.
    opts.general = CL_SCAN_GENERAL_HEURISTICS;
    opts.parse = ~0u;
    opts.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
    const char* virname = nullptr;
    unsigned long scanned = 0;
    // Scan the sealed memfd through a read-only mapping: libclamav then reads
    // its pages in place. Given the descriptor instead, it would pread every
    // file into anonymous memory, a second copy whose copy-on-write faults
    // cost a TLB flush on the other core each (docs/performance.md).
    cl_error_t rc = CL_EMAP;
    void* map = ctx.fileSize ? ::mmap(nullptr, ctx.fileSize, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (map == MAP_FAILED && errno == ENOMEM) {
        FileScan out;
        out.hits.push_back({proto::Verdict::Unscannable, "",
                            "the scan worker had no memory left for this file (its memory limit, or the kiosk's RAM)"});
        return out;
    }
    if (map != MAP_FAILED) {
        if (cl_fmap_t* fmap = cl_fmap_open_memory(map, ctx.fileSize)) {
            rc = cl_scanmap_callback(fmap, name.c_str(), &virname, &scanned, engine_, &opts, &ctx);
            cl_fmap_close(fmap);
        }
        ::munmap(map, ctx.fileSize);
    } else {
        rc = cl_scandesc_callback(fd, name.c_str(), &virname, &scanned, engine_, &opts, &ctx);
    }

    FileScan out;
    out.bytesScanned = static_cast<std::uint64_t>(scanned) * CL_COUNT_PRECISION;
    // Take the matches even when the call reports an error: fail closed.
    if (virname && ctx.matches.empty()) ctx.matches.emplace_back("", virname);

    auto add = [&](proto::Hit h) {
        // Member names come from inside hostile archives.
        h.member = printableName(h.member);
        h.detail = printableName(h.detail);
        for (const auto& x : out.hits)
            if (x.kind == h.kind && x.member == h.member && x.detail == h.detail) return;  // zip reports members twice
        out.hits.push_back(std::move(h));
    };
    for (const auto& [member, sig] : ctx.matches) {
        if (ctx.stopped && sig.starts_with(kStoppedByCallback)) continue;  // our own stop, reported below
        add({isLimitOrEncryption(sig) ? proto::Verdict::Unscannable : proto::Verdict::Infected, member, sig});
    }
    for (auto& h : ctx.unscannable) add(std::move(h));
    if (rc != CL_SUCCESS && rc != CL_VIRUS)
        out.hits.push_back({proto::Verdict::Unscannable, "", std::string("scanner error: ") + cl_strerror(rc)});
    if (rc == CL_VIRUS && out.hits.empty()) out.hits.push_back({proto::Verdict::Infected, "", "unnamed signature"});
    if (out.hits.size() > proto::kMaxNames) out.hits.resize(proto::kMaxNames);
    return out;
}

}  // namespace kiosk::scan
