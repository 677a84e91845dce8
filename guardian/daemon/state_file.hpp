// guardiand's local files, written: /run/guardian/state.json (rewritten
// atomically) and /var/lib/guardian/history.jsonl (one line appended per
// verification). Their schema, encoder and decoder, is
// guardian/core/state_file.hpp; this is only the file I/O.
#pragma once

#include "guardian/core/state_file.hpp"
#include "guardian/util/result.hpp"

#include <string>

namespace guardian::daemon {

[[nodiscard]] Status write_state_file(const std::string& path, const StateSnapshot& s);
// One JSON line appended (O_APPEND) and fsync'd; the directory is created.
[[nodiscard]] Status append_history(const std::string& path, const VerificationOutcome& v);

} // namespace guardian::daemon
