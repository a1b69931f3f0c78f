// The officer screens' behaviour: keys on each page, the requests they queue
// and what a reply does. Pure like Screen.cpp: no socket, no clock. Requests
// and replies are values (kiosk/messages); only the session's report comes
// as JSON, read with checks that never throw on a daemon that answers
// something unexpected.
#include "qkiosk/ui/Officer.h"

#include <algorithm>

#include "kiosk/messages/JsonRead.h"
#include "qkiosk/ui/Screen.h"
#include "qkiosk/base/Dates.h"

namespace kiosk::ui {
namespace {

using nlohmann::json;
using Page = Officer::Page;

// ---- reading replies -------------------------------------------------------

using messages::jsonread::count;
using messages::jsonread::member;
using messages::jsonread::text;

SessionDetail detailOf(const json& r, const std::string& ticketId) {
    SessionDetail d;
    d.ticketId = text(r, "ticket_id").empty() ? ticketId : text(r, "ticket_id");
    d.started = text(r, "started");
    d.finished = text(r, "finished");
    const json& dev = member(r, "device");
    if (dev.is_object()) {
        d.hasDevice = true;
        d.vendorId = text(dev, "vendor_id");
        d.productId = text(dev, "product_id");
        d.serial = text(dev, "serial");
        const json& a = member(dev, "approval");
        if (a.is_object()) {
            d.owner = text(a, "owner");
            d.purpose = text(a, "purpose");
            d.expires = text(a, "expires");
        }
    }
    d.verdict = text(r, "verdict");
    d.files = count(r, "files_total");
    d.bytes = count(r, "bytes_scanned");
    d.dbVersion = text(member(r, "engine"), "db_version");
    d.manifestSha256 = text(r, "manifest_sha256");
    d.evidenceCase = text(member(r, "evidence"), "case");
    const json& reasons = member(r, "reasons");
    if (reasons.is_array())
        for (const auto& e : reasons) d.reasons.push_back({text(e, "code"), text(e, "path"), text(e, "detail")});
    d.reasonsTotal = std::max<std::uint64_t>(count(r, "reasons_total"), d.reasons.size());
    return d;
}

StatusView statusOf(const messages::StatusReply& r) {
    StatusView s;
    s.loaded = true;
    s.kioskId = r.kioskId;
    s.sigVersion = r.signatures.version;
    s.sigCount = r.signatures.count;
    s.sigAgeDays = r.signatures.ageDays;
    s.outdated = r.signatures.outdated;
    for (const auto& d : r.disks) s.disks.push_back({d.dir, d.free, d.minFree});
    s.printerKind = r.printer.kind;
    s.printerState = r.printer.state;
    s.printerReady = r.printer.ready;
    s.unprinted = r.unprinted;
    s.syslog = r.syslog;
    s.logRecords = r.logRecords > 0 ? static_cast<std::uint64_t>(r.logRecords) : 0;
    s.sessions = r.sessions;
    if (s.sessions.size() > 10) s.sessions.resize(10);
    return s;
}

Note mine(std::string msgid, std::vector<std::string> args = {}, bool error = true) {
    return Note{std::move(msgid), std::move(args), false, error};
}

// The daemon's own sentence; a reply without one still says something.
Note theirs(const std::string& sentence, bool error) {
    if (sentence.empty()) return mine("The kiosk service did not say why.");
    return Note{sentence, {}, true, error};
}

// ---- requests --------------------------------------------------------------

void send(State& st, messages::OfficerRequest request) {
    Officer& o = *st.officer;
    o.waiting = true;
    o.waitingFor = std::string(messages::opOf(request));
    o.note = {};
    st.outbox.push_back(std::move(request));
}

messages::LogRequest logRequest(const LogFilters& f, int offset) {
    messages::LogRequest r;
    r.filter = {f.from, f.to, f.verdict == 1 ? "pass" : f.verdict == 2 ? "fail" : "", f.device, f.owner};
    r.offset = offset;
    r.limit = kLogPageSize;
    return r;
}

void logOut(State& st) {
    st.outbox.push_back(messages::LogoutRequest{});
    st.officer.reset();
}

void open(State& st, Page page) {
    Officer& o = *st.officer;
    o.page = page;
    o.note = {};
    switch (page) {
        case Page::Log:
            o.log.editing = false;
            send(st, logRequest(o.log.filters, 0));
            break;
        case Page::Status: send(st, messages::StatusRequest{}); break;
        case Page::Register:
        case Page::Import:
        case Page::Export:
            o.reg = {};
            o.exp = {};
            send(st, messages::DevicesRequest{});
            break;
        default: break;
    }
}


// ---- keys by page ----------------------------------------------------------

void step(int& index, int delta, int size) {
    if (size <= 0) return;
    index = std::clamp(index + delta, 0, size - 1);
}

void loginKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    std::string& field = o.loginField == 0 ? o.loginName : o.password;
    switch (in.kind) {
        case Intent::Type: appendChar(field, in.ch, o.loginField == 0 ? kMaxNameChars : kMaxPasswordChars); break;
        case Intent::Erase: eraseLastChar(field); break;
        case Intent::NextField:
        case Intent::Up:
        case Intent::Down: o.loginField = 1 - o.loginField; break;
        case Intent::Submit:
            if (o.loginField == 0) {
                o.loginField = 1;   // Enter after the name: on to the password
            } else if (o.loginName.empty()) {
                o.note = mine("Type your name first.");
                o.loginField = 0;
            } else {
                send(st, messages::LoginRequest{o.loginName, o.password});
            }
            break;
        case Intent::Back: st.officer.reset(); break;   // nobody logged in: nothing to tell the daemon
        default: break;
    }
}

void menuKeys(State& st, const Intent& in) {
    static const Page pages[] = {Page::Log, Page::Register, Page::Import, Page::Export, Page::Status};
    Officer& o = *st.officer;
    auto choose = [&](int item) {
        if (item >= 0 && item < 5) open(st, pages[item]);
        else logOut(st);
    };
    switch (in.kind) {
        case Intent::Up: o.menuSelected = (o.menuSelected + 5) % 6; break;
        case Intent::Down:
        case Intent::NextField: o.menuSelected = (o.menuSelected + 1) % 6; break;
        case Intent::Submit: choose(o.menuSelected); break;
        case Intent::Back: logOut(st); break;
        case Intent::Type:
            if (in.ch >= U'1' && in.ch <= U'5') choose(static_cast<int>(in.ch - U'1'));
            else if (in.ch == U'0') logOut(st);
            break;
        default: break;
    }
}

void filterKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    LogFilters& f = o.log.draft;
    std::string* field = nullptr;
    std::size_t max = kMaxFieldChars;
    switch (o.log.field) {
        case 0: field = &f.from; max = kMaxDateChars; break;
        case 1: field = &f.to; max = kMaxDateChars; break;
        case 3: field = &f.device; max = kMaxNameChars; break;
        case 4: field = &f.owner; break;
        default: break;   // 2: the verdict, a choice
    }
    switch (in.kind) {
        case Intent::Type:
            if (field) appendChar(*field, in.ch, max);
            else if (in.ch == U'a' || in.ch == U'A') f.verdict = 0;
            else if (in.ch == U'p' || in.ch == U'P') f.verdict = 1;
            else if (in.ch == U'f' || in.ch == U'F') f.verdict = 2;
            else if (in.ch == U' ') f.verdict = (f.verdict + 1) % 3;
            break;
        case Intent::Erase:
            if (field) eraseLastChar(*field);
            break;
        case Intent::NextField:
        case Intent::Down: o.log.field = (o.log.field + 1) % 5; break;
        case Intent::Up: o.log.field = (o.log.field + 4) % 5; break;
        case Intent::Submit:
            if ((!f.from.empty() && !isCalendarDate(f.from)) || (!f.to.empty() && !isCalendarDate(f.to))) {
                o.note = mine("Write dates as YYYY-MM-DD (for example 2026-11-27).");
                break;
            }
            o.log.filters = f;
            o.log.editing = false;
            send(st, logRequest(f, 0));
            break;
        case Intent::Back:
            o.log.editing = false;   // the filters as they were
            o.note = {};
            break;
        default: break;
    }
}

void logKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    LogReview& l = o.log;
    if (l.editing) return filterKeys(st, in);
    const bool next = in.kind == Intent::PageDown || (in.kind == Intent::Type && (in.ch == U'n' || in.ch == U'N'));
    const bool previous = in.kind == Intent::PageUp || (in.kind == Intent::Type && (in.ch == U'p' || in.ch == U'P'));
    if (next) {
        if (static_cast<std::uint64_t>(l.offset + kLogPageSize) < l.total) send(st, logRequest(l.filters, l.offset + kLogPageSize));
        return;
    }
    if (previous) {
        if (l.offset > 0) send(st, logRequest(l.filters, std::max(0, l.offset - kLogPageSize)));
        return;
    }
    switch (in.kind) {
        case Intent::Up: step(l.selected, -1, static_cast<int>(l.sessions.size())); break;
        case Intent::Down: step(l.selected, 1, static_cast<int>(l.sessions.size())); break;
        case Intent::Submit:
            if (l.selected >= 0 && l.selected < static_cast<int>(l.sessions.size()))
                send(st, messages::SessionRequest{l.sessions[static_cast<std::size_t>(l.selected)].ticketId});
            break;
        case Intent::Type:
            if (in.ch == U'f' || in.ch == U'F') {
                l.editing = true;
                l.draft = l.filters;
                l.field = 0;
                o.note = {};
            }
            break;
        case Intent::Back: o.page = Page::Menu; o.note = {}; break;
        default: break;
    }
}

void detailKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    SessionDetail& d = o.detail;
    // Any line can be the first shown, whatever the terminal's size: every
    // key moves the view, and the last finding is reachable on any terminal.
    const int last = std::max(0, detailLineCount(d) - 1);
    switch (in.kind) {
        case Intent::Up: d.scroll = std::max(0, d.scroll - 1); break;
        case Intent::Down: d.scroll = std::min(last, d.scroll + 1); break;
        case Intent::PageUp: d.scroll = std::max(0, d.scroll - 10); break;
        case Intent::PageDown: d.scroll = std::min(last, d.scroll + 10); break;
        case Intent::Back: o.page = Page::Log; o.note = {}; break;   // the list as it was: same page, same row
        default: break;
    }
}

// Up/Down in the device list of the register, import and export pages.
bool deviceListKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    const int n = static_cast<int>(o.devices.size());
    switch (in.kind) {
        case Intent::Up: step(o.deviceSelected, -1, n); return true;
        case Intent::Down: step(o.deviceSelected, 1, n); return true;
        case Intent::Type:
            if (in.ch == U'r' || in.ch == U'R') {
                send(st, messages::DevicesRequest{});
                return true;
            }
            return false;
        case Intent::Back: o.page = Page::Menu; o.note = {}; return true;
        default: return false;
    }
}

void registerKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    RegisterForm& f = o.reg;
    if (in.kind == Intent::NextField) {
        f.field = (f.field + 1) % 4;
        return;
    }
    if (f.field == 0) {
        if (deviceListKeys(st, in)) return;
        if (in.kind == Intent::Submit) f.field = 1;
        return;
    }
    std::string& field = f.field == 1 ? f.owner : f.field == 2 ? f.purpose : f.expires;
    switch (in.kind) {
        case Intent::Type: appendChar(field, in.ch, f.field == 3 ? kMaxDateChars : kMaxFieldChars); break;
        case Intent::Erase: eraseLastChar(field); break;
        case Intent::Up: --f.field; break;
        case Intent::Down: f.field = std::min(3, f.field + 1); break;
        case Intent::Back: o.page = Page::Menu; o.note = {}; break;
        case Intent::Submit:
            if (f.field < 3) {
                ++f.field;
            } else if (o.devices.empty()) {
                o.note = mine("No device is plugged in.");
            } else if (f.owner.empty() || f.purpose.empty() || f.expires.empty()) {
                o.note = mine("Fill in the owner, the purpose and the expiry date.");
            } else if (!isCalendarDate(f.expires)) {
                o.note = mine("Write the expiry date as YYYY-MM-DD (for example 2027-03-31).");
            } else {
                const auto& d = o.devices[static_cast<std::size_t>(std::clamp(o.deviceSelected, 0, static_cast<int>(o.devices.size()) - 1))];
                send(st, messages::RegisterRequest{d.port, f.owner, f.purpose, f.expires});
            }
            break;
        default: break;
    }
}

void importKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    if (deviceListKeys(st, in)) return;
    if (in.kind != Intent::Submit) return;
    if (o.devices.empty()) {
        o.note = mine("No device is plugged in.");
        return;
    }
    const auto& d = o.devices[static_cast<std::size_t>(std::clamp(o.deviceSelected, 0, static_cast<int>(o.devices.size()) - 1))];
    send(st, messages::ImportRequest{d.port});
}

void exportKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    ExportForm& f = o.exp;
    if (in.kind == Intent::NextField) {
        f.field = (f.field + 1) % 3;
        return;
    }
    if (in.kind == Intent::Submit) {
        const int n = static_cast<int>(o.devices.size());
        if (n == 0) {
            o.note = mine("No device is plugged in.");
        } else if (!exportable(o.devices[static_cast<std::size_t>(std::clamp(o.deviceSelected, 0, n - 1))])) {
            o.note = mine("The log can only be written to a stick that passed its scan just now and has a FAT filesystem.");
        } else if ((!f.from.empty() && !isCalendarDate(f.from)) || (!f.to.empty() && !isCalendarDate(f.to))) {
            o.note = mine("Write dates as YYYY-MM-DD (for example 2026-11-27).");
        } else {
            messages::ExportRequest r;
            r.port = o.devices[static_cast<std::size_t>(std::clamp(o.deviceSelected, 0, n - 1))].port;
            r.jsonl = f.jsonl;
            r.filter.from = f.from;
            r.filter.to = f.to;
            send(st, std::move(r));
        }
        return;
    }
    if (f.field == 0) {
        if (deviceListKeys(st, in)) return;
        if (in.kind == Intent::Type && (in.ch == U't' || in.ch == U'T')) f.jsonl = !f.jsonl;
        return;
    }
    std::string& field = f.field == 1 ? f.from : f.to;
    switch (in.kind) {
        case Intent::Type: appendChar(field, in.ch, kMaxDateChars); break;
        case Intent::Erase: eraseLastChar(field); break;
        case Intent::Up: --f.field; break;
        case Intent::Down: f.field = std::min(2, f.field + 1); break;
        case Intent::Back: o.page = Page::Menu; o.note = {}; break;
        default: break;
    }
}

void statusKeys(State& st, const Intent& in) {
    Officer& o = *st.officer;
    if (in.kind == Intent::Type && (in.ch == U'r' || in.ch == U'R')) {
        send(st, messages::StatusRequest{});
    } else if (in.kind == Intent::Back) {
        o.page = Page::Menu;
        o.note = {};
    }
}

}  // namespace

bool officerTyping(const Officer& o) {
    switch (o.page) {
        case Page::Login: return true;
        case Page::Log: return o.log.editing;
        case Page::Register: return o.reg.field > 0;
        case Page::Export: return o.exp.field > 0;
        default: return false;
    }
}

void reduceOfficer(State& st, const Intent& in) {
    if (!st.officer || st.officer->waiting) return;
    switch (st.officer->page) {
        case Page::Login: loginKeys(st, in); break;
        case Page::Menu: menuKeys(st, in); break;
        case Page::Log: logKeys(st, in); break;
        case Page::Detail: detailKeys(st, in); break;
        case Page::Register: registerKeys(st, in); break;
        case Page::Import: importKeys(st, in); break;
        case Page::Export: exportKeys(st, in); break;
        case Page::Status: statusKeys(st, in); break;
    }
}

void applyReply(State& st, const messages::OfficerRequest& request, const messages::OfficerReply& reply) {
    if (st.officer) applyReply(st, request, reply, st.officer->session);
}

void applyReply(State& st, const messages::OfficerRequest& request, const messages::OfficerReply& reply, std::uint64_t session) {
    // The session it was asked in ended meanwhile (logout, idle, Esc): its
    // answers are not for whoever uses the screens now.
    if (!st.officer || st.officer->session != session) return;
    Officer& o = *st.officer;
    if (std::holds_alternative<messages::LogoutRequest>(request)) return;
    o.waiting = false;
    o.waitingFor.clear();
    if (const auto* no = std::get_if<messages::Refusal>(&reply)) {
        using messages::ReplyCode;
        if (no->code == ReplyCode::NotLoggedIn) {
            // The daemon has no officer on this connection (idle, restarted):
            // log in again; the name stays typed.
            Officer fresh;
            fresh.session = o.session;
            fresh.loginName = o.loginName;
            fresh.loginField = 1;
            fresh.note = theirs(no->error, true);
            o = std::move(fresh);
            return;
        }
        if (std::holds_alternative<messages::LoginRequest>(request)) {
            o.password.clear();
            if (no->code == ReplyCode::Refused) o.note = mine("Wrong name or password.");
            else if (no->code == ReplyCode::LockedOut) o.note = mine("Too many failed attempts: this name is locked for a while.");
            else o.note = theirs(no->error, true);
            return;
        }
        o.note = theirs(no->error, true);
        return;
    }
    if (const auto* in = std::get_if<messages::LoginReply>(&reply)) {
        o.name = in->officer.empty() ? o.loginName : in->officer;
        if (in->idleMinutes > 0 && in->idleMinutes <= 120) o.idleMinutes = in->idleMinutes;
        o.password.clear();
        o.page = Page::Menu;
        o.menuSelected = 0;
        o.note = {};
    } else if (const auto* status = std::get_if<messages::StatusReply>(&reply)) {
        o.status = statusOf(*status);
    } else if (const auto* page = std::get_if<messages::LogReply>(&reply)) {
        o.log.sessions = page->sessions;
        o.log.total = page->total;
        const auto* asked = std::get_if<messages::LogRequest>(&request);
        o.log.offset = asked ? static_cast<int>(asked->offset) : 0;
        o.log.selected = 0;
        o.log.loaded = true;
    } else if (const auto* detail = std::get_if<messages::SessionReply>(&reply)) {
        const auto* asked = std::get_if<messages::SessionRequest>(&request);
        o.detail = detailOf(detail->report, asked ? asked->ticketId : std::string());
        o.page = Page::Detail;
    } else if (const auto* list = std::get_if<messages::DevicesReply>(&reply)) {
        o.devices = list->devices;
        o.devicesLoaded = true;
        o.deviceSelected = std::clamp(o.deviceSelected, 0, std::max(0, static_cast<int>(o.devices.size()) - 1));
        // The export starts on a stick it can write to.
        if (o.page == Page::Export)
            for (std::size_t i = 0; i < o.devices.size(); ++i)
                if (exportable(o.devices[i])) {
                    o.deviceSelected = static_cast<int>(i);
                    break;
                }
    } else if (const auto* registered = std::get_if<messages::RegisterReply>(&reply)) {
        o.note = registered->message.empty() ? mine("The device is registered.", {}, false) : theirs(registered->message, false);
        o.reg = {};
    } else if (const auto* imported = std::get_if<messages::ImportReply>(&reply)) {
        o.note = mine("Signatures imported: version %s, %s signatures.", {imported->version, std::to_string(imported->signatures)}, false);
    } else if (const auto* exported = std::get_if<messages::ExportReply>(&reply)) {
        o.note = mine("Written to the stick: %s (%s records).", {exported->file, std::to_string(exported->records)}, false);
    }
}

void endOfficerSession(State& st) {
    if (!st.officer) return;
    // Also while a login is out: it may have succeeded on the daemon's side.
    if (!st.officer->name.empty() || st.officer->waiting) st.outbox.push_back(messages::LogoutRequest{});
    st.officer.reset();
}

void officerConnectionLost(State& st) {
    st.officer.reset();
    st.outbox.clear();   // nowhere to send them; a new connection has no officer
}

int detailLineCount(const SessionDetail& d) {
    // Ticket, times, device, approval (two), verdict, files, signatures,
    // manifest, evidence, a blank, the reasons' heading; then one or two
    // lines a reason.
    int n = 12;
    for (const auto& r : d.reasons) n += r.detail.empty() ? 1 : 2;
    return n + (d.reasonsTotal > d.reasons.size() ? 1 : 0);   // "and N more"
}

void eraseLastChar(std::string& s) {
    if (s.empty()) return;
    std::size_t i = s.size() - 1;
    // Back over the continuation bytes (10xxxxxx) to the character's first byte.
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    s.erase(i);
}

std::size_t charCount(const std::string& s) {
    std::size_t n = 0;
    for (const char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

void appendChar(std::string& s, char32_t c, std::size_t maxChars) {
    // Control characters (C0, DEL, C1), surrogates and beyond Unicode never enter a field.
    if (c < 0x20 || (c >= 0x7F && c < 0xA0) || (c >= 0xD800 && c < 0xE000) || c > 0x10FFFF) return;
    if (charCount(s) >= maxChars) return;
    if (c < 0x80) {
        s += static_cast<char>(c);
    } else if (c < 0x800) {
        s += static_cast<char>(0xC0 | (c >> 6));
        s += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        s += static_cast<char>(0xE0 | (c >> 12));
        s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        s += static_cast<char>(0xF0 | (c >> 18));
        s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (c & 0x3F));
    }
}


bool exportable(const OfficerDevice& d) { return d.state == messages::DeviceState::Pass && d.fat; }

}  // namespace kiosk::ui
