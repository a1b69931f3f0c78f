// How long the officer's log screens take on a big quarantine log: a log of
// N sessions, each with a manifest of F files (as real sessions have), is
// written through the real QuarantineLog, then the officer desk answers the
// requests the terminal sends (docs/officer-protocol.md) and each is timed.
// No socket: this measures what the daemon does between sessions while an
// officer waits. Usage: qkiosk_bench_officer DIR SESSIONS FILES_PER_SESSION
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "kiosk/officer/OfficerDesk.h"
#include "kiosk/officer/Officers.h"

using namespace kiosk;
using Clock = std::chrono::steady_clock;

namespace {

// A session record as the daemon writes it: the report, with its manifest.
std::string sessionJson(int i, int files) {
    nlohmann::json files_ = nlohmann::json::array();
    for (int f = 0; f < files; ++f)
        files_.push_back({{"path", "/p1/folder " + std::to_string(f % 40) + "/document-" + std::to_string(f) + ".pdf"},
                          {"size", 123456 + f},
                          {"sha256", std::string(64, "0123456789abcdef"[(i + f) % 16])},
                          {"mime", "application/pdf"}});
    const bool fail = i % 50 == 0;
    nlohmann::json r = {
        {"format_version", 1},
        {"verdict", fail ? "fail" : "pass"},
        {"reasons", fail ? nlohmann::json::array({{{"code", "infected"}, {"path", "/p1/a.zip!b.exe"}, {"detail", "Win.Test"}}})
                         : nlohmann::json::array()},
        {"device", {{"vendor_id", "0781"}, {"product_id", "5567"}, {"serial", "SER" + std::to_string(i % 300)},
                    {"interfaces", {"08:06:50"}},
                    {"approval", {{"owner", i % 7 == 0 ? "Example Medical Systems K.K." : "循環器内科"}, {"purpose", "maintenance"}, {"expires", "2099-12-31"}}}}},
        {"files_total", files},
        {"files_scanned", files},
        {"bytes_scanned", 123456ll * files},
        {"manifest_sha256", std::string(64, 'a')},
        {"ticket_id", "2026" + std::to_string(100000 + i)},
        {"files", files_}};
    return r.dump();
}

double ms(Clock::time_point since) { return std::chrono::duration<double, std::milli>(Clock::now() - since).count(); }

int runBench(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s DIR SESSIONS FILES_PER_SESSION\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    const int sessions = std::stoi(argv[2]), files = std::stoi(argv[3]);
    std::filesystem::create_directories(dir);
    Config config;
    config.logPath = (dir / "log.db").string();
    config.kioskKey = (dir / "kiosk.key").string();
    config.spoolDir = dir.string();
    config.officers.file = (dir / "officers").string();
    config.officers.lockoutFile = (dir / "lockout.json").string();
    if (auto st = officer::setPassword(config.officers, "bench", "bench password 1"); !st) return 2;
    auto log = log::openSignedLog(config.logPath, config.kioskKey);
    if (!log) {
        std::fprintf(stderr, "%s\n", log.error().message.c_str());
        return 2;
    }
    auto have = log->log->countAfter(0);
    if (have && *have < sessions) {
        const auto t = Clock::now();
        for (int i = static_cast<int>(*have); i < sessions; ++i)
            if (!log->log->append("session", "2026" + std::to_string(100000 + i), sessionJson(i, files))) return 2;
        std::printf("wrote %d sessions of %d files in %.0f ms\n", sessions - static_cast<int>(*have), files, ms(t));
    }
    std::printf("log: %d sessions, %.1f MiB\n", sessions,
                static_cast<double>(std::filesystem::file_size(config.logPath)) / (1 << 20));

    OfficerDesk desk(config, *log);
    std::map<std::string, PresentDevice> none;
    KioskView view;
    view.devices = &none;
    const auto now = OfficerDesk::Clock::now();
    auto ask = [&](const char* what, const std::string& json) {
        const auto t = Clock::now();
        const auto reply = desk.handle({1, 0, 0, false, "1", json}, view, now);
        std::printf("%-44s %8.1f ms  %s\n", what, ms(t),
                    reply.value("ok", false) ? (reply.contains("total") ? ("total " + std::to_string(reply["total"].get<int>())).c_str() : "ok")
                                             : reply.value("error", "").c_str());
    };
    ask("login (Argon2id)", R"({"op":"login","name":"bench","password":"bench password 1"})");
    ask("status (last 10 sessions)", R"({"op":"status"})");
    ask("log, first page, no filter", R"({"op":"log","offset":0,"limit":15})");
    ask("log, verdict fail", R"({"op":"log","verdict":"fail","limit":15})");
    ask("log, owner filter, page 3", R"({"op":"log","owner":"Example","offset":30,"limit":15})");
    ask("session detail", R"({"op":"session","ticket_id":"2026100050"})");
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    std::printf("peak RSS %.1f MiB\n", static_cast<double>(ru.ru_maxrss) / 1024);
    return 0;
}

}  // namespace

// A bad argument (std::stoi) or an unwritable DIR throws here: one line and
// exit 2, as every kiosk program does, not an abort.
int main(int argc, char** argv) {
    try {
        return runBench(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "qkiosk_bench_officer: internal error: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "qkiosk_bench_officer: internal error: an unknown exception\n");
    }
    return 2;
}
