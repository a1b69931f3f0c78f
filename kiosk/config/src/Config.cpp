#include "kiosk/config/Config.h"

#include "kiosk/files/AtomicFile.h"
#include "kiosk/config/SyslogNames.h"

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>

namespace kiosk {
namespace {

std::string where(const std::string& source, const toml::source_region& r) {
    return source + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

struct SizeText {
    std::uint64_t number = 0;
    int shift = 0;           // of the unit: B 0, KiB 10, MiB 20, GiB 30
    bool tooLarge = false;   // the number does not fit 64 bits
};

// "512", "512MiB", " 1 GiB ": digits, optional spaces, an optional unit.
// By hand, not std::regex: libstdc++'s regex recurses once per character
// (a long string overflows the stack) and std::stoull throws on overflow.
std::optional<SizeText> parseSizeText(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    std::string_view unit = s.substr(digits);
    while (!unit.empty() && space(unit.front())) unit.remove_prefix(1);
    SizeText t;
    if (unit == "KiB") t.shift = 10;
    else if (unit == "MiB") t.shift = 20;
    else if (unit == "GiB") t.shift = 30;
    else if (!unit.empty() && unit != "B") return std::nullopt;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + digits, t.number);
    t.tooLarge = ec == std::errc::result_out_of_range;
    return t;
}

class Reader {
public:
    Reader(const std::string& source) : source_(source) {}

    Status unknownKeys(const toml::table& t, const std::set<std::string>& known, const std::string& table) {
        for (const auto& [k, v] : t)
            if (!known.count(std::string(k.str())))
                return makeError(where(source_, k.source()) + ": unknown key \"" + std::string(k.str()) + "\"" +
                                 (table.empty() ? "" : " in [" + table + "]"));
        return {};
    }

    Status string(const toml::table& t, const char* key, std::string& out) {
        const auto* node = t.get(key);
        if (!node) return {};
        const auto* s = node->as_string();
        if (!s) return makeError(where(source_, node->source()) + ": \"" + key + "\" must be a string");
        out = s->get();
        return {};
    }

    template <typename T>
    Status integer(const toml::table& t, const char* key, T& out, std::int64_t min, std::int64_t max) {
        const auto* node = t.get(key);
        if (!node) return {};
        const auto* i = node->as_integer();
        if (!i) return makeError(where(source_, node->source()) + ": \"" + key + "\" must be an integer");
        if (i->get() < min || i->get() > max)
            return makeError(where(source_, node->source()) + ": \"" + key + "\" must be between " + std::to_string(min) +
                             " and " + std::to_string(max));
        out = static_cast<T>(i->get());
        return {};
    }

    Status boolean(const toml::table& t, const char* key, bool& out) {
        const auto* node = t.get(key);
        if (!node) return {};
        const auto* b = node->as_boolean();
        if (!b) return makeError(where(source_, node->source()) + ": \"" + key + "\" must be true or false");
        out = b->get();
        return {};
    }

    // Sizes as integers (bytes) or strings with a unit: "512MiB", "1GiB".
    Status size(const toml::table& t, const char* key, std::uint64_t& out, std::uint64_t max) {
        const auto* node = t.get(key);
        if (!node) return {};
        if (node->as_integer()) return integer(t, key, out, 1, static_cast<std::int64_t>(max));
        const auto* s = node->as_string();
        const auto text = s ? parseSizeText(s->get()) : std::nullopt;
        if (!text)
            return makeError(where(source_, node->source()) + ": \"" + key + "\" must be a size like 512MiB or 1GiB");
        if (text->tooLarge || text->number == 0 || text->number > (max >> text->shift))
            return makeError(where(source_, node->source()) + ": \"" + key + "\" must be between 1 byte and " +
                             std::to_string(max) + " bytes");
        out = text->number << text->shift;
        return {};
    }

    Status strings(const toml::table& t, const char* key, std::vector<std::string>& out) {
        const auto* node = t.get(key);
        if (!node) return {};
        const auto* arr = node->as_array();
        if (!arr) return makeError(where(source_, node->source()) + ": \"" + key + "\" must be an array of strings");
        std::vector<std::string> v;
        for (const auto& e : *arr) {
            const auto* s = e.as_string();
            if (!s) return makeError(where(source_, e.source()) + ": \"" + key + "\" must hold only strings");
            v.push_back(s->get());
        }
        out = std::move(v);
        return {};
    }

    const std::string& source() const { return source_; }

private:
    std::string source_;
};

#define QK_CHECK(expr)          \
    do {                        \
        auto st_ = (expr);      \
        if (!st_) return st_.error(); \
    } while (0)

}  // namespace

Result<Config> parseConfig(const std::string& text, const std::string& sourceName) {
    toml::table root;
    try {
        root = toml::parse(text, sourceName);
    } catch (const toml::parse_error& e) {
        return makeError(where(sourceName, e.source()) + ": " + std::string(e.description()));
    }
    Reader r(sourceName);
    Config c;
    QK_CHECK(r.unknownKeys(root, {"kiosk_id", "db_dir", "policy", "unknown_media", "log", "spool_dir",
                                  "max_signature_age_days", "fixed_devices", "scan", "sandbox", "update_keys", "kiosk_key", "log_retention_days",
                                  "min_free_space", "ticket", "evidence_dir", "evidence_image", "evidence_image_limit",
                                  "evidence_reserve", "syslog", "ui_socket", "ui_socket_group", "officers"}, ""));
    QK_CHECK(r.string(root, "kiosk_id", c.kioskId));
    QK_CHECK(r.string(root, "db_dir", c.dbDir));
    QK_CHECK(r.string(root, "policy", c.whitelistPath));
    QK_CHECK(r.string(root, "unknown_media", c.unknownMedia));
    if (c.unknownMedia != "scan" && c.unknownMedia != "refuse")
        return makeError(where(sourceName, root.get("unknown_media")->source()) + ": \"unknown_media\" must be \"scan\" or \"refuse\"");
    QK_CHECK(r.string(root, "log", c.logPath));
    QK_CHECK(r.string(root, "kiosk_key", c.kioskKey));
    QK_CHECK(r.integer(root, "log_retention_days", c.logRetentionDays, 0, 36500));
    QK_CHECK(r.string(root, "spool_dir", c.spoolDir));
    QK_CHECK(r.size(root, "min_free_space", c.minFreeSpace, 1ull << 40));
    QK_CHECK(r.string(root, "ui_socket", c.uiSocket));
    QK_CHECK(r.string(root, "ui_socket_group", c.uiSocketGroup));
    QK_CHECK(r.integer(root, "max_signature_age_days", c.maxSignatureAgeDays, 1, 365));
    if (const auto* node = root.get("fixed_devices")) {
        const auto* arr = node->as_array();
        if (!arr) return makeError(where(sourceName, node->source()) + ": \"fixed_devices\" must be an array of tables");
        for (const auto& e : *arr) {
            const auto* t = e.as_table();
            if (!t) return makeError(where(sourceName, e.source()) + ": each fixed device must be a table {port, vendor_id, product_id}");
            FixedDevice d;
            QK_CHECK(r.unknownKeys(*t, {"port", "vendor_id", "product_id"}, "fixed_devices"));
            QK_CHECK(r.string(*t, "port", d.port));
            QK_CHECK(r.string(*t, "vendor_id", d.vendorId));
            QK_CHECK(r.string(*t, "product_id", d.productId));
            static const std::regex hex4("^[0-9a-fA-F]{4}$");
            if (d.port.empty() || !std::regex_match(d.vendorId, hex4) || !std::regex_match(d.productId, hex4))
                return makeError(where(sourceName, e.source()) + ": a fixed device needs port, and vendor_id/product_id as 4 hex digits");
            c.fixedDevices.push_back(d);
        }
    }
    if (const auto* node = root.get("scan")) {
        const auto* t = node->as_table();
        if (!t) return makeError(where(sourceName, node->source()) + ": \"scan\" must be a table");
        QK_CHECK(r.unknownKeys(*t, {"max_file_size", "max_scan_size", "max_recursion", "max_files", "max_scan_time",
                                    "threads", "stall_timeout", "inflight_bytes", "blocked_names", "temp_dir",
                                    "deceptive_names", "max_image_depth", "max_image_bytes"}, "scan"));
        auto& s = c.scan;
        // libclamav cannot scan anything of 2 GiB or more.
        constexpr std::uint64_t kClamMax = (2ull << 30) - 1;
        QK_CHECK(r.size(*t, "max_file_size", s.maxFileSize, kClamMax));
        QK_CHECK(r.size(*t, "max_scan_size", s.maxScanSize, kClamMax));
        QK_CHECK(r.integer(*t, "max_recursion", s.maxRecursion, 1, 64));
        QK_CHECK(r.integer(*t, "max_files", s.maxFiles, 1, 1000000));
        QK_CHECK(r.integer(*t, "max_scan_time", s.maxScanTimeSeconds, 1, 86400));
        QK_CHECK(r.integer(*t, "threads", s.threads, 0, 256));
        QK_CHECK(r.integer(*t, "stall_timeout", s.stallTimeoutSeconds, 5, 86400));
        QK_CHECK(r.size(*t, "inflight_bytes", s.inflightBytes, 1ull << 40));
        QK_CHECK(r.strings(*t, "blocked_names", s.blockedNames));
        QK_CHECK(r.string(*t, "temp_dir", s.tempDir));
        QK_CHECK(r.boolean(*t, "deceptive_names", s.deceptiveNames));
        QK_CHECK(r.integer(*t, "max_image_depth", s.maxImageDepth, 0, 16));
        QK_CHECK(r.size(*t, "max_image_bytes", s.maxImageBytes, 1ull << 50));
    }
    if (const auto* node = root.get("sandbox")) {
        const auto* t = node->as_table();
        if (!t) return makeError(where(sourceName, node->source()) + ": \"sandbox\" must be a table");
        QK_CHECK(r.unknownKeys(*t, {"user", "memory_limit", "cpu_limit"}, "sandbox"));
        QK_CHECK(r.string(*t, "user", c.sandbox.user));
        if (c.sandbox.user.empty() || c.sandbox.user == "root")
            return makeError(where(sourceName, t->get("user")->source()) + ": the sandbox user must not be root");
        QK_CHECK(r.size(*t, "memory_limit", c.sandbox.memoryLimit, 1ull << 40));
        QK_CHECK(r.integer(*t, "cpu_limit", c.sandbox.cpuLimitSeconds, 1, 10000000));
    }
    if (const auto* node = root.get("officers")) {
        const auto* t = node->as_table();
        if (!t) return makeError(where(sourceName, node->source()) + ": \"officers\" must be a table");
        QK_CHECK(r.unknownKeys(*t, {"file", "lockout_file", "attempts", "lockout_minutes", "idle_minutes", "max_approval_days", "pam_service", "pam_group"},
                                  "officers"));
        QK_CHECK(r.string(*t, "file", c.officers.file));
        QK_CHECK(r.string(*t, "lockout_file", c.officers.lockoutFile));
        QK_CHECK(r.integer(*t, "attempts", c.officers.attempts, 1, 100));
        QK_CHECK(r.integer(*t, "lockout_minutes", c.officers.lockoutMinutes, 1, 10080));
        QK_CHECK(r.integer(*t, "idle_minutes", c.officers.idleMinutes, 1, 120));
        QK_CHECK(r.string(*t, "pam_service", c.officers.pamService));
        QK_CHECK(r.string(*t, "pam_group", c.officers.pamGroup));
        // A file name in /etc/pam.d, nothing that could reach elsewhere.
        if (c.officers.pamService.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                std::string::npos ||
            c.officers.pamService.starts_with("."))
            return makeError(where(sourceName, t->get("pam_service")->source()) +
                             ": pam_service is the name of a file in /etc/pam.d, like \"qkiosk\"");
        if (!c.officers.pamService.empty() && c.officers.pamGroup.empty())
            return makeError(where(sourceName, t->source()) + ": pam_group must name the group of the officers who log in through PAM");
        QK_CHECK(r.integer(*t, "max_approval_days", c.officers.maxApprovalDays, 1, 3650));
    }
    if (const auto* node = root.get("ticket")) {
        const auto* t = node->as_table();
        if (!t) return makeError(where(sourceName, node->source()) + ": \"ticket\" must be a table");
        QK_CHECK(r.unknownKeys(*t, {"printer", "archive"}, "ticket"));
        QK_CHECK(r.string(*t, "printer", c.ticket.printer));
        QK_CHECK(r.strings(*t, "archive", c.ticket.archive));
        for (const auto& f : c.ticket.archive)
            if (f != "pdf" && f != "png")
                return makeError(where(sourceName, t->get("archive")->source()) + ": \"archive\" may list \"pdf\" and \"png\"");
    }
    QK_CHECK(r.strings(root, "update_keys", c.updateKeys));
    // The evidence vault: it cannot be turned off, only the image can.
    QK_CHECK(r.string(root, "evidence_dir", c.evidence.dir));
    if (c.evidence.dir.empty()) return makeError(where(sourceName, root.get("evidence_dir")->source()) + ": \"evidence_dir\" must not be empty");
    QK_CHECK(r.boolean(root, "evidence_image", c.evidence.image));
    QK_CHECK(r.size(root, "evidence_image_limit", c.evidence.imageLimit, 1ull << 50));
    QK_CHECK(r.size(root, "evidence_reserve", c.evidence.reserve, 1ull << 50));
    if (const auto* node = root.get("syslog")) {
        const auto* t = node->as_table();
        if (!t) return makeError(where(sourceName, node->source()) + ": \"syslog\" must be a table");
        QK_CHECK(r.unknownKeys(*t, {"target", "tls", "ca_file", "cert_file", "key_file", "server_name", "hostname", "facility"},
                               "syslog"));
        auto& s = c.syslog;
        QK_CHECK(r.string(*t, "target", s.target));
        if (const auto* tls = t->get("tls")) {
            if (!tls->as_boolean()) return makeError(where(sourceName, tls->source()) + ": \"tls\" must be true or false");
            s.tls = tls->as_boolean()->get();
        }
        QK_CHECK(r.string(*t, "ca_file", s.caFile));
        QK_CHECK(r.string(*t, "cert_file", s.certFile));
        QK_CHECK(r.string(*t, "key_file", s.keyFile));
        QK_CHECK(r.string(*t, "server_name", s.serverName));
        QK_CHECK(r.string(*t, "hostname", s.hostname));
        QK_CHECK(r.string(*t, "facility", s.facility));
        if (!s.target.empty())
            if (auto hp = splitHostPort(s.target); !hp)
                return makeError(where(sourceName, t->get("target")->source()) + ": " + hp.error().message);
        if (!syslogFacility(s.facility))
            return makeError(where(sourceName, t->get("facility")->source()) +
                             ": \"facility\" must be local0 to local7, auth, authpriv, daemon, user or audit");
        if (s.certFile.empty() != s.keyFile.empty())
            return makeError(where(sourceName, t->source()) + ": [syslog] needs both cert_file and key_file, or neither");
        if (!s.tls && (!s.caFile.empty() || !s.certFile.empty() || !s.serverName.empty()))
            return makeError(where(sourceName, t->source()) +
                             ": [syslog] ca_file, cert_file, key_file and server_name need tls = true");
        if (const auto* n = t->get("hostname"); n && !isSyslogName(s.hostname, 255))
            return makeError(where(sourceName, n->source()) +
                             ": \"hostname\" must be 1 to 255 printable ASCII characters without spaces");
    }
    return c;
}

Result<Config> loadConfig(const std::string& path) {
    auto text = readTextFile(path);
    if (!text) return text.error();
    return parseConfig(*text, path);
}

}  // namespace kiosk
