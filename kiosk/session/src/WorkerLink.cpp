#include "kiosk/session/WorkerLink.h"

#include "qkiosk/base/Text.h"

namespace kiosk {

Incoming receiveFrom(proto::Channel& channel) {
    auto r = channel.receive();
    if (!r) return Incoming{Incoming::Kind::Broken, {}, r.error().message};
    if (!r->has_value()) return Incoming{Incoming::Kind::Closed, {}, {}};
    return Incoming{Incoming::Kind::Message, std::move(**r), {}};
}

std::string explainEnd(const std::string& how, const WorkerLimits& limits) {
    if (how.find("signal 24 ") != std::string::npos)
        return how + ": it exceeded its CPU time limit of " + std::to_string(limits.cpuSeconds) + " s";
    if (how.find("signal 31 ") != std::string::npos) return how + ": the sandbox stopped a forbidden system call";
    if (how.find("signal 6 ") != std::string::npos) return how + ": it aborted, possibly out of memory (limit " + humanBytes(limits.memoryBytes) + ")";
    if (how == "exited with status 3") return how + ": it could not enter its sandbox";
    return how;
}

std::string explainEarlyEnd(const std::string& how, const WorkerLimits& limits) {
    return how.empty() ? std::string("exited early") : explainEnd(how, limits);
}

std::string explainBreak(Worker& w, const std::string& name, const std::string& error, const WorkerLimits& limits) {
    if (auto how = w.waitFor(std::chrono::milliseconds(500))) return name + " stopped (" + explainEarlyEnd(*how, limits) + ")";
    return name + " sent an invalid frame: " + error;
}

}  // namespace kiosk
