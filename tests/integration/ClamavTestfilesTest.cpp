// Every file of Debian's clamav-testfiles on a stick is detected, exactly as
// clamscan detects it with the same signatures.
#include <catch2/catch.hpp>

#include <set>

#include "Harness.h"

using namespace qktest;

TEST_CASE("Every ClamAV test file on a stick is detected as clamscan detects it", "[scan][clamav]") {
    const fs::path dir = "/usr/share/clamav-testfiles";
    if (!fs::is_directory(dir)) {
        WARN("SKIP: clamav-testfiles is not installed");
        std::exit(77);
    }
    requireTool("clamscan");
    Workspace ws;
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        ws.copy(e.path(), "tree/testfiles/" + e.path().filename().string());
        names.insert(e.path().filename().string());
    }
    REQUIRE(names.size() >= 40);

    // What clamscan finds in the same files with the same signatures.
    const auto cs = run({"clamscan", "--no-summary", "--infected", "--alert-exceeds-max=yes", "--alert-encrypted=yes",
                         "-d", ws.database().string(), "-r", (ws.path() / "tree").string()});
    std::set<std::string> clamscanFound;
    for (const auto& n : names)
        if (cs.out.find("/testfiles/" + n + ": ") != std::string::npos) clamscanFound.insert(n);
    INFO(cs.out << cs.err);
    REQUIRE(clamscanFound.size() == names.size());

    const auto img = makeImage(ws, "testfiles.img", "ext4", "gpt", ws.path() / "tree");
    const auto s = scanImage(ws, img);
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    std::set<std::string> qkioskFound;
    for (const auto& r : reasons(s.report, "infected")) {
        std::string path = r.at("path");
        path = path.substr(0, path.find('!'));
        qkioskFound.insert(path.substr(path.rfind('/') + 1));
    }
    CHECK(qkioskFound == clamscanFound);
}
