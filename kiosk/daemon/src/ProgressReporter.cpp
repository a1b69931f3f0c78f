#include "kiosk/daemon/ProgressReporter.h"

namespace kiosk {

ProgressReporter::ProgressReporter(std::string port, std::uint64_t mediaBytes, StatusSink status, SteadyTime now,
                                   std::chrono::milliseconds interval)
    : port_(std::move(port)), mediaBytes_(mediaBytes), status_(std::move(status)), now_(std::move(now)),
      interval_(interval), last_(now_()) {}

void ProgressReporter::start() { send(Progress{}); }

void ProgressReporter::operator()(const Progress& p) {
    const auto now = now_();
    if (now - last_ < interval_) return;
    last_ = now;
    send(p);
}

void ProgressReporter::send(const Progress& p) {
    status_(messages::Progress{port_, p.filesDone, p.filesSeen, p.bytesDone, p.bytesSeen, mediaBytes_, p.currentPath});
}

}  // namespace kiosk
