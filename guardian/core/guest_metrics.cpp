#include "guardian/core/guest_metrics.hpp"

#include "guardian/core/state_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace guardian {
namespace {

using prometheus::Labels;
using prometheus::MetricFamily;

Labels guest_labels(const GuestStatus& g) {
    return {{"domid", g.domid}, {"name", g.name}, {"uuid", g.uuid}};
}

void add(MetricFamily& f, Labels labels, double value) {
    f.samples.push_back({std::move(labels), value});
}

void add_filesystem_samples(const GuestStatus& g, std::vector<MetricFamily>& out) {
    MetricFamily guarded{
        "guardian_filesystem_guarded", "1 for each filesystem guardiand guards now.", "gauge", {}};
    MetricFamily checked{"guardian_filesystem_checked",
                         "1 if the last verification read the filesystem, 0 if it could not.",
                         "gauge",
                         {}};
    MetricFamily findings{"guardian_filesystem_findings",
                          "Checksum findings on the filesystem in the last verification.",
                          "gauge",
                          {}};
    MetricFamily geometry{"guardian_filesystem_geometry_changes",
                          "Static geometry changes against the baseline in the last verification.",
                          "gauge",
                          {}};
    MetricFamily frozen{"guardian_filesystem_frozen_changes",
                        "Byte differences found by the last frozen (coordinated) comparison.",
                        "gauge",
                        {}};
    for (const auto& fs : g.filesystems) {
        Labels l = guest_labels(g);
        l.emplace_back("device", fs.device);
        l.emplace_back("mountpoint", fs.mount_point);
        if (fs.guarded)
            add(guarded, l, 1);
        if (fs.checked)
            add(checked, l, *fs.checked ? 1 : 0);
        if (fs.findings)
            add(findings, l, *fs.findings);
        if (fs.geometry_changes)
            add(geometry, l, *fs.geometry_changes);
        if (fs.frozen_changes)
            add(frozen, l, *fs.frozen_changes);
    }
    for (auto* f : {&guarded, &checked, &findings, &geometry, &frozen})
        out.push_back(std::move(*f));
}

} // namespace

const std::vector<std::string_view>& guardian_states() {
    static const std::vector<std::string_view> s = [] {
        std::vector<std::string_view> all;
        for (const auto state : contract::daemon_states())
            all.push_back(contract::to_string(state));
        all.emplace_back("unknown");
        return all;
    }();
    return s;
}

const std::vector<std::string_view>& suspend_safeties() {
    static const std::vector<std::string_view> s{"safe", "unsafe", "unknown"};
    return s;
}

const std::vector<std::string_view>& verdicts() {
    static const std::vector<std::string_view> s{"healthy", "warning", "critical", "none",
                                                 "unknown"};
    return s;
}

std::string normalize_state(std::string_view value, const std::vector<std::string_view>& allowed) {
    return std::find(allowed.begin(), allowed.end(), value) != allowed.end() ? std::string(value)
                                                                             : "unknown";
}

std::string uuid_from_vm_node(std::string_view vm) {
    constexpr std::string_view prefix = "/vm/";
    return vm.starts_with(prefix) ? std::string(vm.substr(prefix.size())) : std::string();
}

GuestStatus guest_status_from_report(const DomainReport& d) {
    GuestStatus g;
    g.domid = d.domid;
    g.name = d.name;
    const contract::DecodedReport r = contract::decode_report(d.nodes);
    g.present = r.present;
    if (!g.present)
        return g;
    g.version = r.version;
    g.kernel = r.kernel;
    g.state = normalize_state(r.state, guardian_states());
    g.suspend_safety = normalize_state(r.suspend_safety, suspend_safeties());
    g.last_verdict = contract::decode_last_verdict(r.last_verification);
    if (!r.last_verification.empty())
        g.last_verdict_time = contract::decode_timed_value(r.last_verification).time;
    g.last_verification_seconds = contract::decode_verdict_delay(r.last_verification_timing);
    if (!r.last_restore.empty())
        g.last_restore_time = contract::decode_timed_value(r.last_restore).time;
    g.incident =
        !r.incident.empty() || g.state == contract::to_string(contract::DaemonState::incident);
    return g;
}

GuestStatus guest_status_from_state(const nlohmann::json& json, GuestStatus g) {
    if (!json.is_object())
        return g;
    const DecodedState state = decode_state(json);
    g.present = true;
    if (std::find(state.missing.begin(), state.missing.end(), "state") == state.missing.end())
        g.state = normalize_state(state.state, guardian_states());
    if (std::find(state.missing.begin(), state.missing.end(), "suspend_safety") ==
        state.missing.end())
        g.suspend_safety = normalize_state(state.suspend_safety, suspend_safeties());
    if (!state.kernel.empty())
        g.kernel = state.kernel;
    if (!state.last_restore.empty())
        g.last_restore_time = contract::decode_timed_value(state.last_restore).time;
    g.incident = g.incident || state.incident.has_value() ||
                 g.state == contract::to_string(contract::DaemonState::incident);

    g.filesystems.clear();
    for (const auto& f : state.filesystems)
        g.filesystems.push_back({f.device, f.mount_point, true, {}, {}, {}, {}});
    if (!state.last_verification)
        return g;
    const DecodedVerification& v = *state.last_verification;
    const auto has = [&](const char* key) {
        return std::find(v.missing.begin(), v.missing.end(), key) == v.missing.end();
    };
    if (has("verdict")) {
        g.last_verdict = normalize_state(v.verdict, verdicts());
        if (g.last_verdict == "none")
            g.last_verdict = "unknown";
    }
    if (has("time"))
        g.last_verdict_time = parse_iso8601_utc(v.time);
    const auto size = [](const std::optional<std::vector<std::string>>& l) {
        return l ? std::optional<double>(static_cast<double>(l->size())) : std::nullopt;
    };
    for (const auto& f : v.filesystems) {
        auto it = std::find_if(g.filesystems.begin(), g.filesystems.end(), [&](const auto& x) {
            return x.device == f.device && x.mount_point == f.mount_point;
        });
        if (it == g.filesystems.end())
            it = g.filesystems.insert(g.filesystems.end(),
                                      {f.device, f.mount_point, false, {}, {}, {}, {}});
        if (f.checked)
            it->checked = *f.checked;
        it->findings = size(f.findings);
        it->geometry_changes = size(f.geometry_changes);
        if (f.frozen_compared)
            it->frozen_changes = size(f.frozen_changes);
    }
    return g;
}

std::vector<MetricFamily> guest_metric_families(const std::vector<GuestStatus>& guests,
                                                std::int64_t now) {
    MetricFamily present{"guardian_present",
                         "1 if the domain runs guardian (it publishes data/guardian/version).",
                         "gauge",
                         {}};
    MetricFamily info{"guardian_info",
                      "Always 1; the labels say which guardian and kernel the guest runs.",
                      "gauge",
                      {}};
    MetricFamily state{"guardian_state",
                       "guardiand's state (StateSet: 1 for the current state, 0 for the others).",
                       "gauge",
                       {}};
    MetricFamily safety{"guardian_suspend_safety",
                        "The kernel's suspend/restore safety verdict (StateSet).",
                        "gauge",
                        {}};
    MetricFamily verdict{"guardian_last_verdict",
                         "Verdict of the last verification after a restore (StateSet; none: "
                         "never verified).",
                         "gauge",
                         {}};
    MetricFamily verdict_ts{"guardian_last_verdict_timestamp_seconds",
                            "When the last verification ended (Unix time, guest clock).",
                            "gauge",
                            {}};
    MetricFamily restore_ts{"guardian_last_restore_timestamp_seconds",
                            "When guardian last detected a restore or migration (Unix time, "
                            "guest clock).",
                            "gauge",
                            {}};
    MetricFamily since_restore{"guardian_seconds_since_last_restore",
                               "Seconds from the last detected restore to this file's writing.",
                               "gauge",
                               {}};
    MetricFamily duration{"guardian_last_verification_duration_seconds",
                          "Seconds from noticing the last restore to its verdict "
                          "(data/guardian/last-verification-timing).",
                          "gauge",
                          {}};
    MetricFamily incident{"guardian_incident",
                          "1 if guardian reported a critical incident (data/guardian/incident).",
                          "gauge",
                          {}};
    for (const auto& g : guests) {
        const Labels l = guest_labels(g);
        add(present, l, g.present ? 1 : 0);
        if (!g.present)
            continue;
        Labels il = l;
        il.emplace_back("version", g.version);
        il.emplace_back("kernel", g.kernel);
        add(info, il, 1);
        prometheus::add_state_set(state, l, guardian_states(), g.state);
        prometheus::add_state_set(safety, l, suspend_safeties(), g.suspend_safety);
        prometheus::add_state_set(verdict, l, verdicts(), g.last_verdict);
        if (g.last_verdict_time)
            add(verdict_ts, l, static_cast<double>(*g.last_verdict_time));
        if (g.last_restore_time) {
            add(restore_ts, l, static_cast<double>(*g.last_restore_time));
            add(since_restore, l, static_cast<double>(now - *g.last_restore_time));
        }
        if (g.last_verification_seconds)
            add(duration, l, *g.last_verification_seconds);
        add(incident, l, g.incident ? 1 : 0);
    }
    std::vector<MetricFamily> out;
    for (auto* f : {&present, &info, &state, &safety, &verdict, &verdict_ts, &restore_ts,
                    &since_restore, &duration, &incident})
        out.push_back(std::move(*f));
    std::vector<MetricFamily> fs_families;
    for (const auto& g : guests)
        if (g.present && !g.filesystems.empty())
            add_filesystem_samples(g, fs_families);
    // One family per name: merge the per-guest filesystem families.
    for (auto& f : fs_families) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const MetricFamily& x) { return x.name == f.name; });
        if (it == out.end())
            out.push_back(std::move(f));
        else
            it->samples.insert(it->samples.end(), f.samples.begin(), f.samples.end());
    }
    return out;
}

std::string render_host_metrics(const std::vector<GuestStatus>& guests, std::int64_t now) {
    auto families = guest_metric_families(guests, now);
    families.push_back({"guardian_host_domains",
                        "Domains guardian-host looked at.",
                        "gauge",
                        {{{}, static_cast<double>(guests.size())}}});
    families.push_back({"guardian_host_scrape_timestamp_seconds",
                        "When guardian-host wrote this file (Unix time, dom0 clock).",
                        "gauge",
                        {{{}, static_cast<double>(now)}}});
    return prometheus::render(families);
}

std::string render_guest_metrics(const GuestStatus& guest, std::int64_t now) {
    auto families = guest_metric_families({guest}, now);
    families.push_back({"guardian_guest_scrape_timestamp_seconds",
                        "When guardianctl wrote this file (Unix time, guest clock).",
                        "gauge",
                        {{{}, static_cast<double>(now)}}});
    return prometheus::render(families);
}

} // namespace guardian
