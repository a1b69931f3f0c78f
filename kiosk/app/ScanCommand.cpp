// qkiosk scan: one medium (disk image or block device), one verdict.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "Commands.h"
#include "kiosk/AtomicFile.h"
#include "kiosk/Config.h"
#include "kiosk/Media.h"
#include "kiosk/Report.h"
#include "kiosk/ScanSession.h"

namespace kiosk::app {

int usageError(const std::string& message) {
    std::fprintf(stderr, "qkiosk: %s\n", message.c_str());
    return 2;
}

int scanCommand(const std::vector<std::string>& args) {
    std::optional<std::string> image, device, db, json, configPath;
    bool quiet = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::optional<std::string>& out) -> bool {
            if (i + 1 >= args.size() || args[i + 1].empty()) return false;
            out = args[++i];
            return true;
        };
        if (a == "--image") {
            if (!value(image)) return usageError("scan: --image needs a file");
        } else if (a == "--device") {
            if (!value(device)) return usageError("scan: --device needs a block device");
        } else if (a == "--db") {
            if (!value(db)) return usageError("scan: --db needs a directory");
        } else if (a == "--json") {
            if (!value(json)) return usageError("scan: --json needs a file or -");
        } else if (a == "--config") {
            if (!value(configPath)) return usageError("scan: --config needs a file");
        } else if (a == "--quiet" || a == "-q") {
            quiet = true;
        } else if (a == "--policy" || a == "--ticket" || a == "--log") {
            return usageError("scan: " + a + " is not available in this version (device policy, tickets and the log come with later releases)");
        } else {
            return usageError("scan: unknown option \"" + a + "\"");
        }
    }
    if (image.has_value() == device.has_value()) return usageError("scan: give exactly one of --image FILE or --device DEV");

    Config config;
    if (configPath || std::filesystem::exists(kDefaultConfigPath)) {
        auto loaded = loadConfig(configPath.value_or(kDefaultConfigPath));
        if (!loaded) return usageError(loaded.error().message);
        config = std::move(*loaded);
    }
    const std::string dbDir = db.value_or(config.dbDir);
    if (!std::filesystem::is_directory(dbDir))
        return usageError(dbDir + ": signature database directory not found (use --db DIR)");

    auto media = openMedia(image ? *image : *device, device.has_value());
    if (!media) return usageError(media.error().message);
    if (!media->warning.empty()) std::fprintf(stderr, "qkiosk: warning: %s\n", media->warning.c_str());

    ScanSession session(ScanOptions{dbDir, config.scan, std::nullopt});
    auto report = session.run(*media);
    if (!report) return usageError(report.error().message);

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
