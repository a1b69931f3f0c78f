#include "kiosk/log/SyslogForwarder.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace kiosk::log {
namespace {

using Clock = std::chrono::steady_clock;

// Records per batch: at most 64 × 8 KiB in flight before the collector acknowledges.
constexpr std::int64_t kBatchRecords = 64;
// How long a new connection is watched, after its first batch was
// acknowledged, for the collector closing it: one that closes at once (a TLS
// port spoken to in plain text) has not taken the records.
constexpr std::chrono::milliseconds kSettle{200};

}  // namespace

SyslogOrigin syslogOrigin(const Config& c) {
    SyslogOrigin o;
    o.hostname = c.syslog.hostname.empty() ? c.kioskId : c.syslog.hostname;
    o.kioskId = c.kioskId;
    o.facility = syslogFacility(c.syslog.facility).value_or(16);
    return o;
}

SyslogSender::SyslogSender(SyslogSettings settings, SyslogOrigin origin, int cancelFd)
    : settings_(std::move(settings)), origin_(std::move(origin)), cancelFd_(cancelFd) {}

ForwardResult SyslogSender::forwardPending(QuarantineLog& log) {
    ForwardResult r;
    const auto stopped = [&](Error e, bool collector) {
        r.error = std::move(e);
        r.collectorFault = collector;
        if (collector) client_.reset();   // the next step starts on a new connection, from the cursor
        if (auto n = log.countAfter(r.forwardedUpTo)) r.pending = *n;
        return r;
    };
    auto cursor = log.forwardedUpTo(settings_.target);
    if (!cursor) return stopped(cursor.error(), false);
    r.forwardedUpTo = *cursor;
    for (;;) {
        auto batch = log.records(r.forwardedUpTo + 1, kBatchRecords);
        if (!batch) return stopped(batch.error(), false);
        if (batch->empty()) return r;
        bool fresh = false;
        if (client_ && client_->broken()) client_.reset();
        if (!client_) {
            auto c = SyslogClient::connect(settings_, kConnectTimeout, cancelFd_);
            if (!c) return stopped(c.error(), true);
            client_ = std::move(*c);
            fresh = true;
        }
        std::string bytes;
        for (const auto& rec : *batch) bytes.append(syslogFrame(rec, origin_));
        if (auto st = client_->send(bytes, kBatchTimeout); !st) return stopped(st.error(), true);
        if (auto st = client_->waitAcknowledged(kBatchTimeout); !st) return stopped(st.error(), true);
        if (client_->broken(fresh ? kSettle : std::chrono::milliseconds(0)))
            return stopped(makeError(fresh && !settings_.tls ? "the collector closed the connection at once (a TLS port? then tls = true)"
                                                             : "the collector closed the connection"),
                           true);
        if (auto st = log.setForwardedUpTo(settings_.target, batch->back().seq); !st) return stopped(st.error(), false);
        r.forwardedUpTo = batch->back().seq;
        r.sent += static_cast<std::int64_t>(batch->size());
    }
}

SyslogForwarder::SyslogForwarder(std::string logPath, SyslogSettings settings, SyslogOrigin origin)
    : logPath_(std::move(logPath)), settings_(std::move(settings)), origin_(std::move(origin)),
      cancelFd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (auto opened = QuarantineLog::open(logPath_)) log_ = std::move(*opened);   // else the thread tries again
    thread_ = std::thread([this] { loop(); });
}

SyslogForwarder::~SyslogForwarder() {
    stop();
    if (cancelFd_ >= 0) ::close(cancelFd_);
}

void SyslogForwarder::notify() {
    std::lock_guard lk(mu_);
    wake_ = true;
    cv_.notify_all();
}

void SyslogForwarder::stop(std::chrono::milliseconds grace) {
    if (!thread_.joinable()) return;
    {
        std::unique_lock lk(mu_);
        stopping_ = true;
        cv_.notify_all();
        cv_.wait_for(lk, grace, [&] { return done_; });
    }
    const std::uint64_t one = 1;
    if (cancelFd_ >= 0) (void)!::write(cancelFd_, &one, sizeof one);
    thread_.join();
}

std::vector<messages::StatusEvent> SyslogForwarder::takeStatus() {
    std::lock_guard lk(mu_);
    return std::exchange(status_, {});
}

void SyslogForwarder::say(messages::StatusEvent event) {
    std::lock_guard lk(mu_);
    status_.push_back(std::move(event));
}

void SyslogForwarder::loop() {
    SyslogSender sender(settings_, origin_, cancelFd_);
    auto& log = log_;
    std::optional<bool> up;
    auto retry = kFirstRetry;
    auto next = Clock::now();
    bool failing = false;
    for (bool last = false; !last;) {
        {
            std::unique_lock lk(mu_);
            cv_.wait_until(lk, next, [&] { return stopping_ || (wake_ && !failing); });
            if (stopping_) {
                // At the end, what is pending goes out if the collector is up;
                // a collector that is down is not waited for.
                if (failing) break;
                last = true;
            }
            wake_ = false;
        }
        ForwardResult res;
        if (!log) {
            // Its own connection: the daemon's appends never wait for the network.
            auto opened = QuarantineLog::open(logPath_);
            if (opened) log = std::move(*opened);
            else res.error = opened.error();
        }
        if (log) res = sender.forwardPending(*log);
        if (res.ok()) {
            // Up only when the collector took records: with nothing to send,
            // nothing was asked of it, and the state stays what it was.
            if (res.sent > 0 && up != true) {
                say(messages::SyslogUp{settings_.target, res.forwardedUpTo});
                up = true;
            }
            failing = false;
            retry = kFirstRetry;
            next = Clock::now() + kIdlePoll;
        } else {
            if (up != false) {
                say(messages::SyslogDown{settings_.target, res.error->message, res.pending});
            }
            up = false;
            failing = true;
            next = Clock::now() + retry;
            retry = std::min(retry * 2, kLastRetry);
        }
    }
    std::lock_guard lk(mu_);
    done_ = true;
    cv_.notify_all();
}

}  // namespace kiosk::log
