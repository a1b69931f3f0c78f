#include "LibarchiveReader.h"

#include <archive_entry.h>

#include <locale.h>

#include <cerrno>
#include <utility>

namespace kiosk::scan {
namespace {

using formats::Format;

// libarchive converts names between the archive's charset and the locale's.
// The worker's locale is C (ASCII), where a UTF-8 name fails to convert and
// libarchive drops it; C.UTF-8 keeps it. Loaded once (from /usr/lib/locale,
// before the sandbox closes the filesystem: preload()), then set for this
// thread only and only around libarchive's calls: libclamav and libmagic
// keep the C locale.
locale_t utf8Locale() {
    static const locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return utf8;
}

class Utf8Names {
public:
    Utf8Names() {
        if (const locale_t utf8 = utf8Locale()) previous_ = ::uselocale(utf8);
    }
    ~Utf8Names() {
        if (previous_) ::uselocale(previous_);
    }
    Utf8Names(const Utf8Names&) = delete;
    Utf8Names& operator=(const Utf8Names&) = delete;

private:
    locale_t previous_ = static_cast<locale_t>(nullptr);
};

// ARCHIVE_ERRNO_FILE_FORMAT ("Unrecognized archive format"): libarchive's
// private archive_platform.h defines it as EILSEQ on Linux.
constexpr int kUnrecognised = EILSEQ;

// The filter a bare stream of `format` needs, or -1.
int streamFilter(Format f) {
    switch (f) {
        case Format::Gzip: return ARCHIVE_FILTER_GZIP;
        case Format::Bzip2: return ARCHIVE_FILTER_BZIP2;
        case Format::Xz: return ARCHIVE_FILTER_XZ;
        case Format::Lzma: return ARCHIVE_FILTER_LZMA;
        case Format::Zstd: return ARCHIVE_FILTER_ZSTD;
        case Format::Lz4: return ARCHIVE_FILTER_LZ4;
        case Format::Lzip: return ARCHIVE_FILTER_LZIP;
        case Format::Compress: return ARCHIVE_FILTER_COMPRESS;
        default: return -1;
    }
}

// The support call for a stream's filter (ARCHIVE_FATAL for a format that is not one).
int supportFilter(archive* a, Format f) {
    switch (f) {
        case Format::Gzip: return archive_read_support_filter_gzip(a);
        case Format::Bzip2: return archive_read_support_filter_bzip2(a);
        case Format::Xz: return archive_read_support_filter_xz(a);
        case Format::Lzma: return archive_read_support_filter_lzma(a);
        case Format::Zstd: return archive_read_support_filter_zstd(a);
        case Format::Lz4: return archive_read_support_filter_lz4(a);
        case Format::Lzip: return archive_read_support_filter_lzip(a);
        case Format::Compress: return archive_read_support_filter_compress(a);
        default: return ARCHIVE_FATAL;
    }
}

// Each support call must say ARCHIVE_OK: ARCHIVE_WARN means libarchive
// would run an external program for it (Debian's build does so for lzop).
Status enable(archive* a, Format f) {
    bool ok = true;
    auto need = [&](int rc) { ok = ok && rc == ARCHIVE_OK; };
    switch (f) {
        case Format::SevenZip: need(archive_read_support_format_7zip(a)); break;
        case Format::Zip: need(archive_read_support_format_zip(a)); break;   // by its directory, or entry by entry
        case Format::Tar: need(archive_read_support_format_tar(a)); break;
        case Format::Cpio: need(archive_read_support_format_cpio(a)); break;
        case Format::Ar: need(archive_read_support_format_ar(a)); break;
        case Format::Cab: need(archive_read_support_format_cab(a)); break;
        case Format::Lha: need(archive_read_support_format_lha(a)); break;
        case Format::Xar: need(archive_read_support_format_xar(a)); break;
        case Format::Iso9660: need(archive_read_support_format_iso9660(a)); break;   // decodes zisofs too
        case Format::Rpm:
            // The rpm filter drops the package's headers; the payload is a cpio
            // archive in one of these compressions.
            need(archive_read_support_filter_rpm(a));
            for (Format c : {Format::Gzip, Format::Bzip2, Format::Xz, Format::Lzma, Format::Zstd, Format::Lz4})
                need(supportFilter(a, c));
            need(archive_read_support_format_cpio(a));
            break;
        default:
            if (streamFilter(f) < 0) return makeError(std::string("libarchive is not used for ") + formats::formatName(f));
            need(supportFilter(a, f));
            need(archive_read_support_format_raw(a));
            break;
    }
    if (!ok) return makeError(std::string("libarchive cannot read ") + formats::formatName(f) + " without an external program");
    return {};
}

}  // namespace

bool LibarchiveReader::supports(Format f) {
    switch (f) {
        case Format::Gzip: case Format::Bzip2: case Format::Xz: case Format::Lzma: case Format::Zstd:
        case Format::Lz4: case Format::Lzip: case Format::Compress: case Format::SevenZip: case Format::Zip:
        case Format::Tar: case Format::Cpio: case Format::Ar: case Format::Cab: case Format::Lha:
        case Format::Xar: case Format::Iso9660: case Format::Rpm:
            return true;
        default:
            return false;
    }
}

bool LibarchiveReader::isStream(Format f) { return streamFilter(f) >= 0; }

Status LibarchiveReader::preload() {
    if (!utf8Locale()) return makeError("the C.UTF-8 locale cannot be loaded: archive member names in UTF-8 will be lost");
    return {};
}

Result<std::optional<LibarchiveReader>> LibarchiveReader::open(std::span<const std::uint8_t> bytes, Format format) {
    const Utf8Names names;
    std::unique_ptr<archive, Free> a(archive_read_new());
    if (!a) return makeError("libarchive: out of memory");
    if (auto st = enable(a.get(), format); !st) return st.error();
    LibarchiveReader r(std::move(a));
    const int rc = archive_read_open_memory(r.a_.get(), bytes.data(), bytes.size());
    if (rc != ARCHIVE_OK) {
        // Opening only bids: a failure means no enabled reader wanted the bytes.
        if (archive_errno(r.a_.get()) == kUnrecognised) return std::optional<LibarchiveReader>{};
        return makeError(r.lastError());
    }
    if (const int want = streamFilter(format); want >= 0) {
        // Without its filter the raw format takes the bytes as they are: they were not that stream.
        bool found = false;
        for (int i = 0; i < archive_filter_count(r.a_.get()); ++i) found |= archive_filter_code(r.a_.get(), i) == want;
        if (!found) return std::optional<LibarchiveReader>{};
    }
    return std::optional<LibarchiveReader>(std::move(r));
}

std::string LibarchiveReader::lastError() const {
    const char* s = archive_error_string(a_.get());
    return s && *s ? s : "unknown error";
}

bool LibarchiveReader::sawEncryption() const { return archive_read_has_encrypted_entries(a_.get()) > 0; }

Result<std::optional<LibarchiveReader::Entry>> LibarchiveReader::next() {
    const Utf8Names names;
    archive_entry* e = nullptr;
    lastRc_ = archive_read_next_header(a_.get(), &e);
    if (lastRc_ == ARCHIVE_EOF) return std::optional<Entry>{};
    // A warning is a name that does not convert to the locale, a pax
    // attribute ignored: the entry itself is there.
    if (lastRc_ != ARCHIVE_OK && lastRc_ != ARCHIVE_WARN) {
        lastRc_ = ARCHIVE_FATAL;   // a header that cannot be read leaves no way to the next one
        return makeError(lastError());
    }
    Entry out;
    // UTF-8 when the name converts (Utf8Names), else the bytes as stored.
    const char* name = archive_entry_pathname_utf8(e);
    if (!name) name = archive_entry_pathname(e);
    out.name = name && *name ? name : "(unnamed)";
    if (archive_entry_size_is_set(e)) out.size = static_cast<std::uint64_t>(archive_entry_size(e));
    // A hard link's content belongs to the entry it links to.
    const bool linkOnly = archive_entry_hardlink(e) != nullptr && out.size.value_or(0) == 0;
    // ar archives store no file type (0): their members are files all the same.
    const auto type = archive_entry_filetype(e);
    out.regular = (type == AE_IFREG || type == 0) && !linkOnly;
    out.encrypted = archive_entry_is_encrypted(e) != 0;
    return std::optional<Entry>(std::move(out));
}

Result<LibarchiveReader::ReadEnd> LibarchiveReader::read(MemoryBuffer& out, std::uint64_t limit,
                                                        std::chrono::steady_clock::time_point deadline) {
    const Utf8Names names;
    const std::uint64_t start = out.size();
    for (;;) {
        const void* block = nullptr;
        std::size_t len = 0;
        la_int64_t offset = 0;
        lastRc_ = archive_read_data_block(a_.get(), &block, &len, &offset);
        if (lastRc_ == ARCHIVE_EOF) return ReadEnd::Complete;
        if (lastRc_ != ARCHIVE_OK && lastRc_ != ARCHIVE_WARN) return makeError(lastError());
        if (offset < 0) return makeError("a data block at a negative offset");
        const auto at = static_cast<std::uint64_t>(offset);
        if (at > limit || len > limit - at) return ReadEnd::OverLimit;
        // Sparse members: blocks come with their offsets and the holes are zeros.
        const std::uint64_t have = out.size() - start;
        if (at < have) return makeError("data blocks out of order");
        if (auto st = out.appendZeros(at - have); !st) return st.error();
        if (auto st = out.append({static_cast<const std::uint8_t*>(block), len}); !st) return st.error();
        if (std::chrono::steady_clock::now() > deadline) return ReadEnd::OutOfTime;
    }
}

}  // namespace kiosk::scan
