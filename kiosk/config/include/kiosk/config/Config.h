// The kiosk configuration (TOML, docs/admin.md; the contract is docs/design.md), with every key
// optional and documented defaults. Unknown keys are errors: a typo must not
// silently loosen a limit. Errors name the file, line and column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"

namespace kiosk {

struct FixedDevice {
    std::string port, vendorId, productId;
};

struct ScanSettings {
    std::uint64_t maxFileSize = 1ull << 30;        // bytes, per file and per archive member
    std::uint64_t maxScanSize = 2047ull << 20;     // bytes scanned within one file, extracted content included
    std::uint32_t maxRecursion = 17;               // archive nesting depth
    std::uint32_t maxFiles = 10000;                // members within one file
    std::uint32_t maxScanTimeSeconds = 300;        // per file
    std::uint32_t threads = 0;                     // scan threads; 0 = one per core
    std::uint32_t stallTimeoutSeconds = 600;       // no word from a worker for this long: FAIL
    std::uint64_t inflightBytes = 256ull << 20;    // file content read ahead of the scanner
    std::vector<std::string> blockedNames{"autorun.inf", "*.lnk"};
    std::string tempDir = "/dev/shm";              // where each scan's private folder for libclamav's extractions goes (tmpfs)
    bool deceptiveNames = true;                    // names that hide their extension (bidi controls, hidden spaces) FAIL
    std::uint32_t maxImageDepth = 3;               // disk images inside disk images on the media, opened this deep
    std::uint64_t maxImageBytes = 512ull << 30;    // all disk images opened on one media, together
};

// The workers' sandbox (docs/threat-model.md). It cannot be turned off; these
// only size it.
struct SandboxSettings {
    std::string user = "nobody";        // unprivileged user the workers become
    std::uint64_t memoryLimit = 0;      // address space per worker beyond the loaded engine; 0 = automatic (scanner
                                        // 1 GiB + (threads + 1) x max_file_size, reader 512 MiB + max_file_size)
    std::uint64_t cpuLimitSeconds = 0;  // CPU time per worker per session; 0 = 600 s + 1 s per 8 MiB of media
};

// Where each session's ticket goes besides the spool's signed text file.
struct TicketSettings {
    std::string printer = "none";               // "none", "cups:QUEUE", "escpos:/dev/usb/lp0" (docs/admin.md)
    std::vector<std::string> archive{"pdf"};    // pictures kept in the spool: "pdf", "png"
};

// The evidence vault (kiosk/evidence/Evidence.h, docs/admin.md#evidence): on a FAIL
// with findings, the offending files and a raw image of the whole media.
struct EvidenceSettings {
    std::string dir = "/var/lib/qkiosk/evidence";   // root-only (0700), one folder per ticket
    bool image = true;                              // also a raw image of the whole media, with its SHA-256
    std::uint64_t imageLimit = 32ull << 30;         // larger media: no image (the case says why)
    std::uint64_t reserve = 1ull << 30;             // free space every piece of evidence leaves on the vault's disk
};

// Forwarding of every quarantine-log record to the site's syslog collector
// (RFC 5424 over TCP, TLS where configured; docs/admin.md#syslog-forwarding).
struct SyslogSettings {
    std::string target;        // "host:port"; empty: no forwarding
    bool tls = false;
    std::string caFile;        // TLS: CAs the collector's certificate must chain to; empty: the system's
    std::string certFile, keyFile;   // TLS: the kiosk's client certificate, if the collector asks for one
    std::string serverName;    // TLS: the name the certificate must carry; empty: the host of `target`
    std::string hostname;      // HOSTNAME in the messages; empty: kiosk_id
    std::string facility = "local0";
};

// Security officers' accounts (kiosk/officer/Officers.h).
struct OfficerSettings {
    std::string file = "/etc/qkiosk/officers";                          // Argon2id hashes, 0600
    std::string lockoutFile = "/var/lib/qkiosk/officer-lockout.json";   // failures in a row, lockouts
    std::uint32_t attempts = 5;                                         // wrong passwords in a row before a lockout
    std::uint32_t lockoutMinutes = 15;
    // PAM: names that are not local officers are checked with this PAM
    // service (e.g. "qkiosk": /etc/pam.d/qkiosk, pam_unix or pam_sss), and
    // must be members of `pamGroup`. "" = local accounts only.
    std::string pamService;
    std::string pamGroup = "qkiosk-officers";
    std::uint32_t idleMinutes = 5;          // the terminal's officer session ends after this long without a request
    std::uint32_t maxApprovalDays = 365;    // how far ahead an approval made at the terminal may expire
};

struct Config {
    std::string kioskId = "kiosk-1";
    std::string dbDir = "/var/lib/qkiosk/clamav";
    std::string whitelistPath = "/etc/qkiosk/whitelist.toml";   // the `policy` key
    std::string unknownMedia = "scan";
    std::string logPath = "/var/lib/qkiosk/log.db";             // the `log` key
    std::string kioskKey = "/var/lib/qkiosk/kiosk.key";   // Ed25519: signs the log's chain head
    std::uint32_t logRetentionDays = 365;   // records younger than this can never be pruned
    std::string spoolDir = "/var/spool/qkiosk";
    std::string uiSocket;        // the status stream for the kiosk terminal (StatusSocket.h); "" = none
    std::string uiSocketGroup;   // the group that may read it (the UI's user); "" = root only
    std::uint64_t minFreeSpace = 64ull << 20;   // below this, free in the spool or the log's folder, nothing is accepted
    std::uint32_t maxSignatureAgeDays = 7;
    std::vector<FixedDevice> fixedDevices;
    ScanSettings scan;
    SandboxSettings sandbox;
    TicketSettings ticket;
    OfficerSettings officers;
    std::vector<std::string> updateKeys;   // public keys (files) that may sign signature update bundles
    EvidenceSettings evidence;
    SyslogSettings syslog;
};

inline constexpr const char* kDefaultConfigPath = "/etc/qkiosk/qkiosk.toml";

Result<Config> parseConfig(const std::string& text, const std::string& sourceName);
Result<Config> loadConfig(const std::string& path);

}  // namespace kiosk
