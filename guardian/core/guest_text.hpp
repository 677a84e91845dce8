// Text a guest wrote, made safe for each output a person or a program reads.
// Everything under a guest's xenstore `data/` (and its console) is written by
// the customer, who may be hostile: an escape sequence or a carriage return
// printed raw can redraw another domain's row on the operator's terminal,
// one invalid UTF-8 byte can make a JSON encoder give up on the whole host.
// So every output escapes guest text on the way out, each in its own way
// (ARCHITECTURE.md, "Hostile guests"; docs/hostile-guests.md); the
// Prometheus writer's label escaping (core/prometheus) builds on the same
// UTF-8 reader.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace guardian {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, at most U+10FFFF), or 0 when it is not one.
[[nodiscard]] std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept;

[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

// Whether the well-formed sequence of length n (utf8_sequence) at s[i] is
// one a terminal acts on rather than shows: a C1 control (U+0080..U+009F,
// e.g. U+009B, the one-character CSI) or a bidirectional embedding,
// override, isolate or mark (U+202E reverses what follows on the line).
[[nodiscard]] bool is_hidden_control(std::string_view s, std::size_t i, std::size_t n) noexcept;

// Guest text inside JSON that a person may read (status --json, history
// --json): dump with ensure_ascii, so DEL, C1 controls and bidirectional
// overrides travel as \u escapes, never as raw bytes. Decoders read back
// the same strings.
inline constexpr bool k_json_ascii = true;

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
