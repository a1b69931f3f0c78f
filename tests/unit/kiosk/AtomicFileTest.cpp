#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kiosk/files/AtomicFile.h"

TEST_CASE("Atomic writes replace the whole file and leave no temporary behind", "[AtomicFile]") {
    const auto dir = std::filesystem::temp_directory_path() / ("qk-atomic-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "report.json").string();
    REQUIRE(kiosk::writeFileAtomically(path, "first version, longer").ok());
    REQUIRE(kiosk::writeFileAtomically(path, "second").ok());
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str() == "second");
    CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);

    SECTION("and say which file could not be written") {
        auto st = kiosk::writeFileAtomically((dir / "missing" / "r.json").string(), "x");
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.error().message, Catch::Contains("missing/r.json"));
    }
    std::filesystem::remove_all(dir);
}
