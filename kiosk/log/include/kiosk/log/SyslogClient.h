// One TCP connection to the site's syslog collector, TLS (GnuTLS) where the
// config says so, with a deadline on every step: name lookup aside, nothing
// here blocks longer than the timeout it is given, and a readable `cancelFd`
// (an eventfd, or -1 for none) ends any wait at once.
//
// Plain TCP and RFC 5425 TLS give no application-level acknowledgement, so
// waitAcknowledged() asks the kernel instead: every byte written has been
// acknowledged by the collector's TCP when the send queue's unacknowledged
// count (SIOCOUTQ: write_seq - snd_una) is 0 and TCP_INFO shows no
// unacknowledged segment. A reset never makes that true by purging the queue.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "kiosk/config/Config.h"
#include "kiosk/config/SyslogNames.h"
#include "qkiosk/base/Result.h"

namespace kiosk::log {

class SyslogClient {
public:
    // Connects to `s.target` (and completes the TLS handshake, verifying the
    // collector's certificate and name) within `timeout`.
    static Result<std::unique_ptr<SyslogClient>> connect(const SyslogSettings& s, std::chrono::milliseconds timeout,
                                                         int cancelFd = -1);
    ~SyslogClient();
    SyslogClient(const SyslogClient&) = delete;
    SyslogClient& operator=(const SyslogClient&) = delete;

    // Hands every byte to the kernel (encrypted under TLS) within `timeout`.
    Status send(std::string_view bytes, std::chrono::milliseconds timeout);
    // Waits until the collector's TCP has acknowledged every byte sent.
    Status waitAcknowledged(std::chrono::milliseconds timeout);
    // The collector closed the connection, or it failed: a new one is needed.
    // `wait`: how long to watch for the collector closing it.
    bool broken(std::chrono::milliseconds wait = std::chrono::milliseconds(0));

    // Checks that the TLS files of `s` load (nothing is connected).
    static Status checkCredentials(const SyslogSettings& s);

    struct Impl;

private:
    explicit SyslogClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace kiosk::log
