// The quarantine log's records as RFC 5424 syslog messages, framed for TCP by
// octet counting (RFC 6587 3.4.1: "LEN SP MSG"), as the forwarder sends them:
//
//   <PRI>1 TIMESTAMP HOSTNAME qkiosk - KIND [qkiosk@32473 seq="N" kind="…" ticket="…" hash="…" kiosk="…"] BOM{…}
//
// Every message carries its record's seq and hash, so a collector can
// recognise a record it already has (the forwarder sends a record again when
// it cannot know whether the collector got it) and see a gap.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "kiosk/config/SyslogNames.h"
#include "kiosk/log/QuarantineLog.h"

namespace kiosk::log {

// Messages are kept to this size (the size every RFC 5425 receiver should
// take, and rsyslog's default): a record too large sends its data shortened.
inline constexpr std::size_t kSyslogMaxMessage = 8192;

struct SyslogOrigin {
    std::string hostname;   // HOSTNAME
    std::string kioskId;    // the kiosk="…" parameter
    int facility = 16;      // local0
};

// 3 error: a whitelist that does not load, a signature engine that does not;
// 4 warning: a FAIL session (refusals included), a refused signature update;
// 5 notice: a device the policy refused, a pruning of the log;
// 6 informational: everything else.
int syslogSeverity(const Record& r);

// The message alone, at most kSyslogMaxMessage bytes.
std::string syslogMessage(const Record& r, const SyslogOrigin& origin);

// The message framed for TCP: its length in octets, a space, the message.
std::string syslogFrame(const Record& r, const SyslogOrigin& origin);

}  // namespace kiosk::log
