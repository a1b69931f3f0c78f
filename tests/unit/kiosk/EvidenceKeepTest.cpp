// EvidenceCollection::keep against a media reader that lies about a file's
// hash: the content is still copied, kept under its real hash, and the lie
// is an error (a finding about the reader), never a silent "already kept".
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>

#include "kiosk/evidence/Evidence.h"
#include "qkiosk/base/Sha256.h"

using namespace kiosk;
namespace fs = std::filesystem;

namespace {

int memfdWith(const std::string& content) {
    const int fd = ::memfd_create("evidence-test", MFD_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    return fd;
}

std::string sha(const std::string& s) { return toHex(Sha256::of(std::string_view(s))); }

}  // namespace

TEST_CASE("A file the reader claims is already kept (its hash) is copied anyway and the false hash is an error", "[evidence]") {
    std::string t = (fs::temp_directory_path() / "qkiosk-vault-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()));
    const fs::path vault = t;
    {
        EvidenceSettings settings;
        settings.dir = (vault / "vault").string();
        settings.image = false;
        settings.reserve = 0;
        EvidenceCollection evidence(settings);
        const std::string first = "the first file's bytes", second = "different bytes the reader hides";
        const int a = memfdWith(first), b = memfdWith(second);
        CHECK(evidence.keep(a, {"/p1/a.exe", first.size(), sha(first), ""}).ok());
        // The reader says the second file has the first one's hash.
        const auto lied = evidence.keep(b, {"/p1/b.exe", second.size(), sha(first), ""});
        REQUIRE_FALSE(lied.ok());
        CHECK_THAT(lied.error().message, Catch::Contains("does not match the SHA-256 the media reader reported"));
        bool keptSecond = false;
        for (const auto& e : fs::recursive_directory_iterator(vault)) keptSecond |= e.path().filename() == sha(second);
        CHECK(keptSecond);
        ::close(a);
        ::close(b);
    }
    fs::remove_all(vault);
}
