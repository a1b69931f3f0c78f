// A worker for the session's link tests: one end of a socket pair (the test
// holds the other and plays the worker), and a scripted end.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kiosk/model/Report.h"
#include "kiosk/session/WorkerLink.h"

namespace kiosk {

// `ended` is how it ended ("" a clean exit); std::nullopt: it still runs
// (waitFor gives up), and wait() then reports the kill.
class FakeWorker final : public Worker {
public:
    FakeWorker(UniqueFd end, bool* killed, std::optional<std::string> ended)
        : channel_(std::move(end)), killed_(killed), ended_(std::move(ended)) {}
    proto::Channel& channel() override { return channel_; }
    void kill() override { *killed_ = true; }
    std::string wait() override { return ended_.value_or("killed by signal 9 (Killed)"); }
    std::optional<std::string> waitFor(std::chrono::milliseconds) override { return ended_; }

private:
    proto::Channel channel_;
    bool* killed_;
    std::optional<std::string> ended_;
};

inline bool hasReason(const Report& r, proto::ReasonCode code, const std::string& path, const std::string& detailPart) {
    for (const auto& x : r.reasons)
        if (x.code == code && x.path == path && x.detail.find(detailPart) != std::string::npos) return true;
    return false;
}

}  // namespace kiosk
