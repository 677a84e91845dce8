// The fleet's numbers for Prometheus (node_exporter's textfile collector):
// per kernel release, the guests, guest-seconds, unclean ends and crashes this
// dom0's ledger holds. They add up across hosts, so a provider with hundreds
// of dom0s gets fleet-wide rates in Prometheus with sum by (kernel)
// (data/prometheus/guardian-fleet.rules.yml records them and alerts), never
// in a collector of guardian's. Kernel names come from guests: the series
// are bounded to the kernels with the most guest-days, the rest summed as
// kernel="other", so no guest can flood the time-series database.
#pragma once

#include "guardian/core/prometheus.hpp"
#include "guardian/fleet/kernel_rates.hpp"

#include <vector>

namespace guardian::host {

inline constexpr std::size_t default_max_kernel_series = 50;

[[nodiscard]] std::vector<prometheus::MetricFamily>
fleet_families(const fleet::KernelComparison& c,
               std::size_t max_kernels = default_max_kernel_series);

} // namespace guardian::host
