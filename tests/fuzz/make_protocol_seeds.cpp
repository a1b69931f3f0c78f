// Writes the seed corpus of fuzz_protocol: one packet (header + payload, as
// Channel sends it) per message type, made by the real encoders, into the
// folder given as the only argument. See README.md.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "qkiosk/protocol/Channel.h"
#include "qkiosk/protocol/Messages.h"
#include "qkiosk/base/Sha256.h"

using namespace kiosk;
using namespace kiosk::proto;

namespace {

bool write(const std::string& dir, const std::string& name, const Frame& f) {
    const auto header = frameHeader(f);
    std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(f.payload.data()), static_cast<std::streamsize>(f.payload.size()));
    return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_protocol_seeds DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    const std::vector<std::pair<std::string, Frame>> seeds{
        {"read-start", encode(ReadStart{16ull << 20, 1ull << 30, 256ull << 20, 64, 2})},
        {"file-ack", encode(FileAck{42})},
        {"partition-mbr-fat32", encode(Partition{1, 1, "/p1/", "mbr", "fat32", "QKIOSKTEST", 1ull << 20, 15ull << 20})},
        {"partition-bare", encode(Partition{1, 0, "/p0/", "none", "", "", 0, 65536})},
        {"file-entry-attached", encode(FileEntry{7, 1, "/p1/docs/検査.pdf", 1234, Sha256::of(std::string_view("x")), Content::Attached})},
        {"file-entry-empty", encode(FileEntry{8, 0, "/p0/empty", 0, Sha256().finish(), Content::Empty})},
        {"file-entry-too-large", encode(FileEntry{9, 2, "/p2/big.iso", 5ull << 30, {}, Content::TooLarge})},
        {"finding-read-error", encode(Finding{ReasonCode::ReadError, "/p1/", "filesystem is larger than the media holds"})},
        {"finding-encrypted", encode(Finding{ReasonCode::EncryptedVolume, "/p0/", "BitLocker volume"})},
        {"reader-done", encode(ReaderDone{3, 4096})},
        {"fatal", encode(Fatal{"media descriptor is not read-only"})},
        {"scan-request", encode(ScanRequest{7, 1234, "検査.pdf"})},
        {"scanner-ready", encode(ScannerReady{"1.0.7", 8700000, "27000", "2025-01-02T03:04:05Z", 4200})},
        {"scan-result-clean", encode(ScanResult{7, {}, "application/pdf", 1234})},
        {"scan-result-hits", encode(ScanResult{8,
                                               {{Verdict::Infected, "a.zip!b.exe", "Win.Test.EICAR_HDB-1"},
                                                {Verdict::Unscannable, "c.zip", "encrypted archive"}},
                                               "application/zip",
                                               99})},
        {"session-start", encode(SessionStart{1ull << 30, 2047ull << 20, 17, 10000, 300000, 2, "/dev/shm/qkiosk-scan-Ab12Cd",
                                              65534, 65534, 3ull << 30, 600})},
        {"session-started", encode(SessionStarted{4242})},
        {"session-ended", encode(SessionEnded{4242, "killed by signal 24 (CPU time limit exceeded)"})},
        {"sandboxed", encode(Sandboxed{"seccomp,no_new_privs,landlock,netns,uid=65534"})},
    };
    for (const auto& [name, frame] : seeds) {
        if (!write(dir, name, frame)) {
            std::fprintf(stderr, "make_protocol_seeds: cannot write %s/%s\n", dir.c_str(), name.c_str());
            return 2;
        }
    }
    return 0;
}
