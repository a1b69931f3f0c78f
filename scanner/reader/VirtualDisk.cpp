// How openVirtualDisk() reads each format. For every format, first our own
// check of the structures that lead from the header to the data (footers,
// headers, region and metadata tables, block tables, section chains), each
// against the file's size; then the library, through a libbfio handle whose
// callbacks read the ByteSource; then what the library says about the image
// (its type, its parent, its size) against what our check found. VDI has no
// library in Debian: a header and a block map, read here.
//
// The formats, as their specifications and the files qemu-img and ewfacquire
// write have them:
//   VHD   Microsoft "Virtual Hard Disk Image Format Specification" 1.0
//   VHDX  Microsoft "[MS-VHDX]" 1.0 (the log, regions, metadata, BAT)
//   VMDK  VMware "Virtual Disk Format 5.0" (hosted sparse extents)
//   qcow  qemu docs/interop/qcow2.txt, and qemu's block/qcow.c for version 1
//   VDI   VirtualBox's VDICore.h, as qemu's block/vdi.c reads it
//   EWF   Joachim Metz, "Expert Witness Compression Format" (libewf's docs)
#include "VirtualDisk.h"

// The libyal headers declare their libbfio entry points only when told that
// libbfio is there (Debian's features.h tests a HAVE_LIBBFIO of their build).
#define LIBVHDI_HAVE_BFIO 1
#define LIBVMDK_HAVE_BFIO 1
#define LIBQCOW_HAVE_BFIO 1
#define LIBEWF_HAVE_BFIO 1
#include <libbfio.h>
#include <libewf.h>
#include <libqcow.h>
#include <libvhdi.h>
#include <libvmdk.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <string_view>
#include <vector>

#include "qkiosk/base/Text.h"

namespace kiosk::scan {
namespace {

using proto::ReasonCode;
using Bytes = std::vector<std::uint8_t>;
using Check = std::optional<DiskRefusal>;   // nullopt: nothing wrong

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
// Tables are checked this many bytes at a time, so that checking a large
// image never holds its whole table in memory.
constexpr std::size_t kTableChunk = 1 << 20;
// One library read at most this long (the libraries take a ssize_t count).
constexpr std::size_t kMaxLibraryRead = 16 << 20;

DiskRefusal corrupt(std::string what) { return {ReasonCode::CorruptFilesystem, std::move(what)}; }
DiskRefusal unscannable(std::string what) { return {ReasonCode::Unscannable, std::move(what)}; }
DiskRefusal encrypted(std::string what) { return {ReasonCode::EncryptedVolume, std::move(what)}; }
std::string num(std::uint64_t v) { return std::to_string(v); }
std::string hex(std::uint64_t v) {
    std::string s;
    do {
        s.insert(s.begin(), "0123456789abcdef"[v & 15]);
        v >>= 4;
    } while (v != 0);
    return "0x" + s;
}

// ------------------------------------------------------------------ bytes

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::uint32_t le32(const std::uint8_t* p) { return le16(p) | static_cast<std::uint32_t>(le16(p + 2)) << 16; }
std::uint64_t le64(const std::uint8_t* p) { return le32(p) | static_cast<std::uint64_t>(le32(p + 4)) << 32; }
std::uint32_t be32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}
std::uint64_t be64(const std::uint8_t* p) { return static_cast<std::uint64_t>(be32(p)) << 32 | be32(p + 4); }
// Fields of a structure read into `b`; 0 past its end (never read beyond it).
bool within(const Bytes& b, std::size_t at, std::size_t n) { return at <= b.size() && n <= b.size() - at; }
std::uint16_t le16(const Bytes& b, std::size_t at) { return within(b, at, 2) ? le16(b.data() + at) : 0; }
std::uint32_t le32(const Bytes& b, std::size_t at) { return within(b, at, 4) ? le32(b.data() + at) : 0; }
std::uint64_t le64(const Bytes& b, std::size_t at) { return within(b, at, 8) ? le64(b.data() + at) : 0; }
std::uint32_t be32(const Bytes& b, std::size_t at) { return within(b, at, 4) ? be32(b.data() + at) : 0; }
std::uint64_t be64(const Bytes& b, std::size_t at) { return within(b, at, 8) ? be64(b.data() + at) : 0; }

bool has(const Bytes& b, std::size_t at, std::string_view magic) {
    return at <= b.size() && magic.size() <= b.size() - at && std::memcmp(b.data() + at, magic.data(), magic.size()) == 0;
}
bool allZero(const Bytes& b, std::size_t at, std::size_t len) {
    return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + len),
                       [](std::uint8_t c) { return c == 0; });
}
bool fits(std::uint64_t offset, std::uint64_t length, std::uint64_t size) { return offset <= size && length <= size - offset; }
bool powerOfTwo(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
std::uint64_t divUp(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0); }

// CRC-32C (Castagnoli), which VHDX puts in its headers and region tables.
std::uint32_t crc32c(const std::uint8_t* p, std::size_t n) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return ~c;
}

// Adler-32, which EWF puts in its section descriptors.
std::uint32_t adler32(const std::uint8_t* p, std::size_t n) {
    std::uint32_t a = 1, b = 0;
    for (std::size_t i = 0; i < n; ++i) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

// A GUID as VHDX stores it: the first three fields little-endian.
using Guid = std::array<std::uint8_t, 16>;
constexpr Guid guid(const char (&s)[37]) {
    auto hex = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10); };
    std::array<std::uint8_t, 16> raw{};
    for (std::size_t i = 0, j = 0; j < 16; ++j) {
        if (s[i] == '-') ++i;
        raw[j] = static_cast<std::uint8_t>(hex(s[i]) << 4 | hex(s[i + 1]));
        i += 2;
    }
    constexpr std::array<std::size_t, 16> order{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    Guid g{};
    for (std::size_t i = 0; i < 16; ++i) g[i] = raw[order[i]];
    return g;
}
bool isGuid(const Bytes& b, std::size_t at, const Guid& g) {
    return within(b, at, g.size()) && std::memcmp(b.data() + at, g.data(), g.size()) == 0;
}

// `length` bytes of the file at `offset`; `what` names them in the sentence.
Check readStruct(const ByteSource& file, std::uint64_t offset, std::uint64_t length, Bytes& out, const std::string& what) {
    if (!fits(offset, length, file.size())) return corrupt(what + " lies beyond the end of the file (a truncated file?)");
    out.assign(static_cast<std::size_t>(length), 0);
    if (auto s = file.readAt(offset, out); !s)
        return DiskRefusal{ReasonCode::ReadError, what + " cannot be read: " + s.error().message};
    return std::nullopt;
}

// Calls entry(index, bytes) for each of the `count` entries of `entrySize`
// bytes that make up a table at `offset` of the file.
template <typename F>
Check forEachEntry(const ByteSource& file, std::uint64_t offset, std::uint64_t count, std::size_t entrySize,
                   const std::string& what, F&& entry) {
    if (count > file.size() / entrySize || !fits(offset, count * entrySize, file.size()))
        return corrupt(what + " lies beyond the end of the file (a truncated file?)");
    const std::uint64_t perChunk = kTableChunk / entrySize;
    Bytes chunk;
    for (std::uint64_t first = 0; first < count; first += perChunk) {
        const std::uint64_t n = std::min(perChunk, count - first);
        if (auto r = readStruct(file, offset + first * entrySize, n * entrySize, chunk, what)) return r;
        for (std::uint64_t i = 0; i < n; ++i)
            if (auto r = entry(first + i, chunk.data() + i * entrySize)) return r;
    }
    return std::nullopt;
}

// ------------------------------------------------------------------ libyal errors

// Every libyal error is a libcerror error behind an intptr_t; each library
// frees and prints its own.
using ErrorFree = void (*)(intptr_t**);
using ErrorPrint = int (*)(intptr_t*, char*, std::size_t);

class LibyalError {
public:
    LibyalError(ErrorFree free, ErrorPrint print) : free_(free), print_(print) {}
    ~LibyalError() { reset(); }
    LibyalError(const LibyalError&) = delete;
    LibyalError& operator=(const LibyalError&) = delete;

    intptr_t** out() {
        reset();
        return &error_;
    }

    // The innermost message of the backtrace (the cause, where libyal's outer
    // messages only say which function gave up), without the function name
    // libyal puts first, and printable: it may quote the file's bytes.
    std::string cause() const {
        if (!error_) return "no reason given";
        std::array<char, 4096> text{};
        if (print_(error_, text.data(), text.size()) < 0) return "no reason given";
        std::string_view all(text.data());
        std::string_view line = all.substr(0, all.find('\n'));
        const auto colon = line.find(": ");
        if (colon != std::string_view::npos &&
            line.substr(0, colon).find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos)
            line.remove_prefix(colon + 2);
        while (!line.empty() && (line.back() == '.' || line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
        return printableName(truncateUtf8(line, 300));
    }

private:
    void reset() {
        if (error_) free_(&error_);
        error_ = nullptr;
    }
    ErrorFree free_;
    ErrorPrint print_;
    intptr_t* error_ = nullptr;
};

LibyalError bfioError() { return {libbfio_error_free, libbfio_error_backtrace_sprint}; }

// ------------------------------------------------------------------ libbfio over a ByteSource

// What the library's handles read: the file, and the last error our callbacks
// saw (libbfio itself only learns that a read failed).
struct FileIo {
    const ByteSource* file;
    std::string lastError;
};

// One libbfio handle's state; the library may clone handles.
struct BfioIo {
    FileIo* io;
    std::uint64_t offset = 0;
    bool open = false;
};

BfioIo* bfioIo(intptr_t* h) { return reinterpret_cast<BfioIo*>(h); }

int bfioFree(intptr_t** h, libbfio_error_t**) {
    if (!h) return -1;
    delete bfioIo(*h);
    *h = nullptr;
    return 1;
}

int bfioClone(intptr_t** destination, intptr_t* source, libbfio_error_t**) {
    if (!destination || !source) return -1;
    auto* copy = new (std::nothrow) BfioIo{bfioIo(source)->io, bfioIo(source)->offset, false};
    if (!copy) return -1;
    *destination = reinterpret_cast<intptr_t*>(copy);
    return 1;
}

int bfioOpen(intptr_t* h, int flags, libbfio_error_t**) {
    if (!h || (flags & LIBBFIO_ACCESS_FLAG_WRITE)) return -1;   // the media is read-only
    bfioIo(h)->open = true;
    return 1;
}

int bfioClose(intptr_t* h, libbfio_error_t**) {
    if (!h) return -1;
    bfioIo(h)->open = false;
    return 0;
}

// A read that would end past the end of the file fails whole, as a
// ByteSource read does, instead of returning what is there: a library that
// takes a short read for a full one (as libqcow does with the last cluster,
// see checkQcowCluster) gets an error instead.
ssize_t bfioRead(intptr_t* h, std::uint8_t* buffer, std::size_t size, libbfio_error_t**) {
    if (!h || !buffer || size > SSIZE_MAX) return -1;
    BfioIo& s = *bfioIo(h);
    const std::uint64_t total = s.io->file->size();
    if (size == 0) return 0;
    if (!fits(s.offset, size, total)) {
        s.io->lastError = "the file ends at byte " + num(total) + ", inside the " + num(size) + " bytes read at byte " +
                          num(s.offset) + " (a truncated or damaged file?)";
        return -1;
    }
    const auto n = size;
    if (auto st = s.io->file->readAt(s.offset, std::span(buffer, n)); !st) {
        s.io->lastError = st.error().message;
        return -1;
    }
    s.offset += n;
    return static_cast<ssize_t>(n);
}

ssize_t bfioWrite(intptr_t*, const std::uint8_t*, std::size_t, libbfio_error_t**) { return -1; }

off64_t bfioSeek(intptr_t* h, off64_t offset, int whence, libbfio_error_t**) {
    if (!h) return -1;
    BfioIo& s = *bfioIo(h);
    std::int64_t base = 0;
    switch (whence) {
        case SEEK_SET: break;
        case SEEK_CUR: base = static_cast<std::int64_t>(s.offset); break;
        case SEEK_END: base = static_cast<std::int64_t>(s.io->file->size()); break;
        default: return -1;
    }
    std::int64_t to = 0;
    if (__builtin_add_overflow(base, offset, &to) || to < 0) return -1;
    s.offset = static_cast<std::uint64_t>(to);
    return to;
}

int bfioExists(intptr_t*, libbfio_error_t**) { return 1; }
int bfioIsOpen(intptr_t* h, libbfio_error_t**) { return h && bfioIo(h)->open ? 1 : 0; }

int bfioGetSize(intptr_t* h, size64_t* size, libbfio_error_t**) {
    if (!h || !size) return -1;
    *size = bfioIo(h)->io->file->size();
    return 1;
}

struct BfioHandleFree {
    void operator()(libbfio_handle_t* h) const { libbfio_handle_free(&h, nullptr); }
};
struct BfioPoolFree {
    void operator()(libbfio_pool_t* p) const { libbfio_pool_free(&p, nullptr); }
};
using BfioHandle = std::unique_ptr<libbfio_handle_t, BfioHandleFree>;
using BfioPool = std::unique_ptr<libbfio_pool_t, BfioPoolFree>;

DiskRefusal bfioFailure(const char* what, const LibyalError& e) {
    return unscannable(std::string("libbfio could not ") + what + ": " + e.cause());
}

// A libbfio handle that reads `io`'s file; it owns its BfioIo.
Check makeHandle(FileIo& io, BfioHandle& out) {
    auto* state = new (std::nothrow) BfioIo{&io};
    if (!state) return unscannable("out of memory opening the virtual disk");
    libbfio_handle_t* h = nullptr;
    auto e = bfioError();
    if (libbfio_handle_initialize(&h, reinterpret_cast<intptr_t*>(state), bfioFree, bfioClone, bfioOpen, bfioClose, bfioRead,
                                  bfioWrite, bfioSeek, bfioExists, bfioIsOpen, bfioGetSize,
                                  LIBBFIO_FLAG_IO_HANDLE_MANAGED | LIBBFIO_FLAG_IO_HANDLE_CLONE_BY_FUNCTION, e.out()) != 1) {
        delete state;
        return bfioFailure("create a handle", e);
    }
    out.reset(h);
    return std::nullopt;
}

// A pool of one handle over `io`'s file, for the libraries that read a set
// of files (VMDK extents, EWF segments): this file is the whole set.
Check makePool(FileIo& io, BfioPool& out) {
    BfioHandle h;
    if (auto r = makeHandle(io, h)) return r;
    libbfio_pool_t* p = nullptr;
    auto e = bfioError();
    if (libbfio_pool_initialize(&p, 0, LIBBFIO_POOL_UNLIMITED_NUMBER_OF_OPEN_HANDLES, e.out()) != 1)
        return bfioFailure("create a pool", e);
    out.reset(p);
    int entry = 0;
    if (libbfio_pool_append_handle(p, &entry, h.get(), LIBBFIO_OPEN_READ, e.out()) != 1) return bfioFailure("fill a pool", e);
    h.release();   // the pool frees it
    return std::nullopt;
}

// ------------------------------------------------------------------ a disk read by a libyal library

// What the disk below needs of a format library; all four read alike.
struct LibyalApi {
    const char* name;
    ErrorFree freeError;
    ErrorPrint printError;
    ssize_t (*read)(intptr_t* handle, void* buffer, std::size_t size, off64_t offset, intptr_t** error);
    void (*closeAndFree)(intptr_t* handle);
    Status (*afterRead)(intptr_t* handle);   // may be null
    // Whether one damaged read fails every later read without the library
    // (libewf 20140813 leaks the buffer of a damaged chunk each time it reads it).
    bool stopAtDamage;
};

struct LibHandleFree {
    const LibyalApi* api;
    void operator()(intptr_t* h) const { api->closeAndFree(h); }
};
using LibHandle = std::unique_ptr<intptr_t, LibHandleFree>;

// Why the library failed: the file's own read error when there was one.
DiskRefusal libraryFailure(const LibyalApi& api, const std::string& what, const LibyalError& e, const FileIo& io) {
    if (!io.lastError.empty()) return {ReasonCode::ReadError, what + ": " + io.lastError};
    return corrupt(what + ": " + api.name + ": " + e.cause());
}

class LibyalDisk final : public ByteSource {
public:
    LibyalDisk(const LibyalApi& api, std::unique_ptr<FileIo> io, BfioHandle handle, BfioPool pool, LibHandle lib,
               std::uint64_t size)
        : api_(api), io_(std::move(io)), handle_(std::move(handle)), pool_(std::move(pool)), lib_(std::move(lib)), size_(size) {}

    std::uint64_t size() const override { return size_; }

    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override {
        if (!fits(offset, buf.size(), size_))
            return makeError("read of " + num(buf.size()) + " bytes at " + num(offset) + " past the end of the virtual disk (" +
                             num(size_) + " bytes)");
        const std::lock_guard lock(mutex_);
        if (!damaged_.empty()) return makeError(damaged_);
        auto s = readLocked(offset, buf);
        if (s && api_.afterRead) s = api_.afterRead(lib_.get());
        if (!s && api_.stopAtDamage && io_->lastError.empty()) damaged_ = s.error().message;
        return s;
    }

private:
    Status readLocked(std::uint64_t offset, std::span<std::uint8_t> buf) const {
        std::size_t done = 0;
        while (done < buf.size()) {
            const std::size_t want = std::min(buf.size() - done, kMaxLibraryRead);
            io_->lastError.clear();
            LibyalError e(api_.freeError, api_.printError);
            const ssize_t n = api_.read(lib_.get(), buf.data() + done, want, static_cast<off64_t>(offset + done), e.out());
            if (n <= 0 || static_cast<std::size_t>(n) > want) {
                const std::string where = "the virtual disk cannot be read at byte " + num(offset + done) + ": ";
                if (!io_->lastError.empty()) return makeError(where + io_->lastError);
                if (n == 0) return makeError(where + api_.name + " returned no data");
                return makeError(where + api_.name + ": " + e.cause());
            }
            done += static_cast<std::size_t>(n);
        }
        return {};
    }

    const LibyalApi& api_;
    // Declared in the order they are needed, so destroyed library first, file last.
    std::unique_ptr<FileIo> io_;
    BfioHandle handle_;
    BfioPool pool_;
    LibHandle lib_;
    std::uint64_t size_;
    mutable std::mutex mutex_;
    mutable std::string damaged_;   // set once a read found the image damaged (stopAtDamage)
};

// What every open through a library holds until the disk is made.
struct Opening {
    std::unique_ptr<FileIo> io;
    BfioHandle handle;
    BfioPool pool;
};

Check startOpening(const ByteSource& file, bool withPool, Opening& o) {
    o.io.reset(new (std::nothrow) FileIo{&file, {}});
    if (!o.io) return unscannable("out of memory opening the virtual disk");
    if (withPool) return makePool(*o.io, o.pool);
    return makeHandle(*o.io, o.handle);
}

OpenedDisk finish(const LibyalApi& api, Opening o, LibHandle lib, std::uint64_t size, std::uint32_t sectorSize) {
    auto* disk =
        new (std::nothrow) LibyalDisk(api, std::move(o.io), std::move(o.handle), std::move(o.pool), std::move(lib), size);
    if (!disk) return unscannable("out of memory opening the virtual disk");
    return VirtualDisk{std::unique_ptr<ByteSource>(disk), sectorSize};
}

// ------------------------------------------------------------------ VHD and VHDX (libvhdi)

ssize_t vhdiRead(intptr_t* h, void* buffer, std::size_t size, off64_t offset, intptr_t** e) {
    return libvhdi_file_read_buffer_at_offset(h, buffer, size, offset, e);
}
void vhdiClose(intptr_t* h) {
    libvhdi_file_close(h, nullptr);
    libvhdi_file_free(&h, nullptr);
}
const LibyalApi kVhdi{"libvhdi", libvhdi_error_free, libvhdi_error_backtrace_sprint, vhdiRead, vhdiClose, nullptr, false};

// The ones' complement of the sum of a VHD structure's bytes, its checksum field left out.
std::uint32_t vhdChecksum(const Bytes& b, std::size_t checksumAt) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < b.size(); ++i)
        if (i < checksumAt || i >= checksumAt + 4) sum += b[i];
    return ~sum;
}

// A dynamic VHD: its header, and every block of its table inside the file.
Check checkDynamicVhd(const ByteSource& file, const Bytes& footer, std::uint64_t diskSize) {
    Bytes h;
    if (auto r = readStruct(file, be64(footer, 16), 1024, h, "the VHD's dynamic disk header")) return r;
    if (!has(h, 0, "cxsparse") || be32(h, 36) != vhdChecksum(h, 36))
        return corrupt("the VHD's dynamic disk header is corrupt (its signature or checksum is wrong)");
    const std::uint64_t table = be64(h, 16);
    const std::uint32_t entries = be32(h, 28);
    const std::uint32_t block = be32(h, 32);
    if (!powerOfTwo(block) || block < 512 || block > 256 * kMiB)
        return corrupt("the VHD's dynamic disk header is corrupt: it declares blocks of " + num(block) + " bytes");
    if (static_cast<std::uint64_t>(entries) * block < diskSize)
        return corrupt("the VHD's block table is corrupt: its " + num(entries) + " blocks hold less than the disk's " +
                       num(diskSize) + " bytes");
    // A block is its sector bitmap (one bit per sector, padded to a sector) and its data, before the footer.
    const std::uint64_t bitmap = divUp(block / 512 / 8, 512) * 512;
    const std::uint64_t dataEnd = file.size() - 512;
    return forEachEntry(file, table, entries, 4, "the VHD's block table", [&](std::uint64_t i, const std::uint8_t* e) -> Check {
        const std::uint32_t sector = be32(e);
        if (sector != 0xFFFFFFFFu && !fits(static_cast<std::uint64_t>(sector) * 512, bitmap + block, dataEnd))
            return corrupt("the VHD's block table is corrupt: block " + num(i) +
                           " lies beyond the end of the file (a truncated file?)");
        return std::nullopt;
    });
}

OpenedDisk openLibvhdi(const ByteSource& file, int fileType, std::uint64_t expectedSize) {
    Opening o;
    if (auto r = startOpening(file, false, o)) return *r;
    LibyalError e(kVhdi.freeError, kVhdi.printError);
    intptr_t* raw = nullptr;
    if (libvhdi_file_initialize(&raw, e.out()) != 1) return libraryFailure(kVhdi, "libvhdi cannot start", e, *o.io);
    LibHandle f(raw, LibHandleFree{&kVhdi});
    if (libvhdi_file_open_file_io_handle(f.get(), o.handle.get(), LIBVHDI_OPEN_READ, e.out()) != 1)
        return libraryFailure(kVhdi, "the virtual disk cannot be opened", e, *o.io);
    int type = 0;
    std::uint32_t disk = 0, sector = 0;
    size64_t size = 0;
    if (libvhdi_file_get_file_type(f.get(), &type, e.out()) != 1 || libvhdi_file_get_disk_type(f.get(), &disk, e.out()) != 1 ||
        libvhdi_file_get_media_size(f.get(), &size, e.out()) != 1 ||
        libvhdi_file_get_bytes_per_sector(f.get(), &sector, e.out()) != 1)
        return libraryFailure(kVhdi, "the virtual disk cannot be described", e, *o.io);
    const char* what = fileType == LIBVHDI_FILE_TYPE_VHDX ? "VHDX" : "VHD";
    if (disk == LIBVHDI_DISK_TYPE_DIFFERENTIAL)
        return unscannable(std::string("a differencing ") + what + " that needs its parent disk file");
    if (type != fileType || size != expectedSize)
        return corrupt(std::string("the ") + what + " is corrupt: libvhdi reads it otherwise than its header says");
    return finish(kVhdi, std::move(o), std::move(f), size, sector);
}

OpenedDisk openVhd(const ByteSource& file) {
    const std::uint64_t size = file.size();
    if (size < 512) return corrupt("the VHD is shorter than its 512-byte footer");
    Bytes footer;
    if (auto r = readStruct(file, size - 512, 512, footer, "the VHD's footer")) return *r;
    if (!has(footer, 0, "conectix") || be32(footer, 64) != vhdChecksum(footer, 64))
        return corrupt("the VHD's footer at the end of the file is missing or corrupt (a truncated file?)");
    const std::uint32_t type = be32(footer, 60);
    const std::uint64_t diskSize = be64(footer, 48);
    if (type == 4) return unscannable("a differencing VHD that needs its parent disk file");
    if (type == 2) {
        if (diskSize > size - 512) return corrupt("the fixed VHD holds fewer bytes than its footer declares (a truncated file?)");
    } else if (type == 3) {
        if (auto r = checkDynamicVhd(file, footer, diskSize)) return *r;
    } else {
        return unscannable("a VHD of unknown disk type " + num(type));
    }
    return openLibvhdi(file, LIBVHDI_FILE_TYPE_VHD, diskSize);
}

constexpr Guid kBatRegion = guid("2DC27766-F623-4200-9D64-115E9BFD4A08");
constexpr Guid kMetadataRegion = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E");
constexpr Guid kFileParameters = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
constexpr Guid kVirtualDiskSize = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
constexpr Guid kLogicalSectorSize = guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
constexpr Guid kPhysicalSectorSize = guid("CDA348C7-445D-4471-9CC9-E9885251C556");
constexpr Guid kPage83 = guid("BECA12AB-B2E6-4523-93EF-C309E000C746");
constexpr Guid kParentLocator = guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");

bool vhdxChecksumOk(Bytes b) {
    const std::uint32_t stored = le32(b, 4);
    std::memset(b.data() + 4, 0, 4);
    return crc32c(b.data(), b.size()) == stored;
}

struct VhdxLayout {
    std::uint64_t batOffset = 0, batLength = 0, metaOffset = 0, metaLength = 0;
    std::uint32_t blockSize = 0, sectorSize = 0;
    std::uint64_t diskSize = 0;
};

// The current header (the intact one with the higher sequence number) must
// have an empty log: libvhdi does not replay a log, and writes still in it
// would be missing from the disk it reads.
Check checkVhdxHeaders(const ByteSource& file) {
    std::optional<Bytes> current;
    for (const std::uint64_t at : {64 * kKiB, 128 * kKiB}) {
        Bytes h;
        if (auto r = readStruct(file, at, 4 * kKiB, h, "the VHDX's header")) return r;
        if (!has(h, 0, "head") || !vhdxChecksumOk(h)) continue;
        if (!current || le64(h, 8) > le64(*current, 8)) current = std::move(h);
    }
    if (!current) return corrupt("neither of the VHDX's two headers is intact");
    if (le16(*current, 66) != 1)
        return unscannable("a VHDX of version " + num(le16(*current, 66)) + ", which the kiosk does not read");
    if (!allZero(*current, 48, 16))
        return unscannable(
            "a VHDX whose log holds writes not yet applied to its disk (the virtual machine was not shut down "
            "cleanly): open it once in Hyper-V to apply them");
    return std::nullopt;
}

// Both copies of the region table intact and alike, the two regions libvhdi
// reads inside the file, no other region that the disk requires.
Check checkVhdxRegions(const ByteSource& file, VhdxLayout& out) {
    Bytes first, second;
    if (auto r = readStruct(file, 192 * kKiB, 64 * kKiB, first, "the VHDX's region table")) return r;
    if (auto r = readStruct(file, 256 * kKiB, 64 * kKiB, second, "the VHDX's region table")) return r;
    if (!has(first, 0, "regi") || !vhdxChecksumOk(first) || !has(second, 0, "regi") || !vhdxChecksumOk(second))
        return corrupt("the VHDX's region table is corrupt (a copy fails its checksum)");
    const std::uint32_t count = le32(first, 8);
    if (count > 2047) return corrupt("the VHDX's region table is corrupt: it claims " + num(count) + " regions");
    if (le32(second, 8) != count || std::memcmp(first.data() + 16, second.data() + 16, count * 32) != 0)
        return corrupt("the VHDX's region table is corrupt: its two copies differ");
    bool bat = false, meta = false;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::size_t at = 16 + i * 32;
        const std::uint64_t offset = le64(first, at + 16);
        const std::uint32_t length = le32(first, at + 24);
        const bool isBat = isGuid(first, at, kBatRegion), isMeta = isGuid(first, at, kMetadataRegion);
        if (!isBat && !isMeta) {
            if (le32(first, at + 28) & 1) return unscannable("a VHDX with a region the kiosk does not know, marked as required");
            continue;
        }
        if ((isBat && bat) || (isMeta && meta)) return corrupt("the VHDX's region table is corrupt: a region appears twice");
        if (!fits(offset, length, file.size()))
            return corrupt(std::string("the VHDX's ") + (isBat ? "block table" : "metadata") +
                           " lies beyond the end of the file (a truncated file?)");
        (isBat ? out.batOffset : out.metaOffset) = offset;
        (isBat ? out.batLength : out.metaLength) = length;
        (isBat ? bat : meta) = true;
    }
    if (!bat || !meta) return corrupt("the VHDX's region table is corrupt: it has no block table or no metadata");
    return std::nullopt;
}

// The metadata table: block size, disk size, sector size, and no parent.
Check checkVhdxMetadata(const ByteSource& file, VhdxLayout& l) {
    Bytes table;
    const std::string what = "the VHDX's metadata";
    if (auto r = readStruct(file, l.metaOffset, std::min<std::uint64_t>(l.metaLength, 64 * kKiB), table, what)) return r;
    if (!has(table, 0, "metadata")) return corrupt(what + " is corrupt (its signature is wrong)");
    const std::uint16_t count = le16(table, 10);
    if (count > 2047 || 32 + count * 32u > table.size()) return corrupt(what + " is corrupt: it claims " + num(count) + " items");
    std::optional<std::uint64_t> diskSize;
    std::optional<std::uint32_t> blockSize, sectorSize;
    for (std::uint16_t i = 0; i < count; ++i) {
        const std::size_t at = 32 + i * 32u;
        const std::uint32_t offset = le32(table, at + 16), length = le32(table, at + 20), flags = le32(table, at + 24);
        // Items follow the 64 KiB table (libvhdi leaks the entry of one that does not).
        if (length != 0 && (offset < 64 * kKiB || !fits(offset, length, l.metaLength)))
            return corrupt(what + " is corrupt: an item lies outside it");
        const bool params = isGuid(table, at, kFileParameters), size = isGuid(table, at, kVirtualDiskSize),
                   sector = isGuid(table, at, kLogicalSectorSize);
        if (!params && !size && !sector) {
            const bool known =
                isGuid(table, at, kPhysicalSectorSize) || isGuid(table, at, kPage83) || isGuid(table, at, kParentLocator);
            if (!known && (flags & 4)) return unscannable("a VHDX with metadata the kiosk does not know, marked as required");
            continue;
        }
        if (length < (params || size ? 8u : 4u) || length > kMiB)
            return corrupt(what + " is corrupt: an item has the wrong length");
        if ((params && blockSize) || (size && diskSize) || (sector && sectorSize))
            return corrupt(what + " is corrupt: an item appears twice");
        Bytes item;
        if (auto r = readStruct(file, l.metaOffset + offset, params || size ? 8 : 4, item, what)) return r;
        if (params) {
            if (le32(item, 4) & 2) return unscannable("a differencing VHDX that needs its parent disk file");
            blockSize = le32(item, 0);
        } else if (size) {
            diskSize = le64(item, 0);
        } else {
            sectorSize = le32(item, 0);
        }
    }
    if (!blockSize || !diskSize || !sectorSize)
        return corrupt(what + " is corrupt: it lacks the block size, disk size or sector size");
    if (*sectorSize != 512 && *sectorSize != 4096)
        return corrupt(what + " is corrupt: sectors of " + num(*sectorSize) + " bytes");
    if (!powerOfTwo(*blockSize) || *blockSize < *sectorSize || *blockSize > 256 * kMiB)
        return corrupt(what + " is corrupt: blocks of " + num(*blockSize) + " bytes");
    if (*diskSize > 64 * kMiB * kMiB || *diskSize % *sectorSize != 0)
        return corrupt(what + " is corrupt: a disk of " + num(*diskSize) + " bytes");
    l.blockSize = *blockSize;
    l.sectorSize = *sectorSize;
    l.diskSize = *diskSize;
    return std::nullopt;
}

// Every data block of the table either absent (reads as zeros) or inside the file.
Check checkVhdxBat(const ByteSource& file, const VhdxLayout& l) {
    const std::string what = "the VHDX's block table";
    const std::uint64_t blocks = divUp(l.diskSize, l.blockSize);
    // After every `ratio` data blocks the table has the entry of a sector
    // bitmap block, which only a differencing disk uses.
    const std::uint64_t ratio = (std::uint64_t{1} << 23) * l.sectorSize / l.blockSize;
    const std::uint64_t entries = blocks == 0 ? 0 : blocks + (blocks - 1) / ratio;
    if (entries > l.batLength / 8) return corrupt(what + " is corrupt: it is too short for the disk");
    return forEachEntry(file, l.batOffset, entries, 8, what, [&](std::uint64_t i, const std::uint8_t* p) -> Check {
        if (i % (ratio + 1) == ratio) return std::nullopt;
        const std::uint64_t block = i / (ratio + 1) * ratio + i % (ratio + 1);
        const std::uint64_t e = le64(p);
        const auto state = static_cast<unsigned>(e & 7);
        if (state <= 3) return std::nullopt;   // not present, undefined, zero, unmapped: zeros
        if (state != 6) return corrupt(what + " is corrupt: block " + num(block) + " is in state " + num(state));
        const std::uint64_t offset = (e >> 20) * kMiB;
        const std::uint64_t length = std::min<std::uint64_t>(l.blockSize, l.diskSize - block * l.blockSize);
        if ((e >> 20) == 0 || (e >> 20) > file.size() / kMiB || !fits(offset, length, file.size()))
            return corrupt(what + " is corrupt: block " + num(block) + " lies beyond the end of the file (a truncated file?)");
        return std::nullopt;
    });
}

OpenedDisk openVhdx(const ByteSource& file) {
    VhdxLayout layout;
    if (auto r = checkVhdxHeaders(file)) return *r;
    if (auto r = checkVhdxRegions(file, layout)) return *r;
    if (auto r = checkVhdxMetadata(file, layout)) return *r;
    if (auto r = checkVhdxBat(file, layout)) return *r;
    return openLibvhdi(file, LIBVHDI_FILE_TYPE_VHDX, layout.diskSize);
}

// ------------------------------------------------------------------ VMDK (libvmdk)

ssize_t vmdkRead(intptr_t* h, void* buffer, std::size_t size, off64_t offset, intptr_t** e) {
    return libvmdk_handle_read_buffer_at_offset(h, buffer, size, offset, e);
}
void vmdkClose(intptr_t* h) {
    libvmdk_handle_close(h, nullptr);
    libvmdk_handle_free(&h, nullptr);
}
const LibyalApi kVmdk{"libvmdk", libvmdk_error_free, libvmdk_error_backtrace_sprint, vmdkRead, vmdkClose, nullptr, false};

constexpr std::uint64_t kGdAtEnd = ~std::uint64_t{0};

// How a sparse extent lays out its grains: a grain directory of grain table
// sectors, grain tables of grain sectors (4-byte little-endian entries both).
struct GrainLayout {
    std::uint64_t grainSectors;
    std::uint32_t tableEntries;
    bool compressed;   // stream-optimized: each grain is a marker and deflated data
};

// Every grain table a grain directory names lies inside the file, and so does
// every grain those tables name (a compressed grain's marker, at least); each
// table is read once, and tables do not overlap, so no more than the file is read.
Check checkGrainDirectory(const ByteSource& file, std::uint64_t sector, std::uint64_t entries, const GrainLayout& g) {
    const std::string what = "the VMDK's grain directory";
    const std::uint64_t tableBytes = g.tableEntries * 4u, size = file.size();
    if (sector > size / 512) return corrupt(what + " lies beyond the end of the file (a truncated file?)");
    std::vector<std::uint64_t> tables;
    auto r = forEachEntry(file, sector * 512, entries, 4, what, [&](std::uint64_t i, const std::uint8_t* p) -> Check {
        const std::uint64_t table = le32(p);
        if (table == 0) return std::nullopt;
        if (!fits(table * 512, tableBytes, size))
            return corrupt(what + " is corrupt: grain table " + num(i) + " lies beyond the end of the file (a truncated file?)");
        tables.push_back(table * 512);
        return std::nullopt;
    });
    if (r) return r;
    std::sort(tables.begin(), tables.end());
    tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
    const std::uint64_t grainBytes = g.compressed ? 512 : g.grainSectors * 512;
    for (std::size_t k = 0; k < tables.size(); ++k) {
        const std::string table = "the VMDK's grain table at byte " + num(tables[k]);
        if (k + 1 < tables.size() && tables[k + 1] - tables[k] < tableBytes)
            return corrupt(table + " is corrupt: it overlaps the next one");
        r = forEachEntry(file, tables[k], g.tableEntries, 4, table, [&](std::uint64_t i, const std::uint8_t* p) -> Check {
            const std::uint64_t grain = le32(p);   // 0: never written, 1: written as zeros
            if (grain > 1 && !fits(grain * 512, grainBytes, size))
                return corrupt(table + " is corrupt: grain " + num(i) + " lies beyond the end of the file (a truncated file?)");
            return std::nullopt;
        });
        if (r) return r;
    }
    return std::nullopt;
}

// A hosted sparse extent ("KDMV") with its descriptor inside: its header and grain directories.
Check checkVmdkHeader(const ByteSource& file, std::uint64_t& capacity) {
    Bytes h;
    if (auto r = readStruct(file, 0, 512, h, "the VMDK's header")) return r;
    if (has(h, 0, "COWD")) return unscannable("a VMware ESX (COWD) sparse disk, a format the kiosk does not read");
    if (!has(h, 0, "KDMV")) return corrupt("the VMDK's header is corrupt (its signature is wrong)");
    const std::uint32_t version = le32(h, 4), flags = le32(h, 8), tableEntries = le32(h, 44);
    const std::uint64_t grain = le64(h, 20), descOffset = le64(h, 28), descSize = le64(h, 36);
    capacity = le64(h, 12);
    if (version < 1 || version > 3)
        return unscannable("a VMDK sparse extent of version " + num(version) + ", which the kiosk does not read");
    if (descSize == 0) return unscannable("a VMDK extent whose descriptor is another file (the disk is split across files)");
    if (descSize > 2048 || descOffset > file.size() / 512 || !fits(descOffset * 512, descSize * 512, file.size()))
        return corrupt("the VMDK's embedded descriptor is corrupt: it lies outside the file or claims more than 1 MiB");
    // qemu-img leaves room for a descriptor in the extents of a split disk, and leaves it blank.
    Bytes descriptor;
    if (auto r = readStruct(file, descOffset * 512, 1, descriptor, "the VMDK's embedded descriptor")) return r;
    if (descriptor[0] == 0) return unscannable("a VMDK extent whose descriptor is another file (the disk is split across files)");
    if (!powerOfTwo(grain) || grain > 2048) return corrupt("the VMDK's header is corrupt: grains of " + num(grain) + " sectors");
    if (tableEntries == 0 || tableEntries > 512)
        return corrupt("the VMDK's header is corrupt: grain tables of " + num(tableEntries) + " entries");
    if (capacity > (std::uint64_t{1} << 42))
        return corrupt("the VMDK's header is corrupt: a disk of " + num(capacity) + " sectors");
    if (const std::uint16_t method = le16(h, 77); method > 1)
        return unscannable("a VMDK compressed with method " + num(method) + ", which the kiosk does not read");
    const std::uint64_t entries = divUp(capacity, grain * tableEntries);
    std::uint64_t gd = le64(h, 56);
    if (gd == kGdAtEnd) {
        // Stream-optimized, written in one pass: the footer at the end holds the real offset.
        Bytes footer;
        if (file.size() < 1024 || readStruct(file, file.size() - 1024, 512, footer, "the VMDK's footer") ||
            !has(footer, 0, "KDMV"))
            return corrupt("the stream-optimized VMDK's footer is missing (a truncated file?)");
        gd = le64(footer, 56);
    }
    const GrainLayout layout{grain, tableEntries, (flags & 0x10000) != 0};
    if (auto r = checkGrainDirectory(file, gd, entries, layout)) return r;
    const std::uint64_t redundant = le64(h, 48);
    if ((flags & 2) && redundant != 0 && redundant != kGdAtEnd)
        if (auto r = checkGrainDirectory(file, redundant, entries, layout)) return r;
    return std::nullopt;
}

// The embedded descriptor must name one sparse extent (this file) and no parent.
Check checkVmdkDescriptor(intptr_t* handle, const LibyalApi& api, const FileIo& io) {
    LibyalError e(api.freeError, api.printError);
    int extents = 0, type = 0, diskType = 0;
    if (libvmdk_handle_get_number_of_extents(handle, &extents, e.out()) != 1 ||
        libvmdk_handle_get_disk_type(handle, &diskType, e.out()) != 1)
        return libraryFailure(api, "the VMDK's descriptor cannot be read", e, io);
    if (extents != 1)
        return unscannable("a VMDK whose descriptor names " + num(static_cast<std::uint64_t>(std::max(extents, 0))) +
                           " extents (other files)");
    intptr_t* extent = nullptr;
    if (libvmdk_handle_get_extent_descriptor(handle, 0, &extent, e.out()) != 1)
        return libraryFailure(api, "the VMDK's descriptor cannot be read", e, io);
    const int got = libvmdk_extent_descriptor_get_type(extent, &type, e.out());
    libvmdk_extent_descriptor_free(&extent, nullptr);
    if (got != 1) return libraryFailure(api, "the VMDK's descriptor cannot be read", e, io);
    if (type != LIBVMDK_EXTENT_TYPE_SPARSE ||
        (diskType != LIBVMDK_DISK_TYPE_MONOLITHIC_SPARSE && diskType != LIBVMDK_DISK_TYPE_STREAM_OPTIMIZED))
        return unscannable("a VMDK whose descriptor names an extent that is not this sparse file");
    std::uint32_t parentId = 0;
    std::size_t parentName = 0;
    const int hasId = libvmdk_handle_get_parent_content_identifier(handle, &parentId, e.out());
    const int hasName = libvmdk_handle_get_utf8_parent_filename_size(handle, &parentName, e.out());
    if (hasId < 0 || hasName < 0) return libraryFailure(api, "the VMDK's descriptor cannot be read", e, io);
    if ((hasId == 1 && parentId != 0xFFFFFFFFu) || (hasName == 1 && parentName > 1))
        return unscannable("a VMDK snapshot that needs its parent disk file");
    return std::nullopt;
}

OpenedDisk openVmdk(const ByteSource& file) {
    std::uint64_t capacity = 0;
    if (auto r = checkVmdkHeader(file, capacity)) return *r;
    Opening o;
    if (auto r = startOpening(file, false, o)) return *r;
    if (auto r = makePool(*o.io, o.pool)) return *r;
    LibyalError e(kVmdk.freeError, kVmdk.printError);
    intptr_t* raw = nullptr;
    if (libvmdk_handle_initialize(&raw, e.out()) != 1) return libraryFailure(kVmdk, "libvmdk cannot start", e, *o.io);
    LibHandle h(raw, LibHandleFree{&kVmdk});
    if (libvmdk_handle_open_file_io_handle(h.get(), o.handle.get(), LIBVMDK_OPEN_READ, e.out()) != 1)
        return libraryFailure(kVmdk, "the virtual disk cannot be opened", e, *o.io);
    if (auto r = checkVmdkDescriptor(h.get(), kVmdk, *o.io)) return *r;
    if (libvmdk_handle_open_extent_data_files_file_io_pool(h.get(), o.pool.get(), e.out()) != 1)
        return libraryFailure(kVmdk, "the virtual disk cannot be opened", e, *o.io);
    size64_t size = 0;
    if (libvmdk_handle_get_media_size(h.get(), &size, e.out()) != 1)
        return libraryFailure(kVmdk, "the virtual disk cannot be described", e, *o.io);
    if (size != capacity * 512) return corrupt("the VMDK is corrupt: its descriptor and its header give different sizes");
    return finish(kVmdk, std::move(o), std::move(h), size, 512);
}

// ------------------------------------------------------------------ qcow and qcow2 (libqcow)

ssize_t qcowRead(intptr_t* h, void* buffer, std::size_t size, off64_t offset, intptr_t** e) {
    return libqcow_file_read_buffer_at_offset(h, buffer, size, offset, e);
}
void qcowClose(intptr_t* h) {
    libqcow_file_close(h, nullptr);
    libqcow_file_free(&h, nullptr);
}
const LibyalApi kQcow{"libqcow", libqcow_error_free, libqcow_error_backtrace_sprint, qcowRead, qcowClose, nullptr, false};

// The backing file an image names, for the sentence ("" when unreadable).
std::string backingName(const ByteSource& file, std::uint64_t offset, std::uint32_t length) {
    Bytes name;
    if (length == 0 || length > 1023 || readStruct(file, offset, length, name, "")) return "";
    return " \"" + printableName(truncateUtf8(std::string_view(reinterpret_cast<const char*>(name.data()), name.size()), 200)) +
           "\"";
}

// How a qcow version lays out its two tables: an L1 table of L2 table
// offsets, L2 tables of cluster offsets (8-byte big-endian entries both).
struct QcowTables {
    const char* name;   // "qcow2", "qcow"
    bool v2;
    std::uint64_t l1Offset, l1Entries;
    std::uint32_t clusterBits;
    std::uint64_t l2Entries;
};

// Every cluster an L2 table names lies inside the file: libqcow 20201213
// reads a cluster that the end of the file cuts short into a short buffer,
// then copies a whole cluster out of it (found by fuzz_virtual_disk,
// regressions/fuzz_virtual_disk/qcow2-cluster-cut-by-end-of-file).
Check checkQcowCluster(const ByteSource& file, const QcowTables& t, std::uint64_t e, const std::string& table, std::uint64_t i) {
    const std::uint64_t cluster = std::uint64_t{1} << t.clusterBits, size = file.size();
    const std::string bad = table + " is corrupt: entry " + num(i);
    std::uint64_t at = 0, length = cluster;
    if (t.v2 && (e >> 62 & 1)) {
        // Compressed: the offset in the low bits, then the count of 512-byte sectors it spans, less one.
        const unsigned x = 62 - (t.clusterBits - 8);
        at = e & ((std::uint64_t{1} << x) - 1);
        length = (((e >> x) & ((std::uint64_t{1} << (t.clusterBits - 8)) - 1)) + 1) * 512 - (at & 511);
        if (at >= size || length - 1 > size - at + 510)   // its last sector may be cut by the end of the file
            return corrupt(bad + " points beyond the end of the file (a truncated file?)");
        return std::nullopt;
    }
    if (!t.v2 && (e >> 63)) {
        // Compressed, version 1: the offset, then the length in bytes. libqcow
        // 20201213 dereferences a null buffer for a length of 0 (found by
        // fuzz_virtual_disk, regressions/fuzz_virtual_disk/qcow-compressed-cluster-of-0-bytes).
        at = e & ((std::uint64_t{1} << (63 - t.clusterBits)) - 1);
        length = (e >> (63 - t.clusterBits)) & (cluster - 1);
        if (length == 0) return corrupt(bad + " is a compressed cluster of 0 bytes");
    } else if (t.v2) {
        if (e & 0x3F000000000001FEull) return corrupt(bad + " has reserved bits set");
        at = e & 0x00FFFFFFFFFFFE00ull;
        if (at % cluster != 0) return corrupt(bad + " is not aligned to a cluster");
    } else {
        at = e;
    }
    if (at != 0 && !fits(at, length, size)) return corrupt(bad + " points beyond the end of the file (a truncated file?)");
    return std::nullopt;
}

// The L1 table, then each L2 table it names once: L2 tables are aligned
// clusters that do not overlap, so no more than the file is ever read.
Check checkQcowTables(const ByteSource& file, const QcowTables& t) {
    const std::string l1 = std::string("the ") + t.name + " image's L1 table";
    const std::uint64_t cluster = std::uint64_t{1} << t.clusterBits, l2Bytes = t.l2Entries * 8;
    std::vector<std::uint64_t> tables;
    auto r = forEachEntry(file, t.l1Offset, t.l1Entries, 8, l1, [&](std::uint64_t i, const std::uint8_t* p) -> Check {
        const std::uint64_t e = be64(p);
        if (t.v2 && (e & 0x7F000000000001FEull)) return corrupt(l1 + " is corrupt: entry " + num(i) + " has reserved bits set");
        const std::uint64_t at = t.v2 ? e & 0x00FFFFFFFFFFFE00ull : e;
        if (at == 0) return std::nullopt;
        if (at % cluster != 0 || !fits(at, l2Bytes, file.size()))
            return corrupt(l1 + " is corrupt: entry " + num(i) + " points beyond the end of the file (a truncated file?)");
        tables.push_back(at);
        return std::nullopt;
    });
    if (r) return r;
    std::sort(tables.begin(), tables.end());
    tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
    for (std::size_t k = 0; k < tables.size(); ++k) {
        const std::string l2 = std::string("the ") + t.name + " image's L2 table at byte " + num(tables[k]);
        if (k + 1 < tables.size() && tables[k + 1] - tables[k] < l2Bytes)
            return corrupt(l2 + " is corrupt: it overlaps the next one");
        r = forEachEntry(file, tables[k], t.l2Entries, 8, l2,
                         [&](std::uint64_t i, const std::uint8_t* p) { return checkQcowCluster(file, t, be64(p), l2, i); });
        if (r) return r;
    }
    return std::nullopt;
}

Check checkQcow2(const ByteSource& file, const Bytes& h, std::uint64_t& diskSize) {
    const std::uint32_t version = be32(h, 4);
    if (version != 2 && version != 3)
        return unscannable("a qcow image of version " + num(version) + ", which the kiosk does not read");
    if (const std::uint64_t backing = be64(h, 8); backing != 0)
        return unscannable("a qcow2 image with a backing file: it needs the disk file" + backingName(file, backing, be32(h, 16)));
    switch (be32(h, 32)) {
        case 0:
            break;
        case 1:
            return encrypted("an encrypted qcow2 image (AES)");
        case 2:
            return encrypted("an encrypted qcow2 image (LUKS)");
        default:
            return encrypted("an encrypted qcow2 image (method " + num(be32(h, 32)) + ")");
    }
    const std::uint32_t clusterBits = be32(h, 20);
    if (clusterBits < 9 || clusterBits > 21)
        return corrupt("the qcow2 image's header is corrupt: clusters of 2^" + num(clusterBits) + " bytes");
    const std::uint64_t cluster = std::uint64_t{1} << clusterBits;
    if (version == 3) {
        const std::uint64_t incompatible = be64(h, 72);
        const std::uint32_t headerLength = be32(h, 100);
        if (headerLength < 104 || headerLength > cluster || headerLength > h.size())
            return corrupt("the qcow2 image's header is corrupt: its length is " + num(headerLength));
        if (incompatible & 2) return corrupt("a qcow2 image that qemu marked as corrupt");
        if (incompatible & 4) return unscannable("a qcow2 image whose data is in another file (an external data file)");
        if (incompatible & 8)
            return unscannable(headerLength > 104 && h[104] == 1
                                   ? "a qcow2 image compressed with zstd, which the kiosk's libqcow cannot read"
                                   : "a qcow2 image compressed with an unknown method");
        if (incompatible & 16)
            return unscannable("a qcow2 image with subclusters (extended L2 entries), which the kiosk's libqcow cannot read");
        if (incompatible & ~std::uint64_t{1})   // bit 0, "dirty", only says that the refcounts are stale
            return unscannable("a qcow2 image with features the kiosk does not know (incompatible feature bits " +
                               hex(incompatible) + ")");
    }
    if (const std::uint32_t snapshots = be32(h, 60); snapshots != 0)
        return unscannable("a qcow2 image with " + num(snapshots) + " internal snapshot" + (snapshots == 1 ? "" : "s") +
                           " (earlier states of the disk, which the kiosk does not read)");
    diskSize = be64(h, 24);
    const std::uint32_t l1Entries = be32(h, 36);
    const std::uint64_t l1Offset = be64(h, 40);
    const std::uint64_t perL1 = cluster * (cluster / 8);   // bytes one L1 entry maps
    if (l1Entries > (32 * kMiB) / 8 || diskSize > std::uint64_t{l1Entries} * perL1)
        return corrupt("the qcow2 image's L1 table is corrupt: its " + num(l1Entries) + " entries do not fit a disk of " +
                       num(diskSize) + " bytes");
    if (l1Offset % cluster != 0) return corrupt("the qcow2 image's L1 table is corrupt: it is not aligned to a cluster");
    return checkQcowTables(file, {"qcow2", true, l1Offset, l1Entries, clusterBits, cluster / 8});
}

Check checkQcow1(const ByteSource& file, const Bytes& h, std::uint64_t& diskSize) {
    if (const std::uint64_t backing = be64(h, 8); backing != 0)
        return unscannable("a qcow image with a backing file: it needs the disk file" + backingName(file, backing, be32(h, 16)));
    if (be32(h, 36) != 0) return encrypted("an encrypted qcow image (AES)");
    const unsigned clusterBits = h[32], l2Bits = h[33];
    if (clusterBits < 9 || clusterBits > 16 || l2Bits < 6 || l2Bits > 13)
        return corrupt("the qcow image's header is corrupt: clusters of 2^" + num(clusterBits) + " bytes, L2 tables of 2^" +
                       num(l2Bits) + " entries");
    diskSize = be64(h, 24);
    const std::uint64_t entries = divUp(diskSize, std::uint64_t{1} << (clusterBits + l2Bits));
    return checkQcowTables(file, {"qcow", false, be64(h, 40), entries, clusterBits, std::uint64_t{1} << l2Bits});
}

OpenedDisk openQcow(const ByteSource& file) {
    Bytes h;
    if (auto r = readStruct(file, 0, std::min<std::uint64_t>(file.size(), 512), h, "the qcow image's header")) return *r;
    // Version 1 headers are 48 bytes, version 2 72, version 3 at least 104.
    if (h.size() < 48 || !has(h, 0, "QFI\xFB")) return corrupt("the qcow image's header is corrupt or cut short");
    const bool v1 = be32(h, 4) == 1;
    if (h.size() < (v1 ? 48u : be32(h, 4) == 2 ? 72u : 104u)) return corrupt("the qcow image's header is cut short");
    std::uint64_t diskSize = 0;
    if (auto r = v1 ? checkQcow1(file, h, diskSize) : checkQcow2(file, h, diskSize)) return *r;

    Opening o;
    if (auto r = startOpening(file, false, o)) return *r;
    LibyalError e(kQcow.freeError, kQcow.printError);
    intptr_t* raw = nullptr;
    if (libqcow_file_initialize(&raw, e.out()) != 1) return libraryFailure(kQcow, "libqcow cannot start", e, *o.io);
    LibHandle f(raw, LibHandleFree{&kQcow});
    if (libqcow_file_open_file_io_handle(f.get(), o.handle.get(), LIBQCOW_OPEN_READ, e.out()) != 1)
        return libraryFailure(kQcow, "the virtual disk cannot be opened", e, *o.io);
    std::uint32_t method = 0;
    std::size_t backing = 0;
    int snapshots = 0;
    size64_t size = 0;
    if (libqcow_file_get_encryption_method(f.get(), &method, e.out()) != 1 ||
        libqcow_file_get_utf8_backing_filename_size(f.get(), &backing, e.out()) < 0 ||
        libqcow_file_get_number_of_snapshots(f.get(), &snapshots, e.out()) != 1 ||
        libqcow_file_get_media_size(f.get(), &size, e.out()) != 1)
        return libraryFailure(kQcow, "the virtual disk cannot be described", e, *o.io);
    if (method != LIBQCOW_ENCRYPTION_METHOD_NONE || backing > 1 || snapshots != 0 || size != diskSize)
        return corrupt("the qcow image is corrupt: libqcow reads it otherwise than its header says");
    return finish(kQcow, std::move(o), std::move(f), size, 512);
}

// ------------------------------------------------------------------ EWF (libewf)

Status ewfChecksums(intptr_t* h) {
    std::uint32_t errors = 0;
    if (libewf_handle_get_number_of_checksum_errors(h, &errors, nullptr) != 1)
        return makeError("libewf cannot tell whether the chunks it read passed their checksums");
    // Any chunk that failed (a cached one reads again without a new error): the evidence is corrupt.
    if (errors != 0) return makeError("the EWF evidence file is corrupt: " + num(errors) + " of its chunks fail their checksums");
    return {};
}

ssize_t ewfRead(intptr_t* h, void* buffer, std::size_t size, off64_t offset, intptr_t** e) {
    return libewf_handle_read_random(h, buffer, size, offset, e);
}
void ewfClose(intptr_t* h) {
    libewf_handle_close(h, nullptr);
    libewf_handle_free(&h, nullptr);
}
// A damaged chunk stops every later read (stopAtDamage): libewf 20140813 leaks
// the chunk's buffer (up to the 64 MiB checkEwfSections allows) each time it
// reads a chunk that fails its checksum (found by fuzz_virtual_disk,
// regressions/fuzz_virtual_disk/ewf-damaged-chunk-leaks-its-buffer).
const LibyalApi kEwf{"libewf", libewf_error_free, libewf_error_backtrace_sprint, ewfRead, ewfClose, ewfChecksums, true};

// The section chain of an EWF version 1 segment file: intact, inside the
// file, ending in "done" (the only segment), with sane chunk sizes and
// header sections that cannot inflate into gigabytes.
Check checkEwfSections(const ByteSource& file) {
    const std::string chain = "the EWF file's section chain";
    bool volume = false;
    std::uint64_t at = 13;
    while (true) {
        Bytes s;
        if (auto r = readStruct(file, at, 76, s, "a section of the EWF file")) return r;
        if (le32(s, 72) != adler32(s.data(), 72))
            return corrupt(chain + " is corrupt: the section at byte " + num(at) + " fails its checksum");
        const std::string type(reinterpret_cast<const char*>(s.data()), strnlen(reinterpret_cast<const char*>(s.data()), 16));
        const std::uint64_t next = le64(s, 16), size = le64(s, 24);
        if (type == "done") break;
        if (type == "next")
            return unscannable(
                "one segment of an EWF image split across files (its other segments, .E02 and on, are other files)");
        if (size < 76 || !fits(at, size, file.size()))
            return corrupt(chain + " is corrupt: the " + printableName(type) + " section at byte " + num(at) +
                           " runs past the end of the file (a truncated file?)");
        if ((type == "header" || type == "header2" || type == "xheader" || type == "xhash") && size - 76 > 64 * kKiB)
            return corrupt(chain + " is corrupt: its " + type + " section of " + num(size) +
                           " bytes is larger than any real one");
        if (type == "table" || type == "table2" || type == "error2" || type == "session") {
            // Each begins with its count of entries (4 bytes or more each), which libewf allocates for.
            Bytes count;
            if (auto r = readStruct(file, at + 76, 4, count, "the EWF file's " + type + " section")) return r;
            if (std::uint64_t{le32(count, 0)} * 4 > size - 76)
                return corrupt(chain + " is corrupt: its " + type + " section at byte " + num(at) + " claims " +
                               num(le32(count, 0)) + " entries, more than it holds");
        }
        if (type == "volume" || type == "disk") {
            Bytes v;
            if (auto r = readStruct(file, at + 76, 16, v, "the EWF file's volume section")) return r;
            const std::uint32_t chunks = le32(v, 4), sectorsPerChunk = le32(v, 8), bytesPerSector = le32(v, 12);
            if (bytesPerSector == 0 || bytesPerSector > 64 * kKiB || sectorsPerChunk == 0 ||
                std::uint64_t{sectorsPerChunk} * bytesPerSector > 64 * kMiB || std::uint64_t{chunks} * 4 > file.size())
                return corrupt("the EWF file's volume section is corrupt: " + num(chunks) + " chunks of " + num(sectorsPerChunk) +
                               " sectors of " + num(bytesPerSector) + " bytes");
            volume = true;
        }
        if (next <= at) return corrupt(chain + " is corrupt: it loops back at byte " + num(at));
        at = next;
    }
    if (!volume) return corrupt(chain + " is corrupt: it has no volume section");
    return std::nullopt;
}

OpenedDisk openEwf(const ByteSource& file) {
    Bytes h;
    if (auto r = readStruct(file, 0, 13, h, "the EWF file's header")) return *r;
    if (has(h, 0, std::string_view("LVF\x09\x0D\x0A\xFF\x00", 8)))
        return unscannable("an EnCase logical evidence file (L01): it holds files, not a disk, and the kiosk does not read it");
    if (has(h, 0, "EVF2") || has(h, 0, "LEF2"))
        return unscannable("an EnCase 7 evidence file (Ex01 or Lx01), a version the kiosk's libewf cannot read");
    if (!has(h, 0, std::string_view("EVF\x09\x0D\x0A\xFF\x00", 8)) || h[8] != 1)
        return corrupt("the EWF file's header is corrupt");
    if (const std::uint16_t segment = le16(h, 9); segment != 1)
        return unscannable("segment " + num(segment) +
                           " of an EWF image split across files (the first segment and the others are other files)");
    if (auto r = checkEwfSections(file)) return *r;

    Opening o;
    if (auto r = startOpening(file, true, o)) return *r;
    LibyalError e(kEwf.freeError, kEwf.printError);
    intptr_t* raw = nullptr;
    if (libewf_handle_initialize(&raw, e.out()) != 1) return libraryFailure(kEwf, "libewf cannot start", e, *o.io);
    LibHandle f(raw, LibHandleFree{&kEwf});
    if (libewf_handle_open_file_io_pool(f.get(), o.pool.get(), LIBEWF_OPEN_READ, e.out()) != 1)
        return libraryFailure(kEwf, "the virtual disk cannot be opened", e, *o.io);
    if (libewf_handle_segment_files_corrupted(f.get(), e.out()) != 0)
        return corrupt("the EWF evidence file is incomplete or corrupt");
    size64_t size = 0;
    std::uint32_t sector = 0;
    if (libewf_handle_get_media_size(f.get(), &size, e.out()) != 1 ||
        libewf_handle_get_bytes_per_sector(f.get(), &sector, e.out()) != 1)
        return libraryFailure(kEwf, "the virtual disk cannot be described", e, *o.io);
    return finish(kEwf, std::move(o), std::move(f), size, sector);
}

// ------------------------------------------------------------------ VDI (our own code)

// Block map entries from this one up read as zeros: 0xFFFFFFFE (discarded)
// and 0xFFFFFFFF (never written).
constexpr std::uint32_t kVdiZero = 0xFFFFFFFEu;

// A VDI's disk: block i of the disk is data block map[i] of the file, or zeros.
class VdiDisk final : public ByteSource {
public:
    VdiDisk(const ByteSource& file, std::uint64_t size, std::uint32_t block, std::uint64_t data, std::vector<std::uint32_t> map)
        : file_(file), size_(size), block_(block), data_(data), map_(std::move(map)) {}

    std::uint64_t size() const override { return size_; }

    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override {
        if (!fits(offset, buf.size(), size_))
            return makeError("read of " + num(buf.size()) + " bytes at " + num(offset) + " past the end of the virtual disk (" +
                             num(size_) + " bytes)");
        std::size_t done = 0;
        while (done < buf.size()) {
            const std::uint64_t at = offset + done;
            const std::uint64_t in = at % block_;
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size() - done, block_ - in));
            const std::uint32_t entry = map_[static_cast<std::size_t>(at / block_)];
            auto piece = buf.subspan(done, n);
            if (entry >= kVdiZero) {
                std::fill(piece.begin(), piece.end(), 0);
            } else if (auto s = file_.readAt(data_ + std::uint64_t{entry} * block_ + in, piece); !s) {
                return makeError("the VDI cannot be read at byte " + num(at) + " of its disk: " + s.error().message);
            }
            done += n;
        }
        return {};
    }

private:
    const ByteSource& file_;
    std::uint64_t size_;
    std::uint32_t block_;
    std::uint64_t data_;
    std::vector<std::uint32_t> map_;
};

OpenedDisk openVdi(const ByteSource& file) {
    Bytes h;
    if (auto r = readStruct(file, 0, 512, h, "the VDI's header")) return *r;
    const std::uint32_t version = le32(h, 0x44);
    if (version != 0x00010001)
        return unscannable("a VDI of version " + num(version >> 16) + "." + num(version & 0xFFFF) +
                           ", which the kiosk does not read");
    if (le32(h, 0x48) < 0x180) return corrupt("the VDI's header is corrupt: it is cut short");
    const std::uint32_t type = le32(h, 0x4C);
    if (type == 3 || type == 4 || !allZero(h, 0x1A8, 16))
        return unscannable("a differencing VDI (a snapshot) that needs its parent disk file");
    if (type != 1 && type != 2) return unscannable("a VDI of unknown type " + num(type));
    const std::uint64_t mapOffset = le32(h, 0x154), dataOffset = le32(h, 0x158), diskSize = le64(h, 0x170);
    const std::uint32_t block = le32(h, 0x178), blocks = le32(h, 0x180), allocated = le32(h, 0x184);
    if (le32(h, 0x17C) != 0) return unscannable("a VDI with extra data in its blocks, which the kiosk does not read");
    if (!powerOfTwo(block) || block < 512 || block > 256 * kMiB)
        return corrupt("the VDI's header is corrupt: blocks of " + num(block) + " bytes");
    if (diskSize > std::uint64_t{blocks} * block)
        return corrupt("the VDI's header is corrupt: its blocks hold less than its disk");
    std::vector<std::uint32_t> map;
    map.reserve(std::min<std::uint64_t>(blocks, file.size() / 4));
    const std::string what = "the VDI's block map";
    auto r = forEachEntry(file, mapOffset, blocks, 4, what, [&](std::uint64_t i, const std::uint8_t* p) -> Check {
        const std::uint32_t e = le32(p);
        map.push_back(e);
        if (e >= kVdiZero) return std::nullopt;
        const std::uint64_t covered = i * block >= diskSize ? 0 : std::min<std::uint64_t>(block, diskSize - i * block);
        if (e >= allocated)
            return corrupt(what + " is corrupt: block " + num(i) + " points past the image's " + num(allocated) + " data blocks");
        if (!fits(dataOffset + std::uint64_t{e} * block, covered, file.size()))
            return corrupt(what + " is corrupt: block " + num(i) + " lies beyond the end of the file (a truncated file?)");
        return std::nullopt;
    });
    if (r) return *r;
    auto* disk = new (std::nothrow) VdiDisk(file, diskSize, block, dataOffset, std::move(map));
    if (!disk) return unscannable("out of memory opening the virtual disk");
    return VirtualDisk{std::unique_ptr<ByteSource>(disk), 512};
}

}  // namespace

OpenedDisk openVirtualDisk(const ByteSource& file, formats::Format format) {
    using formats::Format;
    switch (format) {
        case Format::Vhd:
            return openVhd(file);
        case Format::Vhdx:
            return openVhdx(file);
        case Format::Vmdk:
            return openVmdk(file);
        case Format::VmdkDescriptor:
            return unscannable("a VMDK descriptor whose extents are other files");
        case Format::Qcow:
        case Format::Qcow2:
            return openQcow(file);
        case Format::Vdi:
            return openVdi(file);
        case Format::Ewf:
            return openEwf(file);
        default:
            return unscannable(std::string("a ") + formats::formatName(format) + " file is not a virtual disk");
    }
}

}  // namespace kiosk::scan
