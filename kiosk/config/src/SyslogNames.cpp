#include "kiosk/config/SyslogNames.h"

#include <algorithm>
#include <map>

namespace kiosk {

Result<HostPort> splitHostPort(const std::string& target) {
    HostPort hp;
    std::string rest;
    if (target.starts_with("[")) {
        const auto close = target.find("]:");
        if (close == std::string::npos) return makeError("\"" + target + "\" must be host:port or [IPv6]:port");
        hp.host = target.substr(1, close - 1);
        rest = target.substr(close + 2);
    } else {
        const auto colon = target.rfind(':');
        if (colon == std::string::npos || target.find(':') != colon)
            return makeError("\"" + target + "\" must be host:port or [IPv6]:port");
        hp.host = target.substr(0, colon);
        rest = target.substr(colon + 1);
    }
    const bool digits = !rest.empty() && rest.size() <= 5 && std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (hp.host.empty() || !digits || std::stoi(rest) < 1 || std::stoi(rest) > 65535)
        return makeError("\"" + target + "\" must be host:port with a port from 1 to 65535");
    hp.port = rest;
    return hp;
}

std::optional<int> syslogFacility(std::string_view name) {
    static const std::map<std::string_view, int> kNames = {
        {"user", 1},     {"daemon", 3},   {"auth", 4},     {"authpriv", 10}, {"audit", 13},   {"local0", 16},
        {"local1", 17},  {"local2", 18},  {"local3", 19},  {"local4", 20},   {"local5", 21},  {"local6", 22},
        {"local7", 23}};
    const auto it = kNames.find(name);
    if (it == kNames.end()) return std::nullopt;
    return it->second;
}

bool isSyslogName(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > max) return false;
    for (char c : s)
        if (c < 33 || c > 126) return false;
    return true;
}

}  // namespace kiosk
