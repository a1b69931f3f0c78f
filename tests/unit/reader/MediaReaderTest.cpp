#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "MediaReader.h"
#include "qkiosk/base/UniqueFd.h"

using namespace kiosk;
using namespace kiosk::scan;

namespace {

struct Recorded {
    std::vector<proto::Partition> partitions;
    std::vector<std::string> findings;   // "path: detail"
    std::vector<std::string> files;
};

class RecordingSink : public MediaSink {
public:
    Recorded got;
    Status partition(const proto::Partition& p) override {
        got.partitions.push_back(p);
        return {};
    }
    Status finding(proto::ReasonCode, const std::string& path, const std::string& detail) override {
        got.findings.push_back(path + ": " + detail);
        return {};
    }
    Status file(std::uint32_t, const std::string& path, std::uint64_t, bool, const ContentReader&) override {
        got.files.push_back(path);
        return {};
    }
};

// Reads an input that fuzz_media_reader once found, from tests/fuzz/regressions.
Recorded readRegression(const std::string& name) {
    const std::string path = std::string(QKIOSK_FUZZ_REGRESSIONS) + "/fuzz_media_reader/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd.valid());
    struct stat st {};
    REQUIRE(::fstat(fd.get(), &st) == 0);
    RecordingSink sink;
    // These inputs used to hang the reader: a hang fails the test in a minute.
    ::alarm(60);
    FdSource source(fd.get(), static_cast<std::uint64_t>(st.st_size));
    const auto status = MediaReader(source).run(sink);
    ::alarm(0);
    REQUIRE(status.ok());
    return sink.got;
}

}  // namespace

TEST_CASE("A volume whose root directory is libtsk's orphan folder is refused, not walked", "[MediaReader]") {
    // An ISO 9660 with a single inode: libtsk 4.11 deadlocked on its own lock
    // walking it (sleuthkit/sleuthkit#928); found by fuzz_media_reader.
    const auto got = readRegression("iso9660-root-is-orphan-dir-deadlock");
    REQUIRE(got.partitions.size() == 1);
    CHECK(got.partitions[0].fs == "iso9660");
    CHECK(got.files.empty());
    // (The fuzzer also cut the volume short, which is reported first.)
    REQUIRE_FALSE(got.findings.empty());
    CHECK_THAT(got.findings.back(), Catch::StartsWith("/p0/: ") && Catch::Contains("root directory is not a valid inode"));
}

TEST_CASE("A root directory larger than its volume is reported, not mapped block by block", "[MediaReader]") {
    // ext2 root inodes claiming 2.4 and 4 GB on a 128 KiB volume: libtsk took
    // 40 s to a minute to map their blocks; found by fuzz_media_reader.
    for (const char* name : {"ext2-root-regular-file-claims-2gb-slow", "ext2-root-mode0-claims-4gb-slow"}) {
        INFO(name);
        const auto got = readRegression(name);
        CHECK(got.files.empty());
        REQUIRE_FALSE(got.findings.empty());
        CHECK_THAT(got.findings.back(), Catch::StartsWith("/p0/: directory claims ") &&
                                            Catch::Contains("more than the volume holds"));
    }
}
