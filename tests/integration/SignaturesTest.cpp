// Offline signature updates and signature age, through the real `qkiosk`:
// keys and bundles made by `qkiosk signatures`, images made by mkfs/mtools.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <fcntl.h>

#include <ctime>
#include <set>

#include "Harness.h"

using namespace qktest;

namespace {

struct SignaturesSite {
    fs::path config, db, secret, publicKey;
};

// A kiosk with the test signatures in a database folder of its own and the site's update key.
SignaturesSite makeSite(Workspace& ws, const std::string& extra = "") {
    SignaturesSite s{ws.path() / "qkiosk.toml", ws.path() / "kioskdb", ws.path() / "site.key", ws.path() / "site.pub"};
    fs::create_directories(s.db);
    for (const auto& e : fs::directory_iterator(ws.database()))
        if (e.path().extension() == ".hdb") fs::copy_file(e.path(), s.db / e.path().filename());
    const auto r = run({QKIOSK_BIN, "signatures", "keygen", "--secret", s.secret.string(), "--public", s.publicKey.string()});
    REQUIRE(r.exitCode == 0);
    ws.write("qkiosk.toml", "db_dir = \"" + s.db.string() + "\"\nupdate_keys = [\"" + s.publicKey.string() + "\"]\nlog = \"" +
                                (ws.path() / "log.db").string() + "\"\nkiosk_key = \"" + (ws.path() / "kiosk.key").string() +
                                "\"\n" + extra);
    return s;
}

// A signature for "hello world\n", as a site would add one.
fs::path helloSignature(Workspace& ws) {
    const auto md5 = run({"sh", "-c", "printf 'hello world\\n' | md5sum | cut -c1-32"}).out.substr(0, 32);
    return ws.write("new/site.hdb", md5 + ":12:SignaturesSite.Test.Hello\n");
}

std::string listing(const fs::path& dir) {
    std::string out;
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    for (const auto& n : names) out += n + " " + sha256File(dir / n) + "\n";
    return out;
}

RunResult import(const SignaturesSite& s, const std::vector<std::string>& source) {
    std::vector<std::string> argv = {QKIOSK_BIN, "signatures", "import", "--config", s.config.string()};
    argv.insert(argv.end(), source.begin(), source.end());
    return run(argv);
}

}  // namespace

TEST_CASE("A site-signed bundle is verified, test-loaded and installed, and the next scan uses it", "[signatures]") {
    Workspace ws;
    const auto site = makeSite(ws);
    ws.write("stick/hello.txt", "hello world\n");
    const auto img = makeImage(ws, "hello.img", "fat16", "none", ws.path() / "stick");
    const auto before = scanImage(ws, img, {"--config", site.config.string(), "--db", site.db.string()});
    CHECK(before.exitCode == 0);

    const auto bundle = ws.path() / "bundle";
    REQUIRE(run({QKIOSK_BIN, "signatures", "bundle", "--key", site.secret.string(), "--out", bundle.string(),
                 helloSignature(ws).string(), (ws.database() / "test.hdb").string()}).exitCode == 0);
    const auto r = import(site, {"--dir", bundle.string()});
    INFO(r.out << r.err);
    CHECK(r.exitCode == 0);
    CHECK_THAT(r.out, Catch::Contains("Imported 2 file(s)") && Catch::Contains("3 signatures"));
    CHECK(fs::exists(site.db / "site.hdb"));
    CHECK_FALSE(fs::exists(site.db / "bundle.sig"));   // only databases go in
    // The officer's import is in the signed quarantine log.
    const auto logged = run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", "signature-update", "--config",
                             site.config.string()});
    CHECK_THAT(logged.out, Catch::Contains("\"site_signed\":true") && Catch::Contains("site.hdb"));
    // ... with who imported it (no --officer for import: the login running qkiosk).
    CHECK_THAT(logged.out, Catch::Contains("\"by\":\"") && Catch::Contains("(uid "));
    CHECK(run({QKIOSK_BIN, "log", "verify", "--config", site.config.string()}).exitCode == 0);

    const auto after = scanImage(ws, img, {"--config", site.config.string(), "--db", site.db.string()});
    CHECK(after.exitCode == 1);
    CHECK_FALSE(reasons(after.report, "infected", "/p0/hello.txt").empty());
    CHECK(after.report.at("engine").at("signatures") == 3);
}

TEST_CASE("A forged, altered, unsigned or fake official update is refused and the signatures in use stay", "[signatures]") {
    Workspace ws;
    const auto site = makeSite(ws);
    const auto bundle = ws.path() / "bundle";
    REQUIRE(run({QKIOSK_BIN, "signatures", "bundle", "--key", site.secret.string(), "--out", bundle.string(),
                 helloSignature(ws).string()}).exitCode == 0);
    const auto untouched = listing(site.db);
    RunResult r;

    SECTION("one byte of a file changed after signing") {
        REQUIRE(run({"sh", "-c", "printf x >> '" + (bundle / "site.hdb").string() + "'"}).exitCode == 0);
        r = import(site, {"--dir", bundle.string()});
        CHECK_THAT(r.err, Catch::Contains("site.hdb: differs from the signed bundle"));
    }
    SECTION("a file slipped in that the bundle does not list") {
        ws.write("bundle/extra.ndb", "Evil.Sig:0:*:41414141\n");
        r = import(site, {"--dir", bundle.string()});
        CHECK_THAT(r.err, Catch::Contains("extra.ndb: not listed in the signed bundle"));
    }
    SECTION("signed by a key the kiosk does not trust") {
        const auto other = ws.path() / "other";
        REQUIRE(run({QKIOSK_BIN, "signatures", "keygen", "--secret", (ws.path() / "o.key").string(), "--public",
                     (ws.path() / "o.pub").string()}).exitCode == 0);
        REQUIRE(run({QKIOSK_BIN, "signatures", "bundle", "--key", (ws.path() / "o.key").string(), "--out", other.string(),
                     (ws.path() / "new/site.hdb").string()}).exitCode == 0);
        r = import(site, {"--dir", other.string()});
        CHECK_THAT(r.err, Catch::Contains("does not match any of the kiosk's update keys"));
    }
    SECTION("plain signature files without a bundle") {
        r = import(site, {"--dir", (ws.path() / "new").string()});
        CHECK_THAT(r.err, Catch::Contains("only official .cvd files may come without a site-signed bundle"));
    }
    SECTION("a .cvd that Cisco Talos did not sign") {
        // A well-formed CVD (header, tar.gz of databases) with a made-up digital signature.
        const auto fake = ws.path() / "official";
        fs::create_directories(fake);
        const std::string py =
            "import tarfile,io,hashlib,sys,time\n"
            "b=io.BytesIO()\n"
            "t=tarfile.open(fileobj=b,mode='w:gz')\n"
            "d=open(sys.argv[1],'rb').read()\n"
            "i=tarfile.TarInfo('daily.hdb'); i.size=len(d); t.addfile(i,io.BytesIO(d)); t.close()\n"
            "body=b.getvalue()\n"
            "h=('ClamAV-VDB:27 Nov 2026 08-00 +0000:99999:1:%s:%s:talos:%d'%(hashlib.md5(body).hexdigest(),'A'*86,"
            "int(time.time()))).encode().ljust(512,b' ')\n"
            "open(sys.argv[2],'wb').write(h+body)\n";
        REQUIRE(run({"python3", "-c", py, (ws.path() / "new/site.hdb").string(), (fake / "daily.cvd").string()}).exitCode == 0);
        r = import(site, {"--dir", fake.string()});
        CHECK_THAT(r.err, Catch::Contains("daily.cvd: not a genuine ClamAV database"));
    }
    INFO(r.out << r.err);
    CHECK(r.exitCode == 1);
    CHECK_THAT(r.err, Catch::Contains("the signatures in use stay"));
    CHECK(listing(site.db) == untouched);
    CHECK_THAT(run({QKIOSK_BIN, "log", "list", "--kind", "signature-update-refused", "--config", site.config.string()}).out,
               Catch::Contains("signature-update-refused"));
    CHECK_THAT(run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", "signature-update-refused", "--config",
                    site.config.string()}).out,
               Catch::Contains("\"by\":\"") && Catch::Contains("\"reason\":\""));
}

TEST_CASE("An update on an officer's stick is imported only when the stick itself passes its scan", "[signatures]") {
    Workspace ws;
    const auto site = makeSite(ws);
    const auto bundle = ws.path() / "stick/qkiosk-signatures";
    const auto made = run({QKIOSK_BIN, "signatures", "bundle", "--key", site.secret.string(), "--out", bundle.string(),
                           helloSignature(ws).string(), (ws.database() / "test.hdb").string()});
    INFO(made.err);
    REQUIRE(made.exitCode == 0);
    ws.write("stick/notes.txt", "update for the kiosk\n");

    SECTION("a clean stick: imported") {
        const auto img = makeImage(ws, "update.img", "fat32", "mbr", ws.path() / "stick");
        const auto r = import(site, {"--image", img.string()});
        INFO(r.out << r.err);
        CHECK(r.exitCode == 0);
        CHECK(fs::exists(site.db / "site.hdb"));
    }
    SECTION("a stick that also carries malware: nothing imported") {
        ws.write("stick/tools/eicar.com", eicar());
        const auto img = makeImage(ws, "update.img", "fat32", "mbr", ws.path() / "stick");
        const auto r = import(site, {"--image", img.string()});
        INFO(r.out << r.err);
        CHECK(r.exitCode == 1);
        CHECK_THAT(r.err, Catch::Contains("did not pass its scan") && Catch::Contains("infected"));
        CHECK_FALSE(fs::exists(site.db / "site.hdb"));
    }
}

TEST_CASE("Signatures older than the configured maximum never PASS", "[signatures]") {
    Workspace ws;
    const auto site = makeSite(ws);
    // The databases were built ten days ago.
    const std::time_t tenDaysAgo = std::time(nullptr) - 10 * 86400;
    for (const auto& e : fs::directory_iterator(site.db)) {
        const timespec t[2] = {{tenDaysAgo, 0}, {tenDaysAgo, 0}};
        REQUIRE(::utimensat(AT_FDCWD, e.path().c_str(), t, 0) == 0);
    }
    ws.write("stick/a.txt", "a\n");
    const auto img = makeImage(ws, "a.img", "fat16", "none", ws.path() / "stick");

    SECTION("default limit of 7 days: FAIL signatures-outdated, and status says so") {
        const auto s = scanImage(ws, img, {"--config", site.config.string(), "--db", site.db.string()});
        INFO(s.out);
        CHECK(s.exitCode == 1);
        const auto outdated = reasons(s.report, "signatures-outdated");
        REQUIRE(outdated.size() == 1);
        CHECK_THAT(outdated[0].at("detail").get<std::string>(), Catch::Contains("10.0 days old") &&
                                                                    Catch::Contains("security officer"));
        const auto st = run({QKIOSK_BIN, "signatures", "status", "--config", site.config.string()});
        CHECK(st.exitCode == 1);
        CHECK_THAT(st.out, Catch::Contains("OUTDATED"));
    }
    SECTION("a site that allows 30 days: PASS") {
        const auto relaxed = ws.write("relaxed.toml", "max_signature_age_days = 30\n");
        const auto s = scanImage(ws, img, {"--config", relaxed.string(), "--db", site.db.string()});
        CHECK(s.exitCode == 0);
    }
}

TEST_CASE("An update older than the signatures in use is refused", "[signatures]") {
    Workspace ws;
    const auto site = makeSite(ws);
    // The signatures in use were built tomorrow (as far as their files say).
    const std::time_t tomorrow = std::time(nullptr) + 86400;
    for (const auto& e : fs::directory_iterator(site.db)) {
        const timespec t[2] = {{tomorrow, 0}, {tomorrow, 0}};
        REQUIRE(::utimensat(AT_FDCWD, e.path().c_str(), t, 0) == 0);
    }
    const auto bundle = ws.path() / "bundle";
    REQUIRE(run({QKIOSK_BIN, "signatures", "bundle", "--key", site.secret.string(), "--out", bundle.string(),
                 helloSignature(ws).string()}).exitCode == 0);
    const auto untouched = listing(site.db);
    const auto r = import(site, {"--dir", bundle.string()});
    INFO(r.out << r.err);
    CHECK(r.exitCode == 1);
    CHECK_THAT(r.err, Catch::Contains("the bundle is older than the signatures in use"));
    CHECK(listing(site.db) == untouched);
}
