#include "guardian/core/trouble_metrics.hpp"

#include <array>
#include <string>

namespace guardian {

std::vector<prometheus::MetricFamily> trouble_metric_families(const TroubleCounts& counts,
                                                              const std::vector<BugVerdict>& bugs,
                                                              const std::vector<BootEntry>& boots) {
    using prometheus::MetricFamily;
    MetricFamily events{"guardian_kernel_trouble_events_total",
                        "Kernel trouble events (reports) seen since guardiand started, by kind.",
                        "counter",
                        {}};
    MetricFamily suppressed{"guardian_kernel_trouble_suppressed_total",
                            "Kernel trouble events held back by the flood limit (counted, not "
                            "reported one by one), by kind.",
                            "counter",
                            {}};
    for (std::size_t k = 0; k < trouble_kind_count; ++k) {
        const std::string kind(to_string(static_cast<TroubleKind>(k)));
        events.samples.push_back({{{"kind", kind}}, static_cast<double>(counts.seen[k])});
        suppressed.samples.push_back({{{"kind", kind}}, static_cast<double>(counts.suppressed[k])});
    }
    MetricFamily by_signature{"guardian_kernel_trouble_signature_events_total",
                              "Kernel trouble events by signature (the first few distinct "
                              "signatures; the rest as signature=\"other\").",
                              "counter",
                              {}};
    for (const auto& s : counts.by_signature)
        by_signature.samples.push_back({{{"kind", std::string(to_string(s.kind))},
                                         {"signature", s.signature},
                                         {"function", s.function}},
                                        static_cast<double>(s.count)});
    if (counts.other_signatures > 0)
        by_signature.samples.push_back({{{"kind", ""}, {"signature", "other"}, {"function", ""}},
                                        static_cast<double>(counts.other_signatures)});
    MetricFamily forged{"guardian_kernel_trouble_forged_total",
                        "Lines that looked like kernel trouble but came from another facility "
                        "(a process writing /dev/kmsg): ignored.",
                        "counter",
                        {{{}, static_cast<double>(counts.forged)}}};
    MetricFamily known{"guardian_known_kernel_bug",
                       "Known kernel bugs judged for the running kernel: 1 for the bug's "
                       "exposure (affected, latent, unknown, not-affected).",
                       "gauge",
                       {}};
    for (const auto& v : bugs)
        prometheus::add_state_set(known, {{"bug", v.bug_id}},
                                  {"affected", "latent", "unknown", "not-affected"},
                                  to_string(v.exposure));
    MetricFamily ends{"guardian_boot_history_boots",
                      "Boots in guardian's boot history (the newest 256), by how they ended.",
                      "gauge",
                      {}};
    std::array<double, 8> per_end{};
    for (const auto& b : boots)
        per_end[static_cast<std::size_t>(b.end)] += 1;
    for (std::size_t e = 0; e < per_end.size(); ++e)
        ends.samples.push_back(
            {{{"end", std::string(to_string(static_cast<BootEnd>(e)))}}, per_end[e]});
    // Per kernel release: the newest 8 releases (a guest rarely has more).
    MetricFamily per_release{"guardian_boot_history_release_boots",
                             "Boots in guardian's boot history by kernel release and end "
                             "(the 8 releases booted most recently).",
                             "gauge",
                             {}};
    MetricFamily uptime{"guardian_boot_history_release_uptime_seconds",
                        "Sum of the last known uptime of each recorded boot, by kernel release "
                        "(the exposure that unclean ends are counted against).",
                        "gauge",
                        {}};
    auto releases = summarize_by_release(boots);
    if (releases.size() > 8)
        releases.resize(8);
    for (const auto& r : releases) {
        for (std::size_t e = 0; e < r.by_end.size(); ++e)
            per_release.samples.push_back(
                {{{"release", r.release}, {"end", std::string(to_string(static_cast<BootEnd>(e)))}},
                 static_cast<double>(r.by_end[e])});
        uptime.samples.push_back(
            {{{"release", r.release}}, static_cast<double>(r.uptime_us) / 1e6});
    }
    return {events, suppressed, by_signature, forged, known, ends, per_release, uptime};
}

} // namespace guardian
