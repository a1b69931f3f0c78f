// qkiosk verify: the closed-network side's check before a medium goes in.
// The ticket must carry a valid kiosk signature and say PASS, and the media's
// files must be exactly the ones the kiosk scanned (read-only, recomputed by
// the sandboxed media reader; no signatures or scanner needed).
//   qkiosk verify --ticket FILE (--image FILE | --device DEV) [--pubkey FILE] [--config FILE]
#include <cstdio>
#include <optional>

#include "Commands.h"
#include "Common.h"
#include "kiosk/files/AtomicFile.h"
#include "kiosk/workers/Media.h"
#include "kiosk/session/ScanSession.h"
#include "kiosk/ticket/Ticket.h"

namespace kiosk::app {
namespace {

void list(const char* what, const std::vector<std::string>& paths) {
    for (const auto& p : paths) std::printf("  %-8s %s\n", what, p.c_str());
}

}  // namespace

int verifyCommand(const std::vector<std::string>& args) {
    std::optional<std::string> ticketPath, image, device, pubkey, configPath;
    if (auto st = readOptions("verify", args, 0,
                              {{{"--ticket", &ticketPath}, {"--image", &image}, {"--device", &device}, {"--pubkey", &pubkey},
                                {"--config", &configPath}},
                               {},
                               nullptr});
        !st)
        return usageError(st.error().message);
    if (!ticketPath) return usageError("verify: give the ticket with --ticket FILE");
    if (image.has_value() == device.has_value()) return usageError("verify: give exactly one of --image FILE or --device DEV");

    auto config = loadConfigOrDefault(configPath);
    if (!config) return usageError(config.error().message);
    auto keys = trustedKioskKeys(pubkey, *config);
    if (!keys) return usageError(keys.error().message);
    auto text = readTextFile(*ticketPath);
    if (!text) return usageError(text.error().message);

    // A forged or damaged ticket is a mismatch, not an input error: the media must not go in.
    auto ticket = ticket::check(*text, *keys);
    if (!ticket) {
        std::printf("MISMATCH: %s: %s\n", ticketPath->c_str(), ticket.error().message.c_str());
        return 1;
    }
    const auto& f = ticket->facts;
    std::printf("Ticket:   %s from kiosk %s, %s, signature OK (key %s…)\n", f.ticketId.c_str(), f.kioskId.c_str(),
                f.time.c_str(), ticket->publicKeyHex.substr(0, 16).c_str());
    std::printf("Verdict:  %s%s\n", f.pass ? "PASS" : "FAIL", f.pass ? "" : " (the kiosk refused this media)");
    std::printf("Manifest: %s, %llu files\n", f.manifestSha256.c_str(), static_cast<unsigned long long>(f.files));

    auto media = openMedia(image ? *image : *device, device.has_value());
    if (!media) return usageError(media.error().message);
    ScanOptions options;
    options.settings = config->scan;
    options.sandbox = config->sandbox;
    options.manifestOnly = true;
    auto read = ScanSession(std::move(options)).run(*media);
    if (!read) return usageError(read.error().message);
    std::printf("Media:    %s, %zu files, manifest %s\n", media->path.c_str(), read->files.size(), read->manifestSha256.c_str());

    bool ok = f.pass;
    if (!read->reasons.empty()) {
        ok = false;
        std::printf("MISMATCH: the media could not be read completely:\n");
        for (const auto& r : read->reasons)
            std::printf("  %s %s %s\n", proto::reasonCodeName(r.code), r.path.c_str(), r.detail.c_str());
    }
    if (ticket->files) {
        const auto d = ticket::compare(*ticket->files, read->files);
        if (!d.empty()) {
            ok = false;
            std::printf("MISMATCH: the media changed after the scan:\n");
            list("added", d.added);
            list("removed", d.removed);
            list("changed", d.changed);
        }
    } else if (read->manifestSha256 != f.manifestSha256) {
        // A bare compact form (from the QR code) carries the manifest hash only.
        ok = false;
        std::printf("MISMATCH: the media changed after the scan (its manifest differs; the ticket file names the files)\n");
    }
    if (!f.pass) std::printf("FAIL: the ticket says FAIL: do not use this media\n");
    else if (ok) std::printf("OK: the media is the one the kiosk scanned and passed\n");
    return ok ? 0 : 1;
}

}  // namespace kiosk::app
