// The evidence vault through the real `qkiosk`: scan --evidence keeps the
// offending files (by their SHA-256, 0400) and the media image of a FAIL
// with findings, root-only, with a signed chain-of-custody record; evidence
// that cannot be stored never changes the verdict and says why; evidence
// export re-hashes everything and names what was changed.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "Harness.h"

using namespace qktest;

namespace {

struct Owner {
    unsigned mode = 0;
    uid_t uid = 0;
};

Owner ownerOf(const fs::path& p) {
    struct stat st{};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return Owner{static_cast<unsigned>(st.st_mode & 07777), st.st_uid};
}

std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

struct EvidenceSite {
    fs::path config, log, vault;
};

EvidenceSite writeSite(Workspace& ws, const std::string& extra = "") {
    EvidenceSite s{ws.path() / "k.toml", ws.path() / "log.db", ws.path() / "vault"};
    ws.write("k.toml", "log = \"" + s.log.string() + "\"\nkiosk_key = \"" + (ws.path() / "kiosk.key").string() + "\"\n" + extra);
    return s;
}

// A stick with EICAR in a folder and inside a zip, an autorun.inf (blocked
// name), a program posing as a PDF (type mismatch), and a harmless file.
fs::path infectedStick(Workspace& ws, const std::vector<std::string>& extra = {}) {
    requireTool("zip");
    ws.write("stick/readme.txt", "vendor notes\n");
    ws.write("stick/tools/eicar.com", eicar());
    ws.write("stick/autorun.inf", "[autorun]\nopen=tools\\eicar.com\n");
    ws.copy("/bin/true", "stick/report.pdf");
    ws.write("zip/folder/again.com", eicar());
    REQUIRE(run({"sh", "-c", "cd '" + (ws.path() / "zip").string() + "' && zip -q -r ../stick/archive.zip folder"}).exitCode == 0);
    return makeImage(ws, "stick.img", "fat32", "mbr", ws.path() / "stick", extra);
}

json fileEntry(const json& files, const std::string& path) {
    for (const auto& f : files)
        if (f.at("path") == path) return f;
    FAIL("no entry for " << path << " in " << files.dump());
    return {};
}

Scan scanWithEvidence(Workspace& ws, const EvidenceSite& site, const fs::path& image, const fs::path& vault) {
    return scanImage(ws, image, {"--config", site.config.string(), "--log", site.log.string(), "--evidence", vault.string()});
}

}  // namespace

TEST_CASE("An infected stick scanned with --evidence leaves a root-only case: the offending files, the media image, a signed record",
          "[evidence]") {
    Workspace ws;
    const auto site = writeSite(ws);
    const auto image = infectedStick(ws);
    const auto s = scanWithEvidence(ws, site, image, site.vault);
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    const std::string ticket = s.report.at("ticket_id");
    const auto caseDir = site.vault / ticket;
    const auto& ev = s.report.at("evidence");
    REQUIRE(ev.is_object());
    CHECK(ev.at("case") == caseDir.string());
    CHECK_FALSE(ev.contains("missing"));
    CHECK_THAT(s.out, Catch::Contains("Evidence:") && Catch::Contains(caseDir.string()));

    // Root-only: the vault and the case 0700, every stored item 0400 (never executable), all owned by the kiosk's user.
    CHECK(ownerOf(site.vault).mode == 0700);
    CHECK(ownerOf(caseDir).mode == 0700);
    CHECK(ownerOf(caseDir).uid == ::geteuid());
    for (const auto& name : entries(caseDir)) {
        INFO(name);
        CHECK(ownerOf(caseDir / name).mode == 0400);
        CHECK(ownerOf(caseDir / name).uid == ::geteuid());
    }
    // Nothing half-made is left behind.
    CHECK(entries(site.vault) == std::vector<std::string>{ticket});

    SECTION("each offending file is stored whole, named by its SHA-256 only, and matches the manifest") {
        const std::string eicarSha = sha256File(ws.path() / "stick/tools/eicar.com");
        CHECK(slurp(caseDir / eicarSha) == eicar());
        const auto e = fileEntry(ev.at("files"), "/p1/tools/eicar.com");
        CHECK(e.at("sha256") == eicarSha);
        CHECK(e.at("stored") == eicarSha);
        CHECK(e.at("size") == eicar().size());
        // A hit inside an archive keeps the whole archive.
        const std::string zipSha = sha256File(ws.path() / "stick/archive.zip");
        CHECK(fileEntry(ev.at("files"), "/p1/archive.zip").at("stored") == zipSha);
        CHECK(sha256File(caseDir / zipSha) == zipSha);
        // Blocked names and disguised programs are evidence too; harmless files are not.
        CHECK(fileEntry(ev.at("files"), "/p1/autorun.inf").at("stored") == sha256File(ws.path() / "stick/autorun.inf"));
        CHECK(fileEntry(ev.at("files"), "/p1/report.pdf").at("stored") == sha256File(ws.path() / "stick/report.pdf"));
        CHECK(ev.at("files").size() == 4);
        CHECK_FALSE(fs::exists(caseDir / sha256File(ws.path() / "stick/readme.txt")));
        // The manifest in the report says the same.
        for (const auto& f : s.report.at("files"))
            if (f.at("path") == "/p1/tools/eicar.com") CHECK(f.at("sha256") == eicarSha);
    }

    SECTION("the media image is the whole media, with its SHA-256") {
        const std::string mediaSha = sha256File(image);
        CHECK(sha256File(caseDir / "media.img") == mediaSha);
        CHECK(fs::file_size(caseDir / "media.img") == fs::file_size(image));
        CHECK(ev.at("image").at("sha256") == mediaSha);
        CHECK(ev.at("image").at("size") == fs::file_size(image));
    }

    SECTION("case.json says what the case holds, why, and from where") {
        const auto c = json::parse(slurp(caseDir / "case.json"));
        CHECK(c.at("ticket_id") == ticket);
        CHECK(c.at("verdict") == "fail");
        CHECK(c.at("image").at("sha256") == sha256File(image));
        const auto e = fileEntry(c.at("files"), "/p1/archive.zip");
        REQUIRE(e.at("findings").size() == 1);
        CHECK(e.at("findings")[0].at("code") == "infected");
        CHECK_THAT(e.at("findings")[0].at("path").get<std::string>(), Catch::StartsWith("/p1/archive.zip!"));
        CHECK(fileEntry(c.at("files"), "/p1/report.pdf").at("findings")[0].at("code") == "type-mismatch");
        CHECK(c.at("report").at("manifest_sha256") == s.report.at("manifest_sha256"));
        CHECK(ev.at("case_sha256") == sha256File(caseDir / "case.json"));
    }

    SECTION("the quarantine log holds the chain of custody, signed") {
        const auto show = run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", "evidence-collected", "--config",
                               site.config.string(), "--log", site.log.string()});
        REQUIRE(show.exitCode == 0);
        const auto rec = json::parse(show.out);
        CHECK(rec.at("ticket_id") == ticket);
        CHECK(rec.at("data").at("case") == caseDir.string());
        CHECK(rec.at("data").at("image").at("sha256") == sha256File(image));
        CHECK(rec.at("data").at("case_sha256") == sha256File(caseDir / "case.json"));
        CHECK(fileEntry(rec.at("data").at("files"), "/p1/tools/eicar.com").at("sha256") == sha256File(ws.path() / "stick/tools/eicar.com"));
        const auto v = run({QKIOSK_BIN, "log", "verify", "--config", site.config.string(), "--log", site.log.string()});
        CHECK(v.exitCode == 0);
        CHECK_THAT(v.out, Catch::Contains("OK: 3 records"));   // the session, its evidence, and this export
    }

    SECTION("evidence list and show name the case") {
        const auto list = run({QKIOSK_BIN, "evidence", "list", "--vault", site.vault.string()});
        INFO(list.out << list.err);
        CHECK(list.exitCode == 0);
        CHECK_THAT(list.out, Catch::Contains(ticket) && Catch::Contains("fail") && Catch::Contains("4/4") && Catch::Contains("yes"));
        const auto show = run({QKIOSK_BIN, "evidence", "show", ticket, "--vault", site.vault.string()});
        CHECK(show.exitCode == 0);
        CHECK(show.out == slurp(caseDir / "case.json"));
        CHECK(run({QKIOSK_BIN, "evidence", "show", "20000101-000000-00000000", "--vault", site.vault.string()}).exitCode == 2);
        CHECK(run({QKIOSK_BIN, "evidence", "show", "../etc", "--vault", site.vault.string()}).exitCode == 2);
    }
}

TEST_CASE("A clean stick leaves no case in the vault", "[evidence]") {
    Workspace ws;
    const auto site = writeSite(ws);
    ws.write("clean/readme.txt", "nothing to see\n");
    const auto s = scanWithEvidence(ws, site, makeImage(ws, "clean.img", "fat16", "none", ws.path() / "clean"), site.vault);
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 0);
    CHECK(s.report.at("evidence").is_null());
    CHECK(entries(site.vault).empty());
    CHECK(run({QKIOSK_BIN, "log", "list", "--kind", "evidence-collected", "--config", site.config.string(), "--log",
               site.log.string()}).out.empty());
}

TEST_CASE("Media larger than evidence_image_limit: the files are kept, the image is not, and the case says why", "[evidence]") {
    Workspace ws;
    const auto site = writeSite(ws, "evidence_image_limit = \"1 MiB\"\n");
    const auto s = scanWithEvidence(ws, site, infectedStick(ws), site.vault);
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    const auto caseDir = site.vault / s.report.at("ticket_id").get<std::string>();
    CHECK_FALSE(fs::exists(caseDir / "media.img"));
    CHECK(fs::exists(caseDir / sha256File(ws.path() / "stick/tools/eicar.com")));
    const auto c = json::parse(slurp(caseDir / "case.json"));
    CHECK_FALSE(c.at("image").contains("sha256"));
    CHECK_THAT(c.at("image").at("skipped").get<std::string>(), Catch::Contains("evidence_image_limit") && Catch::Contains("1.0 MiB"));
    CHECK(s.report.at("evidence").at("image").at("skipped") == c.at("image").at("skipped"));
    const auto list = run({QKIOSK_BIN, "evidence", "list", "--vault", site.vault.string()});
    CHECK_THAT(list.out, Catch::Contains("no: the media") && Catch::Contains("evidence_image_limit"));
}

TEST_CASE("Evidence that cannot be stored leaves the verdict FAIL and says what is missing and why", "[evidence]") {
    Workspace ws;
    SECTION("a vault that is not a folder") {
        const auto site = writeSite(ws);
        const auto notAFolder = ws.write("not-a-folder", "x");
        const auto s = scanWithEvidence(ws, site, infectedStick(ws), notAFolder);
        INFO(s.out << s.err);
        REQUIRE(s.exitCode == 1);
        CHECK(s.report.at("verdict") == "fail");
        const auto& ev = s.report.at("evidence");
        CHECK(ev.at("case").is_null());
        CHECK_THAT(ev.at("missing").get<std::string>(), Catch::Contains(notAFolder.string()) && Catch::Contains("not a folder"));
        for (const auto& f : ev.at("files")) CHECK(f.at("stored").is_null());
        CHECK_THAT(s.out, Catch::Contains("Evidence:   NOT STORED"));
        // The log says so, signed.
        const auto rec = run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", "evidence-not-stored", "--config",
                              site.config.string(), "--log", site.log.string()});
        CHECK_THAT(rec.out, Catch::Contains("not a folder") && Catch::Contains(sha256File(ws.path() / "stick/tools/eicar.com")));
    }
    SECTION("a disk without room beyond the reserve kept for the quarantine log") {
        const auto site = writeSite(ws, "evidence_reserve = \"1048576 GiB\"\n");
        const auto s = scanWithEvidence(ws, site, infectedStick(ws), site.vault);
        INFO(s.out << s.err);
        REQUIRE(s.exitCode == 1);
        const auto& ev = s.report.at("evidence");
        for (const auto& f : ev.at("files")) {
            CHECK(f.at("stored").is_null());
            CHECK_THAT(f.at("missing").get<std::string>(), Catch::Contains("evidence_reserve"));
        }
        CHECK_THAT(ev.at("image").at("skipped").get<std::string>(), Catch::Contains("evidence_reserve"));
        // The case still records what should have been there.
        const auto c = json::parse(slurp(ev.at("case").get<std::string>() + "/case.json"));
        CHECK(c.at("files").size() == 4);
    }
}

TEST_CASE("A full vault disk: no crash, the verdict stays FAIL, and each missing piece says why", "[evidence]") {
    Workspace ws;
    const SmallDisk disk(ws.path() / "small", "1m");
    const auto& small = disk.path();
    const auto site = writeSite(ws, "evidence_reserve = 1\n");
    const auto image = infectedStick(ws);
    disk.fill();
    const auto s = scanWithEvidence(ws, site, image, small / "vault");
    INFO(s.out << s.err);
    REQUIRE(s.exitCode == 1);
    const auto& ev = s.report.at("evidence");
    for (const auto& f : ev.at("files")) CHECK(f.at("stored").is_null());
    CHECK_THAT(ev.at("image").at("skipped").get<std::string>(), Catch::Contains("0 bytes free"));
    CHECK_THAT(ev.at("missing").get<std::string>(), Catch::Contains("case.json") && Catch::Contains("No space left"));
    // The log (on another disk) has the hashes of what could not be kept.
    const auto rec = run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", "evidence-collected", "--config",
                          site.config.string(), "--log", site.log.string()});
    CHECK_THAT(rec.out, Catch::Contains(sha256File(ws.path() / "stick/tools/eicar.com")));
}

TEST_CASE("evidence export re-hashes every file: an intact case leaves 0400 copies and a log record, a changed one nothing",
          "[evidence]") {
    Workspace ws;
    const auto site = writeSite(ws);
    const auto s = scanWithEvidence(ws, site, infectedStick(ws), site.vault);
    REQUIRE(s.exitCode == 1);
    const std::string ticket = s.report.at("ticket_id");
    const auto caseDir = site.vault / ticket;
    const auto out = ws.path() / "officer-stick";
    fs::create_directories(out);
    const auto exportCase = [&] {
        return run({QKIOSK_BIN, "evidence", "export", ticket, "--to", out.string(), "--officer", "山田 太郎", "--vault",
                    site.vault.string(), "--config", site.config.string(), "--log", site.log.string()});
    };
    const auto logged = [&](const std::string& kind) {
        return run({QKIOSK_BIN, "log", "export", "--format", "jsonl", "--kind", kind, "--config", site.config.string(), "--log",
                    site.log.string()}).out;
    };
    const std::string eicarSha = sha256File(ws.path() / "stick/tools/eicar.com");

    SECTION("an intact case is copied, checkable with sha256sum, and the export is logged") {
        const auto r = exportCase();
        INFO(r.out << r.err);
        REQUIRE(r.exitCode == 0);
        const auto copy = out / ticket;
        for (const auto& name : entries(caseDir)) {
            INFO(name);
            REQUIRE(fs::exists(copy / name));
            CHECK(ownerOf(copy / name).mode == 0400);
            CHECK(sha256File(copy / name) == sha256File(caseDir / name));
        }
        CHECK(slurp(copy / eicarSha) == eicar());
        CHECK(run({"sh", "-c", "cd '" + copy.string() + "' && sha256sum --quiet -c SHA256SUMS"}).exitCode == 0);
        const auto rec = json::parse(logged("evidence-exported"));
        CHECK(rec.at("ticket_id") == ticket);
        CHECK(rec.at("data").at("officer") == "山田 太郎");
        CHECK(rec.at("data").at("to") == copy.string());
        CHECK(fileEntry(rec.at("data").at("files"), "/p1/tools/eicar.com").at("sha256") == eicarSha);
        CHECK(run({QKIOSK_BIN, "log", "verify", "--config", site.config.string(), "--log", site.log.string()}).exitCode == 0);
        // Never over an earlier export.
        CHECK(exportCase().exitCode == 2);
    }
    SECTION("a stored file changed in the vault is named, and nothing leaves") {
        std::ofstream(caseDir / eicarSha, std::ios::binary | std::ios::in | std::ios::out).write("Y", 1);
        const auto r = exportCase();
        INFO(r.out << r.err);
        CHECK(r.exitCode == 1);
        CHECK_THAT(r.out, Catch::Contains("MISMATCH") && Catch::Contains(eicarSha) && Catch::Contains("/p1/tools/eicar.com"));
        CHECK(entries(out).empty());
        CHECK_THAT(logged("evidence-export-refused"), Catch::Contains(eicarSha) && Catch::Contains("山田 太郎"));
        CHECK(logged("evidence-exported").empty());
    }
    SECTION("a changed media image is named too") {
        std::ofstream(caseDir / "media.img", std::ios::binary | std::ios::in | std::ios::out).write("Y", 1);
        const auto r = exportCase();
        CHECK(r.exitCode == 1);
        CHECK_THAT(r.out, Catch::Contains("media.img"));
        CHECK(entries(out).empty());
    }
    SECTION("a case.json rewritten to match changed files disagrees with the log") {
        auto text = slurp(caseDir / "case.json");
        const auto at = text.find(eicarSha);
        REQUIRE(at != std::string::npos);
        text[at] = text[at] == '0' ? '1' : '0';
        std::ofstream(caseDir / "case.json", std::ios::binary | std::ios::trunc) << text;
        const auto r = exportCase();
        CHECK(r.exitCode == 1);
        CHECK_THAT(r.out, Catch::Contains("case.json") && Catch::Contains("quarantine log"));
        CHECK(entries(out).empty());
    }
}
