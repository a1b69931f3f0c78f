// What the session's two links (ReaderLink, ScannerLink) share: a worker
// process seen only through its channel and its end, so that a unit test can
// stand in for it with a socket pair; one turn of its channel as a plain
// value; and how a worker's end is put in words.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "kiosk/workers/ScannerService.h"   // WorkerLimits
#include "qkiosk/protocol/Channel.h"

namespace kiosk {

// A worker process: WorkerProcess or ScanWorker in the kiosk, a fake in tests.
class Worker {
public:
    virtual ~Worker() = default;
    virtual proto::Channel& channel() = 0;
    virtual void kill() = 0;
    // How it ended ("" for a clean exit), waiting as long as it takes.
    virtual std::string wait() = 0;
    // The same, or std::nullopt while it still runs after `timeout`.
    virtual std::optional<std::string> waitFor(std::chrono::milliseconds timeout) = 0;
};

// Any process type with those four members, as a Worker.
template <typename Process>
class WorkerOf final : public Worker {
public:
    explicit WorkerOf(Process p) : p_(std::move(p)) {}
    proto::Channel& channel() override { return p_.channel(); }
    void kill() override { p_.kill(); }
    std::string wait() override { return p_.wait(); }
    std::optional<std::string> waitFor(std::chrono::milliseconds timeout) override { return p_.waitFor(timeout); }

private:
    Process p_;
};

template <typename Process>
std::unique_ptr<Worker> asWorker(Process p) {
    return std::make_unique<WorkerOf<Process>>(std::move(p));
}

// One turn of a worker's channel: a message, a hang-up, or bytes that are not a frame.
struct Incoming {
    enum class Kind { Message, Closed, Broken };
    Kind kind = Kind::Closed;
    proto::Received message;   // Kind::Message
    std::string error;         // Kind::Broken: what was wrong with what came
};
Incoming receiveFrom(proto::Channel& channel);

// How a worker ended, in words an officer can act on ("killed by signal 24
// (...): it exceeded its CPU time limit of 60 s").
std::string explainEnd(const std::string& how, const WorkerLimits& limits);
// "exited early" for a clean exit that came too soon, else explainEnd.
std::string explainEarlyEnd(const std::string& how, const WorkerLimits& limits);
// A broken channel usually means the worker died: say how, rather than
// blaming its messages ("<name> stopped (...)"). Only a worker still running
// after half a second is misbehaving ("<name> sent an invalid frame: <error>").
std::string explainBreak(Worker& w, const std::string& name, const std::string& error, const WorkerLimits& limits);

}  // namespace kiosk
