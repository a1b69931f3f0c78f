#include "kiosk/session/ScannerLink.h"

namespace kiosk {

using proto::ReasonCode;

Result<ScannerLink> ScannerLink::open(ScannerService& service, const ScanSettings& settings, const WorkerLimits& limits,
                                      const std::string& tmpdir) {
    auto worker = service.openSession(settings, limits, tmpdir);
    if (!worker) return worker.error();
    return ScannerLink(asWorker(std::move(*worker)), limits);
}

void ScannerLink::send(const proto::FileEntry& e, const std::string& name, UniqueFd content) {
    channel().enqueue(proto::encode(proto::ScanRequest{e.id, e.size, name, e.media}), std::move(content));
}

std::string ScannerLink::flush(const SessionState& state) {
    if (auto st = channel().flush(); !st && state.scannerOpen())
        return explainBreak(*worker_, "the scanner", st.error().message, limits_);
    return {};
}

void ScannerLink::end() {
    worker_->kill();
    channel().close();
}

ScannerWord ScannerLink::take(SessionState& state, std::map<std::string, std::string>& sandbox) {
    auto in = receiveFrom(channel());
    if (in.kind != Incoming::Kind::Message) {
        channel().close();
        if (in.kind == Incoming::Kind::Broken && !worker_->waitFor(std::chrono::milliseconds(500))) worker_->kill();  // alive but garbled
        const auto how = worker_->wait();
        return ScannerWord{ScannerWord::Kind::Gone, 0, 0, 0, "the scanner stopped (" + explainEarlyEnd(how, limits_) + ")"};
    }
    auto& msg = in.message;
    Status st{};
    if (msg.fd.valid()) {
        st = makeError("scanner sent a descriptor");
    } else if (msg.frame.type == proto::MsgType::Sandboxed && !state.scannerIsReady()) {
        auto sb = proto::decodeSandboxed(msg.frame);
        if (sb) {
            state.scannerReady();
            sandbox["scanner"] = sb->summary;
        } else {
            st = sb.error();
        }
    } else if (msg.frame.type == proto::MsgType::ScanResult && state.scannerIsReady()) {
        auto res = proto::decodeScanResult(msg.frame);
        if (res) {
            const auto reasonsBefore = state.reasonCount();
            const auto size = state.pendingSize(res->id);
            st = state.result(*res);
            if (st) return ScannerWord{ScannerWord::Kind::Answer, res->id, size, reasonsBefore, {}};
        } else {
            st = res.error();
        }
    } else if (msg.frame.type == proto::MsgType::Fatal) {
        auto f = proto::decodeFatal(msg.frame);
        st = makeError("scanner failed: " + (f ? f->message : f.error().message));
    } else {
        st = makeError("unexpected message type " + std::to_string(static_cast<int>(msg.frame.type)));
    }
    if (!st) return ScannerWord{ScannerWord::Kind::Gone, 0, 0, 0, st.error().message};
    return ScannerWord{};
}

void ScannerLink::collect(SessionState& state) {
    if (const auto how = worker_->wait(); !how.empty() && state.scannerOpen())
        state.reason(ReasonCode::Unscannable, "/", "the scanner " + explainEnd(how, limits_));
}

}  // namespace kiosk
