#include "kiosk/policy/Whitelist.h"

#include "kiosk/files/AtomicFile.h"
#include "qkiosk/base/Dates.h"

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace kiosk::policy {
namespace {

std::string at(const std::string& source, const toml::source_region& r) {
    return source + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}


}  // namespace

Result<Whitelist> parseWhitelist(const std::string& text, const std::string& source) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        return makeError(at(source, e.source()) + ": " + std::string(e.description()));
    }
    Whitelist w;
    for (const auto& [key, node] : root)
        if (key.str() != "device")
            return makeError(at(source, key.source()) + ": unknown key \"" + std::string(key.str()) + "\" (entries are [[device]] tables)");
    const auto* devices = root.get("device");
    if (!devices) return w;
    const auto* arr = devices->as_array();
    if (!arr) return makeError(at(source, devices->source()) + ": \"device\" must be an array of tables ([[device]])");

    static const std::regex hex4("^[0-9a-fA-F]{4}$");
    static const std::regex triple("^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}$");
    static const std::set<std::string> known{"vendor_id", "product_id", "serial", "interfaces", "owner", "purpose", "expires"};
    for (const auto& e : *arr) {
        const auto* t = e.as_table();
        if (!t) return makeError(at(source, e.source()) + ": each device must be a table");
        const std::string where = at(source, t->source());
        for (const auto& [k, v] : *t)
            if (!known.count(std::string(k.str())))
                return makeError(at(source, k.source()) + ": unknown key \"" + std::string(k.str()) + "\"");
        Approval a;
        a.source = source + ":" + std::to_string(t->source().begin.line);
        auto str = [&](const char* key, std::string& out) -> Status {
            const auto* n = t->get(key);
            if (!n) return makeError(where + ": device entry lacks \"" + key + "\"");
            if (const auto* s = n->as_string()) {
                out = s->get();
                return {};
            }
            if (const auto* d = n->as_date(); d && std::string(key) == "expires") {
                char buf[16];
                std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(d->get().year),
                              static_cast<int>(d->get().month), static_cast<int>(d->get().day));
                out = buf;
                return {};
            }
            return makeError(at(source, n->source()) + ": \"" + key + "\" must be a string");
        };
        for (auto [key, out] : {std::pair<const char*, std::string*>{"vendor_id", &a.vendorId}, {"product_id", &a.productId},
                                {"serial", &a.serial}, {"owner", &a.owner}, {"purpose", &a.purpose}, {"expires", &a.expires}}) {
            if (auto st = str(key, *out); !st) return st.error();
        }
        auto fieldAt = [&](const char* key) { return at(source, t->get(key)->source()); };
        if (!std::regex_match(a.vendorId, hex4)) return makeError(fieldAt("vendor_id") + ": vendor_id must be 4 hex digits");
        if (!std::regex_match(a.productId, hex4)) return makeError(fieldAt("product_id") + ": product_id must be 4 hex digits");
        std::transform(a.vendorId.begin(), a.vendorId.end(), a.vendorId.begin(), ::tolower);
        std::transform(a.productId.begin(), a.productId.end(), a.productId.begin(), ::tolower);
        if (a.serial.empty())
            return makeError(fieldAt("serial") + ": serial must not be empty (a device without a serial number cannot be approved)");
        if (a.owner.empty()) return makeError(fieldAt("owner") + ": owner must not be empty");
        if (!isCalendarDate(a.expires)) return makeError(fieldAt("expires") + ": expires must be a date YYYY-MM-DD");
        const auto* ifs = t->get("interfaces");
        if (!ifs) return makeError(where + ": device entry lacks \"interfaces\"");
        const auto* ifArr = ifs->as_array();
        if (!ifArr || ifArr->empty()) return makeError(at(source, ifs->source()) + ": interfaces must be a non-empty array like [\"08:06:50\"]");
        std::set<std::string> set;
        for (const auto& i : *ifArr) {
            const auto* s = i.as_string();
            if (!s || !std::regex_match(s->get(), triple))
                return makeError(at(source, i.source()) + ": an interface is \"class:subclass:protocol\" in hex, like \"08:06:50\"");
            std::string v = s->get();
            std::transform(v.begin(), v.end(), v.begin(), ::tolower);
            set.insert(v);
        }
        a.interfaces.assign(set.begin(), set.end());
        w.devices.push_back(std::move(a));
    }
    return w;
}

Result<Whitelist> loadWhitelist(const std::string& path) {
    auto text = readTextFile(path);
    if (!text) return text.error();
    return parseWhitelist(*text, path);
}

Result<std::string> approvalToml(const Approval& a, const std::string& comment) {
    for (const std::string* v : {&a.vendorId, &a.productId, &a.serial, &a.owner, &a.purpose, &a.expires, &comment})
        for (unsigned char c : *v)
            if (c < 0x20 || c == 0x7f) return makeError("a whitelist value cannot hold control characters or line breaks");
    auto quoted = [](const std::string& v) {
        std::string out = "\"";
        for (char c : v) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        return out + "\"";
    };
    std::string interfaces;
    for (const auto& i : a.interfaces) {
        if (!interfaces.empty()) interfaces += ", ";
        interfaces += quoted(i);
    }
    std::string t = "\n# ";
    t.append(comment).append("\n[[device]]\n");
    t.append("vendor_id  = ").append(quoted(a.vendorId)).append("\n");
    t.append("product_id = ").append(quoted(a.productId)).append("\n");
    t.append("serial     = ").append(quoted(a.serial)).append("\n");
    t.append("interfaces = [").append(interfaces).append("]\n");
    t.append("owner      = ").append(quoted(a.owner)).append("\n");
    t.append("purpose    = ").append(quoted(a.purpose)).append("\n");
    t.append("expires    = ").append(quoted(a.expires)).append("\n");
    return t;
}

}  // namespace kiosk::policy
