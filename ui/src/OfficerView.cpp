// The officer's pages as lines of text, in the layout of the staff screens
// (TextRenderer.cpp draws the header, rules and footer around them). Columns
// are measured in display width, so Japanese labels line up too; anything
// the daemon sends is cut or shortened to its column, never wrapped past it.
#include <map>

#include "Layout.h"
#include "qkiosk/ui/Officer.h"
#include "qkiosk/ui/Screen.h"

namespace kiosk::ui::layout {
namespace {

using Page = Officer::Page;

// Labels padded to the widest of them, so that the values form a column.
class Labels {
public:
    Labels(const Body& b, std::initializer_list<const char*> msgids) {
        for (const char* m : msgids) width_ = std::max(width_, displayWidth(b.t(m)));
    }
    // "  Label:   value", with "> " instead of the indent on the focused row.
    std::string row(const Body& b, const char* msgid, const std::string& value, bool focus = false) const {
        return concat({focus ? "> " : "  ", padTo(b.t(msgid), width_), "  ", value});
    }
    int width() const { return width_ + 4; }

private:
    int width_ = 0;
};

// "2026-11-27T03:43:24Z" → "2026-11-27 03:43" (UTC, as the log keeps it).
std::string shortTime(const std::string& iso) {
    std::string t = iso.substr(0, 16);
    if (t.size() > 10 && t[10] == 'T') t[10] = ' ';
    return t;
}

std::string verdictWord(const Body& b, const std::string& verdict) {
    if (verdict == "pass") return b.t("PASS");
    if (verdict == "fail") return b.t("FAIL");
    return verdict;
}

// A text field's value, with the cursor after it when it has the keys.
std::string typed(const std::string& value, bool focused) { return concat({value, focused ? "_" : ""}); }

// The first finding in plain words and how many more ("malware found +1"):
// one row a session; the detail lists them all.
std::string firstReason(const std::vector<std::string>& codes, const Language& lang, const Catalogs& words) {
    if (codes.empty()) return {};
    std::string out = plainWords(codes.front(), lang, words);
    if (codes.size() > 1) out = concat({out, " +", std::to_string(codes.size() - 1)});
    return out;
}

// Start and finish: "2026-11-27 03:43:24 – 03:43:31" (the date once if it is the same).
std::string timeSpan(const std::string& started, const std::string& finished) {
    const auto clean = [](std::string t) {
        t = t.substr(0, 19);
        if (t.size() > 10 && t[10] == 'T') t[10] = ' ';
        return t;
    };
    const std::string a = clean(started), z = clean(finished);
    if (z.empty()) return a;
    return concat({a, " – ", a.substr(0, 10) == z.substr(0, 10) && z.size() > 11 ? z.substr(11) : z});
}

// The page's message line: the waiting notice while a request is out, else the note.
void noteLine(Body& b, const Officer& o) {
    if (o.waiting) {
        b.para(b.t(o.waitingFor == "import-signatures" ? "Importing… this can take a minute." : "Waiting for the kiosk service…"),
               Tone::Warn);
        return;
    }
    if (o.note.empty()) return;
    const std::string text = o.note.verbatim ? o.note.text : b.t(o.note.text, o.note.args);
    b.para(text, o.note.error ? Tone::Fail : Tone::Pass);
}

void title(Body& b, const std::string& text) {
    b.blank();
    b.line(text, Tone::Warn);
    b.blank();
}

// ---- pages -----------------------------------------------------------------

void loginPage(Body& b, const Officer& o) {
    title(b, b.t("Security officer — log in"));
    const Labels labels(b, {"Name:", "Password:"});
    const std::string cursor = "_";
    b.line(labels.row(b, "Name:", concat({o.loginName, o.loginField == 0 ? cursor : ""}), o.loginField == 0));
    b.line(labels.row(b, "Password:", concat({repeat("*", static_cast<int>(charCount(o.password))), o.loginField == 1 ? cursor : ""}),
                      o.loginField == 1));
    b.blank();
    noteLine(b, o);
    if (!o.waiting && o.note.empty()) b.para(b.t("Type your officer name and password. Staff do not need to log in."));
}

void menuPage(Body& b, const Officer& o) {
    title(b, b.t("Security officer: %s", {o.name}));
    static const char* items[] = {"Review the log", "Register the inserted device", "Import a signature update from the inserted stick",
                                  "Export the log to the inserted stick", "Status", "Log out"};
    for (int i = 0; i < 6; ++i) {
        const std::string number = i < 5 ? std::to_string(i + 1) : "0";
        b.line(concat({o.menuSelected == i ? "> " : "  ", number, "  ", b.t(items[i])}));
    }
    b.blank();
    noteLine(b, o);
}

std::string filterSummary(const Body& b, const LogFilters& f) {
    std::vector<std::string> parts;
    if (!f.from.empty()) parts.push_back(b.t("from %s", {f.from}));
    if (!f.to.empty()) parts.push_back(b.t("to %s", {f.to}));
    if (f.verdict == 1) parts.push_back(b.t("PASS only"));
    if (f.verdict == 2) parts.push_back(b.t("FAIL only"));
    if (!f.device.empty()) parts.push_back(b.t("device %s", {f.device}));
    if (!f.owner.empty()) parts.push_back(b.t("owner contains \"%s\"", {f.owner}));
    if (parts.empty()) return b.t("Filters: none (every session)");
    std::string all;
    for (const auto& p : parts) {
        if (!all.empty()) all += ", ";
        all += p;
    }
    return b.t("Filters: %s", {all});
}

void filterForm(Body& b, const Officer& o) {
    title(b, b.t("Review the log — filters"));
    const LogFilters& f = o.log.draft;
    const int at = o.log.field;
    const Labels labels(b, {"From (YYYY-MM-DD):", "To (YYYY-MM-DD):", "Verdict:", "Device (VID:PID[:SERIAL]):", "Owner contains:"});
    const auto value = [&](const std::string& v, int field) { return typed(v, at == field); };
    b.line(labels.row(b, "From (YYYY-MM-DD):", value(f.from, 0), at == 0));
    b.line(labels.row(b, "To (YYYY-MM-DD):", value(f.to, 1), at == 1));
    const char* verdicts[] = {"all", "PASS only", "FAIL only"};
    b.line(labels.row(b, "Verdict:", concat({b.t(verdicts[f.verdict]), at == 2 ? concat({"   ", b.t("([A] all, [P] pass, [F] fail)")}) : ""}),
                      at == 2));
    b.line(labels.row(b, "Device (VID:PID[:SERIAL]):", value(f.device, 3), at == 3));
    b.line(labels.row(b, "Owner contains:", value(f.owner, 4), at == 4));
    b.blank();
    b.para(b.t("Empty fields match everything. Enter shows the sessions that match; Esc keeps the filters as they were."));
    b.blank();
    noteLine(b, o);
}

void logPage(Body& b, const State& st, const Officer& o, const Catalogs& words) {
    if (o.log.editing) return filterForm(b, o);
    const LogReview& l = o.log;
    const std::uint64_t pages = l.total == 0 ? 1 : (l.total + kLogPageSize - 1) / kLogPageSize;
    const std::uint64_t page = static_cast<std::uint64_t>(l.offset / kLogPageSize) + 1;
    b.blank();
    if (l.loaded) {
        b.line(b.t("Review the log — %s sessions, page %s of %s", {std::to_string(l.total), std::to_string(page), std::to_string(pages)}),
               Tone::Warn);
    } else {
        b.line(b.t("Review the log"), Tone::Warn);
    }
    b.line(filterSummary(b, l.filters));
    b.blank();
    // Columns: the time, the verdict, the device and the owner at fixed
    // widths; the findings get the rest of the line.
    const std::string hv = b.t("Verdict");
    const int vw = std::max({displayWidth(hv), displayWidth(b.t("PASS")), displayWidth(b.t("FAIL"))});
    // At 80 columns the device and the owner are cut short (the detail has
    // them whole); a wider terminal gives them room first.
    constexpr int kTime = 16;
    const int extra = std::max(0, b.width() - 76);
    const int kDevice = 18 + std::min(8, extra / 4), kOwner = 10 + std::min(30, extra / 2);
    const auto row = [&](const std::string& mark, const std::string& time, const std::string& verdict, const std::string& device,
                         const std::string& owner, const std::string& findings) {
        std::string out = concat({mark, padTo(time, kTime), "  ", padTo(verdict, vw), " ", padTo(device, kDevice), " ",
                                  padTo(owner, kOwner), " "});
        return concat({out, fitWidth(findings, b.width() - displayWidth(out))});
    };
    b.line(row("  ", b.t("Time (UTC)"), hv, b.t("Device"), b.t("Owner"), b.t("Findings")));
    if (l.loaded && l.sessions.empty()) b.line(concat({"  ", b.t("No session matches.")}));
    for (std::size_t i = 0; i < l.sessions.size() && b.left() > 1; ++i) {
        const auto& e = l.sessions[i];
        const bool sel = static_cast<int>(i) == l.selected;
        b.line(row(sel ? "> " : "  ", shortTime(e.time), verdictWord(b, e.verdict), fitWidth(e.device, kDevice),
                   fitWidth(e.owner, kOwner), firstReason(e.reasons, st.language, words)),
               e.verdict == "fail" && sel ? Tone::Fail : Tone::Normal);
    }
    noteLine(b, o);
}

std::vector<std::string> detailLines(const Body& b, const SessionDetail& d, const Language& lang, const Catalogs& words) {
    const Labels labels(b, {"Ticket:", "Time (UTC):", "Device:", "Approved for:", "Purpose, until:", "Verdict:", "Files:", "Signatures:",
                            "Manifest SHA-256:", "Evidence:"});
    const int room = b.width() - labels.width();
    std::vector<std::string> out;
    out.push_back(labels.row(b, "Ticket:", d.ticketId));
    out.push_back(labels.row(b, "Time (UTC):", timeSpan(d.started, d.finished)));
    std::string device = b.t("disk image, no USB device");
    if (d.hasDevice) {
        device = concat({d.vendorId, ":", d.productId});
        if (!d.serial.empty()) device = concat({device, "  ", b.t("serial %s", {d.serial})});
    }
    out.push_back(labels.row(b, "Device:", fitWidth(device, room)));
    // The approval the device was admitted under, on two lines so that a long owner fits.
    out.push_back(labels.row(b, "Approved for:", fitWidth(d.owner ? *d.owner : b.t("not approved"), room)));
    out.push_back(labels.row(b, "Purpose, until:", fitWidth(d.owner ? b.t("%s, until %s", {d.purpose.value_or(""), d.expires.value_or("")}) : "—", room)));
    out.push_back(labels.row(b, "Verdict:", verdictWord(b, d.verdict)));
    out.push_back(labels.row(b, "Files:", b.t("%s (%s)", {std::to_string(d.files), humanBytes(d.bytes)})));
    out.push_back(labels.row(b, "Signatures:", fitWidth(d.dbVersion, room)));
    out.push_back(labels.row(b, "Manifest SHA-256:", shortenMiddle(d.manifestSha256, room)));
    out.push_back(labels.row(b, "Evidence:", d.evidenceCase.empty() ? b.t("none kept") : shortenMiddle(d.evidenceCase, room)));
    out.emplace_back();
    out.push_back(d.reasons.empty() ? b.t("No problems were found.") : b.t("Findings:"));
    for (const auto& r : d.reasons) {
        const std::string head = concat({"・", plainWords(r.code, lang, words)});
        if (r.path.empty() || r.path == "/") out.push_back(head);
        else out.push_back(concat({head, ": ", shortenMiddle(r.path, b.width() - displayWidth(head) - 2)}));
        if (!r.detail.empty()) out.push_back(fitWidth(concat({"    ", r.detail}), b.width()));
    }
    if (d.reasonsTotal > d.reasons.size())
        out.push_back(fitWidth(b.t("… and %s more (all of them are on the ticket)", {std::to_string(d.reasonsTotal - d.reasons.size())}), b.width()));
    return out;
}

void detailPage(Body& b, const State& st, const Officer& o, const Catalogs& words) {
    const SessionDetail& d = o.detail;
    title(b, b.t("Session %s", {d.ticketId}));
    const auto lines = detailLines(b, d, st.language, words);
    // All of it if it fits; else a window, a line saying where in it we
    // are, and the note's line.
    const int total = static_cast<int>(lines.size());
    const int noteRoom = o.waiting || !o.note.empty() ? 1 : 0;
    const int window = total + noteRoom <= b.left() ? total : std::max(1, b.left() - 1 - noteRoom);
    const int first = std::clamp(d.scroll, 0, std::max(0, total - 1));
    for (int i = first; i < std::min(total, first + window); ++i) b.line(lines[static_cast<std::size_t>(i)]);
    if (total > window)
        b.line(b.t("Lines %s–%s of %s ([↑↓] [PgUp] [PgDn] scroll)",
                   {std::to_string(first + 1), std::to_string(std::min(total, first + window)), std::to_string(total)}));
    noteLine(b, o);
}

std::string stateWords(const Body& b, messages::DeviceState state) {
    using messages::DeviceState;
    switch (state) {
        case DeviceState::Scanning: return b.t("being scanned");
        case DeviceState::Pass: return b.t("passed");
        case DeviceState::Fail: return b.t("failed");
        case DeviceState::Refused: return b.t("refused");
        case DeviceState::Identifying: break;
    }
    return std::string(messages::deviceStateName(state));
}

// The devices plugged in, two lines each, at most `maxShown` of them around the selection.
void deviceList(Body& b, const Officer& o, bool focus, int maxShown, bool forExport) {
    if (!o.devicesLoaded) return;
    if (o.devices.empty()) {
        b.line(concat({"  ", b.t("No device is plugged in. Plug it in, wait for its scan, then press [R].")}));
        return;
    }
    const int n = static_cast<int>(o.devices.size());
    const int first = std::clamp(o.deviceSelected - maxShown + 1, 0, std::max(0, n - maxShown));
    for (int i = first; i < std::min(n, first + maxShown); ++i) {
        const auto& d = o.devices[static_cast<std::size_t>(i)];
        const bool sel = i == o.deviceSelected;
        std::string head = concat({d.vendorId, ":", d.productId});
        head = concat({head, "  ", d.serial.empty() ? b.t("no serial") : b.t("serial %s", {d.serial})});
        if (!d.product.empty()) head = concat({head, "  ", d.product});
        head = concat({head, "  ", b.t("(port %s)", {d.port})});
        b.line(concat({sel ? (focus ? "> " : "* ") : "  ", head}));
        std::string second;
        if (forExport) {
            if (exportable(d)) second = b.t("passed its scan, FAT: the log can be written to it");
            else if (d.state != messages::DeviceState::Pass) second = b.t("cannot take the log: it has not passed a scan now (%s)", {stateWords(b, d.state)});
            else second = b.t("cannot take the log: no FAT filesystem");
        } else {
            second = d.approval ? b.t("%s; approved for %s (%s) until %s",
                                      {stateWords(b, d.state), d.approval->owner, d.approval->purpose, d.approval->expires})
                                : b.t("%s; not approved", {stateWords(b, d.state)});
        }
        b.line(concat({"    ", second}));
    }
    if (n > maxShown) b.line(concat({"  ", b.t("Device %s of %s ([↑↓] choose)", {std::to_string(o.deviceSelected + 1), std::to_string(n)})}));
}

void registerPage(Body& b, const Officer& o) {
    title(b, b.t("Register the inserted device"));
    b.line(b.t("Devices plugged in:"));
    deviceList(b, o, o.reg.field == 0, 3, false);
    b.blank();
    const RegisterForm& f = o.reg;
    const Labels labels(b, {"Owner:", "Purpose:", "Expires:"});
    const auto value = [&](const std::string& v, int field) { return typed(v, f.field == field); };
    b.line(labels.row(b, "Owner:", value(f.owner, 1), f.field == 1));
    b.line(labels.row(b, "Purpose:", value(f.purpose, 2), f.field == 2));
    const std::string expires = f.expires.empty() && f.field != 3 ? b.t("YYYY-MM-DD") : value(f.expires, 3);
    b.line(labels.row(b, "Expires:", expires, f.field == 3));
    b.blank();
    noteLine(b, o);
    if (!o.waiting && o.note.empty())
        b.para(b.t("Enter on the last field registers the device. It must be plugged in again to be scanned under its approval."));
}

void importPage(Body& b, const Officer& o) {
    title(b, b.t("Import a signature update from the inserted stick"));
    b.para(b.t("The stick needs a qkiosk-signatures folder. It is scanned first; the update must verify and load."));
    b.blank();
    b.line(b.t("Devices plugged in:"));
    deviceList(b, o, true, 4, false);
    b.blank();
    noteLine(b, o);
}

void exportPage(Body& b, const Officer& o) {
    title(b, b.t("Export the log to the inserted stick"));
    b.line(b.t("Devices plugged in:"));
    deviceList(b, o, o.exp.field == 0, 3, true);
    b.blank();
    const ExportForm& f = o.exp;
    const Labels labels(b, {"Format:", "From:", "To:"});
    const auto value = [&](const std::string& v, int field) {
        if (v.empty() && f.field != field) return b.t("(YYYY-MM-DD, empty: no limit)");
        return typed(v, f.field == field);
    };
    b.line(labels.row(b, "Format:", concat({f.jsonl ? "JSON Lines (.jsonl)" : "CSV (.csv)", "   ", b.t("[T] switches")})));
    b.line(labels.row(b, "From:", value(f.from, 1), f.field == 1));
    b.line(labels.row(b, "To:", value(f.to, 2), f.field == 2));
    b.blank();
    noteLine(b, o);
}

void statusPage(Body& b, const Officer& o) {
    const StatusView& s = o.status;
    title(b, s.kioskId.empty() ? b.t("Kiosk status") : b.t("Kiosk status — %s", {s.kioskId}));
    if (!s.loaded) {
        noteLine(b, o);
        return;
    }
    const Labels labels(b, {"Signatures:", "Disk:", "Printer:", "Syslog:", "Log:"});
    const int room = b.width() - labels.width();
    std::string sig = b.t("%s, %s days old", {s.sigVersion, s.sigAgeDays});
    if (s.outdated) sig = concat({b.t("OUTDATED"), "  ", sig});
    b.line(labels.row(b, "Signatures:", fitWidth(sig, room)), s.outdated ? Tone::Fail : Tone::Normal);
    bool first = true;
    for (const auto& d : s.disks) {
        const bool low = d.free < d.minFree;
        std::string v = b.t("%s free (at least %s needed)", {humanBytes(d.free), humanBytes(d.minFree)});
        if (low) v = concat({b.t("TOO LITTLE"), "  ", v});
        const std::string dir = concat({d.dir, "  "});
        v = concat({dir, fitWidth(v, room - displayWidth(dir))});
        b.line(first ? labels.row(b, "Disk:", v) : concat({std::string(static_cast<std::size_t>(labels.width()), ' '), v}),
               low ? Tone::Fail : Tone::Normal);
        first = false;
    }
    std::string printer = s.printerKind == "none" || s.printerKind.empty() ? b.t("none (tickets are saved only)") : concat({s.printerKind, ": ", s.printerState});
    printer = b.t("%s; %s tickets not printed", {printer, s.unprinted < 0 ? "?" : std::to_string(s.unprinted)});
    b.line(labels.row(b, "Printer:", fitWidth(printer, room)), s.unprinted != 0 || (!s.printerReady && s.printerKind != "none") ? Tone::Warn : Tone::Normal);
    b.line(labels.row(b, "Syslog:", fitWidth(s.syslog, room)));
    b.line(labels.row(b, "Log:", b.t("%s records", {std::to_string(s.logRecords)})));
    // No blank line here: at 80×24 the ten sessions just fit with two disks.
    b.line(b.t("Last sessions:"));
    const int reserve = o.waiting || !o.note.empty() ? 1 : 0;
    for (std::size_t i = 0; i < s.sessions.size() && b.left() > reserve; ++i) {
        const auto& e = s.sessions[i];
        const std::string v = verdictWord(b, e.verdict);
        const int vw = std::max(displayWidth(b.t("PASS")), displayWidth(b.t("FAIL")));
        b.line(concat({"  ", shortTime(e.time), "  ", padTo(v, vw), "  ", fitWidth(e.device, b.width() - 22 - vw)}));
    }
    if (s.sessions.empty()) b.line(concat({"  ", b.t("none yet")}));
    noteLine(b, o);
}

}  // namespace

void officerBody(Body& b, const State& st, const Officer& o, const Catalogs& words) {
    switch (o.page) {
        case Page::Login: loginPage(b, o); break;
        case Page::Menu: menuPage(b, o); break;
        case Page::Log: logPage(b, st, o, words); break;
        case Page::Detail: detailPage(b, st, o, words); break;
        case Page::Register: registerPage(b, o); break;
        case Page::Import: importPage(b, o); break;
        case Page::Export: exportPage(b, o); break;
        case Page::Status: statusPage(b, o); break;
    }
}

std::string officerFooter(const State& st, const Officer& o, const Catalogs& words) {
    const auto t = [&](const char* msgid) { return words.tr(st.language, msgid); };
    std::vector<std::string> keys;
    if (o.waiting) {
        keys.push_back(t("Waiting for the kiosk service…"));
    } else {
        switch (o.page) {
            case Page::Login: keys = {t("[Tab] Next field"), t("[Enter] Log in"), t("[Esc] Cancel")}; break;
            case Page::Menu: keys = {t("[1-5] Choose"), t("[Enter] Open"), t("[0] [Esc] Log out")}; break;
            case Page::Log:
                if (o.log.editing) keys = {t("[Tab] Next field"), t("[Enter] Apply"), t("[Esc] Cancel")};
                else keys = {t("[Enter] Details"), t("[n] [p] Page"), t("[f] Filters"), t("[Esc] Menu")};
                break;
            case Page::Detail: keys = {t("[↑↓] Scroll"), t("[Esc] Back to the list")}; break;
            case Page::Register: keys = {t("[Tab] Next field"), t("[R] Refresh"), t("[Esc] Menu")}; break;
            case Page::Import: keys = {t("[Enter] Import"), t("[R] Refresh"), t("[Esc] Menu")}; break;
            case Page::Export: keys = {t("[Enter] Export"), t("[Tab] Next field"), t("[R] Refresh"), t("[Esc] Menu")}; break;
            case Page::Status: keys = {t("[R] Refresh"), t("[Esc] Menu")}; break;
        }
    }
    // The language key: F2 always; L as well where no field takes letters.
    // The language key: F2 (L works too where no field takes letters, but
    // there is no room to say so in Japanese).
    keys.push_back(concat({"[F2] ", words.nameOf(nextLanguage(st))}));
    std::string out;
    for (const auto& k : keys) {
        if (!out.empty()) out += "  ";
        out += k;
    }
    return out;
}

}  // namespace kiosk::ui::layout
