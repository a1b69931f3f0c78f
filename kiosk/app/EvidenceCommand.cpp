// qkiosk evidence: the officer's access to the evidence vault (kiosk/evidence/Evidence.h).
//
//   qkiosk evidence list   [--config FILE] [--vault DIR]
//   qkiosk evidence show   TICKET [--config FILE] [--vault DIR]
//   qkiosk evidence export TICKET --to DIR --officer NAME [--log DB] [--config FILE] [--vault DIR]
// The vault is the config's evidence_dir unless --vault names another (a
// folder `qkiosk scan --evidence DIR` filled); the log and the kiosk's key
// come from the config.
//
// An export re-hashes every stored file and the media image while it copies
// them, and checks case.json against the chain-of-custody record in the
// quarantine log: anything changed since the case was collected is exit 1,
// named, and nothing is exported. The copy is staged next to its final place,
// recorded in the log (who, where, what), and only then renamed into place:
// an export the log does not know about does not exist.
//
// Exit status: 0 success, 1 the case does not match its hashes, 2 error.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "Commands.h"
#include "Common.h"
#include "kiosk/files/AtomicFile.h"
#include "kiosk/evidence/Evidence.h"
#include "kiosk/files/HashedCopy.h"
#include "kiosk/log/QuarantineLog.h"
#include "qkiosk/base/UniqueFd.h"

namespace fs = std::filesystem;

namespace kiosk::app {
namespace {

using nlohmann::json;

struct Options {
    std::string sub;
    std::optional<std::string> configPath, vault, to, officer, log, ticket;
};

Result<Options> parseOptions(const std::vector<std::string>& args) {
    Options o;
    o.sub = args.front();
    const OptionSpec spec{
        {{"--config", &o.configPath}, {"--vault", &o.vault}, {"--to", &o.to}, {"--officer", &o.officer}, {"--log", &o.log}},
        {},
        o.sub == "show" || o.sub == "export" ? &o.ticket : nullptr};
    if (auto st = readOptions("evidence " + o.sub, args, 1, spec); !st) return st.error();
    return o;
}

std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Result<json> readCase(const std::string& caseDir, std::string* text = nullptr) {
    auto t = readTextFile(caseDir + "/" + kCaseFile);
    if (!t) return t.error();
    auto j = json::parse(*t, nullptr, false);
    if (!j.is_object() || !j.contains("files") || !j["files"].is_array() || !j.contains("image") || !j["image"].is_object())
        return makeError(caseDir + "/" + kCaseFile + ": not a qkiosk case");
    if (text) *text = std::move(*t);
    return j;
}

std::string deviceText(const json& c) {
    if (c.contains("device") && c["device"].is_object()) {
        const auto& d = c["device"];
        std::string text = str(d, "vendor_id");
        text.append(":").append(str(d, "product_id"));
        if (!str(d, "serial").empty()) text.append(":").append(str(d, "serial"));
        return text;
    }
    return c.contains("media") && c["media"].is_object() ? str(c["media"], "source") : "";
}

std::string imageText(const json& image) {
    if (!str(image, "stored").empty()) return "yes";
    std::string out = "no: ";
    out.append(str(image, "skipped"));
    return out;
}

int list(const std::string& vault) {
    // A vault that cannot be looked at is an error, never "no cases".
    auto present = pathExists(vault);
    if (!present) return usageError(present.error().message);
    if (!*present) {
        std::printf("No cases: %s does not exist yet.\n", vault.c_str());
        return 0;
    }
    std::error_code ec;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(vault, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
    if (ec) return usageError(vault + ": " + ec.message());
    std::sort(entries.begin(), entries.end());
    std::printf("%-26s %-20s %-28s %-7s %-6s %s\n", "TICKET", "COLLECTED", "DEVICE", "VERDICT", "FILES", "IMAGE");
    for (const auto& p : entries) {
        const std::string name = p.filename().string();
        if (!fs::is_directory(p, ec)) continue;
        if (name.starts_with(".incoming-")) {
            std::size_t n = 0;
            for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
                n += it->path().filename().string().size() == 64;
            std::printf("%-26s %-20s %-28s %-7s %-6zu %s\n", name.c_str(), "-", "-", "-", n,
                        "incomplete: collection was cut short (the files are named by their SHA-256)");
            continue;
        }
        auto c = readCase(p.string());
        if (!c) {
            std::printf("%-26s %s\n", name.c_str(), ("no readable case.json: " + c.error().message).c_str());
            continue;
        }
        std::size_t stored = 0;
        for (const auto& f : (*c)["files"]) stored += f.contains("stored") && f["stored"].is_string();
        const std::string files = std::to_string(stored) + "/" + std::to_string((*c)["files"].size());
        std::printf("%-26s %-20s %-28s %-7s %-6s %s\n", name.c_str(), str(*c, "collected").c_str(), deviceText(*c).c_str(),
                    str(*c, "verdict").c_str(), files.c_str(), imageText((*c)["image"]).c_str());
    }
    return 0;
}

// The last chain-of-custody record of the case, if the log has one; an
// error when the log cannot be read (then nothing can be checked against it).
Result<std::optional<json>> custodyOf(log::QuarantineLog& qlog, const std::string& ticket) {
    auto records = qlog.find({"evidence-collected", ticket, true, 1, false});
    if (!records) return records.error();
    if (records->empty()) return std::optional<json>();
    auto j = json::parse(records->front().data, nullptr, false);
    if (!j.is_object()) return makeError("the quarantine log's evidence-collected record of " + ticket + " cannot be read");
    return std::optional<json>(std::move(j));
}

struct Item {
    std::string name;     // in the case folder
    std::string path;     // where it came from ("the media" for the image)
    std::string sha256;
    std::uint64_t size = 0;
    bool sparse = false;
};

// Copies one stored item into `dest`, hashing it on the way; a mismatch is the returned text.
Result<std::optional<std::string>> copyItem(const std::string& caseDir, const Item& item, const std::string& dest) {
    const std::string from = caseDir + "/" + item.name;
    UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!in.valid()) {
        if (errno == ENOENT) return std::optional<std::string>(from + " (" + item.path + ") is missing from the case");
        return makeError(from + ": " + std::strerror(errno));
    }
    struct stat st{};
    if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) return makeError(from + ": not a regular file");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size != item.size)
        return std::optional<std::string>(from + " (" + item.path + ") is " + std::to_string(size) + " bytes; the case recorded " +
                                           std::to_string(item.size));
    auto digest = copyToNewFile(in.get(), size, from, dest + "/" + item.name, 0400, item.sparse);
    if (!digest) return digest.error();
    if (toHex(*digest) != item.sha256)
        return std::optional<std::string>(from + " (" + item.path + ") has SHA-256 " + toHex(*digest) + "; the case recorded " +
                                           item.sha256);
    return std::optional<std::string>();
}

std::string whoRuns() {
    std::string who = "uid " + std::to_string(::getuid());
    if (const char* sudo = std::getenv("SUDO_USER")) who.append(" (sudo by ").append(sudo).append(")");
    return who;
}

int exportCase(const Options& o, const Config& config, const std::string& vault) {
    if (!o.ticket || !isPlainFileName(*o.ticket)) return usageError("evidence export: give the ticket id of a case");
    if (!o.to || !o.officer || o.officer->empty()) return usageError("evidence export: --to DIR and --officer NAME are required");
    const std::string& ticket = *o.ticket;
    const std::string caseDir = vault + "/" + ticket;
    std::string caseText;
    auto c = readCase(caseDir, &caseText);
    if (!c) return usageError(c.error().message);
    std::error_code ec;
    if (!fs::is_directory(*o.to, ec))
        return usageError(*o.to + ": " + (ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "not a folder") +
                          " (the export goes into a folder that exists)");
    const auto to = fs::absolute(*o.to, ec);
    if (ec) return usageError(*o.to + ": " + ec.message());
    const std::string target = (to.lexically_normal() / ticket).string();
    auto taken = pathExists(target);
    if (!taken) return usageError(taken.error().message);
    if (*taken) return usageError(target + ": already exists");

    auto qlog = log::openSignedLog(o.log.value_or(config.logPath), config.kioskKey);
    if (!qlog) return usageError(qlog.error().message);
    // Refused exports are part of the chain of custody too.
    auto refuse = [&](const std::string& problem) {
        std::printf("MISMATCH: %s: nothing was exported\n", problem.c_str());
        const json data = {{"ticket_id", ticket}, {"officer", *o.officer}, {"user", whoRuns()}, {"to", target}, {"problem", problem}};
        if (auto r = qlog->appendSigned("evidence-export-refused", ticket, data.dump()); !r)
            std::fprintf(stderr, "qkiosk: %s\n", r.error().message.c_str());
        return 1;
    };

    // case.json itself must be what was recorded when the case was collected.
    const std::string caseSha = toHex(Sha256::of(std::string_view(caseText)));
    const auto read = custodyOf(*qlog->log, ticket);
    if (!read) return usageError(read.error().message + ": nothing was exported");
    const auto& custody = *read;
    if (custody && str(*custody, "case_sha256") != caseSha)
        return refuse(caseDir + "/" + kCaseFile + " has SHA-256 " + caseSha + "; the quarantine log recorded " +
                      str(*custody, "case_sha256") + " when the case was collected");
    if (!custody)
        std::fprintf(stderr, "qkiosk: warning: the quarantine log has no evidence-collected record of %s: the files are checked "
                             "against case.json only\n", ticket.c_str());

    std::vector<Item> items;
    std::map<std::string, bool> seen;
    for (const auto& f : (*c)["files"]) {
        const std::string stored = f.contains("stored") && f["stored"].is_string() ? f["stored"].get<std::string>() : "";
        if (stored.empty() || seen[stored]) continue;
        seen[stored] = true;
        if (!isPlainFileName(stored) || !f.contains("size") || !f["size"].is_number_unsigned())
            return usageError(caseDir + "/" + kCaseFile + ": a file entry is not valid");
        items.push_back(Item{stored, str(f, "path"), str(f, "sha256"), f["size"].get<std::uint64_t>(), false});
    }
    const json& image = (*c)["image"];
    if (!str(image, "stored").empty()) {
        if (str(image, "stored") != kImageFile || !image.contains("size") || !image["size"].is_number_unsigned())
            return usageError(caseDir + "/" + kCaseFile + ": the image entry is not valid");
        items.push_back(Item{kImageFile, "the media", str(image, "sha256"), image["size"].get<std::uint64_t>(), true});
    }

    // Staged beside its final place: a half-made export never looks like one.
    std::string hidden(".");
    hidden.append(ticket).append(".export-XXXXXX");
    std::string staging = (fs::path(*o.to) / hidden).string();
    if (!::mkdtemp(staging.data())) return usageError(*o.to + ": cannot create a folder: " + std::strerror(errno));
    struct Cleanup {
        std::string dir;
        ~Cleanup() {
            std::error_code ignored;
            if (!dir.empty()) fs::remove_all(dir, ignored);
        }
    } cleanup{staging};

    std::string sums;
    json files = json::array();
    for (const auto& item : items) {
        auto copied = copyItem(caseDir, item, staging);
        if (!copied) return usageError(copied.error().message);
        if (*copied) return refuse(**copied);
        sums.append(item.sha256).append("  ").append(item.name).append("\n");
        files.push_back({{"stored", item.name}, {"path", item.path}, {"size", item.size}, {"sha256", item.sha256}});
    }
    sums.append(caseSha).append("  ").append(kCaseFile).append("\n");
    if (auto st = writeFileAtomically(staging + "/" + kCaseFile, caseText, 0400); !st) return usageError(st.error().message);
    if (auto st = writeFileAtomically(staging + "/SHA256SUMS", sums, 0400); !st) return usageError(st.error().message);

    // Recorded before it exists: who, where, what.
    const json data = {{"ticket_id", ticket}, {"officer", *o.officer}, {"user", whoRuns()}, {"from", caseDir},
                       {"to", target}, {"case_sha256", caseSha}, {"files", files}};
    auto rec = qlog->appendSigned("evidence-exported", ticket, data.dump());
    if (!rec) return usageError(rec.error().message + " (nothing was exported)");
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0)
        return usageError(target + ": " + std::strerror(errno) + " (the log already has record " + std::to_string(rec->seq) +
                          " for this export; the copy is in " + staging + ")");
    cleanup.dir.clear();
    if (UniqueFd dir(::open(o.to->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir.valid()) ::fsync(dir.get());
    std::printf("Exported case %s to %s: %zu item(s), every SHA-256 checked; quarantine log record %lld (officer %s).\n"
                "Check it anywhere with: cd %s && sha256sum -c SHA256SUMS\n",
                ticket.c_str(), target.c_str(), items.size(), static_cast<long long>(rec->seq), o.officer->c_str(),
                target.c_str());
    return 0;
}

}  // namespace

int evidenceCommand(const std::vector<std::string>& args) {
    if (args.empty()) return usageError("evidence: give list, show or export (see qkiosk help)");
    auto o = parseOptions(args);
    if (!o) return usageError(o.error().message);
    auto config = loadConfigOrDefault(o->configPath);
    if (!config) return usageError(config.error().message);
    std::error_code ec;   // full paths in what is printed and logged
    std::string vault = o->vault.value_or(config->evidence.dir);
    if (const auto full = fs::absolute(vault, ec); !ec) vault = full.lexically_normal().string();
    while (vault.size() > 1 && vault.back() == '/') vault.pop_back();
    if (o->sub == "list") return list(vault);
    if (o->sub == "show") {
        if (!o->ticket || !isPlainFileName(*o->ticket)) return usageError("evidence show: give the ticket id of a case");
        std::string text;
        auto c = readCase(vault + "/" + *o->ticket, &text);
        if (!c) return usageError(c.error().message);
        std::fwrite(text.data(), 1, text.size(), stdout);
        return 0;
    }
    if (o->sub == "export") return exportCase(*o, *config, vault);
    return usageError("evidence: unknown subcommand \"" + o->sub + "\"");
}

}  // namespace kiosk::app
