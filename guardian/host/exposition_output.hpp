// Where guardian-host's Prometheus text goes: node_exporter's textfile
// collector reads a file that must never be seen half-written.
#pragma once

#include <string>

namespace guardian::host {

// `text` to `output`, written atomically (mode 0644; a failure leaves the
// previous file, whose age shows it), or to standard output when `output` is
// empty. 0, or 2 when the file cannot be written.
[[nodiscard]] int emit_exposition(const std::string& text, const std::string& output);

} // namespace guardian::host
