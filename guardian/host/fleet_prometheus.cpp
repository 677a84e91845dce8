#include "guardian/host/fleet_prometheus.hpp"

namespace guardian::host {

std::vector<prometheus::MetricFamily> fleet_families(const fleet::KernelComparison& c,
                                                     std::size_t max_kernels) {
    prometheus::MetricFamily guests{"guardian_fleet_guests",
                                    "Guests seen running each kernel release (this host's ledger)",
                                    "gauge",
                                    {}};
    // Base units, as Prometheus wants: guest-seconds (the rules divide by
    // 86400 for guest-days).
    prometheus::MetricFamily days{"guardian_fleet_guest_seconds",
                                  "Guest-seconds observed on each kernel release",
                                  "gauge",
                                  {}};
    prometheus::MetricFamily unclean{
        "guardian_fleet_unclean_ends",
        "Boots on each kernel release that ended uncleanly (crash, watchdog, destroy)",
        "gauge",
        {}};
    prometheus::MetricFamily crashes{"guardian_fleet_crashes",
                                     "Boots on each kernel release that ended in a crash",
                                     "gauge",
                                     {}};
    prometheus::MetricFamily folded{
        "guardian_fleet_kernels_folded",
        "Kernel releases summed into kernel=\"other\" to bound the series",
        "gauge",
        {}};
    // c.rows come most guest-days first: the first max_kernels keep their
    // own series.
    fleet::KernelRow other;
    std::size_t n_folded = 0;
    for (std::size_t i = 0; i < c.rows.size(); ++i) {
        const fleet::KernelRow& r = c.rows[i];
        if (i >= max_kernels || r.kernel == "other") {
            other.guests += r.guests;
            other.guest_days += r.guest_days;
            other.unclean_ends += r.unclean_ends;
            other.crashes += r.crashes;
            ++n_folded;
            continue;
        }
        const prometheus::Labels labels{{"kernel", r.kernel}, {"distribution", r.distribution}};
        guests.samples.push_back({labels, static_cast<double>(r.guests)});
        days.samples.push_back({labels, r.guest_days * 86400});
        unclean.samples.push_back({labels, static_cast<double>(r.unclean_ends)});
        crashes.samples.push_back({labels, static_cast<double>(r.crashes)});
    }
    if (n_folded > 0) {
        const prometheus::Labels labels{{"kernel", "other"}, {"distribution", ""}};
        guests.samples.push_back({labels, static_cast<double>(other.guests)});
        days.samples.push_back({labels, other.guest_days * 86400});
        unclean.samples.push_back({labels, static_cast<double>(other.unclean_ends)});
        crashes.samples.push_back({labels, static_cast<double>(other.crashes)});
    }
    folded.samples.push_back({{}, static_cast<double>(n_folded)});
    return {guests, days, unclean, crashes, folded};
}

} // namespace guardian::host
