// `guardianctl status --prometheus`: this guest's guardian metrics in the
// node_exporter textfile format, with the same series names dom0's
// `guardian-host status --prometheus` writes (guardian/core/guest_metrics.hpp).
#pragma once

#include "guardian/cli/commands.hpp"

namespace guardian::cli {

// Reads guardiand's state.json and, on a Xen guest, what it published in
// data/guardian/; writes to args.output (atomically, mode 0644) or stdout.
// 0 on success (also when guardiand is not running: guardian_present 0),
// k_exit_cannot_check when the file cannot be written.
[[nodiscard]] int run_status_prometheus(const StatusArgs& args);

} // namespace guardian::cli
