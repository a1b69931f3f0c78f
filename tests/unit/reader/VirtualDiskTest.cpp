// The disk inside a virtual disk file, against the real tools that write
// them: an MBR disk with a FAT16 filesystem and two files (sfdisk, mkfs.vfat,
// mcopy), converted by qemu-img to every format it writes and by ewfacquire
// to EnCase E01, must read back byte for byte; images that need other files,
// encrypted ones and damaged ones must be refused with their sentence. A
// missing tool: SKIP (exit 77), never PASS.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <random>

#include "Harness.h"
#include "VirtualDisk.h"
#include "qkiosk/base/Text.h"
#include "qkiosk/base/UniqueFd.h"

using namespace qktest;
using namespace kiosk;
using namespace kiosk::scan;

namespace {

constexpr std::uint64_t kDiskSize = 8 << 20;

void runOk(const std::vector<std::string>& argv) {
    const auto r = run(argv);
    INFO(argv[0] << ": " << r.err << r.out);
    REQUIRE(r.exitCode == 0);
}

void sh(const std::string& script) { runOk({"sh", "-c", script}); }

// The raw disk every image is made from, once per test process: partition 1
// from sector 2048, FAT16, a text file and 300 KB of noise.
const fs::path& rawDisk() {
    static Workspace ws;
    static const fs::path raw = [] {
        for (const char* tool : {"sfdisk", "mkfs.vfat", "mcopy", "qemu-img"}) requireTool(tool);
        const auto img = ws.path() / "raw.img";
        { std::ofstream(img, std::ios::binary).close(); }
        fs::resize_file(img, kDiskSize);
        sh("printf 'label: dos\\nstart=2048, type=6\\n' | sfdisk -q " + img.string());
        runOk({"mkfs.vfat", "-F", "16", "-s", "2", "--offset", "2048", img.string(), "7168"});
        std::mt19937 rng(7);
        std::string noise(300000, '\0');
        for (auto& c : noise) c = static_cast<char>(rng());
        const auto text = ws.write("hello.txt", "hello from inside a virtual disk\n");
        const auto bin = ws.write("noise.bin", noise);
        runOk({"mcopy", "-i", img.string() + "@@1M", text.string(), bin.string(), "::/"});
        return img;
    }();
    return raw;
}

std::vector<std::uint8_t> fileBytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::uint8_t> b(static_cast<std::size_t>(fs::file_size(p)));
    in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
    b.resize(static_cast<std::size_t>(in.gcount()));
    return b;
}

void writeBytes(const fs::path& p, std::uint64_t offset, const std::vector<std::uint8_t>& bytes) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(f.good());
}

std::uint64_t be(const std::vector<std::uint8_t>& b, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | b.at(at + static_cast<std::size_t>(i));
    return v;
}
std::uint64_t le(const std::vector<std::uint8_t>& b, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | b.at(at + static_cast<std::size_t>(i));
    return v;
}
std::vector<std::uint8_t> beBytes(std::uint64_t v, int n) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(n));
    for (int i = n - 1; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    return out;
}

// Text that printableName() made or would leave alone: no control characters,
// valid UTF-8 (its escapes of hostile bytes are printable themselves).
bool printable(const std::string& s) {
    const std::string again = printableName(s);
    std::string unescaped;
    for (std::size_t i = 0; i < again.size(); ++i) {
        if (again.compare(i, 4, "\\x5c") == 0 || again.compare(i, 4, "\\x5C") == 0) {
            unescaped += '\\';
            i += 3;
        } else {
            unescaped += again[i];
        }
    }
    return unescaped == s;
}

// An image file as the media reader sees it: a descriptor, a ByteSource, the
// format formats::identify() gives, and what openVirtualDisk() makes of it.
struct Opened {
    UniqueFd fd;
    std::unique_ptr<FdSource> file;
    formats::Format format{};
    OpenedDisk disk;
};

std::unique_ptr<Opened> open(const fs::path& p) {
    auto o = std::make_unique<Opened>();
    o->fd = UniqueFd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(o->fd.valid());
    const auto size = fs::file_size(p);
    o->file = std::make_unique<FdSource>(o->fd.get(), size);
    const auto head = readUpTo(*o->file, 0, formats::kHeadBytes);
    const auto tail = readUpTo(*o->file, size - std::min<std::uint64_t>(size, formats::kTailBytes), formats::kTailBytes);
    const auto id = formats::identify(head, tail, size);
    REQUIRE(id);
    REQUIRE(id->kind == formats::Kind::VirtualDisk);
    o->format = id->format;
    o->disk = openVirtualDisk(*o->file, o->format);
    return o;
}

DiskRefusal refusal(const Opened& o) {
    const auto* r = std::get_if<DiskRefusal>(&o.disk);
    if (!r) FAIL("the image was opened, not refused");
    INFO(r->detail);
    CHECK(printable(r->detail));
    return *r;
}

const VirtualDisk& opened(const Opened& o) {
    if (const auto* r = std::get_if<DiskRefusal>(&o.disk)) FAIL("refused: " << r->detail);
    return std::get<VirtualDisk>(o.disk);
}

// Every byte of the disk equals the raw disk, read 1 MiB at a time.
void requireSameAsRaw(const ByteSource& disk) {
    const auto raw = fileBytes(rawDisk());
    REQUIRE(disk.size() == raw.size());
    std::vector<std::uint8_t> chunk(1 << 20);
    for (std::uint64_t at = 0; at < raw.size(); at += chunk.size()) {
        const auto st = disk.readAt(at, chunk);
        INFO("at byte " << at << ": " << (st ? std::string() : st.error().message));
        REQUIRE(st.ok());
        REQUIRE(std::memcmp(chunk.data(), raw.data() + at, chunk.size()) == 0);
    }
    CHECK_FALSE(disk.readAt(raw.size() - 10, chunk).ok());
}

fs::path convert(Workspace& ws, const std::string& name, const std::vector<std::string>& options) {
    const auto out = ws.path() / name;
    std::vector<std::string> argv = {"qemu-img", "convert", "-f", "raw"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(rawDisk().string());
    argv.push_back(out.string());
    runOk(argv);
    return out;
}

fs::path ewf(Workspace& ws, const fs::path& raw, const std::string& target, const std::vector<std::string>& options) {
    requireTool("ewfacquire");
    std::vector<std::string> argv = {"ewfacquire", "-u", "-q", "-t", (ws.path() / target).string(), "-f", "encase6"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(raw.string());
    runOk(argv);
    return ws.path() / (target + ".E01");
}

// A ByteSource that counts what is read through it.
class Counting final : public ByteSource {
public:
    explicit Counting(const ByteSource& base) : base_(base) {}
    std::uint64_t size() const override { return base_.size(); }
    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override {
        reads_++;
        return base_.readAt(offset, buf);
    }
    std::uint64_t reads() const { return reads_; }

private:
    const ByteSource& base_;
    mutable std::uint64_t reads_ = 0;
};

}  // namespace

TEST_CASE("Every virtual disk format qemu-img writes reads back byte for byte as the raw disk", "[VirtualDisk]") {
    Workspace ws;
    struct Case {
        const char* name;
        std::vector<std::string> options;
        formats::Format format;
    };
    const std::vector<Case> cases = {
        {"dynamic.vhd", {"-O", "vpc", "-o", "force_size=on"}, formats::Format::Vhd},
        {"fixed.vhd", {"-O", "vpc", "-o", "subformat=fixed,force_size=on"}, formats::Format::Vhd},
        {"disk.vhdx", {"-O", "vhdx"}, formats::Format::Vhdx},
        {"sparse.vmdk", {"-O", "vmdk"}, formats::Format::Vmdk},
        {"stream.vmdk", {"-O", "vmdk", "-o", "subformat=streamOptimized"}, formats::Format::Vmdk},
        {"disk.qcow2", {"-O", "qcow2"}, formats::Format::Qcow2},
        {"compressed.qcow2", {"-O", "qcow2", "-c"}, formats::Format::Qcow2},
        {"small-clusters.qcow2", {"-O", "qcow2", "-o", "cluster_size=512"}, formats::Format::Qcow2},
        {"disk.qcow", {"-O", "qcow"}, formats::Format::Qcow},
        {"dynamic.vdi", {"-O", "vdi"}, formats::Format::Vdi},
        {"static.vdi", {"-O", "vdi", "-o", "static=on"}, formats::Format::Vdi},
    };
    for (const auto& c : cases) {
        SECTION(c.name) {
            const auto o = open(convert(ws, c.name, c.options));
            CHECK(o->format == c.format);
            const auto& disk = opened(*o);
            CHECK(disk.sectorSize == 512);
            requireSameAsRaw(*disk.disk);
        }
    }
}

TEST_CASE("An EnCase E01 that ewfacquire writes reads back byte for byte as the raw disk", "[VirtualDisk]") {
    Workspace ws;
    for (const char* compression : {"deflate:fast", "none"}) {
        SECTION(compression) {
            const auto o = open(ewf(ws, rawDisk(), "evidence", {"-c", compression}));
            CHECK(o->format == formats::Format::Ewf);
            requireSameAsRaw(*opened(*o).disk);
        }
    }
}

TEST_CASE("Every read of a virtual disk goes through the file's ByteSource, never a path", "[VirtualDisk]") {
    Workspace ws;
    const std::vector<std::tuple<std::string, std::string, formats::Format>> cases = {
        {"d.vhd", "vpc", formats::Format::Vhd},
        {"d.vhdx", "vhdx", formats::Format::Vhdx},
        {"d.vmdk", "vmdk", formats::Format::Vmdk},
        {"d.qcow2", "qcow2", formats::Format::Qcow2},
        {"d.vdi", "vdi", formats::Format::Vdi}};
    for (const auto& [name, qemuFormat, format] : cases) {
        SECTION(name) {
            // The file is gone once in memory: a library that opened it by name would find nothing.
            const auto path = convert(ws, name, {"-O", qemuFormat});
            const auto bytes = fileBytes(path);
            fs::remove(path);
            MemorySource memory(bytes);
            Counting counting(memory);
            const auto got = openVirtualDisk(counting, format);
            REQUIRE(std::holds_alternative<VirtualDisk>(got));
            const auto before = counting.reads();
            std::vector<std::uint8_t> sector(512);
            REQUIRE(std::get<VirtualDisk>(got).disk->readAt(1 << 20, sector).ok());
            CHECK(counting.reads() > before);
            CHECK(std::memcmp(sector.data(), fileBytes(rawDisk()).data() + (1 << 20), 512) == 0);
        }
    }
}

TEST_CASE("Images that need other files are refused with a sentence that says which", "[VirtualDisk]") {
    Workspace ws;
    SECTION("a qcow2 with a backing file") {
        const auto base = convert(ws, "base.qcow2", {"-O", "qcow2"});
        const auto top = ws.path() / "top.qcow2";
        runOk({"qemu-img", "create", "-q", "-f", "qcow2", "-b", base.string(), "-F", "qcow2", top.string()});
        const auto r = refusal(*open(top));
        CHECK(r.code == proto::ReasonCode::Unscannable);
        CHECK_THAT(r.detail, Catch::StartsWith("a qcow2 image with a backing file") && Catch::Contains("base.qcow2"));
    }
    SECTION("a qcow2 whose data is in an external data file") {
        const auto r = refusal(
            *open(convert(ws, "external.qcow2", {"-O", "qcow2", "-o", "data_file=" + (ws.path() / "external.data").string()})));
        CHECK(r.code == proto::ReasonCode::Unscannable);
        CHECK(r.detail == "a qcow2 image whose data is in another file (an external data file)");
    }
    SECTION("a differencing VHD (qemu-img cannot write one: a dynamic VHD marked as one)") {
        const auto vhd = convert(ws, "diff.vhd", {"-O", "vpc"});
        auto footer = fileBytes(vhd);
        footer.erase(footer.begin(), footer.end() - 512);
        footer[63] = 4;   // disk type: differencing
        std::fill(footer.begin() + 64, footer.begin() + 68, 0);
        std::uint32_t sum = 0;
        for (auto b : footer) sum += b;
        const auto checksum = beBytes(~sum, 4);
        std::copy(checksum.begin(), checksum.end(), footer.begin() + 64);
        writeBytes(vhd, 0, footer);
        writeBytes(vhd, fs::file_size(vhd) - 512, footer);
        const auto r = refusal(*open(vhd));
        CHECK(r.code == proto::ReasonCode::Unscannable);
        CHECK(r.detail == "a differencing VHD that needs its parent disk file");
    }
    SECTION("a differencing VHDX (qemu-img cannot write one: a VHDX whose metadata says it has a parent)") {
        const auto vhdx = convert(ws, "diff.vhdx", {"-O", "vhdx"});
        const auto bytes = fileBytes(vhdx);
        // The metadata region (region table at 192 KiB), its file parameters item, the HasParent flag.
        const std::vector<std::uint8_t> metaGuid = {0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B,
                                                    0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E};
        const std::vector<std::uint8_t> paramsGuid = {0x37, 0x67, 0xA1, 0xCA, 0x36, 0xFA, 0x43, 0x4D,
                                                      0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B};
        std::uint64_t meta = 0;
        for (std::size_t i = 0; i < le(bytes, 192 * 1024 + 8, 4); ++i) {
            const std::size_t at = 192 * 1024 + 16 + i * 32;
            if (std::equal(metaGuid.begin(), metaGuid.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at)))
                meta = le(bytes, at + 16, 8);
        }
        REQUIRE(meta != 0);
        std::uint64_t flags = 0;
        for (std::size_t i = 0; i < le(bytes, meta + 10, 2); ++i) {
            const std::size_t at = meta + 32 + i * 32;
            if (std::equal(paramsGuid.begin(), paramsGuid.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at)))
                flags = meta + le(bytes, at + 16, 4) + 4;
        }
        REQUIRE(flags != 0);
        writeBytes(vhdx, flags, {static_cast<std::uint8_t>(bytes[flags] | 2)});
        const auto r = refusal(*open(vhdx));
        CHECK(r.code == proto::ReasonCode::Unscannable);
        CHECK(r.detail == "a differencing VHDX that needs its parent disk file");
    }
    SECTION("a VMDK snapshot") {
        const auto parent = convert(ws, "parent.vmdk", {"-O", "vmdk"});
        const auto child = ws.path() / "child.vmdk";
        runOk({"qemu-img", "create", "-q", "-f", "vmdk", "-b", parent.string(), "-F", "vmdk", child.string()});
        const auto r = refusal(*open(child));
        CHECK(r.code == proto::ReasonCode::Unscannable);
        CHECK(r.detail == "a VMDK snapshot that needs its parent disk file");
    }
    SECTION("a VMDK descriptor file, and the extent files it names") {
        convert(ws, "flat.vmdk", {"-O", "vmdk", "-o", "subformat=monolithicFlat"});
        const auto flat = refusal(*open(ws.path() / "flat.vmdk"));
        CHECK(flat.code == proto::ReasonCode::Unscannable);
        CHECK(flat.detail == "a VMDK descriptor whose extents are other files");
        convert(ws, "split.vmdk", {"-O", "vmdk", "-o", "subformat=twoGbMaxExtentSparse"});
        CHECK(refusal(*open(ws.path() / "split.vmdk")).detail == "a VMDK descriptor whose extents are other files");
        const auto extent = refusal(*open(ws.path() / "split-s001.vmdk"));
        CHECK(extent.code == proto::ReasonCode::Unscannable);
        CHECK_THAT(extent.detail, Catch::StartsWith("a VMDK extent whose descriptor is another file"));
    }
    SECTION("one segment of an E01 split across files") {
        std::mt19937 rng(3);
        std::string noise(3 << 20, '\0');
        for (auto& c : noise) c = static_cast<char>(rng());
        const auto e01 = ewf(ws, ws.write("noise.img", noise), "split", {"-c", "none", "-S", "1MiB"});
        REQUIRE(fs::exists(ws.path() / "split.E02"));
        const auto first = refusal(*open(e01));
        CHECK(first.code == proto::ReasonCode::Unscannable);
        CHECK_THAT(first.detail, Catch::StartsWith("one segment of an EWF image split across files"));
        CHECK_THAT(refusal(*open(ws.path() / "split.E02")).detail,
                   Catch::StartsWith("segment 2 of an EWF image split across files"));
    }
}

TEST_CASE("Encrypted images are refused as encrypted", "[VirtualDisk]") {
    Workspace ws;
    SECTION("qcow2 with AES (qemu-img still writes it)") {
        const auto out = ws.path() / "aes.qcow2";
        runOk({"qemu-img", "convert", "--object", "secret,id=k,data=kiosk", "-f", "raw", "-O", "qcow2", "-o",
               "encrypt.format=aes,encrypt.key-secret=k", rawDisk().string(), out.string()});
        const auto r = refusal(*open(out));
        CHECK(r.code == proto::ReasonCode::EncryptedVolume);
        CHECK(r.detail == "an encrypted qcow2 image (AES)");
    }
    SECTION("qcow2 with LUKS (its header's method; qemu-img's LUKS needs a CPU timer this sandbox may lack)") {
        const auto q = convert(ws, "luks.qcow2", {"-O", "qcow2"});
        writeBytes(q, 32, beBytes(2, 4));
        const auto r = refusal(*open(q));
        CHECK(r.code == proto::ReasonCode::EncryptedVolume);
        CHECK(r.detail == "an encrypted qcow2 image (LUKS)");
    }
}

TEST_CASE("Variants the kiosk would not read in full are refused", "[VirtualDisk]") {
    Workspace ws;
    SECTION("a qcow2 with an internal snapshot") {
        const auto q = convert(ws, "snap.qcow2", {"-O", "qcow2"});
        runOk({"qemu-img", "snapshot", "-c", "before", q.string()});
        const auto r = refusal(*open(q));
        CHECK(r.code == proto::ReasonCode::Unscannable);
        CHECK_THAT(r.detail, Catch::StartsWith("a qcow2 image with 1 internal snapshot "));
    }
    SECTION("a qcow2 compressed with zstd") {
        const auto r = refusal(*open(convert(ws, "z.qcow2", {"-O", "qcow2", "-c", "-o", "compression_type=zstd"})));
        CHECK(r.detail == "a qcow2 image compressed with zstd, which the kiosk's libqcow cannot read");
    }
    SECTION("a qcow2 with subclusters") {
        CHECK_THAT(refusal(*open(convert(ws, "x.qcow2", {"-O", "qcow2", "-o", "extended_l2=on"}))).detail,
                   Catch::StartsWith("a qcow2 image with subclusters"));
    }
    SECTION("a VHDX whose log still holds writes (qemu-img applies its log: a header that names one)") {
        const auto vhdx = convert(ws, "log.vhdx", {"-O", "vhdx"});
        auto bytes = fileBytes(vhdx);
        // The header with the higher sequence number is the current one; give it a log GUID and a new CRC-32C.
        const std::size_t current = le(bytes, 128 * 1024 + 8, 8) > le(bytes, 64 * 1024 + 8, 8) ? 128 * 1024 : 64 * 1024;
        std::vector<std::uint8_t> header(bytes.begin() + static_cast<std::ptrdiff_t>(current),
                                         bytes.begin() + static_cast<std::ptrdiff_t>(current + 4096));
        header[48] = 0x42;
        std::fill(header.begin() + 4, header.begin() + 8, 0);
        std::uint32_t crc = 0xFFFFFFFFu;
        for (auto b : header) {
            crc ^= b;
            for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0x82F63B78u ^ (crc >> 1) : crc >> 1;
        }
        crc = ~crc;
        for (int i = 0; i < 4; ++i) header[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
        writeBytes(vhdx, current, header);
        const auto r = refusal(*open(vhdx));
        CHECK(r.code == proto::ReasonCode::Unscannable);
        CHECK_THAT(r.detail, Catch::StartsWith("a VHDX whose log holds writes not yet applied to its disk"));
        // The same header with its old checksum is not intact; the other header, with no log, rules.
        header[4] ^= 1;
        writeBytes(vhdx, current, header);
        CHECK(std::holds_alternative<VirtualDisk>(open(vhdx)->disk));
    }
}

TEST_CASE("Damaged images are refused before the library reads them, and never crash", "[VirtualDisk]") {
    Workspace ws;
    SECTION("a truncated VHDX") {
        const auto vhdx = convert(ws, "cut.vhdx", {"-O", "vhdx"});
        fs::resize_file(vhdx, fs::file_size(vhdx) * 3 / 4);
        const auto r = refusal(*open(vhdx));
        CHECK(r.code == proto::ReasonCode::CorruptFilesystem);
        CHECK_THAT(
            r.detail,
            Catch::Matches(
                "the VHDX's block table is corrupt: block [0-9]+ lies beyond the end of the file \\(a truncated file\\?\\)"));
    }
    SECTION("a truncated dynamic VHD") {
        const auto vhd = convert(ws, "cut.vhd", {"-O", "vpc"});
        fs::resize_file(vhd, fs::file_size(vhd) - 4096);
        CHECK(refusal(*open(vhd)).detail == "the VHD's footer at the end of the file is missing or corrupt (a truncated file?)");
    }
    SECTION("a qcow2 whose L1 table points past the end of the file") {
        const auto q = convert(ws, "l1.qcow2", {"-O", "qcow2"});
        const auto header = fileBytes(q);
        writeBytes(q, be(header, 40, 8), beBytes(0x8000000000000000ull | (1ull << 40), 8));
        const auto r = refusal(*open(q));
        CHECK(r.code == proto::ReasonCode::CorruptFilesystem);
        CHECK(r.detail == "the qcow2 image's L1 table is corrupt: entry 0 points beyond the end of the file (a truncated file?)");
    }
    SECTION("a qcow2 whose L2 table points past the end of the file") {
        const auto q = convert(ws, "l2.qcow2", {"-O", "qcow2"});
        const auto bytes = fileBytes(q);
        const auto l2 = be(bytes, be(bytes, 40, 8), 8) & 0x00FFFFFFFFFFFE00ull;
        REQUIRE(l2 != 0);
        writeBytes(q, l2, beBytes(0x8000000000000000ull | (1ull << 40), 8));
        CHECK(refusal(*open(q)).detail == "the qcow2 image's L2 table at byte " + std::to_string(l2) +
                                              " is corrupt: entry 0 points beyond the end of the file (a truncated file?)");
    }
    SECTION("a qcow2 whose last cluster the end of the file cuts short (libqcow overran its buffer; found by the fuzzer)") {
        const auto r =
            refusal(*open(fs::path(QKIOSK_FUZZ_REGRESSIONS) / "fuzz_virtual_disk" / "qcow2-cluster-cut-by-end-of-file"));
        CHECK(r.code == proto::ReasonCode::CorruptFilesystem);
        CHECK_THAT(
            r.detail,
            Catch::Matches(
                "the qcow2 image's L2 table at byte [0-9]+ is corrupt: entry [0-9]+ points beyond the end of the file \\(a truncated file\\?\\)"));
    }
    SECTION("a qcow version 1 with a compressed cluster of 0 bytes (libqcow dereferenced a null buffer; found by the fuzzer)") {
        const auto r =
            refusal(*open(fs::path(QKIOSK_FUZZ_REGRESSIONS) / "fuzz_virtual_disk" / "qcow-compressed-cluster-of-0-bytes"));
        CHECK(r.code == proto::ReasonCode::CorruptFilesystem);
        CHECK_THAT(r.detail, Catch::EndsWith(" is a compressed cluster of 0 bytes"));
    }
    SECTION("a stream-optimized VMDK cut after its grain tables") {
        const auto vmdk = convert(ws, "half.vmdk", {"-O", "vmdk", "-o", "subformat=streamOptimized"});
        fs::resize_file(vmdk, fs::file_size(vmdk) / 2);
        CHECK_THAT(
            refusal(*open(vmdk)).detail,
            Catch::Matches(
                "the VMDK's grain table at byte [0-9]+ is corrupt: grain [0-9]+ lies beyond the end of the file \\(a truncated file\\?\\)"));
    }
    SECTION("a truncated VDI") {
        const auto vdi = convert(ws, "cut.vdi", {"-O", "vdi"});
        fs::resize_file(vdi, fs::file_size(vdi) - 4096);
        CHECK_THAT(refusal(*open(vdi)).detail,
                   Catch::Matches(
                       "the VDI's block map is corrupt: block [0-9]+ lies beyond the end of the file \\(a truncated file\\?\\)"));
    }
    SECTION("a stream-optimized VMDK cut before its grain tables") {
        const auto vmdk = convert(ws, "cut.vmdk", {"-O", "vmdk", "-o", "subformat=streamOptimized"});
        fs::resize_file(vmdk, 14 * 1024);   // qemu-img: the grain directory at 13 KiB, its table at 13.5 KiB
        CHECK_THAT(refusal(*open(vmdk)).detail,
                   Catch::StartsWith("the VMDK's grain directory is corrupt: grain table 0 lies beyond"));
    }
    SECTION("an E01 cut short") {
        const auto e01 = ewf(ws, rawDisk(), "cut", {"-c", "deflate:fast"});
        fs::resize_file(e01, fs::file_size(e01) / 2);
        CHECK_THAT(refusal(*open(e01)).detail, Catch::StartsWith("the EWF file's section chain is corrupt"));
    }
}

TEST_CASE("Damage the checks cannot see fails the read with the library's reason", "[VirtualDisk]") {
    Workspace ws;
    SECTION("a compressed qcow2 whose deflated cluster is damaged") {
        const auto q = convert(ws, "bad.qcow2", {"-O", "qcow2", "-c"});
        const auto bytes = fileBytes(q);
        // The first compressed cluster of the first L2 table: its deflate stream begins with an invalid block.
        const auto l2 = be(bytes, be(bytes, 40, 8), 8) & 0x00FFFFFFFFFFFE00ull;
        const unsigned bits = static_cast<unsigned>(be(bytes, 20, 4));
        std::uint64_t data = 0;
        for (std::size_t i = 0; i < (std::size_t{1} << bits) / 8 && data == 0; ++i) {
            const auto e = be(bytes, l2 + i * 8, 8);
            if (e >> 62 & 1) data = e & ((std::uint64_t{1} << (62 - (bits - 8))) - 1);
        }
        REQUIRE(data != 0);
        writeBytes(q, data, std::vector<std::uint8_t>(16, 0xFF));
        const auto o = open(q);
        const auto& disk = opened(*o);
        std::vector<std::uint8_t> buf(1 << 20);
        Status last;
        for (std::uint64_t off = 0; off < disk.disk->size() && last.ok(); off += buf.size()) last = disk.disk->readAt(off, buf);
        REQUIRE_FALSE(last.ok());
        CHECK_THAT(last.error().message,
                   Catch::StartsWith("the virtual disk cannot be read at byte ") && Catch::Contains("libqcow: "));
        CHECK(printable(last.error().message));
    }
    SECTION("an E01 with a damaged chunk, after which nothing of it is read (libewf leaks the chunk each time)") {
        const auto e01 = ewf(ws, rawDisk(), "bad", {"-c", "none"});
        auto bytes = fileBytes(e01);
        const std::uint64_t at = bytes.size() / 2;
        writeBytes(e01, at, {static_cast<std::uint8_t>(bytes[at] ^ 0xFF)});
        const auto o = open(e01);
        const auto& disk = opened(*o);
        std::vector<std::uint8_t> buf(1 << 20);
        std::uint64_t off = 0;
        Status st;
        for (; off < disk.disk->size() && st.ok(); off += buf.size()) st = disk.disk->readAt(off, buf);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.error().message, Catch::Contains("fail their checksums"));
        // The first megabyte read well before; now it fails too, with the same reason.
        const auto again = disk.disk->readAt(0, buf);
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().message == st.error().message);
    }
}

TEST_CASE("A file that is not a virtual disk is refused, not guessed at", "[VirtualDisk]") {
    std::vector<std::uint8_t> zeros(64 * 1024, 0);
    MemorySource memory(zeros);
    for (auto f : {formats::Format::Vhd, formats::Format::Vhdx, formats::Format::Vmdk, formats::Format::Qcow2,
                   formats::Format::Vdi, formats::Format::Ewf, formats::Format::Fat}) {
        const auto got = openVirtualDisk(memory, f);
        REQUIRE(std::holds_alternative<DiskRefusal>(got));
        CHECK_FALSE(std::get<DiskRefusal>(got).detail.empty());
    }
    std::vector<std::uint8_t> empty;
    MemorySource none(empty);
    CHECK(std::holds_alternative<DiskRefusal>(openVirtualDisk(none, formats::Format::Qcow2)));
}

TEST_CASE("The fuzzer's seeds open and hold the same disk", "[VirtualDisk]") {
    // tests/fuzz/make-virtual-disk-seeds.sh writes one 64 KiB disk in every format;
    // the VHDX, with no room for a data block below 1 MiB, holds it empty.
    const fs::path corpus = fs::path(QKIOSK_FUZZ_REGRESSIONS).parent_path() / "corpus" / "fuzz_virtual_disk";
    const auto fixed = fileBytes(corpus / "fixed.vhd");
    REQUIRE(fixed.size() == 64 * 1024 + 512);
    const std::vector<std::uint8_t> raw(fixed.begin(), fixed.end() - 512);
    std::size_t seeds = 0;
    for (const auto& entry : fs::directory_iterator(corpus)) {
        INFO(entry.path().filename().string());
        const auto o = open(entry.path());
        const auto& disk = opened(*o);
        REQUIRE(disk.disk->size() == raw.size());
        std::vector<std::uint8_t> got(raw.size());
        REQUIRE(disk.disk->readAt(0, got).ok());
        if (o->format == formats::Format::Vhdx)
            CHECK(std::all_of(got.begin(), got.end(), [](auto b) { return b == 0; }));
        else
            CHECK(got == raw);
        ++seeds;
    }
    CHECK(seeds == 9);
}
