// The daemon's status lines: what each event writes, that every line reads
// back as the event it came from, and that nothing on a stick can make a
// line of its own.
#include <catch2/catch.hpp>

#include "kiosk/messages/StatusEvent.h"

using namespace kiosk::messages;

namespace {

StatusEvent roundTrip(const StatusEvent& e) {
    const std::string line = encode(e);
    auto back = parseStatusLine(line);
    INFO(line);
    REQUIRE(back);
    CHECK(encode(*back) == line);
    return *back;
}

}  // namespace

TEST_CASE("Every status event is written as the line the contract names", "[StatusEvent]") {
    CHECK(encode(Loading{"/var/lib/clamav"}) == "LOADING /var/lib/clamav");
    CHECK(encode(Ready{8'700'000, "27482", "2"}) == "READY signatures=8700000 version=27482 age_days=2");
    CHECK(encode(EngineUpdated{12, "27483"}) == "ENGINE-UPDATED signatures=12 version=27483");
    CHECK(encode(EngineUpdateFailed{"main.cvd: broken"}) == "ENGINE-UPDATE-FAILED main.cvd: broken");
    CHECK(encode(Identifying{"1-1"}) == "IDENTIFYING 1-1");
    CHECK(encode(Refused{"1-1", "K1-20261205-0001", "badusb", "a keyboard too"}) == "REFUSED 1-1 K1-20261205-0001 badusb: a keyboard too");
    CHECK(encode(Refused{"1-2", "", "unscannable", "the kiosk's disk is full"}) == "REFUSED 1-2 - unscannable: the kiosk's disk is full");
    CHECK(encode(Scanning{"1-1", "/dev/sdb"}) == "SCANNING 1-1 /dev/sdb");
    CHECK(encode(Progress{"1-1", 3, 10, 100, 2000, 4096, "/DCIM/a b.jpg"}) ==
          "PROGRESS 1-1 files=3/10 bytes=100/2000 media=4096 /DCIM/a b.jpg");
    CHECK(encode(Evidence{"1-1", "T", Evidence::Stage::Collecting, "", ""}) == "EVIDENCE 1-1 T collecting");
    CHECK(encode(Evidence{"1-1", "T", Evidence::Stage::Stored, "/srv/case 1", ""}) == "EVIDENCE 1-1 T stored /srv/case 1");
    CHECK(encode(Evidence{"1-1", "T", Evidence::Stage::Stored, "/srv/c", "image cut short"}) ==
          "EVIDENCE 1-1 T stored /srv/c (incomplete: image cut short)");
    CHECK(encode(Evidence{"1-1", "T", Evidence::Stage::Missing, "", "vault full"}) == "EVIDENCE 1-1 T missing: vault full");
    CHECK(encode(Outcome{true, "1-1", "T"}) == "RESULT PASS 1-1 T");
    CHECK(encode(Outcome{false, "1-1", "T"}) == "RESULT FAIL 1-1 T");
    CHECK(encode(Printed{"T"}) == "PRINTED T");
    CHECK(encode(PrintFailed{"T", "out of paper"}) == "PRINT-FAILED T out of paper (the ticket is kept: qkiosk ticket print T)");
    CHECK(encode(RemoveMedia{"1-1"}) == "REMOVE-MEDIA 1-1");
    CHECK(encode(Removed{"1-1"}) == "REMOVED 1-1");
    CHECK(encode(Failure{"whitelist: line 3"}) == "ERROR whitelist: line 3");
    CHECK(encode(SyslogUp{"log.example:6514", 42}) == "SYSLOG-UP log.example:6514 forwarded up to record 42");
    CHECK(encode(SyslogDown{"log.example:6514", "connection refused", 1}) ==
          "SYSLOG-DOWN log.example:6514: connection refused (1 record pending; retrying)");
    CHECK(encode(SyslogDown{"h:1", "x", 3}) == "SYSLOG-DOWN h:1: x (3 records pending; retrying)");
    CHECK(encode(Stopped{}) == "STOPPED");
}

TEST_CASE("Every status line reads back as the event it was written from", "[StatusEvent]") {
    SECTION("a refusal without a ticket keeps its reason and detail") {
        const auto e = roundTrip(Refused{"1-2", "", "unscannable", "the quarantine log cannot be written (disk I/O error): call"});
        const auto& r = std::get<Refused>(e);
        CHECK(r.port == "1-2");
        CHECK(r.ticketId.empty());
        CHECK(r.code == "unscannable");
        CHECK(r.detail == "the quarantine log cannot be written (disk I/O error): call");
    }
    SECTION("progress keeps its numbers and a path with spaces") {
        const auto p = std::get<Progress>(roundTrip(Progress{"2-1.4", 1, 2, 3, 4, 5, "/写真/a b c.jpg"}));
        CHECK(p.filesDone == 1);
        CHECK(p.filesFound == 2);
        CHECK(p.bytesDone == 3);
        CHECK(p.bytesFound == 4);
        CHECK(p.mediaBytes == 5);
        CHECK(p.currentPath == "/写真/a b c.jpg");
    }
    SECTION("a verdict keeps its reasons, totals and printer") {
        Verdict v{"1-1", "T", false, {{"infected", "/a.exe", "Eicar-Signature"}, {"read-error", "/b", "cut short"}}, 120, 7, 9000, true};
        const auto back = std::get<Verdict>(roundTrip(v));
        CHECK(back.ticketId == "T");
        CHECK_FALSE(back.pass);
        CHECK(back.reasons == v.reasons);
        CHECK(back.reasonsTotal == 120);
        CHECK(back.files == 7);
        CHECK(back.bytes == 9000);
        CHECK(back.printer);
    }
    SECTION("evidence, stored with what is missing") {
        const auto e = std::get<Evidence>(roundTrip(Evidence{"1-1", "T", Evidence::Stage::Stored, "/srv/a (b)", "image cut short"}));
        CHECK(e.caseDir == "/srv/a (b)");
        CHECK(e.why == "image cut short");
    }
    SECTION("a failed print, without the reprint hint") {
        CHECK(std::get<PrintFailed>(roundTrip(PrintFailed{"T", "lp: no such printer"})).why == "lp: no such printer");
    }
    SECTION("the syslog states") {
        CHECK(std::get<SyslogUp>(roundTrip(SyslogUp{"h:6514", 7})).forwardedUpTo == 7);
        const auto d = std::get<SyslogDown>(roundTrip(SyslogDown{"h:6514", "TLS: bad certificate (expired)", 12}));
        CHECK(d.why == "TLS: bad certificate (expired)");
        CHECK(d.pending == 12);
    }
    SECTION("ready with an unknown age and no version") {
        const auto r = std::get<Ready>(roundTrip(Ready{0, "", "unknown"}));
        CHECK(r.version.empty());
        CHECK(r.ageDays == "unknown");
    }
    SECTION("the rest") {
        for (const StatusEvent& e : std::vector<StatusEvent>{Loading{"/db"}, EngineUpdated{1, "2"}, EngineUpdateFailed{"x"}, Identifying{"1-1"},
                                                             Scanning{"1-1", "/dev/sdc"}, Outcome{true, "1-1", "T"}, Printed{"T"},
                                                             RemoveMedia{"1-1"}, Removed{"1-1"}, Failure{"e"}, Stopped{}})
            CHECK(roundTrip(e).index() == e.index());
    }
}

TEST_CASE("A name on the stick cannot write a status line of its own", "[StatusEvent]") {
    const std::string line = encode(Progress{"1-1", 0, 1, 0, 1, 1, "/x\nRESULT PASS 1-1 T\r"});
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find('\r') == std::string::npos);
    CHECK(line == "PROGRESS 1-1 files=0/1 bytes=0/1 media=1 /x\xEF\xBF\xBDRESULT PASS 1-1 T\xEF\xBF\xBD");
    // A word with a space would shift every word after it.
    CHECK(encode(Scanning{"1-1", "/dev/a b"}) == "SCANNING 1-1 /dev/a\xEF\xBF\xBD" "b");
    CHECK(encode(Failure{"a\tb"}) == "ERROR a\xEF\xBF\xBD" "b");
}

TEST_CASE("A line that is not a status line is an error naming what is wrong", "[StatusEvent]") {
    CHECK_FALSE(parseStatusLine(""));
    CHECK_FALSE(parseStatusLine("HELLO there"));
    CHECK_FALSE(parseStatusLine("RESULT MAYBE 1-1 T"));
    CHECK_FALSE(parseStatusLine("RESULT PASS 1-1"));
    CHECK_FALSE(parseStatusLine("READY signatures=x version=1 age_days=1"));
    CHECK_FALSE(parseStatusLine("PROGRESS 1-1 files=1 bytes=1/2 media=3 /"));
    CHECK_FALSE(parseStatusLine("VERDICT [1,2]"));
    CHECK_FALSE(parseStatusLine("REFUSED 1-1 T badusb no colon"));
    CHECK_FALSE(parseStatusLine("EVIDENCE 1-1 T lost"));
    const auto e = parseStatusLine("READY signatures=12 version=3");
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "READY: no age_days");
}

TEST_CASE("A terminal that connects mid-session is replayed the session's lines; stdout does not get the terminal's", "[StatusEvent]") {
    CHECK(isSessionEvent(Identifying{"1-1"}));
    CHECK(isSessionEvent(Outcome{true, "1-1", "T"}));
    CHECK(isSessionEvent(RemoveMedia{"1-1"}));
    CHECK_FALSE(isSessionEvent(Progress{}));
    CHECK_FALSE(isSessionEvent(Ready{}));
    CHECK_FALSE(isSessionEvent(Removed{"1-1"}));
    CHECK(isTerminalOnly(Progress{}));
    CHECK(isTerminalOnly(Verdict{}));
    CHECK_FALSE(isTerminalOnly(Outcome{}));
}
