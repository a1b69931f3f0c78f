// What an officer sees of the quarantine log: filters that are checked before
// they are used, a session in one line, and export files exactly as
// `qkiosk log export` writes them (a spreadsheet never evaluates a field).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "kiosk/log/LogQuery.h"

using namespace kiosk::log;
using nlohmann::json;

namespace {

Record record(std::int64_t seq, const std::string& time, const std::string& kind, const std::string& ticket,
              const json& data) {
    Record r;
    r.seq = seq;
    r.time = time;
    r.kind = kind;
    r.ticketId = ticket;
    r.data = data.dump();
    r.prevHash = std::string(64, '0');
    r.hash = std::string(64, 'a');
    return r;
}

json approvedDevice(const std::string& owner) {
    return {{"vendor_id", "0781"}, {"product_id", "5567"}, {"serial", "4C530001"},
            {"approval", {{"owner", owner}, {"purpose", "CT maintenance"}, {"expires", "2027-03-31"}}}};
}

std::vector<Record> sampleLog() {
    return {
        record(1, "2026-11-26T09:00:00Z", "daemon-start", "", {{"kiosk_id", "kiosk-1"}}),
        record(2, "2026-11-27T03:43:24Z", "session", "20261127-034324-aa3c0044",
               {{"verdict", "fail"},
                {"device", approvedDevice("Example Medical Systems K.K.")},
                {"reasons", json::array({{{"code", "infected"}, {"path", "/p1/a.exe"}, {"detail", "Eicar"}},
                                         {{"code", "blocked-file-type"}, {"path", "/p1/b.js"}},
                                         {{"code", "infected"}, {"path", "/p1/c.exe"}, {"detail", "Eicar"}}})},
                {"manifest_sha256", "ab12"}}),
        record(3, "2026-11-28T10:00:00Z", "session", "20261128-100000-bb000001",
               {{"verdict", "pass"}, {"device", nullptr}, {"reasons", json::array()}}),
    };
}

Filter filter() { return Filter{}; }

}  // namespace

TEST_CASE("A filter is checked before it is used, and the error names the field", "[log][LogQuery]") {
    Filter f;
    CHECK(checkFilter(f).ok());

    SECTION("days are real dates written YYYY-MM-DD") {
        f.from = "2026-11-27";
        f.to = "2024-02-29";
        CHECK(checkFilter(f).ok());
        for (const char* bad : {"2026-13-01", "2026-02-30", "2025-02-29", "2026-1-5", "27.11.2026", "2026-11-27T00", ""}) {
            f.from = bad;
            const auto st = checkFilter(f);
            INFO(bad);
            REQUIRE_FALSE(st.ok());
            CHECK_THAT(st.error().message, Catch::StartsWith("from: ") && Catch::Contains("YYYY-MM-DD"));
        }
        f.from.reset();
        f.to = "yesterday";
        REQUIRE_FALSE(checkFilter(f).ok());
        CHECK_THAT(checkFilter(f).error().message, Catch::StartsWith("to: "));
    }
    SECTION("a verdict is pass or fail") {
        f.verdict = "pass";
        CHECK(checkFilter(f).ok());
        f.verdict = "PASS";
        REQUIRE_FALSE(checkFilter(f).ok());
        CHECK_THAT(checkFilter(f).error().message, Catch::StartsWith("verdict: "));
    }
    SECTION("a device is VID:PID or VID:PID:SERIAL with 4 hex digits each") {
        for (const char* good : {"0781:5567", "0781:5567:4C530001", "ABCD:ef01:x"}) {
            f.device = good;
            INFO(good);
            CHECK(checkFilter(f).ok());
        }
        for (const char* bad : {"0781", "781:5567", "0781:55670", "0781-5567", "07g1:5567", "0781:5567:", "0781:5567:a\tb"}) {
            f.device = bad;
            INFO(bad);
            REQUIRE_FALSE(checkFilter(f).ok());
            CHECK_THAT(checkFilter(f).error().message, Catch::StartsWith("device: ") && Catch::Contains("VID:PID"));
        }
    }
}

TEST_CASE("Filters select records by day, kind, verdict, device and owner", "[log][LogQuery]") {
    const auto log = sampleLog();
    auto selected = [&](const Filter& f) {
        std::vector<std::int64_t> seqs;
        for (const auto& r : log)
            if (matches(r, f)) seqs.push_back(r.seq);
        return seqs;
    };
    Filter f;
    CHECK(selected(f) == std::vector<std::int64_t>{1, 2, 3});
    f.from = "2026-11-27";
    f.to = "2026-11-27";
    CHECK(selected(f) == std::vector<std::int64_t>{2});
    f = filter();
    f.verdict = "pass";
    CHECK(selected(f) == std::vector<std::int64_t>{3});
    f = filter();
    f.device = "0781:5567";
    CHECK(selected(f) == std::vector<std::int64_t>{2});
    f.device = "0781:5567:4C530001";
    CHECK(selected(f) == std::vector<std::int64_t>{2});
    f.device = "0781:5567:OTHER";
    CHECK(selected(f).empty());
    f = filter();
    f.owner = "Medical";
    CHECK(selected(f) == std::vector<std::int64_t>{2});
    f = filter();
    f.kind = "daemon-start";
    CHECK(selected(f) == std::vector<std::int64_t>{1});
}

TEST_CASE("A session in one line: its device, owner and each reason code once, in order", "[log][LogQuery]") {
    const auto log = sampleLog();
    const json s = kiosk::messages::toJson(sessionSummary(log[1]));
    CHECK(s == json{{"seq", 2},
                    {"time", "2026-11-27T03:43:24Z"},
                    {"ticket_id", "20261127-034324-aa3c0044"},
                    {"verdict", "fail"},
                    {"device", "0781:5567:4C530001"},
                    {"owner", "Example Medical Systems K.K."},
                    {"reasons", json::array({"infected", "blocked-file-type"})}});

    SECTION("an image scan has no device and no owner; a PASS no reasons") {
        const json p = kiosk::messages::toJson(sessionSummary(log[2]));
        CHECK(p.at("device") == "");
        CHECK(p.at("owner") == "");
        CHECK(p.at("reasons") == json::array());
        CHECK(p.at("verdict") == "pass");
    }
    SECTION("a record whose data is not an object gives empty fields, never an exception") {
        Record r = log[1];
        r.data = "not json";
        const json e = kiosk::messages::toJson(sessionSummary(r));
        CHECK(e.at("verdict") == "");
        CHECK(e.at("reasons") == json::array());
    }
}

TEST_CASE("The CSV export is what Excel opens as text, with each selected record once", "[log][LogQuery]") {
    const auto log = sampleLog();
    Filter f;
    f.kind = "session";
    std::size_t count = 0;
    const std::string csv = exportText(log, f, ExportFormat::Csv, &count);
    CHECK(count == 2);
    const std::string expected = std::string("\xEF\xBB\xBF") +
        "seq,time,kind,ticket_id,verdict,device,owner,reasons,manifest_sha256,record_hash\r\n"
        "2,\"2026-11-27T03:43:24Z\",\"session\",\"20261127-034324-aa3c0044\",\"fail\",\"0781:5567:4C530001\","
        "\"Example Medical Systems K.K.\",\"infected /p1/a.exe: Eicar; blocked-file-type /p1/b.js; infected /p1/c.exe: Eicar\","
        "\"ab12\",\"" + std::string(64, 'a') + "\"\r\n"
        "3,\"2026-11-28T10:00:00Z\",\"session\",\"20261128-100000-bb000001\",\"pass\",\"\",\"\",\"\",\"\",\"" +
        std::string(64, 'a') + "\"\r\n";
    CHECK(csv == expected);

    SECTION("a field a spreadsheet would evaluate starts with a quote mark, and quotes are doubled") {
        CHECK(csvField("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"");
        for (const char* risky : {"+1", "-1", "@SUM(A1)", "\tx", "\rx"}) CHECK(csvField(risky).substr(0, 2) == "\"'");
        CHECK(csvField("plain") == "\"plain\"");
        CHECK(csvField("") == "\"\"");
        std::vector<Record> evil = {record(9, "2026-11-27T00:00:00Z", "session", "T",
                                           {{"verdict", "pass"}, {"device", approvedDevice("=cmd|' /C calc'!A0")}})};
        CHECK_THAT(exportText(evil, Filter{}, ExportFormat::Csv), Catch::Contains(",\"'=cmd|' /C calc'!A0\","));
    }
    SECTION("nothing selected: the header alone") {
        Filter none;
        none.verdict = "pass";
        none.from = "2030-01-01";
        CHECK(exportText(log, none, ExportFormat::Csv, &count) ==
              "\xEF\xBB\xBFseq,time,kind,ticket_id,verdict,device,owner,reasons,manifest_sha256,record_hash\r\n");
        CHECK(count == 0);
    }
}

TEST_CASE("The JSON lines export is one whole record per line", "[log][LogQuery]") {
    const auto log = sampleLog();
    std::size_t count = 0;
    const std::string text = exportText(log, Filter{}, ExportFormat::Jsonl, &count);
    CHECK(count == 3);
    std::vector<json> lines;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(json::parse(text.substr(start, nl - start)));
    CHECK(start == text.size());
    REQUIRE(lines.size() == 3);
    CHECK(lines[1] == recordJson(log[1]));
    CHECK(lines[1].at("data").at("device").at("serial") == "4C530001");
    CHECK(lines[2].at("hash") == std::string(64, 'a'));
}

TEST_CASE("The log-exported record says who took what, with only the filters given", "[log][LogQuery]") {
    Filter f;
    CHECK(exportRecordData(f, ExportFormat::Jsonl, "-", "root (uid 0)") ==
          json{{"format", "jsonl"}, {"out", "-"}, {"by", "root (uid 0)"}});
    f.verdict = "fail";
    f.from = "2026-11-01";
    CHECK(exportRecordData(f, ExportFormat::Csv, "/media/x.csv", "佐藤 花子") ==
          json{{"format", "csv"},
               {"out", "/media/x.csv"},
               {"by", "佐藤 花子"},
               {"filter", {{"verdict", "fail"}, {"from", "2026-11-01"}}}});
    CHECK(exportFormatNamed("csv") == ExportFormat::Csv);
    CHECK(exportFormatNamed("jsonl") == ExportFormat::Jsonl);
    CHECK_FALSE(exportFormatNamed("xlsx"));
}
