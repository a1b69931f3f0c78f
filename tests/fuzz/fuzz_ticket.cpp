// Fuzz harness for ticket::check, which `qkiosk verify` runs on a ticket file
// (or a QR code's text) from wherever the media came from. Every input is
// checked as it is; then, so that the fuzzer also reaches the parsers behind
// the signatures (compact payload, manifest), the input is taken as a ticket
// body, its compact form and the whole body are signed with the harness's own
// key, and checked again. Besides not crashing: a ticket that checks out
// keeps Ticket.h's promises (its file list hashes to the certified manifest,
// its verdict agrees with its reasons), and only the harness's key verifies.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "kiosk/files/KeyFile.h"
#include "kiosk/model/Manifest.h"
#include "kiosk/log/KioskKey.h"
#include "kiosk/ticket/Ticket.h"

namespace {

const kiosk::log::KioskKey& harnessKey() {
    static const kiosk::log::KioskKey key = [] {
        char path[] = "/tmp/qkiosk-fuzz-ticket-key-XXXXXX";
        const int fd = ::mkstemp(path);
        if (fd < 0) __builtin_trap();
        ::close(fd);
        ::unlink(path);
        auto k = kiosk::log::KioskKey::loadOrCreate(path);
        ::unlink(path);
        if (!k) __builtin_trap();
        return *k;
    }();
    return key;
}

// Re-signs the "compact: QKT1.<payload>.<sig>" line (if any) and appends the
// body's signature line, as the kiosk would.
std::string resignCompact(const std::string& compact, const kiosk::log::KioskKey& key) {
    const auto dot = compact.rfind('.');
    if (dot == std::string::npos || dot < 5) return compact;
    const std::string signedPart = compact.substr(0, dot);
    return signedPart + "." + kiosk::base64url(key.signRaw(signedPart));
}

std::string signAsKiosk(std::string body, const kiosk::log::KioskKey& key) {
    // A bare compact form, as from a QR code.
    if (body.starts_with("QKT1.") && body.find('\n') == std::string::npos) return resignCompact(body, key);
    const std::string tag = "\ncompact: QKT1.";
    if (const auto at = body.find(tag); at != std::string::npos) {
        const auto start = at + 10;   // after "\ncompact: "
        const auto end = body.find('\n', start);
        if (end != std::string::npos) {
            body.replace(start, end - start, resignCompact(body.substr(start, end - start), key));
        }
    }
    if (body.empty() || body.back() != '\n') body += '\n';
    return body + "signature: " + kiosk::base64url(key.signRaw(body)) + "\n";
}

void checkPromises(const kiosk::Result<kiosk::ticket::Checked>& c, const std::string& keyHex) {
    if (!c) {
        if (c.error().message.empty()) __builtin_trap();
        return;
    }
    if (c->publicKeyHex != keyHex) __builtin_trap();
    if (c->facts.pass != c->facts.reasonCodes.empty()) __builtin_trap();
    if (c->files && !c->facts.manifestSha256.empty() &&
        (c->files->size() != c->facts.files || kiosk::manifestSha256(*c->files) != c->facts.manifestSha256))
        __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& key = harnessKey();
    const std::string keyHex = key.publicHex();
    const std::string text(reinterpret_cast<const char*>(data), size);
    // As it is: nobody but the kiosk can sign, so this must never check out.
    if (kiosk::ticket::check(text, {keyHex})) __builtin_trap();
    // Signed by "the kiosk": every parser behind the signatures gets the bytes.
    checkPromises(kiosk::ticket::check(signAsKiosk(text, key), {keyHex}), keyHex);
    return 0;
}
