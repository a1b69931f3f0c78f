// The signed ticket of one session (docs/ticket-format.md). The kiosk issues
// it with its Ed25519 key (log::KioskKey); `qkiosk verify` checks it on the
// closed-network side with the kiosk's public key.
//
// A ticket file is UTF-8 text: the human-readable lines (Japanese and
// English), the signed compact form that the printed QR code carries, the
// manifest (every file's SHA-256, size and path, which must hash to the
// manifest SHA-256 the compact form certifies), and last a signature over
// everything before it. A file holding only the compact form (as a barcode
// reader types it from the printed QR) also verifies, without the file list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kiosk/model/Report.h"
#include "kiosk/log/KioskKey.h"
#include "kiosk/ticket/TicketRender.h"
#include "qkiosk/base/Result.h"

namespace kiosk::ticket {

// What a ticket certifies.
struct Facts {
    std::string kioskId, ticketId;
    std::string time;                            // when the verdict was reached, RFC 3339 UTC
    bool pass = false;
    std::string vendorId, productId, serial;     // empty for a disk image
    std::optional<ApprovalInfo> approval;
    std::vector<std::string> reasonCodes;        // each code once, in the report's order
    std::uint64_t files = 0, bytes = 0;          // files on the media; bytes scanned
    std::string manifestSha256;
    std::string dbVersion, dbTime;               // the signature database
    std::string signatureAgeDays;                // "1.2", or "unknown"
};

struct Ticket {
    Facts facts;
    std::string headline;                // "合格 PASS" / "不合格 FAIL"
    std::vector<std::string> lines;      // what a person reads, Japanese and English
    std::string compact;                 // "QKT1.<payload>.<signature>": the QR code's content
    std::string text;                    // the whole signed ticket file
};

// Issues the ticket of a finished session, signed with the kiosk's key.
Ticket issue(const Report& report, const std::string& kioskId, const log::KioskKey& key);

// A ticket whose signatures check out, as read back by `qkiosk verify`.
struct Checked {
    Facts facts;
    std::string publicKeyHex;                      // the key that signed it
    std::optional<std::vector<FileRecord>> files;  // the manifest; absent for a bare compact form
    std::string headline;                          // as issued (a reprint shows what was signed)
    std::vector<std::string> lines;                // empty for a bare compact form
    std::string compact;
};

// Checks a ticket file's text, or a bare compact form, against the public
// keys the site trusts. Any damage, forgery or inconsistency is an error
// that says what is wrong.
Result<Checked> check(const std::string& text, const std::vector<std::string>& publicKeysHex);

// How a media's files differ from a ticket's manifest, path by path.
struct Difference {
    std::vector<std::string> added, removed, changed;
    bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};
Difference compare(const std::vector<FileRecord>& ticket, const std::vector<FileRecord>& media);

// What the pictures and the printed ticket show: the headline, the lines and
// a QR code of the compact form.
Layout layoutOf(const Ticket& ticket);
Layout layoutOf(const Checked& ticket);

// Writes the pictures of a ticket named in `formats` ("pdf", "png") as
// `base` + ".pdf" / ".png", each atomically.
Status archive(const Layout& layout, const std::vector<std::string>& formats, const std::string& base);

// The reason codes in plain words, Japanese then English ("マルウェアを検出 malware found").
std::string plainWords(const std::string& reasonCode);

}  // namespace kiosk::ticket
