// Recognises, from a volume's first bytes, what The Sleuth Kit cannot open or
// must not be trusted with: encrypted volumes (BitLocker, LUKS, random-looking
// data as VeraCrypt leaves it) and known filesystems that TSK does not read.
// Pure function over bytes so it is easy to test and to fuzz.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "qkiosk/protocol/Messages.h"

namespace kiosk::scan {

struct VolumeVerdict {
    proto::ReasonCode code;
    std::string detail;
};

// Bytes to pass in: the volume's first kProbeBytes (fewer if the volume is smaller).
inline constexpr std::size_t kProbeBytes = 128 * 1024;

// An encryption signature found before any filesystem is tried: BitLocker
// volumes carry a FAT "discovery" filesystem that must never be read as the content.
std::optional<VolumeVerdict> probeEncryption(std::span<const std::uint8_t> head);

// Why no filesystem could be opened: encrypted-volume for random-looking data,
// unknown-filesystem otherwise, naming the filesystem when it is recognised.
VolumeVerdict explainUnreadable(std::span<const std::uint8_t> head);

// Shannon entropy in bits per byte.
double entropy(std::span<const std::uint8_t> bytes);

}  // namespace kiosk::scan
