// The kiosk terminal against the daemon: its status lines, as `qkiosk run`
// writes them to the ui_socket, become the screens staff see.
#include <catch2/catch.hpp>

#include "qkiosk/ui/DaemonFeed.h"

using namespace kiosk::ui;

TEST_CASE("The daemon's status lines become the screens of one session, start to removal", "[ui][daemon]") {
    DaemonFeed feed(7);
    State st;
    feed.apply(st, "LOADING /var/lib/qkiosk/clamav", 0);
    REQUIRE(std::holds_alternative<Unavailable>(st.screen));
    CHECK(std::get<Unavailable>(st.screen).starting);

    feed.apply(st, "READY signatures=8712345 version=27431 age_days=1.4", 1);
    REQUIRE(std::holds_alternative<Ready>(st.screen));
    CHECK(std::get<Ready>(st.screen).signatureAgeDays == "1.4");
    CHECK_FALSE(std::get<Ready>(st.screen).signaturesOutdated);

    feed.apply(st, "IDENTIFYING 1-1", 2);
    CHECK(std::get<Identifying>(st.screen).source == "1-1");
    feed.apply(st, "SCANNING 1-1 /dev/sdb", 3);
    feed.apply(st, "PROGRESS 1-1 files=3/10 bytes=1048576/4194304 media=16106127360 /p1/書類/予定 2026.xlsx", 5);
    REQUIRE(std::holds_alternative<Scanning>(st.screen));
    const auto& s = std::get<Scanning>(st.screen);
    CHECK(s.filesDone == 3);
    CHECK(s.filesFound == 10);
    CHECK(s.bytesDone == 1048576);
    CHECK(s.bytesFound == 4194304);
    CHECK(s.currentPath == "/p1/書類/予定 2026.xlsx");
    CHECK(s.elapsedSeconds == Approx(2.0));

    feed.apply(st, R"(VERDICT {"port":"1-1","ticket_id":"T1","pass":false,"reasons":[{"code":"infected","path":"/p1/a.com","detail":"Eicar"}],"reasons_total":1,"files":10,"bytes":4194304,"printer":true})", 6);
    feed.apply(st, "EVIDENCE 1-1 T1 stored /var/lib/qkiosk/evidence/T1", 6);   // not for staff
    feed.apply(st, "RESULT FAIL 1-1 T1", 6);
    REQUIRE(std::holds_alternative<Finished>(st.screen));
    auto r = std::get<Finished>(st.screen);
    CHECK_FALSE(r.pass);
    CHECK(r.ticketId == "T1");
    REQUIRE(r.reasons.size() == 1);
    CHECK(r.reasons[0].path == "/p1/a.com");
    CHECK(r.files == 10);
    feed.apply(st, "PRINT-FAILED T1 ESC/POS printer /dev/usb/lp0: cannot open (the ticket is kept)", 7);
    CHECK(std::get<Finished>(st.screen).ticket == TicketState::Saved);   // in the spool, not on paper
    feed.apply(st, "PRINTED T0", 7);   // another session's ticket changes nothing here
    CHECK(std::get<Finished>(st.screen).ticket == TicketState::Saved);
    feed.apply(st, "PRINTED T1", 7);
    CHECK(std::get<Finished>(st.screen).ticket == TicketState::Printed);
    // The engine may be reloaded meanwhile: the result stays until the media is out.
    feed.apply(st, "READY signatures=8712345 version=27432 age_days=0.1", 8);
    CHECK(std::holds_alternative<Finished>(st.screen));
    feed.apply(st, "REMOVED 1-1", 9);
    REQUIRE(std::holds_alternative<Ready>(st.screen));
    CHECK(std::get<Ready>(st.screen).signatureAgeDays == "0.1");
}

TEST_CASE("A refused device shows every reason of its verdict, a full disk its one line", "[ui][daemon]") {
    DaemonFeed feed(7);
    State st;
    feed.apply(st, "READY signatures=2 version=local age_days=9.5", 0);
    CHECK(std::get<Ready>(st.screen).signaturesOutdated);   // older than the kiosk's 7 days
    feed.apply(st, R"(VERDICT {"port":"1-3","ticket_id":"T2","pass":false,"reasons":[{"code":"badusb","path":"/","detail":"also a keyboard"},{"code":"device-not-approved","path":"/","detail":"not on the whitelist"}],"reasons_total":2,"files":0,"bytes":0,"printer":false})", 1);
    feed.apply(st, "REFUSED 1-3 T2 badusb: also a keyboard", 1);
    REQUIRE(std::holds_alternative<Refused>(st.screen));
    CHECK(std::get<Refused>(st.screen).reasons.size() == 2);

    feed.apply(st, "REMOVED 1-3", 2);
    feed.apply(st, "REFUSED 1-1 - unscannable: the kiosk's disk is full (1.0 MiB free in /var/spool/qkiosk)", 3);
    REQUIRE(std::holds_alternative<Refused>(st.screen));
    const auto& reasons = std::get<Refused>(st.screen).reasons;
    REQUIRE(reasons.size() == 1);
    CHECK(reasons[0].code == "unscannable");
    CHECK(reasons[0].detail == "the kiosk's disk is full (1.0 MiB free in /var/spool/qkiosk)");
}

TEST_CASE("A VERDICT line with fields of unexpected types is read as far as it goes, never thrown on", "[ui][daemon]") {
    State s;
    DaemonFeed feed(7);
    feed.apply(s, "IDENTIFYING 1-1", 0);
    feed.apply(s, R"(VERDICT {"port":"1-1","ticket_id":7,"pass":"yes","reasons":[{"code":null,"path":3}],"files":-1,"bytes":"x"})", 1);
    feed.apply(s, "RESULT FAIL 1-1 20261127-034324-aa3c0044", 1);
    const auto* r = std::get_if<Finished>(&s.screen);
    REQUIRE(r);
    CHECK_FALSE(r->pass);
    CHECK(r->files == 0);
}
