// The daemon's status lines as the kiosk terminal reads them: any line is an
// event or an error, never a crash; and an event read back writes the same
// line again when written a second time (encode is a fixed point).
#include <cstddef>
#include <cstdint>
#include <string>

#include "kiosk/messages/StatusEvent.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string line(reinterpret_cast<const char*>(data), size);
    auto event = kiosk::messages::parseStatusLine(line);
    if (!event) return 0;
    const std::string once = kiosk::messages::encode(*event);
    if (once.find('\n') != std::string::npos) __builtin_trap();
    auto again = kiosk::messages::parseStatusLine(once);
    if (!again || kiosk::messages::encode(*again) != once) __builtin_trap();
    return 0;
}
