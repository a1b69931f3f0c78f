// Forwarding of the quarantine log to the site's syslog collector. The log
// itself is the durable queue: its `forwarding` table holds, per collector,
// the last record the collector's TCP is known to have received (the
// cursor); every record after it is pending, in order. Nothing leaves the
// queue before the collector acknowledged it, so a collector that is down,
// or a kiosk that stops, loses nothing; a record whose acknowledgement did
// not come is sent again, and its seq and hash tell the collector it is the
// same record.
//
// SyslogSender is one bounded step (`qkiosk log forward`); SyslogForwarder
// runs it on its own thread with its own SQLite connection for the daemon,
// woken when a record is appended and retrying with backoff while the
// collector is down.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kiosk/config/Config.h"
#include "kiosk/log/QuarantineLog.h"
#include "kiosk/log/SyslogClient.h"
#include "kiosk/log/SyslogMessage.h"
#include "kiosk/messages/StatusEvent.h"

namespace kiosk::log {

// HOSTNAME, kiosk id and facility from the config.
SyslogOrigin syslogOrigin(const Config& c);

struct ForwardResult {
    std::int64_t forwardedUpTo = 0;   // the cursor afterwards
    std::int64_t sent = 0;            // records the collector acknowledged in this step
    std::int64_t pending = 0;         // records still after the cursor
    std::optional<Error> error;       // why the step stopped before the end
    bool collectorFault = false;      // the error is the collector's or the network's, not the log's
    bool ok() const { return !error; }
};

class SyslogSender {
public:
    // Timeouts of each network step: connecting (with TLS), and sending one
    // batch until the collector acknowledged it.
    static constexpr std::chrono::milliseconds kConnectTimeout{5000};
    static constexpr std::chrono::milliseconds kBatchTimeout{10000};

    SyslogSender(SyslogSettings settings, SyslogOrigin origin, int cancelFd = -1);

    // Sends every pending record, batch by batch; after each batch the
    // collector acknowledged, advances the cursor. Keeps the connection for
    // the next step; a broken one is replaced.
    ForwardResult forwardPending(QuarantineLog& log);
    const std::string& collector() const { return settings_.target; }

private:
    SyslogSettings settings_;
    SyslogOrigin origin_;
    int cancelFd_;
    std::unique_ptr<SyslogClient> client_;
};

class SyslogForwarder {
public:
    // Opens its own connection to the log at `logPath` (here, on the caller's
    // thread: opening sets the process's umask for a moment) and starts the thread.
    SyslogForwarder(std::string logPath, SyslogSettings settings, SyslogOrigin origin);
    // Stops at once (see stop()).
    ~SyslogForwarder();
    SyslogForwarder(const SyslogForwarder&) = delete;
    SyslogForwarder& operator=(const SyslogForwarder&) = delete;

    // A record was appended: send it now (unless waiting out a backoff).
    void notify();
    // Lets the thread send what is pending for up to `grace` (unless the
    // collector is down), then cancels any network wait and joins it.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));
    // Status events since the last call, for the daemon to print from its own
    // thread: SyslogUp and SyslogDown, each once per change.
    std::vector<messages::StatusEvent> takeStatus();

    // Retry delays while the collector is down; records from other writers
    // (qkiosk scan --log, signature imports) are looked for this often.
    static constexpr std::chrono::milliseconds kFirstRetry{1000};
    static constexpr std::chrono::milliseconds kLastRetry{60000};
    static constexpr std::chrono::milliseconds kIdlePoll{5000};

private:
    void loop();
    void say(messages::StatusEvent event);

    std::string logPath_;
    SyslogSettings settings_;
    SyslogOrigin origin_;
    int cancelFd_ = -1;   // eventfd: ends every network wait at stop
    std::unique_ptr<QuarantineLog> log_;   // the thread's own connection

    std::mutex mu_;
    std::condition_variable cv_;
    bool wake_ = false, stopping_ = false, done_ = false;
    std::vector<messages::StatusEvent> status_;
    std::thread thread_;
};

}  // namespace kiosk::log
