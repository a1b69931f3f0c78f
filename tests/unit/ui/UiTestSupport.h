// What the ui tests share: the built catalogues, a screen as text, and the
// comparison with a golden screen in tests/ui/golden (QKIOSK_UPDATE_GOLDEN=1
// rewrites the goldens instead; read every one you rewrite).
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "qkiosk/ui/Catalog.h"
#include "qkiosk/ui/TextRenderer.h"
#include "qkiosk/ui/TextWidth.h"

namespace uitest {

namespace fs = std::filesystem;

inline const kiosk::ui::Catalogs& words() {
    static const kiosk::ui::Catalogs c = [] {
        auto loaded = kiosk::ui::Catalogs::load(QKIOSK_LOCALE_DIR);
        REQUIRE(loaded);
        return *loaded;
    }();
    return c;
}

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) {
        out += l;
        out += '\n';
    }
    return out;
}

// The state drawn at 80×24 fits exactly and equals tests/ui/golden/<name>.<lang>.txt.
inline void checkGolden(const std::string& name, const kiosk::ui::State& state) {
    const auto lines = kiosk::ui::renderText(state, 80, 24, words());
    REQUIRE(lines.size() == 24);
    for (const auto& l : lines) {
        INFO(name << "." << state.language << ": " << l);
        CHECK(kiosk::ui::displayWidth(l) <= 80);
        CHECK(l.find('\n') == std::string::npos);
    }
    const fs::path golden = fs::path(QKIOSK_GOLDEN_DIR) / (name + "." + state.language + ".txt");
    if (std::getenv("QKIOSK_UPDATE_GOLDEN")) {
        std::ofstream(golden, std::ios::binary) << joined(lines);
        return;
    }
    INFO(golden.string() << " (QKIOSK_UPDATE_GOLDEN=1 rewrites it)");
    REQUIRE(fs::exists(golden));
    CHECK(joined(lines) == slurp(golden));
}

}  // namespace uitest
