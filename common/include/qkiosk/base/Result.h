// Result<T>: a value or a foreseeable error, in the spirit of std::expected
// (which needs C++23; this project builds as C++20 on g++ 12).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace kiosk {

// An error that a caller can foresee and handle: a message that already names
// the input and what is wrong with it. Layers add context with `context()`.
struct Error {
    std::string message;

    Error context(const std::string& what) const { return Error{what + ": " + message}; }
};

inline Error makeError(std::string message) { return Error{std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit on purpose
    Result(Error error) : v_(std::move(error)) {}        // NOLINT: implicit on purpose

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit on purpose

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_{};
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace kiosk
