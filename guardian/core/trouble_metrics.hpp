// Kernel trouble, known bugs and boot ends as Prometheus metric families for
// the guest's textfile (rendered by core/prometheus.hpp). Label cardinality
// is bounded by construction: one series per trouble kind, per counted
// signature (TroubleAssemblerOptions::max_signatures, the rest as
// signature="other"), per known bug and exposure, per boot end. Pure.
#pragma once

#include "guardian/core/boot_history.hpp"
#include "guardian/core/kernel_trouble.hpp"
#include "guardian/core/known_bugs.hpp"
#include "guardian/core/prometheus.hpp"

#include <vector>

namespace guardian {

[[nodiscard]] std::vector<prometheus::MetricFamily>
trouble_metric_families(const TroubleCounts& counts, const std::vector<BugVerdict>& bugs,
                        const std::vector<BootEntry>& boots);

} // namespace guardian
