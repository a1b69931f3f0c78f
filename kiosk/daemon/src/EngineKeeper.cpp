#include "kiosk/daemon/EngineKeeper.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "kiosk/workers/ScannerService.h"

namespace kiosk {
namespace {

namespace fs = std::filesystem;

// Names, sizes and times of the database files: changes when freshclam or an
// import replaces a file.
std::string databaseStamp(const std::string& dir) {
    std::vector<std::string> parts;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        struct stat st{};
        if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        parts.push_back(it->path().filename().string() + ":" + std::to_string(st.st_size) + ":" +
                        std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec));
    }
    std::sort(parts.begin(), parts.end());
    std::string out = ec ? "unreadable" : "";
    for (const auto& p : parts) out += p + "\n";
    return out;
}

class ServiceEngine final : public Engine {
public:
    explicit ServiceEngine(std::unique_ptr<ScannerService> s) : service_(std::move(s)) {}
    Result<bool> poll() override { return service_->poll(); }
    Status waitReady(std::chrono::milliseconds timeout) override { return service_->waitReady(timeout); }
    const EngineInfo& info() const override { return service_->engine(); }
    ScannerService* service() override { return service_.get(); }

private:
    std::unique_ptr<ScannerService> service_;
};

}  // namespace

EngineKeeper EngineKeeper::forDatabase(const std::string& dbDir, const std::string& tempBase, StatusSink status,
                                       Recorder record) {
    auto start = [dbDir, tempBase]() -> Result<std::unique_ptr<Engine>> {
        auto s = ScannerService::start(dbDir, tempBase);
        if (!s) return s.error();
        return std::unique_ptr<Engine>(std::make_unique<ServiceEngine>(std::move(*s)));
    };
    return EngineKeeper(dbDir, std::move(start), [dbDir] { return databaseStamp(dbDir); }, std::move(status),
                        std::move(record));
}

EngineKeeper::EngineKeeper(std::string dbDir, Start start, Stamp stamp, StatusSink status, Recorder record, WallTime now)
    : dbDir_(std::move(dbDir)), start_(std::move(start)), stamp_(std::move(stamp)), status_(std::move(status)),
      record_(std::move(record)), now_(std::move(now)) {}

messages::Ready EngineKeeper::readyEvent() const {
    const auto& e = engine_->info();
    return {static_cast<std::uint64_t>(e.signatures), e.dbVersion, signatureAgeText(e, now_())};
}

void EngineKeeper::maintain() {
    if (engine_) {
        if (auto alive = engine_->poll(); !alive) {
            // Between sessions nothing should kill it: an officer wants to know.
            status_(messages::Failure{alive.error().message + "; loading the signatures again"});
            (void)record_("engine-died", "", nlohmann::json{{"error", alive.error().message}}.dump(), true);
            engine_.reset();
        }
    }
    const std::string stamp = stamp_();
    if (!engine_ && !next_) {
        // Nothing usable: load now and wait (nothing can be scanned meanwhile).
        status_(messages::Loading{dbDir_});
        auto s = start_();
        const Status st = s ? (*s)->waitReady(std::chrono::minutes(10)) : Status(s.error());
        if (st) {
            engine_ = std::move(*s);
            engineStamp_ = stamp;
            status_(readyEvent());
        } else {
            status_(messages::Failure{"signatures cannot be loaded: " + st.error().message});
        }
        return;
    }
    if (!next_ && stamp != engineStamp_ && stamp != failedStamp_) {
        auto s = start_();
        if (!s) {
            status_(messages::EngineUpdateFailed{s.error().message});
            failedStamp_ = stamp;
            return;
        }
        next_ = std::move(*s);
        nextStamp_ = stamp;
    }
    if (next_) {
        auto ready = next_->poll();
        if (!ready) {
            // The old engine stays in use; the same files are not retried.
            status_(messages::EngineUpdateFailed{ready.error().message + " (the previous signatures stay in use)"});
            (void)record_("engine-update-failed", "", nlohmann::json{{"error", ready.error().message}}.dump(), true);
            failedStamp_ = nextStamp_;
            next_.reset();
            if (engine_) status_(readyEvent());   // else the next look loads one afresh
        } else if (*ready) {
            engine_ = std::move(next_);   // between sessions: no scan holds the old one
            engineStamp_ = nextStamp_;
            const auto& e = engine_->info();
            status_(messages::EngineUpdated{static_cast<std::uint64_t>(e.signatures), e.dbVersion});
            (void)record_("engine-updated", "",
                          nlohmann::json{{"signatures", e.signatures}, {"db_version", e.dbVersion}, {"db_time", e.dbTime}}
                              .dump(),
                          true);
            status_(readyEvent());
        }
    }
}

}  // namespace kiosk
