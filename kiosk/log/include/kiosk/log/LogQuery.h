// Reading the quarantine log for an officer: which records a filter selects,
// what a session record says in a line, and the export files (CSV for a
// spreadsheet, JSON lines for a program). One implementation for
// `qkiosk log` and for the officer's requests to the daemon
// (docs/officer-protocol.md), so that both show and export the same.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiosk/log/QuarantineLog.h"
#include "kiosk/messages/OfficerMessages.h"
#include "qkiosk/base/Result.h"

namespace kiosk::log {

// What an officer asks for; every field optional (unset: no condition).
struct Filter {
    std::optional<std::string> from, to;   // YYYY-MM-DD, days in UTC, both included
    std::optional<std::string> verdict;    // "pass" | "fail"
    std::optional<std::string> device;     // "VID:PID" or "VID:PID:SERIAL"
    std::optional<std::string> owner;      // part of the approval's owner
    std::optional<std::string> kind;       // a record kind, exactly
};

// Whether the filter's values are well formed: from/to real dates
// YYYY-MM-DD, verdict pass or fail, device VID:PID or VID:PID:SERIAL with
// 4 hex digits each. The error names the field ("from: ...").
Status checkFilter(const Filter& f);

// Whether record `r` is one the filter selects.
bool matches(const Record& r, const Filter& f);

// The record's data (a JSON object), or an empty object if it is not one.
nlohmann::json dataOf(const Record& r);

// The whole record as JSON: seq, time, kind, ticket_id, data, prev_hash, hash.
nlohmann::json recordJson(const Record& r);

// From a record's data: the approval's owner ("" if none); the device as
// VID:PID[:SERIAL] ("" if none); every reason as "code path: detail", joined by "; ".
std::string ownerOf(const nlohmann::json& data);
std::string deviceText(const nlohmann::json& data);
std::string reasonsText(const nlohmann::json& data);

// One CSV field, quoted; a field that a spreadsheet would take for a formula
// (= + - @ tab CR first) starts with a ' so that it is shown as text.
std::string csvField(const std::string& s);

// A session record in one line for the officer's screens (the log review,
// the status page), with its distinct reason codes in the order they first
// appear.
messages::SessionSummary sessionSummary(const Record& r);

enum class ExportFormat { Csv, Jsonl };

// "csv" / "jsonl", or nullopt for anything else.
std::optional<ExportFormat> exportFormatNamed(const std::string& name);
const char* exportFormatName(ExportFormat fmt);

// The export file's bytes for the records the filter selects, in the order
// given: CSV (UTF-8 with a byte order mark, CRLF, a header line) or one JSON
// record per line (recordJson). `count`, if given, receives how many records
// went in.
std::string exportText(const std::vector<Record>& records, const Filter& f, ExportFormat fmt,
                       std::size_t* count = nullptr);

// The data of the "log-exported" record that says who took the log out:
// {"format", "out", "by", "filter": {only the fields set}}; "filter" is
// left out when nothing was filtered.
nlohmann::json exportRecordData(const Filter& f, ExportFormat fmt, const std::string& out, const std::string& by);

}  // namespace kiosk::log
