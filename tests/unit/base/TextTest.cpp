#include <catch2/catch.hpp>

#include "qkiosk/base/Text.h"

using kiosk::printableName;

TEST_CASE("Names from the media become printable text", "[Text]") {
    CHECK(printableName("report.pdf") == "report.pdf");
    CHECK(printableName("検査結果.txt") == "検査結果.txt");
    CHECK(printableName("bad\nname") == "bad\\x0aname");
    CHECK(printableName("latin1-\xe9.txt") == "latin1-\\xe9.txt");
    CHECK(printableName("back\\slash") == "back\\x5cslash");
    // U+202E RIGHT-TO-LEFT OVERRIDE would show "invoice_fdp.exe" as "invoice_exe.pdf".
    CHECK(printableName("invoice_\xe2\x80\xae" "fdp.exe") == "invoice_\\xe2\\x80\\xaefdp.exe");
}
