// Text a guest wrote, made safe for each output a person or a program reads.
// Everything under a guest's xenstore `data/` (and its console) is written by
// the customer, who may be hostile: an escape sequence or a carriage return
// printed raw can redraw another domain's row on the operator's terminal,
// one invalid UTF-8 byte can make a JSON encoder give up on the whole host.
// So every output escapes guest text on the way out, each in its own way
// (ARCHITECTURE.md, "hostile guests"); the Prometheus writer's label escaping
// (core/prometheus) builds on the same UTF-8 reader.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace guardian {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, at most U+10FFFF), or 0 when it is not one.
[[nodiscard]] std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept;

[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

// For a terminal: printable text stays; C0 controls (\r, \n, \t, ESC ...),
// DEL, C1 controls, bytes that are not UTF-8 and the bidirectional
// overrides that reorder what a terminal shows become visible escapes
// (\r, \n, \t, \x1b, \u202e); a backslash is doubled, so the result reads
// back unambiguously. At most `max_bytes` of output, then "...".
[[nodiscard]] std::string for_terminal(std::string_view raw, std::size_t max_bytes = 512);

// For JSON and other UTF-8-only consumers: bytes that are not UTF-8 become
// U+FFFD; everything else is kept (the JSON encoder escapes controls).
[[nodiscard]] std::string as_valid_utf8(std::string_view raw);

} // namespace guardian
