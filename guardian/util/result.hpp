// Value-or-error results. The adapters are the only places where errno or a
// C library's error code exists; they turn it into an Error carrying what was
// attempted, so callers above them never see a bare integer.
#pragma once

#include <cerrno>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace guardian {

struct Error {
    std::string message; // what failed, e.g. "open /dev/xvda1: Permission denied"
    int code = 0;        // errno where there was one (0 otherwise); for tests and retry logic

    [[nodiscard]] static Error from_errno(std::string what, int err = errno);
};

template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    [[nodiscard]] bool ok() const noexcept { return m_v.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    [[nodiscard]] T& value() & { return std::get<0>(m_v); }
    [[nodiscard]] const T& value() const& { return std::get<0>(m_v); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(m_v)); }
    [[nodiscard]] const Error& error() const& { return std::get<1>(m_v); }
    [[nodiscard]] Error&& error() && { return std::get<1>(std::move(m_v)); }

    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    template <class U> [[nodiscard]] T value_or(U&& fallback) const& {
        return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, Error> m_v;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;
[[nodiscard]] inline Status ok_status() {
    return Ok{};
}

} // namespace guardian

// Propagate an error from an expression returning Result<...> (ccache's TRY).
#define GUARDIAN_TRY(expr)                                                                         \
    do {                                                                                           \
        auto&& guardian_try_r_ = (expr);                                                           \
        if (!guardian_try_r_.ok())                                                                 \
            return std::move(guardian_try_r_).error();                                             \
    } while (false)

// Assign the value of a Result to `lhs` or return its error.
#define GUARDIAN_TRY_ASSIGN(lhs, expr)                                                             \
    auto&& GUARDIAN_CONCAT_(guardian_r_, __LINE__) = (expr);                                       \
    if (!GUARDIAN_CONCAT_(guardian_r_, __LINE__).ok())                                             \
        return std::move(GUARDIAN_CONCAT_(guardian_r_, __LINE__)).error();                         \
    lhs = std::move(GUARDIAN_CONCAT_(guardian_r_, __LINE__)).value()
#define GUARDIAN_CONCAT_(a, b) GUARDIAN_CONCAT2_(a, b)
#define GUARDIAN_CONCAT2_(a, b) a##b
