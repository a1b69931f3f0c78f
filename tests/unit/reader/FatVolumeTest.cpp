// FatVolume on real images: made at test time by mkfs.vfat and mtools (a
// missing tool exits 77: SKIP), read back by mtools as the oracle, then
// damaged byte by byte where no tool makes the damage. fsck.fat -n, where it
// is installed, must agree that every damaged volume is damaged.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "FatVolume.h"
#include "Harness.h"


using namespace kiosk;
using namespace kiosk::scan;
using kiosk::proto::ReasonCode;
namespace fs = std::filesystem;

namespace {

// ------------------------------------------------------------------ tools

using qktest::run;

// The full path of a tool (mkfs.vfat lives in /usr/sbin, often not in PATH).
std::string tool(const std::string& name) {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    path += ":/usr/sbin:/sbin";
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');)
        if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
    return "";
}

// mkfs.vfat and mtools, or SKIP. mtools reads and writes names in UTF-8.
void requireTools() {
    for (const char* t : {"mkfs.vfat", "mcopy", "mmd", "mdir", "mtype", "mattrib"}) {
        if (tool(t).empty()) {
            WARN("SKIP: " << t << " is not installed (Debian packages dosfstools, mtools)");
            std::exit(77);
        }
    }
    ::setenv("MTOOLS_SKIP_CHECK", "1", 1);
    ::setenv("LC_ALL", "C.UTF-8", 1);
}

void mustRun(const std::vector<std::string>& argv) {
    const auto r = run(argv);
    INFO(argv[0] << ": " << r.err);
    REQUIRE(r.exitCode == 0);
}

class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "fatvolume-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) fs::remove_all(path_, ec);
    }
    TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

using Bytes = std::vector<std::uint8_t>;

// One read of the whole file (byte by byte through a stream iterator took a
// minute per test under the sanitizers).
Bytes load(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in);
    Bytes b(static_cast<std::size_t>(fs::file_size(p)));
    in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
    REQUIRE(in.gcount() == static_cast<std::streamsize>(b.size()));
    return b;
}

void save(const fs::path& p, const Bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    REQUIRE(out.good());
}

void writeFile(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
    REQUIRE(out.good());
}

std::string pseudoRandom(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

// An empty FAT image of `mib` MiB made by mkfs.vfat.
fs::path makeImage(const TempDir& dir, int bits, std::uint64_t kib, int sectorsPerCluster, const std::string& label = "QKIOSKTEST",
                   std::vector<std::string> extra = {}) {
    const fs::path img = dir / ("fat" + std::to_string(bits) + ".img");
    { std::ofstream(img, std::ios::binary | std::ios::trunc); }
    fs::resize_file(img, kib * 1024);
    std::vector<std::string> argv{tool("mkfs.vfat"), "-F", std::to_string(bits), "-s", std::to_string(sectorsPerCluster),
                                  "-i", "51C0FFEE"};
    if (!label.empty()) argv.insert(argv.end(), {"-n", label});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(img.string());
    mustRun(argv);
    return img;
}

// Copies every entry of host folder `src` into the image's root.
void copyInto(const fs::path& img, const fs::path& src) {
    std::vector<std::string> argv{"mcopy", "-s", "-m", "-Q", "-i", img.string()};
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(src)) entries.push_back(e.path().string());
    std::sort(entries.begin(), entries.end());
    argv.insert(argv.end(), entries.begin(), entries.end());
    argv.push_back("::/");
    mustRun(argv);
}

// What mtools reads: every file (hidden and system ones too) and its bytes.
std::map<std::string, std::string> mtoolsFiles(const fs::path& img) {
    const auto listing = run({"mdir", "-/", "-a", "-b", "-i", img.string(), "::/"});
    REQUIRE(listing.exitCode == 0);
    std::map<std::string, std::string> files;
    std::stringstream lines(listing.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("::/", 0) != 0 || line.back() == '/') continue;
        const std::string path = line.substr(3);
        const auto content = run({"mtype", "-i", img.string(), "::/" + path});
        INFO(path << ": " << content.err);
        REQUIRE(content.exitCode == 0);
        files[path] = content.out;
    }
    return files;
}

// ------------------------------------------------------------------ reading

struct Problem {
    ReasonCode code;
    std::string path, detail;
};

class Recorder : public VolumeVisitor {
public:
    std::vector<Problem> problems;
    std::map<std::string, std::string> files;   // path -> bytes read
    std::vector<std::string> order;             // paths as reported
    std::vector<std::string> unreadable;        // files whose content could not be read
    std::uint64_t maxRead = ~0ull;              // bytes read of each file

    Status file(const std::string& path, std::uint64_t size, const ContentReader& read) override {
        order.push_back(path);
        std::string content;
        FileSource src(read, size);
        std::vector<std::uint8_t> buf(7 * 1024);   // not a multiple of the cluster size, on purpose
        for (std::uint64_t off = 0, end = std::min(size, maxRead); off < end;) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), end - off));
            if (!src.readAt(off, std::span(buf.data(), n))) {
                unreadable.push_back(path);
                break;
            }
            content.append(reinterpret_cast<const char*>(buf.data()), n);
            off += n;
        }
        files[path] = content;
        return {};
    }
    Status problem(ReasonCode code, const std::string& path, const std::string& detail) override {
        problems.push_back({code, path, detail});
        return {};
    }

    std::string describe() const {
        std::string s;
        for (const auto& p : problems) s += std::string(proto::reasonCodeName(p.code)) + " '" + p.path + "': " + p.detail + "\n";
        return s.empty() ? "(no problems)" : s;
    }
    bool has(ReasonCode code, const std::string& path, const std::string& words) const {
        return std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
            return p.code == code && p.path == path && p.detail.find(words) != std::string::npos;
        });
    }
};

Recorder walk(const Bytes& image, std::uint64_t length = ~0ull) {
    MemorySource media(image);
    auto vol = FatVolume::open(media, 0, std::min<std::uint64_t>(length, image.size()));
    INFO((vol ? "" : vol.error().message));
    REQUIRE(vol.ok());
    Recorder rec;
    REQUIRE(vol->walk(rec).ok());
    return rec;
}

// fsck.fat -n says the volume has errors (exit 1), where it is installed.
void fsckComplains(const TempDir& dir, const Bytes& image) {
    if (tool("fsck.fat").empty()) return;
    const fs::path p = dir / "checked.img";
    save(p, image);
    const auto r = run({tool("fsck.fat"), "-n", p.string()});
    INFO("fsck.fat -n: " << r.out);
    CHECK(r.exitCode == 1);
}

// ------------------------------------------------------------------ damage

// The BPB as the test reads it (independently of FatVolume).
struct Geo {
    std::uint32_t bps, clusterBytes, fats, bits, rootCluster;
    std::uint64_t fatStart, fatBytes, dataStart;
};

std::uint16_t get16(const Bytes& b, std::size_t at) { return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8); }
std::uint32_t get32(const Bytes& b, std::size_t at) {
    return get16(b, at) | static_cast<std::uint32_t>(get16(b, at + 2)) << 16;
}
void put16(Bytes& b, std::size_t at, std::uint32_t v) {
    b[at] = static_cast<std::uint8_t>(v);
    b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void put32(Bytes& b, std::size_t at, std::uint32_t v) {
    put16(b, at, v & 0xFFFF);
    put16(b, at + 2, v >> 16);
}

Geo geo(const Bytes& b) {
    Geo g{};
    g.bps = get16(b, 11);
    g.clusterBytes = g.bps * b[13];
    g.fats = b[16];
    const std::uint32_t fat16 = get16(b, 22);
    const std::uint64_t fatSectors = fat16 ? fat16 : get32(b, 36);
    const std::uint64_t total = get16(b, 19) ? get16(b, 19) : get32(b, 32);
    g.fatStart = std::uint64_t{get16(b, 14)} * g.bps;
    g.fatBytes = fatSectors * g.bps;
    g.dataStart = g.fatStart + g.fats * g.fatBytes + std::uint64_t{get16(b, 17)} * 32;
    const std::uint64_t clusters = (total * g.bps - g.dataStart) / g.clusterBytes;
    g.bits = fat16 == 0 ? 32 : clusters < 4085 ? 12 : 16;
    g.rootCluster = g.bits == 32 ? get32(b, 44) : 0;
    return g;
}

std::uint32_t fatGet(const Bytes& b, std::uint32_t copy, std::uint32_t n) {
    const Geo g = geo(b);
    const std::size_t base = g.fatStart + copy * g.fatBytes;
    if (g.bits == 12) {
        const std::uint32_t v = get16(b, base + n + n / 2);
        return (n & 1) ? v >> 4 : v & 0xFFF;
    }
    return g.bits == 16 ? get16(b, base + 2 * n) : get32(b, base + 4 * n) & 0x0FFFFFFF;
}

// Sets entry n in one copy, or in every copy (copy < 0), as a FAT writer would.
void fatSet(Bytes& b, int copy, std::uint32_t n, std::uint32_t v) {
    const Geo g = geo(b);
    for (std::uint32_t k = 0; k < g.fats; ++k) {
        if (copy >= 0 && k != static_cast<std::uint32_t>(copy)) continue;
        const std::size_t base = g.fatStart + k * g.fatBytes;
        if (g.bits == 12) {
            const std::size_t at = base + n + n / 2;
            const std::uint32_t old = get16(b, at);
            put16(b, at, (n & 1) ? (old & 0x000F) | (v << 4) : (old & 0xF000) | (v & 0xFFF));
        } else if (g.bits == 16) {
            put16(b, base + 2 * n, v);
        } else {
            put32(b, base + 4 * n, (get32(b, base + 4 * n) & 0xF0000000) | (v & 0x0FFFFFFF));
        }
    }
}

std::uint32_t endMark(const Bytes& b) {
    const auto bits = geo(b).bits;
    return bits == 12 ? 0xFFF : bits == 16 ? 0xFFFF : 0x0FFFFFFF;
}

// The offset of the one directory entry whose 8.3 name is `name11` ("ONE     BIN").
std::size_t findEntry(const Bytes& b, const char* name11) {
    std::size_t found = 0, count = 0;
    for (std::size_t at = 0; at + 32 <= b.size(); at += 32)
        if (std::memcmp(b.data() + at, name11, 11) == 0 && b[at + 11] != 0x0F) {
            found = at;
            ++count;
        }
    INFO(name11);
    REQUIRE(count == 1);
    return found;
}

std::uint32_t firstClusterOf(const Bytes& b, std::size_t entry) {
    return get16(b, entry + 26) | (geo(b).bits == 32 ? static_cast<std::uint32_t>(get16(b, entry + 20)) << 16 : 0);
}
void setFirstCluster(Bytes& b, std::size_t entry, std::uint32_t cluster) {
    put16(b, entry + 26, cluster & 0xFFFF);
    if (geo(b).bits == 32) put16(b, entry + 20, cluster >> 16);
}

// The first free cluster at or after `from`.
std::uint32_t freeCluster(const Bytes& b, std::uint32_t from) {
    for (std::uint32_t c = from;; ++c)
        if (fatGet(b, 0, c) == 0) return c;
}

// A small volume for damage: three files of 1, 2 and 3 clusters (8.3 names
// without long names), a folder with a file, and nothing else.
struct Damageable {
    TempDir dir;
    fs::path img;
    Bytes bytes;
    std::uint32_t cb = 0;
};

Damageable damageable(int bits) {
    Damageable d;
    const std::uint64_t kib = bits == 12 ? 1024 : bits == 16 ? 8 * 1024 : 40 * 1024;
    const int spc = bits == 12 ? 2 : 1;
    d.img = makeImage(d.dir, bits, kib, spc);
    d.cb = static_cast<std::uint32_t>(spc * 512);
    const fs::path src = d.dir / "src";
    writeFile(src / "ONE.BIN", pseudoRandom(d.cb, 1));
    writeFile(src / "TWO.BIN", pseudoRandom(2 * d.cb - 10, 2));
    writeFile(src / "THREE.BIN", pseudoRandom(3 * d.cb, 3));
    writeFile(src / "DIR" / "INNER.TXT", "inside the folder\n");
    copyInto(d.img, src);
    d.bytes = load(d.img);
    return d;
}

}  // namespace

// ------------------------------------------------------------------ clean volumes

TEST_CASE("Clean FAT12, FAT16 and FAT32 volumes read exactly as mtools reads them, with no problem", "[FatVolume]") {
    requireTools();
    const int bits = GENERATE(12, 16, 32);
    INFO("FAT" << bits);
    TempDir dir;
    // Sizes that give each type by Microsoft's cluster counts (FAT32: 80,000 clusters).
    const std::uint64_t kib = bits == 12 ? 4 * 1024 : bits == 16 ? 16 * 1024 : 40 * 1024;
    const int spc = bits == 12 ? 4 : bits == 16 ? 2 : 1;
    const fs::path img = makeImage(dir, bits, kib, spc);
    const std::size_t cb = static_cast<std::size_t>(spc) * 512;

    const fs::path src = dir / "src";
    const std::string longName = std::string(236, 'L') + ".txt";   // 240 characters
    writeFile(src / "README.TXT", "plain 8.3 name\n");
    writeFile(src / "ReadMe Mixed Case.txt", "a long name with spaces\n");
    writeFile(src / "empty.txt", "");
    writeFile(src / "one.bin", pseudoRandom(cb, 10));
    writeFile(src / "onemore.bin", pseudoRandom(cb + 1, 11));
    writeFile(src / "big.bin", pseudoRandom(150 * 1024 + 7, 12));
    writeFile(src / "検査結果_2026年度_放射線科.txt", "放射線科の検査結果\n");
    writeFile(src / longName, "240 characters of name\n");
    writeFile(src / "photo.jpg.lnk", "not a picture\n");
    const std::string disguised = std::string(200, 'p') + ".jpg.lnk";   // libtsk cut such names short
    writeFile(src / disguised, "a shortcut under a 208-character name\n");
    writeFile(src / "hidden.dat", "hidden\n");
    writeFile(src / "system.sys", "system\n");
    writeFile(src / "Docs" / "Sub Folder" / "deep.txt", "two folders down\n");
    writeFile(src / "PHOTOS" / "IMG_0001.JPG", pseudoRandom(3000, 13));
    copyInto(img, src);
    mustRun({"mattrib", "-i", img.string(), "+h", "::/hidden.dat"});
    mustRun({"mattrib", "-i", img.string(), "+s", "::/system.sys"});

    const Bytes bytes = load(img);
    MemorySource media(bytes);
    auto vol = FatVolume::open(media, 0, bytes.size());
    REQUIRE(vol.ok());
    CHECK(vol->type() == "fat" + std::to_string(bits));
    CHECK(vol->label() == "QKIOSKTEST");
    CHECK(vol->extentBytes() == kib * 1024);
    CHECK(vol->clusterBytes() == cb);
    Recorder rec;
    REQUIRE(vol->walk(rec).ok());
    INFO(rec.describe());
    CHECK(rec.problems.empty());
    CHECK(rec.unreadable.empty());

    const auto expected = mtoolsFiles(img);
    CHECK(expected.size() == 14);
    CHECK(rec.files == expected);
    CHECK(rec.order.size() == rec.files.size());
    // Names as Windows shows them: NT lowercase flags, long names whole.
    CHECK(rec.files.count("empty.txt") == 1);
    CHECK(rec.files.count("README.TXT") == 1);
    CHECK(rec.files.count(longName) == 1);
    CHECK(rec.files.count(disguised) == 1);
    CHECK(rec.files.count("検査結果_2026年度_放射線科.txt") == 1);
    CHECK(rec.files.at("onemore.bin").size() == cb + 1);
}

TEST_CASE("Two hundred nested folders are all walked", "[FatVolume]") {
    requireTools();
    TempDir dir;
    const fs::path img = makeImage(dir, 16, 8 * 1024, 1);
    fs::path deep = dir / "src";
    std::string rel;
    for (int i = 1; i <= 200; ++i) {
        std::string name = "d";   // (not "d" + to_string: a g++ 12 -Wrestrict false positive)
        name += std::to_string(i);
        deep /= name;
        rel += name + "/";
        if (i == 100) writeFile(deep / "middle.txt", "level 100\n");
    }
    writeFile(deep / "bottom.txt", "level 200\n");
    copyInto(img, dir / "src");

    const Recorder rec = walk(load(img));
    INFO(rec.describe());
    CHECK(rec.problems.empty());
    CHECK(rec.files == mtoolsFiles(img));
    CHECK(rec.files.at(rel + "bottom.txt") == "level 200\n");
}

TEST_CASE("A path of 4,095 bytes is read whole", "[FatVolume]") {
    requireTools();
    TempDir dir;
    const fs::path img = makeImage(dir, 16, 8 * 1024, 1);
    std::string path;
    for (int i = 1; i <= 16; ++i) {   // 16 folders of 250-character names
        path += "/L" + std::string(i < 10 ? "0" : "") + std::to_string(i) + std::string(247, 'x');
        mustRun({"mmd", "-i", img.string(), "::" + path});
    }
    const std::string file = std::string(4095 - path.size(), 'f');   // the path without its leading '/'
    writeFile(dir / "data.txt", "at the bottom\n");
    mustRun({"mcopy", "-i", img.string(), (dir / "data.txt").string(), "::" + path + "/" + file});

    const Recorder rec = walk(load(img));
    INFO(rec.describe());
    CHECK(rec.problems.empty());
    REQUIRE(rec.files.size() == 1);
    CHECK(rec.files.begin()->first.size() == 4095);
    CHECK(rec.files == mtoolsFiles(img));
}

TEST_CASE("A small FAT32 volume is FAT32, as Windows and Linux read it, whatever its cluster count", "[FatVolume]") {
    requireTools();
    TempDir dir;
    const Bytes bytes = load(makeImage(dir, 32, 1024, 1));
    MemorySource media(bytes);
    auto vol = FatVolume::open(media, 0, bytes.size());
    REQUIRE(vol.ok());
    CHECK(std::string(vol->type()) == "fat32");
    CHECK(vol->clusterCount() < 65525);
    Recorder rec;
    REQUIRE(vol->walk(rec).ok());
    INFO(rec.describe());
    CHECK(rec.problems.empty());
    CHECK(rec.files.empty());
}

TEST_CASE("The label comes from the root folder's label entry, else the boot sector", "[FatVolume]") {
    requireTools();
    TempDir dir;
    Bytes bytes = load(makeImage(dir, 12, 1024, 1, "ROOTLABEL"));
    {
        MemorySource media(bytes);
        auto vol = FatVolume::open(media, 0, bytes.size());
        REQUIRE(vol.ok());
        CHECK(vol->label() == "ROOTLABEL");
    }
    // Without the root entry (deleted), the boot sector's label is used.
    bytes[findEntry(bytes, "ROOTLABEL  ")] = 0xE5;
    std::memcpy(bytes.data() + 43, "BOOTLABEL  ", 11);
    {
        MemorySource media(bytes);
        auto vol = FatVolume::open(media, 0, bytes.size());
        REQUIRE(vol.ok());
        CHECK(vol->label() == "BOOTLABEL");
    }
    std::memcpy(bytes.data() + 43, "NO NAME    ", 11);
    MemorySource media(bytes);
    auto vol = FatVolume::open(media, 0, bytes.size());
    REQUIRE(vol.ok());
    CHECK(vol->label().empty());
}

// ------------------------------------------------------------------ boot sectors

TEST_CASE("Boot sectors that are not FAT or whose parameters are impossible do not open", "[FatVolume]") {
    requireTools();
    TempDir dir;
    const Bytes good = load(makeImage(dir, 16, 8 * 1024, 1));
    auto opens = [](const Bytes& b) {
        MemorySource media(b);
        auto vol = FatVolume::open(media, 0, b.size());
        return vol.ok() ? std::string() : vol.error().message;
    };
    REQUIRE(opens(good).empty());
    CHECK(FatVolume::looksLikeFat(good));

    auto with = [&](std::size_t at, std::vector<std::uint8_t> v) {
        Bytes b = good;
        std::copy(v.begin(), v.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
        return b;
    };
    CHECK_THAT(opens(Bytes(4096, 0)), Catch::Contains("bytes per sector is 0"));
    CHECK_FALSE(FatVolume::looksLikeFat(Bytes(4096, 0)));
    CHECK_THAT(opens(with(11, {0x00, 0x03})), Catch::Contains("bytes per sector is 768"));
    CHECK_THAT(opens(with(13, {3})), Catch::Contains("sectors per cluster is 3"));
    CHECK_THAT(opens(with(14, {0, 0})), Catch::Contains("no reserved sectors"));
    CHECK_THAT(opens(with(16, {0})), Catch::Contains("no FAT"));
    CHECK_THAT(opens(with(17, {0, 0})), Catch::Contains("no root folder entries"));
    CHECK_THAT(opens(with(17, {1, 0})), Catch::Contains("does not fill whole sectors"));
    CHECK_THAT(opens(with(21, {0x12})), Catch::Contains("media descriptor 0x12"));
    CHECK_THAT(opens(with(22, {1, 0})), Catch::Contains("FAT has room for only"));
    CHECK_THAT(opens(with(19, {0, 0})), Catch::Contains("total sector count is 0"));
    CHECK_THAT(opens(with(19, {0x10, 0})), Catch::Contains("no room for a single data cluster"));
    CHECK_THAT(opens(Bytes(good.begin(), good.begin() + 100)), Catch::Contains("too small"));
    // An NTFS boot sector has a jump and a signature, but is not FAT.
    CHECK_FALSE(FatVolume::looksLikeFat(with(3, {'N', 'T', 'F', 'S', ' ', ' ', ' ', ' '})));
    // A broken FAT boot sector still looks like FAT: it must fail, not go to another reader.
    CHECK(FatVolume::looksLikeFat(with(13, {3})));

    const Bytes fat32 = load(makeImage(dir, 32, 1024, 1));
    Bytes badRoot = fat32;
    put32(badRoot, 44, 0x0FFFFFF0);
    CHECK_THAT(opens(badRoot), Catch::Contains("root folder's cluster 268435440 is outside the volume"));
    Bytes fixedRoot = fat32;
    put16(fixedRoot, 17, 512);
    CHECK_THAT(opens(fixedRoot), Catch::Contains("fixed root folder"));
}

// ------------------------------------------------------------------ first clusters

TEST_CASE("Directory entries whose first cluster is impossible are corrupt", "[FatVolume]") {
    requireTools();
    const int bits = GENERATE(12, 16, 32);
    INFO("FAT" << bits);
    Damageable d = damageable(bits);
    const std::size_t one = findEntry(d.bytes, "ONE     BIN");
    const std::uint32_t lastCluster = static_cast<std::uint32_t>(
        std::min<std::uint64_t>((d.bytes.size() - geo(d.bytes).dataStart) / d.cb + 1, bits == 16 ? 0xFFFF : 0x0FFFFFFF));

    SECTION("0 with a non-zero size") {
        setFirstCluster(d.bytes, one, 0);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "ONE.BIN", "first cluster is 0"));
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "1 cluster is marked in use"));
        CHECK(rec.files.count("ONE.BIN") == 1);   // still reported; its content cannot be read
        CHECK(std::count(rec.unreadable.begin(), rec.unreadable.end(), "ONE.BIN") == 1);
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("1") {
        setFirstCluster(d.bytes, one, 1);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "ONE.BIN", "first cluster is 1, which is reserved"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("past the end of the volume") {
        setFirstCluster(d.bytes, one, lastCluster + 1);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "ONE.BIN", "is past the end of the volume"));
        // libtsk left such a file out; here it is reported, and cannot be read.
        CHECK(rec.files.count("ONE.BIN") == 1);
        CHECK(std::count(rec.unreadable.begin(), rec.unreadable.end(), "ONE.BIN") == 1);
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a folder's first cluster 0") {
        setFirstCluster(d.bytes, findEntry(d.bytes, "DIR        "), 0);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "DIR/", "has no first cluster"));
        fsckComplains(d.dir, d.bytes);
    }
    if (bits == 32) {
        SECTION("the root folder's own cluster") {
            setFirstCluster(d.bytes, one, geo(d.bytes).rootCluster);
            const Recorder rec = walk(d.bytes);
            INFO(rec.describe());
            CHECK(rec.has(ReasonCode::CorruptFilesystem, "ONE.BIN", "is the root folder's own cluster"));
            fsckComplains(d.dir, d.bytes);
        }
    }
}

// ------------------------------------------------------------------ chains

TEST_CASE("Broken cluster chains are corrupt and name the file", "[FatVolume]") {
    requireTools();
    const int bits = GENERATE(12, 16, 32);
    INFO("FAT" << bits);
    Damageable d = damageable(bits);
    const std::size_t three = findEntry(d.bytes, "THREE   BIN");
    const std::uint32_t c1 = firstClusterOf(d.bytes, three);
    const std::uint32_t c2 = fatGet(d.bytes, 0, c1);
    const std::uint32_t c3 = fatGet(d.bytes, 0, c2);
    REQUIRE(c2 == c1 + 1);
    REQUIRE(fatGet(d.bytes, 0, c3) == endMark(d.bytes));

    SECTION("a loop") {
        fatSet(d.bytes, -1, c3, c1);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "THREE.BIN", "loops back to cluster " + std::to_string(c1)));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a cross-link names both files") {
        setFirstCluster(d.bytes, findEntry(d.bytes, "ONE     BIN"), c3);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        const bool either = rec.has(ReasonCode::CorruptFilesystem, "ONE.BIN", "file ONE.BIN and file THREE.BIN share cluster") ||
                            rec.has(ReasonCode::CorruptFilesystem, "THREE.BIN", "file THREE.BIN and file ONE.BIN share cluster");
        CHECK(either);
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a chain that runs into a free cluster") {
        fatSet(d.bytes, -1, c1, freeCluster(d.bytes, c3));
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "THREE.BIN", "which the FAT marks free"));
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "2 clusters are marked in use"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a chain that runs out of the volume") {
        fatSet(d.bytes, -1, c2, endMark(d.bytes) - 9);   // above the last cluster, below the bad mark
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "THREE.BIN", "which is not a cluster of the volume"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a chain longer than the file hides bytes") {
        const std::uint32_t extra = freeCluster(d.bytes, c3);
        fatSet(d.bytes, -1, c3, extra);
        fatSet(d.bytes, -1, extra, endMark(d.bytes));
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "THREE.BIN", "needs 3 clusters but its chain has 4: the chain hides bytes"));
        CHECK(rec.files.at("THREE.BIN") == pseudoRandom(3 * d.cb, 3));   // read up to its size only
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a chain shorter than the file cuts it") {
        fatSet(d.bytes, -1, c1, endMark(d.bytes));
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "THREE.BIN", "has 1: the file is cut short"));
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "2 clusters are marked in use in the FAT but belong to no file"));
        CHECK(std::count(rec.unreadable.begin(), rec.unreadable.end(), "THREE.BIN") == 1);
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a lost chain is counted") {
        const std::uint32_t a = freeCluster(d.bytes, c3);
        const std::uint32_t b = freeCluster(d.bytes, a + 1);
        fatSet(d.bytes, -1, a, b);
        fatSet(d.bytes, -1, b, endMark(d.bytes));
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.problems.size() == 1);
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "2 clusters are marked in use in the FAT but belong to no file or folder"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a chain that reaches a cluster marked bad") {
        fatSet(d.bytes, -1, c2, endMark(d.bytes) - 8);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "THREE.BIN", "reaches cluster " + std::to_string(c2) + ", which the FAT marks bad"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("bad-cluster marks are not lost clusters") {
        fatSet(d.bytes, -1, freeCluster(d.bytes, c3), endMark(d.bytes) - 8);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.problems.empty());
    }
}

// ------------------------------------------------------------------ FAT copies

TEST_CASE("FAT copies that differ are corrupt, and the copy Windows uses is read", "[FatVolume]") {
    requireTools();
    SECTION("mirrored copies must be equal; the first differing cluster is named") {
        const int bits = GENERATE(12, 16, 32);
        INFO("FAT" << bits);
        Damageable d = damageable(bits);
        const std::uint32_t c1 = firstClusterOf(d.bytes, findEntry(d.bytes, "TWO     BIN"));
        fatSet(d.bytes, 1, c1, endMark(d.bytes));
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "FAT copy 2 differs from copy 1 from cluster " + std::to_string(c1)));
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "must be mirrors"));
        CHECK(rec.files.at("TWO.BIN") == pseudoRandom(2 * d.cb - 10, 2));   // copy 1 is read
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("FAT32 with mirroring off: the active copy is read, as Windows does, and the decoy first copy is named") {
        Damageable d = damageable(32);
        const std::uint32_t c1 = firstClusterOf(d.bytes, findEntry(d.bytes, "TWO     BIN"));
        fatSet(d.bytes, 0, c1, endMark(d.bytes));   // Linux (copy 1) would see TWO.BIN cut short
        put16(d.bytes, 40, 0x80 | 1);               // mirroring off, copy 2 active
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "FAT copy 1 differs from copy 2 from cluster " + std::to_string(c1)));
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "which Windows reads, while Linux reads copy 1"));
        CHECK(rec.files.at("TWO.BIN") == pseudoRandom(2 * d.cb - 10, 2));
        CHECK(rec.unreadable.empty());

        put16(d.bytes, 40, 0x80 | 0);   // copy 1 active: both read copy 1, where the file is cut
        const Recorder first = walk(d.bytes);
        INFO(first.describe());
        CHECK(first.has(ReasonCode::CorruptFilesystem, "", "Windows and Linux both read copy 1"));
        CHECK(first.has(ReasonCode::CorruptFilesystem, "TWO.BIN", "the file is cut short"));
    }
    SECTION("FAT32 with mirroring off and an active copy that does not exist") {
        Damageable d = damageable(32);
        put16(d.bytes, 40, 0x80 | 5);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "makes FAT copy 6 active, but the volume has only 2 copies"));
    }
}

// ------------------------------------------------------------------ folders

TEST_CASE("Folder damage is corrupt and never walked twice", "[FatVolume]") {
    requireTools();
    const int bits = GENERATE(12, 16, 32);
    INFO("FAT" << bits);
    Damageable d = damageable(bits);
    const std::size_t dirEntry = findEntry(d.bytes, "DIR        ");
    const std::uint32_t dirCluster = firstClusterOf(d.bytes, dirEntry);
    const std::size_t dirAt = geo(d.bytes).dataStart + std::uint64_t{dirCluster - 2} * d.cb;
    REQUIRE(std::memcmp(d.bytes.data() + dirAt, ".          ", 11) == 0);

    SECTION("a folder that contains itself") {
        // INNER.TXT becomes a folder entry pointing at DIR's own cluster.
        const std::size_t inner = findEntry(d.bytes, "INNER   TXT");
        d.bytes[inner + 11] = 0x10;
        setFirstCluster(d.bytes, inner, dirCluster);
        put32(d.bytes, inner + 28, 0);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "DIR/INNER.TXT/", "a folder reached twice"));
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "DIR/INNER.TXT/", "which belongs to folder DIR/"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a missing '.' entry") {
        std::memcpy(d.bytes.data() + dirAt, "DOT        ", 11);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "DIR/", "has no '.' entry"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a '..' entry that points elsewhere") {
        setFirstCluster(d.bytes, dirAt + 32, dirCluster);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "DIR/", "its '..' entry points to cluster"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("entries after the end marker: Windows stops, Linux reads on") {
        // The entry after INNER.TXT's becomes the end marker's successor: a
        // zero entry is put before INNER.TXT by moving it one slot down.
        const std::size_t inner = findEntry(d.bytes, "INNER   TXT");
        std::memmove(d.bytes.data() + inner + 32, d.bytes.data() + inner, 32);
        std::memset(d.bytes.data() + inner, 0, 32);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::AmbiguousLayout, "DIR/", "entries after its end marker"));
        CHECK(rec.files.count("DIR/INNER.TXT") == 1);   // read as Linux reads it
    }
    SECTION("a folder entry with a size") {
        put32(d.bytes, dirEntry + 28, 4096);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "DIR/", "a size of 4096 bytes, where a folder's must be 0"));
        CHECK(rec.files.count("DIR/INNER.TXT") == 1);
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("two entries with the same name") {
        std::memcpy(d.bytes.data() + findEntry(d.bytes, "TWO     BIN"), "ONE     BIN", 11);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "ONE.BIN", "has the same name"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a short name with a character DOS never allows") {
        std::memcpy(d.bytes.data() + findEntry(d.bytes, "TWO     BIN"), "T/O     BIN", 11);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "T/O.BIN", "short name has characters FAT does not allow"));
        fsckComplains(d.dir, d.bytes);
    }
    SECTION("a name of spaces only is kept as its raw bytes, never the folder's own path") {
        // Found by fuzz_fat_volume: the file's path was "", the volume's.
        std::memcpy(d.bytes.data() + findEntry(d.bytes, "TWO     BIN"), "           ", 11);
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "           ", "short name has characters FAT does not allow"));
        CHECK(rec.files.count("           ") == 1);
        CHECK(rec.files.count("") == 0);
    }
    SECTION("0x05 stands for 0xE5") {
        d.bytes[findEntry(d.bytes, "TWO     BIN")] = 0x05;
        const Recorder rec = walk(d.bytes);
        INFO(rec.describe());
        CHECK(rec.problems.empty());
        CHECK(rec.files.count("\xE5WO.BIN") == 1);
    }
}

// ------------------------------------------------------------------ long names

TEST_CASE("Long names that do not match their short entry are ignored, as Windows and Linux ignore them", "[FatVolume]") {
    requireTools();
    TempDir dir;
    const fs::path img = makeImage(dir, 12, 1024, 1);
    writeFile(dir / "src" / "holiday photo.jpg", "MZ pretending to be a picture\n");
    copyInto(img, dir / "src");
    Bytes bytes = load(img);
    const std::size_t sfn = findEntry(bytes, "HOLIDA~1JPG");
    REQUIRE(bytes[sfn - 32 + 11] == 0x0F);   // its long name entry is just before it
    REQUIRE(walk(bytes).files.count("holiday photo.jpg") == 1);

    SECTION("a checksum that does not match") {
        bytes[sfn - 32 + 13] ^= 0x01;
        const Recorder rec = walk(bytes);
        CHECK(rec.problems.empty());
        CHECK(rec.files.count("HOLIDA~1.JPG") == 1);
    }
    SECTION("a short name renamed behind the long name's back") {
        std::memcpy(bytes.data() + sfn, "SETUP   EXE", 11);
        const Recorder rec = walk(bytes);
        CHECK(rec.files.count("SETUP.EXE") == 1);
        CHECK(rec.files.count("holiday photo.jpg") == 0);
    }
    SECTION("a sequence without its last (0x40) entry") {
        REQUIRE(bytes[sfn - 64] == (0x40 | 2));   // "holiday photo.jpg" takes two entries
        bytes[sfn - 64] &= static_cast<std::uint8_t>(~0x40);
        const Recorder rec = walk(bytes);
        CHECK(rec.files.count("HOLIDA~1.JPG") == 1);
    }
    // Where Windows (fastfat) and Linux (fat_parse_long) part ways, the file
    // is reported under Windows' name and the two names are a problem.
    SECTION("a cluster field that is not 0: Windows shows the short name, Linux the long one") {
        put16(bytes, sfn - 32 + 26, 7);
        const Recorder rec = walk(bytes);
        INFO(rec.describe());
        CHECK(rec.files.count("HOLIDA~1.JPG") == 1);
        CHECK(rec.has(ReasonCode::AmbiguousLayout, "HOLIDA~1.JPG", "Linux as \"holiday photo.jpg\""));
    }
    SECTION("units after the terminator that are not 0xFFFF: Windows shows the short name, Linux the long one") {
        put16(bytes, sfn - 64 + 30, 'A');   // the last unit of the last entry
        const Recorder rec = walk(bytes);
        INFO(rec.describe());
        CHECK(rec.files.count("HOLIDA~1.JPG") == 1);
        CHECK(rec.has(ReasonCode::AmbiguousLayout, "HOLIDA~1.JPG", "Linux as \"holiday photo.jpg\""));
    }
    SECTION("an 0x40 entry in mid-run: Windows starts a new name there, Linux reads on") {
        bytes[sfn - 32] = 0x40 | 1;
        const Recorder rec = walk(bytes);
        INFO(rec.describe());
        CHECK(rec.files.count("holiday photo") == 1);   // its first 13 characters
        CHECK(rec.has(ReasonCode::AmbiguousLayout, "holiday photo", "Linux as \"holiday photo.jpg\""));
    }
    SECTION("a run numbered 0: Windows refuses the whole folder") {
        bytes[sfn - 64] = 0x40;
        const Recorder rec = walk(bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "long name entry numbered 0: Windows refuses to list the folder"));
        CHECK(rec.files.count("HOLIDA~1.JPG") == 1);
    }
    SECTION("an entry with more attribute bits than 0x0F is a label for both, not a long name") {
        bytes[sfn - 64 + 11] = 0x4F;
        const Recorder rec = walk(bytes);
        INFO(rec.describe());
        CHECK(rec.problems.empty());
        CHECK(rec.files.count("HOLIDA~1.JPG") == 1);
    }
    SECTION("a long name holding a '/'") {
        bytes[sfn - 32 + 1] = '/';
        const Recorder rec = walk(bytes);
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "/oliday photo.jpg", "long name has characters no operating system allows"));
    }
    SECTION("a surrogate pair is one character") {
        // (mtools writes only 16-bit characters, so the pair is written here.)
        put16(bytes, sfn - 32 + 1, 0xD83D);
        put16(bytes, sfn - 32 + 3, 0xDE00);
        const Recorder rec = walk(bytes);
        CHECK(rec.files.count("😀liday photo.jpg") == 1);
    }
    SECTION("an unpaired surrogate becomes U+FFFD") {
        put16(bytes, sfn - 32 + 1, 0xD800);
        const Recorder rec = walk(bytes);
        CHECK(rec.files.count("\xEF\xBF\xBDoliday photo.jpg") == 1);
    }
}

// ------------------------------------------------------------------ the media

TEST_CASE("A truncated image is a read error, and the files past the cut are reported, not lost", "[FatVolume]") {
    requireTools();
    TempDir dir;
    const fs::path img = makeImage(dir, 16, 8 * 1024, 1);
    writeFile(dir / "src" / "FIRST.TXT", "near the start\n");
    writeFile(dir / "src" / "FILLER.BIN", pseudoRandom(1024 * 1024, 5));
    writeFile(dir / "src" / "LAST.TXT", "past the cut\n");
    copyInto(img, dir / "src");
    Bytes bytes = load(img);
    const std::uint64_t lastAt =
        geo(bytes).dataStart + std::uint64_t{firstClusterOf(bytes, findEntry(bytes, "LAST    TXT")) - 2} * 512;
    bytes.resize(static_cast<std::size_t>(lastAt));   // cut just before LAST.TXT's content

    const Recorder rec = walk(bytes);
    INFO(rec.describe());
    CHECK(rec.has(ReasonCode::ReadError, "", "filesystem is larger than the media holds (truncated image or failing device)"));
    CHECK(rec.has(ReasonCode::ReadError, "LAST.TXT", "cannot be read"));
    CHECK(rec.files.at("FIRST.TXT") == "near the start\n");
    CHECK(rec.files.count("LAST.TXT") == 1);
    CHECK(rec.unreadable == std::vector<std::string>{"LAST.TXT"});

    SECTION("a partition shorter than its filesystem is named as such") {
        const Bytes whole = load(img);
        const Recorder part = walk(whole, lastAt);
        INFO(part.describe());
        CHECK(part.has(ReasonCode::ReadError, "", "filesystem is larger than its partition"));
        CHECK(part.has(ReasonCode::ReadError, "LAST.TXT", "past the end of its partition"));
    }
}

namespace {
// Fails every read that touches bytes [from, to) of the media: a bad sector.
class BadSectors final : public ByteSource {
public:
    BadSectors(const ByteSource& base, std::uint64_t from, std::uint64_t to) : base_(base), from_(from), to_(to) {}
    std::uint64_t size() const override { return base_.size(); }
    Status readAt(std::uint64_t offset, std::span<std::uint8_t> buf) const override {
        if (offset < to_ && from_ < offset + buf.size()) return makeError("I/O error (a bad sector)");
        return base_.readAt(offset, buf);
    }

private:
    const ByteSource& base_;
    std::uint64_t from_, to_;
};
}  // namespace

TEST_CASE("Unreadable sectors are read errors for the file on them, and the walk goes on", "[FatVolume]") {
    requireTools();
    Damageable d = damageable(16);
    const std::uint64_t at = geo(d.bytes).dataStart + std::uint64_t{firstClusterOf(d.bytes, findEntry(d.bytes, "TWO     BIN")) - 2} * d.cb;
    MemorySource good(d.bytes);
    BadSectors media(good, at + d.cb, at + d.cb + 512);   // TWO.BIN's second cluster
    auto vol = FatVolume::open(media, 0, d.bytes.size());
    REQUIRE(vol.ok());
    Recorder rec;
    REQUIRE(vol->walk(rec).ok());
    INFO(rec.describe());
    CHECK(rec.problems.size() == 1);
    CHECK(rec.has(ReasonCode::ReadError, "TWO.BIN", "file TWO.BIN: cluster"));
    CHECK(rec.unreadable == std::vector<std::string>{"TWO.BIN"});
    CHECK(rec.files.at("THREE.BIN") == pseudoRandom(3 * d.cb, 3));
    CHECK(rec.files.at("DIR/INNER.TXT") == "inside the folder\n");
}

TEST_CASE("An unreadable sector of the FAT or of a folder is a read error, and what it held is unknown, not guessed", "[FatVolume]") {
    requireTools();
    Damageable d = damageable(16);
    const Geo g = geo(d.bytes);
    MemorySource good(d.bytes);
    SECTION("the FAT copy read: the chains through it are unknown") {
        BadSectors media(good, g.fatStart, g.fatStart + 512);   // entries 0 to 255 of copy 1
        auto vol = FatVolume::open(media, 0, d.bytes.size());
        REQUIRE(vol.ok());
        Recorder rec;
        REQUIRE(vol->walk(rec).ok());
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::ReadError, "", "FAT copy 1 cannot be read completely"));
        CHECK(rec.has(ReasonCode::ReadError, "THREE.BIN", "cannot be read (an unreadable sector, or past the end of the media)"));
        CHECK(rec.has(ReasonCode::ReadError, "DIR/", "so its chain is unknown"));
        // Copy 2 is not compared where copy 1 cannot be read, and nothing is taken for lost.
        for (const auto& p : rec.problems) CHECK(p.code == ReasonCode::ReadError);
    }
    SECTION("a folder: its other sectors are still read") {
        const std::uint64_t root = g.fatStart + g.fats * g.fatBytes;
        BadSectors media(good, root, root + 512);   // the root folder's first 16 entries
        auto vol = FatVolume::open(media, 0, d.bytes.size());
        REQUIRE(vol.ok());
        Recorder rec;
        REQUIRE(vol->walk(rec).ok());
        INFO(rec.describe());
        CHECK(rec.has(ReasonCode::ReadError, "", "the root folder: some of its entries cannot be read"));
        CHECK(rec.has(ReasonCode::CorruptFilesystem, "", "some folders could not be read, so some may be theirs"));
        CHECK(rec.files.empty());
    }
}

TEST_CASE("A volume that claims far more than the media holds is read without allocating what it claims", "[FatVolume]") {
    requireTools();
    Damageable d = damageable(32);
    Bytes b(d.bytes.begin(), d.bytes.begin() + 1024 * 1024);
    // 268 million clusters of 512 bytes and FATs of 1 GiB each, in a 1 MiB image.
    put32(b, 36, 2097152);   // FAT sectors
    put32(b, 32, get16(b, 14) + 2 * 2097152u + 268000000u);   // total sectors
    MemorySource media(b);
    auto vol = FatVolume::open(media, 0, b.size());
    REQUIRE(vol.ok());
    CHECK(vol->clusterCount() == 268000000u);
    Recorder rec;
    REQUIRE(vol->walk(rec).ok());
    INFO(rec.describe());
    CHECK(rec.has(ReasonCode::ReadError, "", "larger than the media holds"));
}

TEST_CASE("A volume of 4,085 clusters is ambiguous: Windows reads it as FAT12, Linux as FAT16", "[FatVolume]") {
    requireTools();
    TempDir dir;
    Bytes b = load(makeImage(dir, 16, 8 * 1024, 1));
    const Geo g = geo(b);
    put16(b, 19, static_cast<std::uint32_t>(g.dataStart / 512 + 4085));
    MemorySource media(b);
    auto vol = FatVolume::open(media, 0, b.size());
    REQUIRE(vol.ok());
    CHECK(std::string(vol->type()) == "fat16");
    Recorder rec;
    REQUIRE(vol->walk(rec).ok());
    INFO(rec.describe());
    CHECK(rec.has(ReasonCode::AmbiguousLayout, "", "Windows reads its FAT as FAT12"));
}

// ------------------------------------------------------------------ fuzz inputs

namespace {
const fs::path kFuzz = fs::path(QKIOSK_FUZZ_REGRESSIONS).parent_path();

Recorder walkFile(const fs::path& p, std::string* type = nullptr) {
    const Bytes bytes = load(p);
    MemorySource media(bytes);
    auto vol = FatVolume::open(media, 0, bytes.size());
    INFO(p.filename().string() << ": " << (vol ? "" : vol.error().message));
    REQUIRE(vol.ok());
    if (type) *type = vol->type();
    Recorder rec;
    REQUIRE(vol->walk(rec).ok());
    return rec;
}
}  // namespace

TEST_CASE("The fuzz seeds are sound volumes of each FAT type", "[FatVolume]") {
    std::string numbers;
    for (int i = 1; i <= 400; ++i) numbers += std::to_string(i) + "\n";
    const std::map<std::string, std::string> files{{"HELLO.TXT", "hello from a fuzz seed\n"},
                                                   {"empty", ""},
                                                   {"hidden.dat", "hidden\n"},
                                                   {"docs/numbers.txt", numbers},
                                                   {"docs/A long file name.txt", "a long file name\n"},
                                                   {"docs/検査結果_2026年度.txt", "放射線科\n"}};
    for (const auto& [seed, type] : std::map<std::string, std::string>{{"fat12-48k", "fat12"},
                                                                      {"fat12-4k-sectors-64k", "fat12"},
                                                                      {"fat16-cut-48k", "fat16"},
                                                                      {"fat32-100-clusters", "fat32"}}) {
        INFO(seed);
        std::string got;
        const Recorder rec = walkFile(kFuzz / "corpus" / "fuzz_fat_volume" / seed, &got);
        INFO(rec.describe());
        CHECK(got == type);
        CHECK(rec.files == files);
        if (seed == "fat16-cut-48k") {   // the first 48 KiB of a 2.2 MB volume
            REQUIRE(rec.problems.size() == 1);
            CHECK(rec.has(ReasonCode::ReadError, "", "larger than the media holds"));
        } else {
            CHECK(rec.problems.empty());
        }
    }
}

TEST_CASE("Inputs the FAT fuzzer found are read to the end", "[FatVolume]") {
    const fs::path dir = kFuzz / "regressions" / "fuzz_fat_volume";
    if (!fs::exists(dir)) return;
    for (const auto& e : fs::directory_iterator(dir)) {
        // A hang fails the test in a minute.
        ::alarm(60);
        const Bytes bytes = load(e.path());
        MemorySource media(bytes);
        auto vol = FatVolume::open(media, 0, bytes.size());
        if (vol) {
            Recorder rec;
            rec.maxRead = 1 << 20;   // crafted volumes claim files of 4 GiB
            CHECK(vol->walk(rec).ok());
        }
        ::alarm(0);
    }
}
