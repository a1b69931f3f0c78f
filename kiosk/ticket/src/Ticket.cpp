#include "kiosk/ticket/Ticket.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "kiosk/files/AtomicFile.h"
#include "kiosk/files/KeyFile.h"
#include "kiosk/model/Manifest.h"
#include "kiosk/model/Report.h"
#include "qkiosk/base/Dates.h"

namespace kiosk::ticket {
namespace {

using nlohmann::json;

constexpr std::string_view kCompactPrefix = "QKT1.";
constexpr std::string_view kCompactLine = "compact: ";
constexpr std::string_view kManifestLine = "manifest: ";
constexpr std::string_view kSignatureLine = "signature: ";
// Reasons spelt out on a ticket; the report and the log keep every one.
constexpr std::size_t kMaxReasonLines = 10;
// Whitelist text in the compact form is cut here, so that the QR code stays small.
constexpr std::size_t kMaxCompactText = 80;

// Cuts UTF-8 text at `max` bytes without splitting a character.
std::string cut(const std::string& s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n) + "…";
}

// Values on a ticket line never carry control characters: a line is a line.
std::string printable(const std::string& s) {
    std::string out = s;
    for (char& ch : out)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
    return out;
}

std::string deviceWords(const Facts& f) {
    if (f.vendorId.empty()) return "なし(ディスクイメージ) none (disk image)";
    return f.vendorId + ":" + f.productId + " シリアル serial " + (f.serial.empty() ? "(なし none)" : printable(f.serial));
}

std::vector<std::string> humanLines(const Report& r, const Facts& f, const std::string& headline) {
    std::vector<std::string> l;
    l.push_back("qkiosk 検疫チケット Quarantine ticket");
    l.push_back("判定 Verdict: " + headline);
    l.push_back("キオスク Kiosk: " + printable(f.kioskId));
    l.push_back("チケット Ticket: " + f.ticketId);
    l.push_back("日時 Time: " + f.time);
    l.push_back("機器 Device: " + deviceWords(f));
    if (!f.vendorId.empty()) {
        if (f.approval)
            l.push_back("承認 Approval: " + printable(f.approval->owner) + " / " + printable(f.approval->purpose) +
                        " / 期限 until " + printable(f.approval->expires));
        else
            l.push_back("承認 Approval: 登録なし not a registered device");
    }
    if (r.reasons.empty()) {
        l.push_back("理由 Reasons: なし none");
    } else {
        l.push_back("理由 Reasons:");
        for (std::size_t i = 0; i < r.reasons.size() && i < kMaxReasonLines; ++i) {
            const auto& x = r.reasons[i];
            l.push_back("  - " + plainWords(proto::reasonCodeName(x.code)) + ": " + printable(cut(x.path, 160)) +
                        (x.detail.empty() ? "" : " (" + printable(cut(x.detail, 160)) + ")"));
        }
        if (r.reasons.size() > kMaxReasonLines)
            l.push_back("  … ほか " + std::to_string(r.reasons.size() - kMaxReasonLines) + " 件 and " +
                        std::to_string(r.reasons.size() - kMaxReasonLines) + " more (qkiosk log show " + f.ticketId + ")");
    }
    l.push_back("ファイル Files: " + std::to_string(f.files) + " (" + humanBytes(f.bytes) + " 検査済 scanned)");
    l.push_back("マニフェスト Manifest: " + (f.manifestSha256.empty() ? std::string("なし(読んでいない) none (not read)") : f.manifestSha256));
    l.push_back("ウイルス定義 Signatures: " + (f.dbVersion.empty() ? std::string("?") : printable(f.dbVersion)) + " (" +
                f.dbTime + "), " + f.signatureAgeDays + " 日前 days old");
    return l;
}

json factsJson(const Facts& f) {
    json j = {{"v", 1},
              {"k", f.kioskId},
              {"t", f.ticketId},
              {"at", f.time},
              {"ok", f.pass},
              {"d", f.vendorId.empty() ? "" : f.vendorId + ":" + f.productId + ":" + f.serial},
              {"rc", f.reasonCodes},
              {"n", f.files},
              {"b", f.bytes},
              {"m", f.manifestSha256},
              {"db", {f.dbVersion, f.dbTime, f.signatureAgeDays}}};
    j["ap"] = f.approval ? json::array({cut(f.approval->owner, kMaxCompactText), cut(f.approval->purpose, kMaxCompactText),
                                        f.approval->expires})
                         : json(nullptr);
    return j;
}

Result<Facts> factsFrom(const json& j) {
    try {
        if (j.at("v").get<int>() != 1) return makeError("a ticket format this version does not know");
        Facts f;
        f.kioskId = j.at("k").get<std::string>();
        f.ticketId = j.at("t").get<std::string>();
        f.time = j.at("at").get<std::string>();
        f.pass = j.at("ok").get<bool>();
        const auto device = j.at("d").get<std::string>();
        if (!device.empty()) {
            const auto a = device.find(':'), b = device.find(':', a + 1);
            if (a == std::string::npos || b == std::string::npos) return makeError("a malformed device");
            f.vendorId = device.substr(0, a);
            f.productId = device.substr(a + 1, b - a - 1);
            f.serial = device.substr(b + 1);
        }
        if (!j.at("ap").is_null()) f.approval = ApprovalInfo{j["ap"].at(0), j["ap"].at(1), j["ap"].at(2)};
        f.reasonCodes = j.at("rc").get<std::vector<std::string>>();
        f.files = j.at("n").get<std::uint64_t>();
        f.bytes = j.at("b").get<std::uint64_t>();
        f.manifestSha256 = j.at("m").get<std::string>();
        f.dbVersion = j.at("db").at(0).get<std::string>();
        f.dbTime = j.at("db").at(1).get<std::string>();
        f.signatureAgeDays = j.at("db").at(2).get<std::string>();
        if (f.pass != f.reasonCodes.empty()) return makeError("a verdict that contradicts its reasons");
        return f;
    } catch (const json::exception& e) {
        return makeError(std::string("a malformed field (") + e.what() + ")");
    }
}

std::string compactOf(const Facts& f, const log::KioskKey& key) {
    std::string signedPart(kCompactPrefix);
    signedPart += base64url(factsJson(f).dump());
    return signedPart + "." + base64url(key.signRaw(signedPart));
}

// Checks a compact form against the trusted keys: the facts and the key that signed them.
Result<std::pair<Facts, std::string>> checkCompact(std::string_view compact, const std::vector<std::string>& keys) {
    if (!compact.starts_with(kCompactPrefix)) return makeError("not a qkiosk ticket (no QKT1 compact form)");
    const auto dot = compact.rfind('.');
    if (dot < kCompactPrefix.size()) return makeError("the compact form is damaged (no signature)");
    const std::string signedPart(compact.substr(0, dot));
    const auto payload = unbase64url(compact.substr(kCompactPrefix.size(), dot - kCompactPrefix.size()));
    const auto signature = unbase64url(compact.substr(dot + 1));
    if (!payload || !signature) return makeError("the compact form is damaged (not base64url)");
    const auto signer = std::find_if(keys.begin(), keys.end(),
                                     [&](const std::string& k) { return log::KioskKey::verifyRaw(k, signedPart, *signature); });
    if (signer == keys.end())
        return makeError("the compact form's signature does not verify with the kiosk's public key: it was changed, "
                         "or it was not issued by a trusted kiosk");
    const auto j = json::parse(*payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return makeError("the compact form's payload is not JSON");
    auto facts = factsFrom(j);
    if (!facts) return facts.error().context("the compact form holds");
    return std::pair{std::move(*facts), *signer};
}

bool isHex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "manifest: N files" and N lines "<sha256> <size> <path as a JSON string>".
Result<std::vector<FileRecord>> parseManifest(std::string_view section) {
    std::vector<FileRecord> files;
    std::size_t pos = 0;
    auto nextLine = [&]() -> std::optional<std::string_view> {
        if (pos >= section.size()) return std::nullopt;
        const auto nl = section.find('\n', pos);
        if (nl == std::string_view::npos) return std::nullopt;   // every line ends with a newline
        auto line = section.substr(pos, nl - pos);
        pos = nl + 1;
        return line;
    };
    auto head = nextLine();
    if (!head || !head->starts_with(kManifestLine) || !head->ends_with(" files")) return makeError("the manifest has no header");
    const auto countText = head->substr(kManifestLine.size(), head->size() - kManifestLine.size() - 6);
    std::uint64_t count = 0;
    if (auto [p, ec] = std::from_chars(countText.data(), countText.data() + countText.size(), count);
        ec != std::errc{} || p != countText.data() + countText.size())
        return makeError("the manifest's file count is damaged");
    for (std::uint64_t i = 0; i < count; ++i) {
        auto line = nextLine();
        if (!line) return makeError("the manifest ends after " + std::to_string(i) + " of " + std::to_string(count) + " files");
        const auto sp1 = line->find(' '), sp2 = line->find(' ', sp1 + 1);
        if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || !isHex64(line->substr(0, sp1)))
            return makeError("manifest line " + std::to_string(i + 1) + " is damaged");
        FileRecord f;
        f.sha256 = std::string(line->substr(0, sp1));
        const auto sizeText = line->substr(sp1 + 1, sp2 - sp1 - 1);
        if (auto [p, ec] = std::from_chars(sizeText.data(), sizeText.data() + sizeText.size(), f.size);
            ec != std::errc{} || p != sizeText.data() + sizeText.size())
            return makeError("manifest line " + std::to_string(i + 1) + " has a damaged size");
        const auto path = json::parse(line->substr(sp2 + 1), nullptr, false);
        if (!path.is_string()) return makeError("manifest line " + std::to_string(i + 1) + " has a damaged path");
        f.path = path.get<std::string>();
        files.push_back(std::move(f));
    }
    if (pos != section.size()) return makeError("the manifest has lines after its last file");
    return files;
}

std::string headlineOf(bool pass) { return pass ? "合格 PASS" : "不合格 FAIL"; }

}  // namespace

std::string plainWords(const std::string& code) {
    static const std::map<std::string, std::string> words = {
        {"infected", "マルウェアを検出 malware found"},
        {"unscannable", "検査しきれない内容 could not be fully scanned"},
        {"encrypted-volume", "暗号化されている encrypted volume"},
        {"unknown-filesystem", "読めない形式 unknown filesystem"},
        {"read-error", "読み取りエラー read error"},
        {"blocked-file-type", "持ち込み禁止のファイル blocked file type"},
        {"type-mismatch", "名前と中身が一致しない content does not match its name"},
        {"device-not-approved", "登録されていない機器 device not approved"},
        {"device-expired", "承認の期限切れ approval expired"},
        {"badusb", "記憶装置以外の機能を持つ機器 not only a storage device (BadUSB)"},
        {"signatures-outdated", "ウイルス定義が古い signatures out of date"},
        {"corrupt-filesystem", "壊れたファイルシステム corrupt filesystem"},
        {"ambiguous-layout", "複数の読み方ができる媒体 media that can be read in more than one way"},
        {"deceptive-name", "見せかけのファイル名 deceptive file name"},
    };
    const auto it = words.find(code);
    return it == words.end() ? code : it->second;
}

Ticket issue(const Report& r, const std::string& kioskId, const log::KioskKey& key) {
    Ticket t;
    Facts& f = t.facts;
    f.kioskId = kioskId;
    f.ticketId = r.ticketId;
    f.time = r.finished;
    f.pass = r.pass;
    if (r.device) {
        f.vendorId = r.device->vendorId;
        f.productId = r.device->productId;
        f.serial = r.device->serial;
        f.approval = r.device->approval;
    }
    for (const auto& x : r.reasons) {
        const std::string code = proto::reasonCodeName(x.code);
        if (std::find(f.reasonCodes.begin(), f.reasonCodes.end(), code) == f.reasonCodes.end()) f.reasonCodes.push_back(code);
    }
    f.files = r.files.size();
    f.bytes = r.bytesScanned;
    f.manifestSha256 = r.manifestSha256;
    f.dbVersion = r.engine.dbVersion;
    f.dbTime = r.engine.dbTime;
    f.signatureAgeDays = signatureAgeText(r.engine);

    t.headline = headlineOf(r.pass);
    t.lines = humanLines(r, f, t.headline);
    t.compact = compactOf(f, key);

    std::string body;
    for (const auto& line : t.lines) body += line + "\n";
    body += std::string(kCompactLine) + t.compact + "\n";
    body += std::string(kManifestLine) + std::to_string(r.files.size()) + " files\n";
    for (const auto& file : r.files)
        body += file.sha256 + " " + std::to_string(file.size) + " " + json(file.path).dump() + "\n";
    t.text = body + std::string(kSignatureLine) + base64url(key.signRaw(body)) + "\n";
    return t;
}

Result<Checked> check(const std::string& text, const std::vector<std::string>& keys) {
    std::string_view all(text);
    while (!all.empty() && (all.back() == '\n' || all.back() == '\r' || all.back() == ' ')) all.remove_suffix(1);
    // A bare compact form, as a barcode reader types the printed QR code.
    if (all.starts_with(kCompactPrefix) && all.find('\n') == std::string_view::npos) {
        auto c = checkCompact(all, keys);
        if (!c) return c.error();
        const bool pass = c->first.pass;
        return Checked{std::move(c->first), std::move(c->second), std::nullopt, headlineOf(pass), {}, std::string(all)};
    }
    const auto sigAt = all.rfind(std::string("\n") + std::string(kSignatureLine));
    if (sigAt == std::string_view::npos) return makeError("not a qkiosk ticket, or its signature line is missing");
    const std::string body(all.substr(0, sigAt + 1));
    const auto signature = unbase64url(all.substr(sigAt + 1 + kSignatureLine.size()));
    if (!signature) return makeError("the ticket's signature line is damaged");
    const auto signer = std::find_if(keys.begin(), keys.end(),
                                     [&](const std::string& k) { return log::KioskKey::verifyRaw(k, body, *signature); });
    if (signer == keys.end())
        return makeError("the ticket's signature does not verify with the kiosk's public key: the ticket was changed "
                         "after it was issued, or it was not issued by a trusted kiosk");

    // Signed by the kiosk; still, each part must agree with the others.
    const auto compactAt = body.find(std::string("\n") + std::string(kCompactLine));
    if (compactAt == std::string::npos) return makeError("the ticket has no compact form");
    const auto compactEnd = body.find('\n', compactAt + 1);
    auto c = checkCompact(std::string_view(body).substr(compactAt + 1 + kCompactLine.size(),
                                                        compactEnd - compactAt - 1 - kCompactLine.size()),
                          {*signer});
    if (!c) return c.error();
    auto files = parseManifest(std::string_view(body).substr(compactEnd + 1));
    if (!files) return files.error();
    // A media never read (a refused device, an interrupted session) has no manifest and no files.
    const bool unread = c->first.manifestSha256.empty() && files->empty() && c->first.files == 0;
    if (!unread && (files->size() != c->first.files || manifestSha256(*files) != c->first.manifestSha256))
        return makeError("the ticket's file list does not match its manifest SHA-256");
    const bool pass = c->first.pass;
    Checked out{std::move(c->first), *signer, std::move(*files), headlineOf(pass), {}, {}};
    out.compact = body.substr(compactAt + 1 + kCompactLine.size(), compactEnd - compactAt - 1 - kCompactLine.size());
    std::istringstream human(body.substr(0, compactAt));
    for (std::string line; std::getline(human, line);) out.lines.push_back(line);
    return out;
}

Layout layoutOf(const Ticket& t) { return Layout{t.facts.pass, t.headline, t.lines, t.compact}; }
Layout layoutOf(const Checked& t) { return Layout{t.facts.pass, t.headline, t.lines, t.compact}; }

Status archive(const Layout& layout, const std::vector<std::string>& formats, const std::string& base) {
    for (const auto& format : formats) {
        auto picture = format == "png" ? renderPng(layout) : renderPdf(layout);
        if (!picture) return picture.error().context("the ticket's " + format);
        if (auto st = writeFileAtomically(base + "." + format, *picture); !st) return st;
    }
    return {};
}

Difference compare(const std::vector<FileRecord>& ticket, const std::vector<FileRecord>& media) {
    std::map<std::string, const FileRecord*> before;
    for (const auto& f : ticket) before[f.path] = &f;
    Difference d;
    std::set<std::string> seen;
    for (const auto& f : media) {
        seen.insert(f.path);
        const auto it = before.find(f.path);
        if (it == before.end()) d.added.push_back(f.path);
        else if (it->second->sha256 != f.sha256 || it->second->size != f.size) d.changed.push_back(f.path);
    }
    for (const auto& [path, f] : before)
        if (!seen.count(path)) d.removed.push_back(path);
    std::sort(d.added.begin(), d.added.end());
    std::sort(d.changed.begin(), d.changed.end());
    return d;
}

}  // namespace kiosk::ticket
