// qkiosk scan: one medium (disk image or block device), one verdict.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "Commands.h"
#include "Common.h"
#include "kiosk/devices/UdevDeviceSource.h"
#include "kiosk/files/AtomicFile.h"
#include "kiosk/config/Config.h"
#include "kiosk/evidence/Evidence.h"
#include "kiosk/workers/Media.h"
#include "kiosk/model/Report.h"
#include "kiosk/session/ScanSession.h"
#include "kiosk/workers/ScannerService.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/ticket/Ticket.h"

namespace kiosk::app {

int usageError(const std::string& message) {
    std::fprintf(stderr, "qkiosk: %s\n", message.c_str());
    return 2;
}

int scanCommand(const std::vector<std::string>& args) {
    std::optional<std::string> image, device, db, json, configPath, policyPath, logPath, ticketPath;
    std::optional<std::string> evidenceDir;
    bool quiet = false;
    if (auto st = readOptions("scan", args, 0,
                              {{{"--image", &image}, {"--device", &device}, {"--db", &db}, {"--json", &json},
                                {"--config", &configPath}, {"--evidence", &evidenceDir}, {"--policy", &policyPath},
                                {"--log", &logPath}, {"--ticket", &ticketPath}},
                               {{"--quiet", &quiet}, {"-q", &quiet}},
                               nullptr});
        !st)
        return usageError(st.error().message);
    if (image.has_value() == device.has_value()) return usageError("scan: give exactly one of --image FILE or --device DEV");

    auto loaded = loadConfigOrDefault(configPath);
    if (!loaded) return usageError(loaded.error().message);
    const Config config = std::move(*loaded);
    const std::string dbDir = db.value_or(config.dbDir);
    if (auto st = checkDatabaseDir(dbDir); !st) return usageError(st.error().message);

    // The signatures load while the media and the device are looked at.
    auto scanner = ScannerService::start(dbDir, config.scan.tempDir);
    if (!scanner) return usageError(scanner.error().message);

    auto media = openMedia(image ? *image : *device, device.has_value());
    if (!media) return usageError(media.error().message);
    if (!media->warning.empty()) std::fprintf(stderr, "qkiosk: warning: %s\n", media->warning.c_str());

    // A device scan names the USB device behind the block device and applies
    // the policy to it: a refused device can never PASS, whatever its files.
    std::optional<DeviceIdentity> identity;
    std::vector<policy::PolicyReason> policyReasons;
    if (media->blockDevice) {
        auto source = devices::UdevDeviceSource::open();
        auto usb = source ? (*source)->deviceOfBlock(media->path) : Result<devices::UsbDevice>(source.error());
        if (usb) {
            const auto whitelist = loadPolicy(policyPath.value_or(config.whitelistPath));
            const auto decision = policy::decide(*usb, whitelist, config, todayLocal());
            identity = policy::identityOf(*usb, decision);
            policyReasons = decision.reasons;
        } else if (policyPath) {
            return usageError(media->path + ": the policy cannot be applied: " + usb.error().message);
        }
    } else if (policyPath) {
        // Images have no device to decide on; still refuse a broken policy file.
        if (auto w = loadPolicy(*policyPath); !w) return usageError(w.error().message);
    }

    if (auto st = (*scanner)->waitReady(std::chrono::minutes(10)); !st) return usageError(st.error().message);
    // --evidence DIR: on a FAIL with findings, a case in that vault (kiosk/evidence/Evidence.h).
    std::optional<EvidenceCollection> evidence;
    if (evidenceDir) {
        EvidenceSettings vault = config.evidence;
        vault.dir = *evidenceDir;
        evidence.emplace(vault);
    }
    ScanOptions options{scanner->get(), config.scan, config.sandbox, config.maxSignatureAgeDays, identity, {}, {}};
    options.evidence = evidence ? &*evidence : nullptr;
    ScanSession session(std::move(options));
    auto report = session.run(*media);
    if (!report) return usageError(report.error().message);
    for (const auto& r : policyReasons) addReason(*report, r.code, "/", r.detail);
    if (evidence) evidence->finish(*report, *media, config.kioskId);

    // The quarantine log first: a verdict that is not recorded is not given.
    if (logPath) {
        auto qlog = log::openSignedLog(*logPath, config.kioskKey);
        if (!qlog) return usageError(qlog.error().message);
        if (auto r = qlog->appendSigned("session", report->ticketId, toJson(*report)); !r) return usageError(r.error().message);
        if (report->evidence) {
            const auto [kind, data] = custodyRecord(*report);
            if (auto r = qlog->appendSigned(kind, report->ticketId, data); !r) return usageError(r.error().message);
        }
    }

    // The ticket is signed with the kiosk's key (created on first use).
    if (ticketPath) {
        auto key = log::KioskKey::loadOrCreate(config.kioskKey);
        if (!key) return usageError(key.error().context("the ticket cannot be signed").message);
        if (auto st = writeFileAtomically(*ticketPath, ticket::issue(*report, config.kioskId, *key).text); !st)
            return usageError(st.error().message);
    }
    if (json) {
        const std::string text = toJson(*report);
        if (*json == "-") {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
        } else if (auto st = writeFileAtomically(*json, text); !st) {
            return usageError(st.error().message);
        }
    }
    if (!quiet) {
        // With the JSON on stdout the summary goes to stderr, so stdout stays parseable.
        std::FILE* out = (json && *json == "-") ? stderr : stdout;
        const std::string summary = toSummary(*report);
        std::fwrite(summary.data(), 1, summary.size(), out);
    }
    return report->pass ? 0 : 1;
}

}  // namespace kiosk::app
