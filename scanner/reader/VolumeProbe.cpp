#include "VolumeProbe.h"

#include <array>
#include <cmath>
#include <cstring>
#include <string_view>

namespace kiosk::scan {
namespace {

bool hasAt(std::span<const std::uint8_t> head, std::size_t offset, std::string_view magic) {
    return head.size() >= offset + magic.size() && std::memcmp(head.data() + offset, magic.data(), magic.size()) == 0;
}

}  // namespace

double entropy(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return 0.0;
    std::array<std::size_t, 256> counts{};
    for (const auto b : bytes) ++counts[b];
    double h = 0.0;
    const double n = static_cast<double>(bytes.size());
    for (const auto c : counts) {
        if (c == 0) continue;
        const double p = static_cast<double>(c) / n;
        h -= p * std::log2(p);
    }
    return h;
}

std::optional<VolumeVerdict> probeEncryption(std::span<const std::uint8_t> head) {
    using proto::ReasonCode;
    if (hasAt(head, 3, "-FVE-FS-")) return VolumeVerdict{ReasonCode::EncryptedVolume, "BitLocker encrypted volume"};
    if (hasAt(head, 0, std::string_view("LUKS\xba\xbe", 6)))
        return VolumeVerdict{ReasonCode::EncryptedVolume, "LUKS encrypted volume"};
    if (hasAt(head, 0, std::string_view("SKUL\xba\xbe", 6)))  // LUKS2 secondary header first
        return VolumeVerdict{ReasonCode::EncryptedVolume, "LUKS encrypted volume"};
    return std::nullopt;
}

VolumeVerdict explainUnreadable(std::span<const std::uint8_t> head) {
    using proto::ReasonCode;
    if (auto enc = probeEncryption(head)) return *enc;
    struct Known {
        std::size_t offset;
        std::string_view magic;
        const char* name;
    };
    static constexpr Known kKnown[] = {
        {0, "XFSB", "XFS"},
        {0x10040, "_BHRfS_M", "Btrfs"},
        {0x400, std::string_view("\x10\x20\xf5\xf2", 4), "F2FS"},
        {0x8001, "BEA01", "UDF"},
        {0x8001, "NSR02", "UDF"},
        {0x8001, "NSR03", "UDF"},
        {0, "LABELONE", "LVM physical volume"},
        {0x200, "LABELONE", "LVM physical volume"},
        {0x1000, std::string_view("\xfc\x4e\x2b\xa9", 4), "Linux MD RAID member"},
        {0, "hsqs", "SquashFS"},
        {0xff6, "SWAPSPACE2", "Linux swap"},
        {0x3, "ReFS", "ReFS"},
        {0, "APFS", "APFS"},
        {0x20, "NXSB", "APFS"},
    };
    for (const auto& k : kKnown)
        if (hasAt(head, k.offset, k.magic))
            return {ReasonCode::UnknownFilesystem, std::string(k.name) + " is not a filesystem the kiosk can read"};

    bool allZero = true;
    for (const auto b : head)
        if (b != 0) {
            allZero = false;
            break;
        }
    if (allZero) return {ReasonCode::UnknownFilesystem, "no filesystem: the volume starts with empty (zero) sectors"};

    // Ciphertext is indistinguishable from random bytes; an encrypted container
    // (VeraCrypt, TrueCrypt, plain dm-crypt) has no header to recognise.
    const std::size_t n = std::min<std::size_t>(head.size(), 64 * 1024);
    if (n >= 4096 && entropy(head.first(n)) > 7.9)
        return {ReasonCode::EncryptedVolume,
                "no filesystem and the data looks random: an encrypted container (VeraCrypt-style) or wiped media"};
    return {ReasonCode::UnknownFilesystem, "no known filesystem or partition table"};
}

}  // namespace kiosk::scan
