// The names a syslog setting is made of, checked when the config is read and
// used again when the log is forwarded (kiosk/log/): a collector's address,
// a facility, an RFC 5424 header field.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "qkiosk/base/Result.h"

namespace kiosk {

struct HostPort {
    std::string host, port;
};

// "host:port", "192.0.2.1:6514", "[2001:db8::1]:6514".
Result<HostPort> splitHostPort(const std::string& target);

// "local0" … "local7", "auth", "authpriv", "daemon", "user", "audit": the facility's number.
std::optional<int> syslogFacility(std::string_view name);

// 1 to `max` printable US-ASCII characters (33–126), as RFC 5424 header fields must be.
bool isSyslogName(std::string_view s, std::size_t max);

}  // namespace kiosk
