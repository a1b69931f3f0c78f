// The media's layout (scanner/reader/Layout.h) on real images made at test
// time by sfdisk, sgdisk, fdisk, mkfs.vfat, mke2fs, mkntfs, genisoimage,
// xorriso, isohybrid and tests/fixtures/make-image.sh, plus byte edits for
// what no tool makes (a boot sector that is also a table, EBR loops, damaged
// GPT headers, hybrid MBRs). Clean sticks are compared with what
// the media reader reads. A missing tool: SKIP (exit 77), never PASS.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "Layout.h"
#include "MediaReader.h"
#include "qkiosk/base/UniqueFd.h"

using namespace kiosk;
using namespace kiosk::scan;
using proto::ReasonCode;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

void requireTool(const std::string& tool) {
    static const bool pathSet = [] {
        const char* path = std::getenv("PATH");
        ::setenv("PATH", (std::string(path ? path : "/usr/bin:/bin") + ":/usr/sbin:/sbin").c_str(), 1);
        return true;
    }();
    (void)pathSet;
    if (std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) != 0) {
        WARN("SKIP: " << tool << " is not installed");
        std::exit(77);
    }
}

void requireFile(const std::string& path) {
    if (!std::filesystem::exists(path)) {
        WARN("SKIP: " << path << " is not installed");
        std::exit(77);
    }
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A private folder for the images, removed at the end, and the shell that makes them.
class Scratch {
public:
    Scratch() {
        char tmpl[] = "/tmp/qkiosk-layout-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir_ = tmpl;
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    // Runs `cmd` in the folder; its output is shown if it fails. Exit 77
    // (make-image.sh: a tool is missing) skips the test.
    void sh(const std::string& cmd) const {
        const std::string log = path("sh.log");
        const int status = std::system(("cd '" + dir_ + "' && ( " + cmd + " ) >'" + log + "' 2>&1").c_str());
        const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (rc == 77) {
            WARN("SKIP: " << slurp(log));
            std::exit(77);
        }
        INFO(cmd << "\n" << slurp(log));
        REQUIRE(rc == 0);
    }

private:
    std::string dir_;
};

// Writes `bytes` into the file at `offset`, as an attacker's hex editor would.
void poke(const std::string& path, std::uint64_t offset, const std::vector<std::uint8_t>& bytes) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    REQUIRE(fd.valid());
    REQUIRE(::pwrite(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset)) == static_cast<ssize_t>(bytes.size()));
}

std::vector<std::uint8_t> le32(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 24)};
}

// A DOS table entry: boot indicator, type, start and size in sectors (CHS left 0).
std::vector<std::uint8_t> dosEntry(std::uint8_t boot, std::uint8_t type, std::uint32_t start, std::uint32_t count) {
    std::vector<std::uint8_t> e{boot, 0, 0, 0, type, 0, 0, 0};
    for (auto b : le32(start)) e.push_back(b);
    for (auto b : le32(count)) e.push_back(b);
    return e;
}

struct OpenImage {
    UniqueFd fd;
    std::uint64_t size = 0;
    std::unique_ptr<FdSource> source;
};

OpenImage openImage(const std::string& path) {
    OpenImage img;
    img.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(img.fd.valid());
    struct stat st {};
    REQUIRE(::fstat(img.fd.get(), &st) == 0);
    img.size = static_cast<std::uint64_t>(st.st_size);
    img.source = std::make_unique<FdSource>(img.fd.get(), img.size);
    return img;
}

Layout layoutOf(const std::string& path, std::uint32_t sectorSize = 512) {
    auto img = openImage(path);
    return readLayout(*img.source, sectorSize);
}

// The hidden volumes with the layout's own extents, as the fuzzer calls it.
Layout hiddenOf(const std::string& path, const Layout& layout) {
    auto img = openImage(path);
    std::uint32_t next = 1;
    for (const auto& v : layout.volumes) next = std::max(next, v.index + 1);
    return findHiddenVolumes(*img.source, usedExtents(layout), next);
}

// "index scheme offset+length content": one line per volume, easy to read in a failure.
std::vector<std::string> show(const std::vector<VolumeSpan>& volumes) {
    std::vector<std::string> out;
    for (const auto& v : volumes)
        out.push_back(std::to_string(v.index) + " " + v.scheme + " " + std::to_string(v.offset) + "+" +
                      std::to_string(v.length) + " " + v.content);
    return out;
}

// The same without the content: what the media reader's partitions say too.
std::vector<std::string> plain(const std::vector<VolumeSpan>& volumes) {
    std::vector<std::string> out;
    for (const auto& v : volumes)
        out.push_back(std::to_string(v.index) + " " + v.scheme + " " + std::to_string(v.offset) + "+" + std::to_string(v.length));
    return out;
}

std::vector<std::string> show(const std::vector<LayoutFinding>& findings) {
    std::vector<std::string> out;
    for (const auto& f : findings) out.push_back(std::string(proto::reasonCodeName(f.code)) + " " + f.path + " " + f.detail);
    return out;
}

// The volumes the media reader announces, as plain() lines.
std::vector<std::string> readBy(const std::string& path) {
    struct Sink : MediaSink {
        std::vector<std::string> lines;
        Status partition(const proto::Partition& p) override {
            lines.push_back(std::to_string(p.index) + " " + p.scheme + " " + std::to_string(p.offset) + "+" + std::to_string(p.length));
            return {};
        }
        Status finding(proto::ReasonCode, const std::string&, const std::string&) override { return {}; }
        Status file(std::uint32_t, const std::string&, std::uint64_t, bool, const ContentReader&) override { return {}; }
    } sink;
    auto img = openImage(path);
    FdSource source(img.fd.get(), img.size);
    REQUIRE(MediaReader(source).run(sink).ok());
    return sink.lines;
}

using Lines = std::vector<std::string>;

// tests/fixtures/make-image.sh with one small file.
std::string makeImage(const Scratch& scratch, const std::string& fs, const std::string& table) {
    const std::string name = fs + "-" + table + ".img";
    scratch.sh("mkdir -p tree && echo hello > tree/hello.txt && '" + std::string(QKIOSK_FIXTURES) + "/make-image.sh' " +
               name + " --fs " + fs + " --table " + table + " tree");
    return scratch.path(name);
}

// Fails reads that touch [from, to): a bad spot on a dying stick.
class FailingSource final : public ByteSource {
public:
    FailingSource(const ByteSource& base, std::uint64_t from, std::uint64_t to) : base_(base), from_(from), to_(to) {}
    std::uint64_t size() const override { return base_.size(); }
    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override {
        if (offset < to_ && offset + buf.size() > from_) return makeError("input/output error");
        return base_.readAt(offset, buf);
    }

private:
    const ByteSource& base_;
    std::uint64_t from_, to_;
};

}  // namespace

TEST_CASE("Sticks made by the usual tools give the volumes read today and no finding", "[Layout]") {
    requireTool("sfdisk");
    struct Stick {
        const char* fs;
        const char* table;
        const char* content;
    };
    for (const Stick& stick : {Stick{"fat32", "mbr", "fat"}, Stick{"ntfs", "gpt", "ntfs"}, Stick{"fat32", "none", "fat"},
                               Stick{"ext4", "none", "ext"}, Stick{"fat16", "mbr-extended", "fat"}, Stick{"exfat", "gpt", "exfat"},
                               Stick{"ntfs", "mbr", "ntfs"}, Stick{"ext4", "mbr", "ext"}, Stick{"fat12", "none", "fat"},
                               Stick{"iso9660", "none", "iso9660"}}) {
        DYNAMIC_SECTION(stick.fs << " " << stick.table) {
            Scratch scratch;
            const auto img = makeImage(scratch, stick.fs, stick.table);
            const auto layout = layoutOf(img);
            CHECK(plain(layout.volumes) == readBy(img));
            CHECK(show(layout.findings).empty());
            REQUIRE_FALSE(layout.volumes.empty());
            CHECK(layout.volumes.back().content == stick.content);
            const auto hidden = hiddenOf(img, layout);
            CHECK(show(hidden.volumes).empty());
            CHECK(show(hidden.findings).empty());
        }
    }
}

TEST_CASE("An extended partition's logical partitions follow the primary ones, the container is no volume", "[Layout]") {
    requireTool("sfdisk");
    Scratch scratch;
    scratch.sh("truncate -s 64M ext.img && printf 'label: dos\\nstart=2048, size=8192, type=1\\n"
               "start=10240, size=100000, type=5\\nstart=12288, size=8192, type=c\\nstart=22528, size=8192, type=83\\n' | sfdisk -q ext.img");
    const auto layout = layoutOf(scratch.path("ext.img"));
    CHECK(plain(layout.volumes) == Lines{"1 mbr 1048576+4194304", "2 mbr 6291456+4194304", "3 mbr 11534336+4194304"});
    CHECK(plain(layout.volumes) == readBy(scratch.path("ext.img")));
    CHECK(show(layout.findings).empty());

    SECTION("an EBR that loops back is read once and reported") {
        // The second EBR (sector 20480) links back to the first (relative sector 0).
        poke(scratch.path("ext.img"), 20480 * 512 + 446 + 16, dosEntry(0, 0x05, 0, 10240));
        const auto looped = layoutOf(scratch.path("ext.img"));
        CHECK(plain(looped.volumes) == Lines{"1 mbr 1048576+4194304", "2 mbr 6291456+4194304", "3 mbr 11534336+4194304"});
        REQUIRE(looped.findings.size() == 1);
        CHECK(looped.findings[0].code == ReasonCode::CorruptFilesystem);
        CHECK_THAT(looped.findings[0].detail, Catch::Contains("loops back to sector 10240"));
    }
    SECTION("an EBR without its signature ends the chain quietly, as in Linux and libtsk") {
        poke(scratch.path("ext.img"), 20480 * 512 + 510, {0, 0});
        const auto ended = layoutOf(scratch.path("ext.img"));
        CHECK(plain(ended.volumes) == Lines{"1 mbr 1048576+4194304", "2 mbr 6291456+4194304"});
        CHECK(show(ended.findings).empty());
    }
    SECTION("an EBR beyond the end of a truncated image is reported") {
        scratch.sh("truncate -s 8M ext.img");   // the second EBR is at 10 MiB
        const auto cut = layoutOf(scratch.path("ext.img"));
        CHECK(plain(cut.volumes) == Lines{"1 mbr 1048576+4194304", "2 mbr 6291456+4194304"});
        REQUIRE(cut.findings.size() == 1);
        CHECK(cut.findings[0].code == ReasonCode::ReadError);
        CHECK_THAT(cut.findings[0].detail, Catch::Contains("EBR at sector 20480 lies beyond the end of the media"));
    }
}

TEST_CASE("A chain of more logical partitions than Linux reads is reported", "[Layout]") {
    // 260 EBRs, each with one logical partition of one sector and a link to the next.
    Scratch scratch;
    scratch.sh("truncate -s 2M many.img");
    poke(scratch.path("many.img"), 446, dosEntry(0, 0x05, 64, 4000));
    poke(scratch.path("many.img"), 510, {0x55, 0xAA});
    for (std::uint32_t i = 0; i < 260; ++i) {
        const std::uint64_t ebr = 64 + 2 * i;
        poke(scratch.path("many.img"), ebr * 512 + 446, dosEntry(0, 0x83, 1, 1));
        poke(scratch.path("many.img"), ebr * 512 + 446 + 16, dosEntry(0, 0x05, 2 * (i + 1), 2));
        poke(scratch.path("many.img"), ebr * 512 + 510, {0x55, 0xAA});
    }
    const auto layout = layoutOf(scratch.path("many.img"));
    CHECK(layout.volumes.size() == 251);
    REQUIRE(layout.findings.size() == 1);
    CHECK(layout.findings[0].code == ReasonCode::AmbiguousLayout);
    CHECK_THAT(layout.findings[0].detail, Catch::Contains("more than 251 logical partitions"));
}

TEST_CASE("Long chains of EBRs are cut where Linux's limits are, and that is reported", "[Layout]") {
    // A chain of EBRs in consecutive sectors from sector 64; every `every`-th
    // one also holds a logical partition of one sector (placed after the chain).
    auto chain = [](Scratch& scratch, std::uint32_t ebrs, std::uint32_t every) {
        scratch.sh("truncate -s 4M chain.img");
        const auto img = scratch.path("chain.img");
        poke(img, 446, dosEntry(0, 0x05, 64, 8000));
        poke(img, 510, {0x55, 0xAA});
        for (std::uint32_t i = 0; i < ebrs; ++i) {
            const std::uint64_t ebr = 64 + i;
            if (i % every == every - 1) poke(img, ebr * 512 + 446, dosEntry(0, 0x83, 4000 - i, 1));
            poke(img, ebr * 512 + 446 + 16, dosEntry(0, 0x05, i + 1, 1));
            poke(img, ebr * 512 + 510, {0x55, 0xAA});
        }
        return layoutOf(img);
    };
    SECTION("more than 100 EBRs in a row without a partition (Linux's loopct)") {
        Scratch scratch;
        const auto layout = chain(scratch, 150, 1000);
        CHECK(layout.volumes.size() == 1);   // the bare "none": no partition
        REQUIRE(layout.findings.size() == 1);
        CHECK_THAT(layout.findings[0].detail, Catch::Contains("more than 100 EBRs in a row without a partition"));
    }
    SECTION("more than 1024 EBRs in all") {
        Scratch scratch;
        const auto layout = chain(scratch, 1100, 50);
        CHECK(layout.volumes.size() == 20);   // the logical partitions of the first 1024 EBRs
        REQUIRE(layout.findings.size() == 1);
        CHECK_THAT(layout.findings[0].detail, Catch::Contains("more than 1024 EBRs"));
    }
}

TEST_CASE("Sector 0 that is a FAT boot sector and a partition table is read both ways", "[Layout]") {
    requireTool("mkfs.vfat");
    Scratch scratch;
    // A 4 MiB FAT12 superfloppy at 0, a second FAT12 at 8 MiB, and in the
    // boot sector's table area an entry pointing at the second one.
    scratch.sh("truncate -s 16M both.img && mkfs.vfat -F 12 both.img 4096 && mkfs.vfat -F 12 --offset 16384 both.img 4096");
    poke(scratch.path("both.img"), 446, dosEntry(0, 0x01, 16384, 8192));
    const auto layout = layoutOf(scratch.path("both.img"));
    CHECK(show(layout.volumes) == Lines{"0 none 0+16777216 fat", "1 mbr 8388608+4194304 fat"});
    CHECK(layout.volumes[0].claimed == 4 * kMiB);
    CHECK(show(layout.findings).empty());
    CHECK(show(hiddenOf(scratch.path("both.img"), layout).volumes).empty());
    // The media reader reads both. (libtsk alone picked one reading: the
    // table under mkfs.fat's OEM name...)
    CHECK(readBy(scratch.path("both.img")) == Lines{"0 none 0+16777216", "1 mbr 8388608+4194304"});

    SECTION("...the bare volume under Windows' (libtsk refuses the table then)") {
        poke(scratch.path("both.img"), 3, {'M', 'S', 'D', 'O', 'S', '5', '.', '0'});
        CHECK(readBy(scratch.path("both.img")) == Lines{"0 none 0+16777216", "1 mbr 8388608+4194304"});
        CHECK(show(layoutOf(scratch.path("both.img")).volumes) == Lines{"0 none 0+16777216 fat", "1 mbr 8388608+4194304 fat"});
    }
    SECTION("a boot indicator other than 0 or 0x80 is no table for Linux, which libtsk still reads") {
        poke(scratch.path("both.img"), 446, {0x01});
        const auto lax = layoutOf(scratch.path("both.img"));
        CHECK(show(lax.volumes) == Lines{"0 none 0+16777216 fat", "1 mbr 8388608+4194304 fat"});
        CHECK(show(lax.findings).empty());
        poke(scratch.path("both.img"), 3, {'M', 'S', 'D', 'O', 'S', '5', '.', '0'});
        CHECK(show(layoutOf(scratch.path("both.img")).volumes) == Lines{"0 none 0+16777216 fat"});
    }
    SECTION("an entry of type 0 is a partition too, as Linux and libtsk read it") {
        poke(scratch.path("both.img"), 446 + 4, {0x00});
        CHECK(show(layoutOf(scratch.path("both.img")).volumes) == Lines{"0 none 0+16777216 fat", "1 mbr 8388608+4194304 fat"});
    }
}

TEST_CASE("An isohybrid ISO is read as the bare ISO 9660 and as its first partition, without a finding", "[Layout]") {
    requireTool("genisoimage");
    requireTool("isohybrid");
    requireFile("/usr/lib/ISOLINUX/isolinux.bin");
    requireFile("/usr/lib/syslinux/modules/bios/ldlinux.c32");
    Scratch scratch;
    scratch.sh("mkdir -p iso/isolinux && echo hello > iso/HELLO.TXT && cp /usr/lib/ISOLINUX/isolinux.bin "
               "/usr/lib/syslinux/modules/bios/ldlinux.c32 iso/isolinux/ && genisoimage -quiet -V HYB -J -r "
               "-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "
               "-o hyb.iso iso && isohybrid hyb.iso");
    const auto img = scratch.path("hyb.iso");
    const auto layout = layoutOf(img);
    const auto size = std::filesystem::file_size(img);
    CHECK(show(layout.volumes) == Lines{"0 none 0+" + std::to_string(size) + " iso9660", "1 mbr 0+1048576 iso9660"});
    CHECK(show(layout.findings).empty());
    const auto hidden = hiddenOf(img, layout);
    CHECK(show(hidden.volumes).empty());
    CHECK(show(hidden.findings).empty());
}

TEST_CASE("A Debian-style hybrid ISO gives the ISO, its MBR and GPT partitions, and the EFI partition inside once", "[Layout]") {
    requireTool("xorriso");
    requireTool("mkfs.vfat");
    requireFile("/usr/lib/ISOLINUX/isohdpfx.bin");
    requireFile("/usr/lib/ISOLINUX/isolinux.bin");
    Scratch scratch;
    scratch.sh("mkdir -p iso/isolinux iso/boot && echo hello > iso/HELLO.TXT && cp /usr/lib/ISOLINUX/isolinux.bin iso/isolinux/ && "
               "mkfs.vfat -C iso/boot/efi.img 1440 && xorriso -as mkisofs -quiet -V DEB -J -r "
               "-isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot "
               "-boot-load-size 4 -boot-info-table -eltorito-alt-boot -e boot/efi.img -no-emul-boot -isohybrid-gpt-basdat "
               "-o deb.iso iso");
    const auto img = scratch.path("deb.iso");
    const auto layout = layoutOf(img);
    // xorriso writes a GPT without a protective entry beside the MBR: UEFI
    // reads the GPT, Linux and Windows the MBR. Its EFI partition is in both
    // (one volume); the first partitions differ in length (the GPT's leaves
    // out its backup): both are read.
    Lines kinds;
    for (const auto& v : layout.volumes) kinds.push_back(v.scheme + " " + v.content);
    CHECK(kinds == Lines{"none iso9660", "gpt iso9660", "gpt fat", "mbr iso9660"});
    REQUIRE(layout.volumes.size() == 4);
    CHECK(layout.volumes[0].length == std::filesystem::file_size(img));
    CHECK(layout.volumes[1].offset == 0);
    CHECK(layout.volumes[2].length == 1440 * 1024);
    CHECK(layout.volumes[3].offset == 0);
    CHECK(show(layout.findings).empty());
    CHECK(show(hiddenOf(img, layout).volumes).empty());
}

TEST_CASE("A GPT beside a bare ISO 9660 gives both readings", "[Layout]") {
    requireTool("xorriso");
    requireTool("mkfs.vfat");
    Scratch scratch;
    scratch.sh("mkdir -p iso && echo hello > iso/HELLO.TXT && mkfs.vfat -C efi.img 1440 && xorriso -as mkisofs -quiet "
               "-V GPTISO -J -r -append_partition 2 0xef efi.img -appended_part_as_gpt -o gpt.iso iso");
    const auto img = scratch.path("gpt.iso");
    const auto layout = layoutOf(img);
    REQUIRE(layout.volumes.size() >= 2);
    CHECK(layout.volumes[0].scheme == "none");
    CHECK(layout.volumes[0].content == "iso9660");
    bool efi = false;
    for (std::size_t i = 1; i < layout.volumes.size(); ++i) {
        CHECK(layout.volumes[i].scheme == "gpt");
        if (layout.volumes[i].content == "fat" && layout.volumes[i].length == 1440 * 1024) efi = true;
    }
    CHECK(efi);
    CHECK(show(layout.findings).empty());
    CHECK(show(hiddenOf(img, layout).volumes).empty());
}

TEST_CASE("A GPT whose primary header is damaged is read from its backup, and the damage is reported", "[Layout]") {
    requireTool("sgdisk");
    Scratch scratch;
    scratch.sh("truncate -s 16M gpt.img && sgdisk -o -n 1:2048:+4M -t 1:0700 gpt.img");
    const auto img = scratch.path("gpt.img");
    REQUIRE(plain(layoutOf(img).volumes) == Lines{"1 gpt 1048576+4194304"});
    CHECK(show(layoutOf(img).findings).empty());

    SECTION("a header whose CRC does not match") {
        poke(img, 512 + 56, {0xFF});   // the disk GUID
        const auto layout = layoutOf(img);
        CHECK(plain(layout.volumes) == Lines{"1 gpt 1048576+4194304"});
        REQUIRE(layout.findings.size() == 1);
        CHECK(layout.findings[0].code == ReasonCode::CorruptFilesystem);
        CHECK_THAT(layout.findings[0].detail, Catch::Contains("primary GPT") && Catch::Contains("header CRC32 mismatch") &&
                                                  Catch::Contains("backup at the last sector was read"));
    }
    SECTION("an entry array whose CRC does not match") {
        poke(img, 1024 + 56, {'X'});   // the first entry's name
        const auto layout = layoutOf(img);
        CHECK(plain(layout.volumes) == Lines{"1 gpt 1048576+4194304"});
        REQUIRE(layout.findings.size() == 1);
        CHECK_THAT(layout.findings[0].detail, Catch::Contains("entry array CRC32 mismatch"));
    }
    SECTION("both headers damaged: Linux and Windows read no partition, and that is reported") {
        poke(img, 512 + 56, {0xFF});
        poke(img, 16 * kMiB - 512 + 56, {0xFF});
        const auto layout = layoutOf(img);
        // libtsk checks no CRC and still reads the partition, as it does today: kept.
        CHECK(plain(layout.volumes) == Lines{"1 gpt 1048576+4194304"});
        CHECK(plain(layout.volumes) == readBy(img));
        REQUIRE(layout.findings.size() == 1);
        CHECK(layout.findings[0].code == ReasonCode::CorruptFilesystem);
        CHECK_THAT(layout.findings[0].detail, Catch::Contains("no valid backup"));
    }
    SECTION("a protective MBR with no GPT header anywhere is reported") {
        scratch.sh("dd if=/dev/zero of=gpt.img bs=512 seek=1 count=1 conv=notrunc && "
                   "dd if=/dev/zero of=gpt.img bs=512 seek=32767 count=1 conv=notrunc");
        const auto layout = layoutOf(img);
        CHECK(plain(layout.volumes) == Lines{"0 none 0+16777216"});
        REQUIRE(layout.findings.size() == 1);
        CHECK_THAT(layout.findings[0].detail, Catch::Contains("protective MBR (type 0xEE)"));
    }
    SECTION("a valid backup that lists other partitions than the primary is reported") {
        // The backup header and array of another GPT of the same size.
        scratch.sh("truncate -s 16M other.img && sgdisk -o -n 1:4096:+2M -t 1:0700 other.img && "
                   "dd if=other.img of=gpt.img bs=512 skip=32735 seek=32735 count=33 conv=notrunc");
        const auto layout = layoutOf(img);
        CHECK(plain(layout.volumes) == Lines{"1 gpt 1048576+4194304"});
        REQUIRE(layout.findings.size() == 1);
        CHECK_THAT(layout.findings[0].detail, Catch::Contains("backup GPT at LBA 32767 lists other partitions"));
    }
}

TEST_CASE("A GPT of 4096-byte sectors is read in 4096-byte units", "[Layout]") {
    requireTool("fdisk");
    Scratch scratch;
    // fdisk -b 4096: partition 1 from sector 256 (1 MiB), 4 MiB long.
    scratch.sh("truncate -s 16M 4k.img && printf 'g\\nn\\n1\\n256\\n+4M\\nw\\n' | fdisk -b 4096 4k.img");
    const auto layout = layoutOf(scratch.path("4k.img"));
    CHECK(plain(layout.volumes) == Lines{"1 gpt 1048576+4194304"});
    CHECK(show(layout.findings).empty());
    CHECK(show(hiddenOf(scratch.path("4k.img"), layout).volumes).empty());
}

TEST_CASE("A DOS table is read in the device's logical sectors", "[Layout]") {
    requireTool("fdisk");
    Scratch scratch;
    scratch.sh("truncate -s 16M 4k.img && printf 'o\\nn\\np\\n1\\n256\\n+4M\\nt\\nc\\nw\\n' | fdisk -b 4096 4k.img");
    CHECK(plain(layoutOf(scratch.path("4k.img"), 4096).volumes) == Lines{"1 mbr 1048576+4194304"});
}

TEST_CASE("A hybrid MBR's entries that are no GPT partition are volumes too", "[Layout]") {
    requireTool("sgdisk");
    requireTool("mkfs.vfat");
    Scratch scratch;
    // sgdisk -h 2 copies partition 2 into the MBR beside the 0xEE entry.
    scratch.sh("truncate -s 32M hyb.img && sgdisk -o -n 1:2048:+4M -t 1:8300 -n 2:0:+4M -t 2:0700 hyb.img && sgdisk -h 2 hyb.img && "
               "mkfs.vfat -F 12 --offset 10240 hyb.img 4096 && mkfs.vfat -F 12 --offset 40960 hyb.img 4096");
    const auto img = scratch.path("hyb.img");
    CHECK(show(layoutOf(img).volumes) == Lines{"1 gpt 1048576+4194304 ", "2 gpt 5242880+4194304 fat"});

    // An MBR entry of its own, for a FAT volume that the GPT does not list.
    poke(img, 446 + 32, dosEntry(0, 0x01, 40960, 8192));
    const auto layout = layoutOf(img);
    CHECK(show(layout.volumes) == Lines{"1 gpt 1048576+4194304 ", "2 gpt 5242880+4194304 fat", "3 mbr 20971520+4194304 fat"});
    CHECK(show(layout.findings).empty());
    CHECK(show(hiddenOf(img, layout).volumes).empty());
}

TEST_CASE("A FAT32 volume outside the only partition is found as unpartitioned", "[Layout]") {
    requireTool("sfdisk");
    requireTool("mkfs.vfat");
    Scratch scratch;
    scratch.sh("truncate -s 256M stick.img && printf 'start=2048, size=204800, type=c\\n' | sfdisk -q stick.img && "
               "mkfs.vfat -F 32 --offset 2048 stick.img 102400 && mkfs.vfat -F 32 --offset 409600 stick.img 40960");
    const auto img = scratch.path("stick.img");
    const auto layout = layoutOf(img);
    CHECK(show(layout.volumes) == Lines{"1 mbr 1048576+104857600 fat"});
    CHECK(show(layout.findings).empty());
    const auto hidden = hiddenOf(img, layout);
    // One volume: FAT32's backup boot sector (its sector 6) is inside it.
    CHECK(show(hidden.volumes) == Lines{"2 unpartitioned 209715200+41943040 fat"});
    CHECK(show(hidden.findings).empty());
}

TEST_CASE("ext4, ISO 9660 and a GPT disk in unpartitioned space are found; a lone backup superblock is not", "[Layout]") {
    requireTool("sfdisk");
    requireTool("mke2fs");
    requireTool("genisoimage");
    Scratch scratch;
    // p1 at 1 MiB (4 MiB), ext4 with 1 KiB blocks at 8 MiB (16 MiB: its backup
    // superblock in group 1 is inside it), an ISO at 32 MiB, a 2 MiB GPT disk at 44 MiB.
    scratch.sh("truncate -s 48M gaps.img && printf 'start=2048, size=8192, type=83\\n' | sfdisk -q gaps.img && "
               "mke2fs -q -F -t ext4 -b 1024 -E offset=8388608 gaps.img 16384 && "
               "mkdir -p iso && echo hello > iso/HELLO.TXT && genisoimage -quiet -V GAP -o gap.iso iso && "
               "dd if=gap.iso of=gaps.img bs=1M seek=32 conv=notrunc && "
               "truncate -s 2M disk.img && printf 'label: gpt\\nstart=40, size=2000, type=L\\n' | sfdisk -q disk.img && "
               "dd if=disk.img of=gaps.img bs=1M seek=44 conv=notrunc");
    const auto img = scratch.path("gaps.img");
    const auto layout = layoutOf(img);
    CHECK(show(layout.volumes) == Lines{"1 mbr 1048576+4194304 "});
    const auto hidden = hiddenOf(img, layout);
    const auto iso = std::to_string(std::filesystem::file_size(scratch.path("gap.iso")));
    CHECK(show(hidden.volumes) == Lines{"2 unpartitioned 8388608+16777216 ext", "3 unpartitioned 33554432+" + iso + " iso9660",
                                        "4 unpartitioned 46137344+2097152 gpt"});

    SECTION("a copy of the backup superblock of group 1 alone is no volume") {
        // Group 1 starts at block 8193: its superblock copy, with 1 KiB in front, at 40 MiB.
        scratch.sh("dd if=gaps.img of=gaps.img bs=1024 skip=$((8192 + 8192)) seek=$((40 * 1024)) count=2 conv=notrunc");
        CHECK(show(hiddenOf(img, layout).volumes).size() == 3);
    }
}

TEST_CASE("The NTFS backup boot sector after an NTFS volume is not a hidden volume", "[Layout]") {
    requireTool("mkntfs");
    Scratch scratch;
    // An 8 MiB NTFS at the start of a 16 MiB stick: its backup boot sector is the volume's last sector + 1.
    scratch.sh("truncate -s 8M ntfs.img && mkntfs -q -F -Q ntfs.img && truncate -s 16M ntfs.img");
    const auto img = scratch.path("ntfs.img");
    const auto layout = layoutOf(img);
    CHECK(show(layout.volumes) == Lines{"0 none 0+16777216 ntfs"});
    CHECK(layout.volumes[0].claimed == 8 * kMiB);
    CHECK(show(hiddenOf(img, layout).volumes).empty());
    // A caller that counts only the sectors NTFS counts (as libtsk does) leaves the backup in the gap.
    auto media = openImage(img);
    const auto hidden = findHiddenVolumes(*media.source, {Extent{0, 8 * kMiB - 512}}, 1);
    CHECK(show(hidden.volumes).empty());
    CHECK(show(hidden.findings).empty());
}

TEST_CASE("Media with neither a table nor a filesystem is one volume, the whole media", "[Layout]") {
    std::vector<std::uint8_t> zeros(kMiB, 0);
    MemorySource blank(zeros);
    const auto layout = readLayout(blank);
    CHECK(show(layout.volumes) == Lines{"0 none 0+1048576 "});
    CHECK(show(layout.findings).empty());
    // What a volume of unknown extent covers is the whole media: nothing to scan.
    CHECK(show(findHiddenVolumes(blank, usedExtents(layout), 1).volumes).empty());

    SECTION("an empty medium too") {
        MemorySource empty(std::span<const std::uint8_t>{});
        CHECK(show(readLayout(empty).volumes) == Lines{"0 none 0+0 "});
    }
}

TEST_CASE("Partitions beyond or past the end of the media are kept as volumes for the caller to report", "[Layout]") {
    requireTool("sfdisk");
    Scratch scratch;
    scratch.sh("truncate -s 64M cut.img && printf 'start=2048, size=20480, type=c\\nstart=40960, size=20480, type=83\\n' | "
               "sfdisk -q cut.img && truncate -s 16M cut.img");
    const auto layout = layoutOf(scratch.path("cut.img"));
    CHECK(plain(layout.volumes) == Lines{"1 mbr 1048576+10485760", "2 mbr 20971520+10485760"});
    CHECK(show(layout.findings).empty());
}

TEST_CASE("Partition schemes other than DOS and GPT are read through libtsk, as today", "[Layout]") {
    requireTool("fdisk");
    Scratch scratch;
    scratch.sh("truncate -s 64M sun.img && printf 's\\nw\\n' | fdisk sun.img");
    const auto layout = layoutOf(scratch.path("sun.img"));
    REQUIRE_FALSE(layout.volumes.empty());
    CHECK(layout.volumes[0].scheme == "sun");
    CHECK(plain(layout.volumes) == readBy(scratch.path("sun.img")));
    CHECK(show(layout.findings).empty());
}

TEST_CASE("Space outside every partition that cannot be read is reported", "[Layout]") {
    std::vector<std::uint8_t> zeros(4 * kMiB, 0);
    MemorySource bytes(zeros);
    FailingSource failing(bytes, 2 * kMiB, 2 * kMiB + 512);
    const auto hidden = findHiddenVolumes(failing, {Extent{0, kMiB}}, 1);
    CHECK(hidden.volumes.empty());
    REQUIRE(hidden.findings.size() == 1);
    CHECK(hidden.findings[0].code == ReasonCode::ReadError);
    CHECK_THAT(hidden.findings[0].detail, Catch::StartsWith("65536 bytes outside every partition cannot be read (from byte 2097152"));
}

namespace {

// CRC-32 as GPT (and zlib) compute it.
std::uint32_t crc32(const std::uint8_t* p, std::size_t n) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

void putLe32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

TEST_CASE("A gap crafted with a signature in every sector costs bounded reads and volumes", "[Layout]") {
    SECTION("at most 64 volumes are found, and the rest is reported") {
        // A tiny FAT12 boot sector every 4 sectors, each claiming those 4.
        std::vector<std::uint8_t> media(kMiB, 0);
        for (std::size_t at = 512; at + 2048 <= media.size(); at += 2048) {
            std::uint8_t* b = media.data() + at;
            b[0] = 0xEB, b[1] = 0x3C, b[2] = 0x90;
            b[12] = 2;          // 512 bytes per sector
            b[13] = 1;          // sectors per cluster
            b[14] = 1;          // reserved sectors
            b[16] = 1;          // FATs
            b[17] = 16;         // root entries
            b[19] = 4;          // total sectors
            b[21] = 0xF8;       // media
            b[22] = 1;          // sectors per FAT
            b[510] = 0x55, b[511] = 0xAA;
        }
        MemorySource source(media);
        const auto hidden = findHiddenVolumes(source, {Extent{0, 512}}, 1);
        CHECK(hidden.volumes.size() == 64);
        CHECK(show(hidden.volumes)[0] == "1 unpartitioned 512+2048 fat");
        REQUIRE(hidden.findings.size() == 1);
        CHECK(hidden.findings[0].code == ReasonCode::AmbiguousLayout);
        CHECK_THAT(hidden.findings[0].detail, Catch::StartsWith("more than 64 volumes lie outside the partitions"));
    }
    SECTION("candidates whose checks would read far away stop at a budget, and that is reported") {
        // Valid GPT headers whose 4 MiB entry arrays (4 MiB further on) do not match.
        std::vector<std::uint8_t> media(16 * kMiB, 0);
        for (std::size_t at = 512; at < 64 * 512; at += 512) {
            std::vector<std::uint8_t> h(92, 0);
            std::memcpy(h.data(), "EFI PART", 8);
            putLe32(h, 8, 0x00010000);   // revision 1.0
            putLe32(h, 12, 92);          // header size
            putLe32(h, 24, 1);           // my LBA
            putLe32(h, 72, 8192);        // entries at LBA 8192 (4 MiB)
            putLe32(h, 80, 32768);       // entries
            putLe32(h, 84, 128);         // bytes per entry
            putLe32(h, 88, 0x12345678);  // the array's CRC: never right
            putLe32(h, 16, crc32(h.data(), h.size()));
            std::memcpy(media.data() + at, h.data(), h.size());
        }
        MemorySource source(media);
        const auto hidden = findHiddenVolumes(source, {Extent{0, 512}}, 1);
        CHECK(hidden.volumes.empty());
        REQUIRE(hidden.findings.size() == 1);
        CHECK(hidden.findings[0].code == ReasonCode::AmbiguousLayout);
        CHECK_THAT(hidden.findings[0].detail, Catch::Contains("more signatures than can be checked"));
    }
}

TEST_CASE("Probing a 1 GiB gap for hidden volumes", "[.][benchmark]") {
    // Not run by default: `reader_tests "[benchmark]"` prints the times, for
    // a gap of zeros (a sparse file) and of random bytes (the most candidates
    // to check), with the page cache warm: a stick's own reads come on top.
    requireTool("sfdisk");
    Scratch scratch;
    scratch.sh("truncate -s 1025M gap.img && printf 'start=2048, size=2048, type=c\\n' | sfdisk -q gap.img");
    const auto img = scratch.path("gap.img");
    auto time = [&](const char* what) {
        const auto layout = layoutOf(img);
        auto media = openImage(img);
        (void)findHiddenVolumes(*media.source, usedExtents(layout), 2);
        const auto start = std::chrono::steady_clock::now();
        const auto hidden = findHiddenVolumes(*media.source, usedExtents(layout), 2);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        WARN("1 GiB gap of " << what << ": " << took.count() << " s");
        CHECK(hidden.volumes.empty());
    };
    time("zeros");
    scratch.sh("dd if=/dev/urandom of=gap.img bs=1M seek=2 count=1023 conv=notrunc status=none");
    time("random bytes");
}
