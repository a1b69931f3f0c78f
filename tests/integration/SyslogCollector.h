// A real rsyslogd as the hospital's syslog collector, for the forwarding
// tests: its own config in the test's workspace, imtcp on a free port of
// 127.0.0.1 (TLS with the gtls driver when given certificates), and omfile
// writing each received qkiosk message's raw text on a line. Missing
// rsyslogd, its GnuTLS driver or openssl ends the test process with 77: SKIP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "Harness.h"

namespace qktest {

// Certificates made with openssl at test time.
struct TestPki {
    fs::path ca;                       // the site's CA
    fs::path serverCert, serverKey;    // the collector's, for localhost and 127.0.0.1, signed by `ca`
    fs::path otherCa;                  // a CA that signed nothing here
};
TestPki makeTestPki(Workspace& ws);

class SyslogCollector {
public:
    // Chooses the port; nothing listens until start().
    explicit SyslogCollector(Workspace& ws, const std::optional<TestPki>& tls = std::nullopt);
    ~SyslogCollector();
    SyslogCollector(const SyslogCollector&) = delete;
    SyslogCollector& operator=(const SyslogCollector&) = delete;

    // Starts rsyslogd (again, on the same port) and waits until it listens.
    void start();
    // SIGKILL: a collector that crashes or loses power.
    void kill();
    int port() const { return port_; }
    std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

    // Every message received so far, in arrival order.
    std::vector<std::string> messages() const;
    // The seq="N" of each of them.
    std::vector<std::int64_t> seqs() const;
    // Waits until every seq from 1 to `upTo` has arrived.
    bool waitForAll(std::int64_t upTo, double seconds) const;
    // What rsyslogd said and what it received, for a failing test's message.
    std::string diagnostics() const;

private:
    fs::path dir_, out_;
    int port_ = 0;
    int pid_ = -1;
};

// Each seq from 1 to n arrived at least once, first arrivals in order.
bool allInOrder(const std::vector<std::int64_t>& seqs, std::int64_t n);

}  // namespace qktest
