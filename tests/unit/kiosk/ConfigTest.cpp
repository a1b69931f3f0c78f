#include <catch2/catch.hpp>

#include "kiosk/config/Config.h"

using kiosk::parseConfig;

TEST_CASE("Every config key is optional", "[Config]") {
    auto c = parseConfig("", "empty.toml");
    REQUIRE(c.ok());
    CHECK(c->dbDir == "/var/lib/qkiosk/clamav");
    CHECK(c->scan.maxFileSize == (1ull << 30));
    CHECK(c->scan.blockedNames == std::vector<std::string>{"autorun.inf", "*.lnk"});
}

TEST_CASE("Config values are read with units", "[Config]") {
    auto c = parseConfig(R"(
kiosk_id = "ward-3"
unknown_media = "refuse"
fixed_devices = [ { port = "1-5", vendor_id = "04b8", product_id = "0e15" } ]
[scan]
max_file_size = "512MiB"
max_scan_time = 60
blocked_names = ["*.scr"]
)", "k.toml");
    REQUIRE(c.ok());
    CHECK(c->kioskId == "ward-3");
    CHECK(c->unknownMedia == "refuse");
    CHECK(c->fixedDevices.at(0).vendorId == "04b8");
    CHECK(c->scan.maxFileSize == 512ull << 20);
    CHECK(c->scan.maxScanTimeSeconds == 60);
    CHECK(c->scan.blockedNames == std::vector<std::string>{"*.scr"});
}

TEST_CASE("Config errors name file, line and column", "[Config]") {
    SECTION("a syntax error") {
        auto c = parseConfig("kiosk_id = \n", "bad.toml");
        REQUIRE_FALSE(c.ok());
        CHECK_THAT(c.error().message, Catch::StartsWith("bad.toml:1:"));
    }
    SECTION("an unknown key, so a typo cannot loosen a limit") {
        auto c = parseConfig("[scan]\nmax_filesize = 10\n", "typo.toml");
        REQUIRE_FALSE(c.ok());
        CHECK_THAT(c.error().message, Catch::StartsWith("typo.toml:2:1") && Catch::Contains("max_filesize"));
    }
    SECTION("a limit libclamav cannot honour") {
        auto c = parseConfig("[scan]\nmax_file_size = \"4GiB\"\n", "big.toml");
        REQUIRE_FALSE(c.ok());
        CHECK_THAT(c.error().message, Catch::StartsWith("big.toml:2:"));
    }
    SECTION("a PAM service that is not a plain name in /etc/pam.d") {
        auto c = parseConfig("[officers]\npam_service = \"../shadow\"\n", "pam.toml");
        REQUIRE_FALSE(c.ok());
        CHECK_THAT(c.error().message, Catch::StartsWith("pam.toml:2:") && Catch::Contains("/etc/pam.d"));
        auto ok = parseConfig("[officers]\npam_service = \"qkiosk\"\nidle_minutes = 10\nmax_approval_days = 90\n", "pam.toml");
        REQUIRE(ok.ok());
        CHECK(ok->officers.pamService == "qkiosk");
        CHECK(ok->officers.pamGroup == "qkiosk-officers");
        CHECK(ok->officers.idleMinutes == 10);
        CHECK(ok->officers.maxApprovalDays == 90);
        CHECK_FALSE(parseConfig("[officers]\nidle_minutes = 0\n", "pam.toml").ok());
    }
    SECTION("a wrong type") {
        auto c = parseConfig("unknown_media = \"allow\"\n", "m.toml");
        REQUIRE_FALSE(c.ok());
        CHECK_THAT(c.error().message, Catch::Contains("scan") && Catch::Contains("refuse"));
    }
}

TEST_CASE("Sizes that do not fit are errors, never a crash", "[Config]") {
    auto err = [](const std::string& value) {
        auto c = parseConfig("[scan]\nmax_file_size = \"" + value + "\"\n", "s.toml");
        REQUIRE_FALSE(c.ok());
        return c.error().message;
    };
    SECTION("more than 64 bits of digits (std::stoull threw, found by fuzz_whitelist)") {
        CHECK_THAT(err("99999999999999999999999 MiB"), Catch::StartsWith("s.toml:2:17") && Catch::Contains("between 1 byte"));
    }
    SECTION("a string long enough to exhaust std::regex's recursion") {
        CHECK_THAT(err(std::string(1'000'000, '7')), Catch::StartsWith("s.toml:2:17"));
        CHECK_THAT(err("1" + std::string(1'000'000, ' ') + "lots"), Catch::Contains("must be a size like"));
    }
    SECTION("every accepted spelling still reads") {
        for (const char* ok : {"512MiB", " 512 MiB ", "536870912", "536870912B", "524288KiB"}) {
            auto c = parseConfig(std::string("[scan]\nmax_file_size = \"") + ok + "\"\n", "s.toml");
            REQUIRE(c.ok());
            CHECK(c->scan.maxFileSize == 512ull << 20);
        }
        CHECK_THAT(err("0"), Catch::Contains("between 1 byte"));
        CHECK_THAT(err("12 TiB"), Catch::Contains("must be a size like"));
        CHECK_THAT(err("MiB"), Catch::Contains("must be a size like"));
    }
}

TEST_CASE("The evidence vault's keys: defaults, sizes with units, and errors", "[Config]") {
    auto d = parseConfig("", "empty.toml");
    REQUIRE(d.ok());
    CHECK(d->evidence.dir == "/var/lib/qkiosk/evidence");
    CHECK(d->evidence.image);
    CHECK(d->evidence.imageLimit == 32ull << 30);
    CHECK(d->evidence.reserve == 1ull << 30);

    auto c = parseConfig("evidence_dir = \"/srv/vault\"\nevidence_image = false\nevidence_image_limit = \"64 GiB\"\n"
                         "evidence_reserve = \"512MiB\"\n", "e.toml");
    REQUIRE(c.ok());
    CHECK(c->evidence.dir == "/srv/vault");
    CHECK_FALSE(c->evidence.image);
    CHECK(c->evidence.imageLimit == 64ull << 30);
    CHECK(c->evidence.reserve == 512ull << 20);

    auto notBool = parseConfig("evidence_image = \"yes\"\n", "b.toml");
    REQUIRE_FALSE(notBool.ok());
    CHECK_THAT(notBool.error().message, Catch::StartsWith("b.toml:1:") && Catch::Contains("true or false"));
    auto empty = parseConfig("evidence_dir = \"\"\n", "d.toml");
    REQUIRE_FALSE(empty.ok());
    CHECK_THAT(empty.error().message, Catch::Contains("must not be empty"));
    CHECK_FALSE(parseConfig("evidence_image_limit = \"lots\"\n", "l.toml").ok());
    CHECK_FALSE(parseConfig("evidence_images = true\n", "t.toml").ok());
}

TEST_CASE("The syslog table: forwarding is off unless a target is set, and mistakes name file, line and column",
          "[Config][syslog]") {
    auto off = parseConfig("", "k.toml");
    REQUIRE(off.ok());
    CHECK(off->syslog.target.empty());
    CHECK(off->syslog.facility == "local0");

    auto c = parseConfig(R"(
kiosk_id = "ward-3"
[syslog]
target = "collector.hospital.example:6514"
tls = true
ca_file = "/etc/qkiosk/syslog-ca.pem"
cert_file = "/etc/qkiosk/kiosk.pem"
key_file = "/etc/qkiosk/kiosk.key"
server_name = "collector.hospital.example"
hostname = "qkiosk-ward3"
facility = "authpriv"
)", "k.toml");
    REQUIRE(c.ok());
    CHECK(c->syslog.target == "collector.hospital.example:6514");
    CHECK(c->syslog.tls);
    CHECK(c->syslog.caFile == "/etc/qkiosk/syslog-ca.pem");
    CHECK(c->syslog.keyFile == "/etc/qkiosk/kiosk.key");
    CHECK(c->syslog.hostname == "qkiosk-ward3");
    CHECK(parseConfig("[syslog]\ntarget = \"[2001:db8::1]:514\"\n", "k.toml").ok());

    auto err = [](const std::string& text) {
        auto r = parseConfig(text, "s.toml");
        REQUIRE_FALSE(r.ok());
        return r.error().message;
    };
    CHECK_THAT(err("[syslog]\ntaget = \"a:1\"\n"), Catch::StartsWith("s.toml:2:1") && Catch::Contains("unknown key \"taget\" in [syslog]"));
    CHECK_THAT(err("[syslog]\ntarget = \"collector\"\n"), Catch::StartsWith("s.toml:2:") && Catch::Contains("host:port"));
    CHECK_THAT(err("[syslog]\ntarget = \"collector:70000\"\n"), Catch::StartsWith("s.toml:2:") && Catch::Contains("65535"));
    CHECK_THAT(err("[syslog]\ntarget = \"a:1\"\ntls = \"yes\"\n"), Catch::StartsWith("s.toml:3:") && Catch::Contains("true or false"));
    CHECK_THAT(err("[syslog]\ntarget = \"a:1\"\ntls = true\ncert_file = \"c.pem\"\n"), Catch::Contains("both cert_file and key_file"));
    CHECK_THAT(err("[syslog]\ntarget = \"a:1\"\nca_file = \"ca.pem\"\n"), Catch::Contains("need tls = true"));
    CHECK_THAT(err("[syslog]\nfacility = \"kern\"\n"), Catch::StartsWith("s.toml:2:") && Catch::Contains("local0 to local7"));
    CHECK_THAT(err("[syslog]\nhostname = \"ward 3\"\n"), Catch::StartsWith("s.toml:2:") && Catch::Contains("printable ASCII"));
    CHECK_THAT(err("syslog = \"a:1\"\n"), Catch::StartsWith("s.toml:1:") && Catch::Contains("must be a table"));
}

TEST_CASE("The fail-closed keys: deceptive names on by default, disk images inside disk images bounded", "[Config]") {
    auto d = parseConfig("", "empty.toml");
    REQUIRE(d.ok());
    CHECK(d->scan.deceptiveNames);
    CHECK(d->scan.maxImageDepth == 3);
    CHECK(d->scan.maxImageBytes == 512ull << 30);
    auto c = parseConfig("[scan]\ndeceptive_names = false\nmax_image_depth = 1\nmax_image_bytes = \"64GiB\"\n", "k.toml");
    REQUIRE(c.ok());
    CHECK_FALSE(c->scan.deceptiveNames);
    CHECK(c->scan.maxImageDepth == 1);
    CHECK(c->scan.maxImageBytes == 64ull << 30);
    auto bad = parseConfig("[scan]\ndeceptive_names = \"no\"\n", "k.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message, Catch::StartsWith("k.toml:2:") && Catch::Contains("true or false"));
    auto deep = parseConfig("[scan]\nmax_image_depth = 99\n", "k.toml");
    REQUIRE_FALSE(deep.ok());
    CHECK_THAT(deep.error().message, Catch::Contains("between 0 and 16"));
}
