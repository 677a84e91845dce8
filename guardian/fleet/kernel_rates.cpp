#include "guardian/fleet/kernel_rates.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace guardian::fleet {

namespace {

struct Tally {
    std::set<std::string> guests;
    std::map<std::string, double> days_by_distribution;
    double days = 0;
    std::uint64_t unclean_ends = 0;
    std::uint64_t crashes = 0;
};

std::uint64_t events_of(const Tally& t, Outcome outcome) {
    return outcome == Outcome::crashes ? t.crashes : t.unclean_ends;
}

std::string main_distribution(const Tally& t) {
    std::string best;
    double best_days = -1;
    for (const auto& [name, days] : t.days_by_distribution) {
        if (days > best_days) { // map order breaks ties by name
            best = name;
            best_days = days;
        }
    }
    return best;
}

} // namespace

KernelComparison compare_kernels(std::span<const Observation> observations, Outcome outcome,
                                 double confidence) {
    std::map<std::string, Tally> by_kernel;
    std::set<std::string> all_guests;
    Tally fleet;
    for (const Observation& o : observations) {
        // Negative or non-finite days are a broken ledger row: it counts as
        // no exposure rather than poisoning every rate.
        const double days = std::isfinite(o.days) && o.days > 0 ? o.days : 0;
        Tally& t = by_kernel[o.kernel];
        t.guests.insert(o.guest);
        t.days_by_distribution[o.distribution] += days;
        t.days += days;
        t.unclean_ends += o.unclean_ends;
        t.crashes += o.crashes;
        all_guests.insert(o.guest);
        fleet.days += days;
        fleet.unclean_ends += o.unclean_ends;
        fleet.crashes += o.crashes;
    }

    KernelComparison out;
    out.outcome = outcome;
    out.confidence = confidence;
    out.guests = all_guests.size();
    out.guest_days = fleet.days;
    out.events = events_of(fleet, outcome);
    for (const auto& [kernel, t] : by_kernel) {
        KernelRow row;
        row.kernel = kernel;
        row.distribution = main_distribution(t);
        row.guests = t.guests.size();
        row.guest_days = t.days;
        row.unclean_ends = t.unclean_ends;
        row.crashes = t.crashes;
        const std::uint64_t events = events_of(t, outcome);
        row.rate = poisson_rate(events, t.days, 1000, confidence);
        row.vs_rest =
            rate_ratio(events, t.days, out.events - events, fleet.days - t.days, confidence);
        row.evidence = evidence_of(row.vs_rest);
        out.rows.push_back(std::move(row));
    }
    std::stable_sort(out.rows.begin(), out.rows.end(), [](const KernelRow& a, const KernelRow& b) {
        return a.guest_days > b.guest_days;
    });
    return out;
}

} // namespace guardian::fleet
