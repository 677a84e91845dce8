#include "guardian/core/guest_text.hpp"

#include <fmt/format.h>

namespace guardian {

std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0U) == 0x80U; };
    const unsigned c = b(0);
    if (c < 0x80U) {
        return 1;
    }
    if (c >= 0xC2U && c <= 0xDFU) {
        return cont(1) ? 2 : 0;
    }
    if (c >= 0xE0U && c <= 0xEFU) {
        if (!cont(1) || !cont(2)) {
            return 0;
        }
        if ((c == 0xE0U && b(1) < 0xA0U) || (c == 0xEDU && b(1) > 0x9FU)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0U && c <= 0xF4U) {
        if (!cont(1) || !cont(2) || !cont(3)) {
            return 0;
        }
        if ((c == 0xF0U && b(1) < 0x90U) || (c == 0xF4U && b(1) > 0x8FU)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

namespace {

// The code point of a well-formed sequence of length n at s[i].
char32_t decode(std::string_view s, std::size_t i, std::size_t n) {
    const auto b = [&](std::size_t k) {
        return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]));
    };
    switch (n) {
    case 1:
        return b(0);
    case 2:
        return ((b(0) & 0x1FU) << 6) | (b(1) & 0x3FU);
    case 3:
        return ((b(0) & 0x0FU) << 12) | ((b(1) & 0x3FU) << 6) | (b(2) & 0x3FU);
    default:
        return ((b(0) & 0x07U) << 18) | ((b(1) & 0x3FU) << 12) | ((b(2) & 0x3FU) << 6) |
               (b(3) & 0x3FU);
    }
}

// What a terminal must not receive as is: C1 controls, and the
// bidirectional embeddings, overrides and isolates that reorder a line.
bool hidden_control(char32_t cp) {
    return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

} // namespace

bool is_hidden_control(std::string_view s, std::size_t i, std::size_t n) noexcept {
    return n > 1 && hidden_control(decode(s, i, n));
}

namespace {

std::string visible_ascii(unsigned char c) {
    switch (c) {
    case '\r':
        return "\\r";
    case '\n':
        return "\\n";
    case '\t':
        return "\\t";
    case '\\':
        return "\\\\";
    default:
        break;
    }
    if (c < 0x20U || c == 0x7FU) {
        return fmt::format("\\x{:02x}", c);
    }
    return std::string(1, static_cast<char>(c));
}

} // namespace

std::string for_terminal(std::string_view raw, std::size_t max_bytes) {
    std::string out;
    for (std::size_t i = 0; i < raw.size();) {
        const std::size_t n = utf8_sequence(raw, i);
        std::string piece;
        if (n == 0) {
            piece = fmt::format("\\x{:02x}", static_cast<unsigned char>(raw[i]));
        } else if (n == 1) {
            piece = visible_ascii(static_cast<unsigned char>(raw[i]));
        } else if (is_hidden_control(raw, i, n)) {
            piece = fmt::format("\\u{:04x}", static_cast<std::uint32_t>(decode(raw, i, n)));
        } else {
            piece = std::string(raw.substr(i, n));
        }
        i += n == 0 ? 1 : n;
        const std::size_t reserve = i < raw.size() ? 3 : 0;
        if (out.size() + piece.size() + reserve > max_bytes) {
            out += "...";
            break;
        }
        out += piece;
    }
    return out;
}

std::string as_valid_utf8(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size();) {
        const std::size_t n = utf8_sequence(raw, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD"; // U+FFFD
            ++i;
        } else {
            out.append(raw.substr(i, n));
            i += n;
        }
    }
    return out;
}

} // namespace guardian
