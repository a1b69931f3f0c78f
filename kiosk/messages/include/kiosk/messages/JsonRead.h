// Reading JSON from the other side of a socket (VERDICT lines, officer
// requests and replies) without ever throwing: a field of the wrong type, or
// missing, reads as empty. nlohmann's value() and get<>() throw on a wrong
// type, and an exception out of the terminal's loop would end the terminal.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiosk::messages::jsonread {

inline const nlohmann::json& member(const nlohmann::json& j, const char* key) {
    static const nlohmann::json null;
    if (!j.is_object()) return null;
    const auto it = j.find(key);
    return it == j.end() ? null : *it;
}

inline std::string text(const nlohmann::json& j, const char* key) {
    const nlohmann::json& v = member(j, key);
    if (v.is_string()) return v.get_ref<const std::string&>();
    // age_days is a string in the contract; a number is read as well.
    if (v.is_number()) return v.dump();
    return {};
}

inline std::uint64_t count(const nlohmann::json& j, const char* key) {
    const nlohmann::json& v = member(j, key);
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() > 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
    return 0;
}

inline bool flag(const nlohmann::json& j, const char* key) {
    const nlohmann::json& v = member(j, key);
    return v.is_boolean() && v.get<bool>();
}

inline std::vector<std::string> texts(const nlohmann::json& j, const char* key) {
    std::vector<std::string> out;
    const nlohmann::json& v = member(j, key);
    if (!v.is_array()) return out;
    for (const auto& e : v)
        if (e.is_string()) out.push_back(e.get_ref<const std::string&>());
    return out;
}

}  // namespace kiosk::messages::jsonread
