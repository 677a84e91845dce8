// `guardian-host status --prometheus`: every domain's guardian report as a
// node_exporter textfile (guardian/core/guest_metrics.hpp says which series).
#pragma once

#include "guardian/xen/xenstore.hpp"

#include <string>
#include <vector>

namespace guardian::host {

// Reads the listed domains (duplicates ignored) and writes the metrics to
// `output` (atomically, mode 0644) or, when empty, to stdout. Returns the exit
// status: 0, or 2 when xenstore cannot be read or the file cannot be written
// (then the previous file is left in place, and its age shows the failure).
[[nodiscard]] int run_status_prometheus(xen::XenStore& xs, const std::vector<std::string>& ids,
                                        const std::string& output);

} // namespace guardian::host
