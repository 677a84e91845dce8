#include "guardian/core/guest_metrics.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace guardian {
namespace {

using prometheus::Labels;
using prometheus::MetricFamily;

// A JSON member when it exists and has the wanted kind; guardiand's file is
// ours, but a half-written or foreign one must not throw.
const nlohmann::json* member(const nlohmann::json& j, const char* key) {
    if (!j.is_object())
        return nullptr;
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::optional<std::string> string_member(const nlohmann::json& j, const char* key) {
    const auto* m = member(j, key);
    if (m == nullptr || !m->is_string())
        return std::nullopt;
    return m->get<std::string>();
}

std::optional<double> array_size(const nlohmann::json& j, const char* key) {
    const auto* m = member(j, key);
    if (m == nullptr || !m->is_array())
        return std::nullopt;
    return static_cast<double>(m->size());
}

std::string first_word(std::string_view s) {
    return std::string(s.substr(0, s.find(' ')));
}

std::string last_word(std::string_view s) {
    const auto pos = s.rfind(' ');
    return std::string(pos == std::string_view::npos ? s : s.substr(pos + 1));
}

// "... verdict +<ms> ms" of last-verification-timing, in seconds.
std::optional<double> verdict_delay(std::string_view timing) {
    constexpr std::string_view key = "verdict +";
    const auto pos = timing.find(key);
    if (pos == std::string_view::npos)
        return std::nullopt;
    std::size_t i = pos + key.size();
    std::uint64_t ms = 0;
    std::size_t digits = 0;
    for (; i < timing.size() && timing[i] >= '0' && timing[i] <= '9' && digits < 12; ++i, ++digits)
        ms = ms * 10 + static_cast<std::uint64_t>(timing[i] - '0');
    if (digits == 0 || timing.substr(i, 3) != " ms")
        return std::nullopt;
    return static_cast<double>(ms) / 1000.0;
}

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
    static const std::vector<std::string_view> s{"starting", "watching", "verifying", "frozen",
                                                 "incident", "stopped",  "unknown"};
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

std::optional<std::int64_t> parse_iso8601_utc(std::string_view t) {
    // Exactly YYYY-MM-DDTHH:MM:SSZ.
    if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
        t[16] != ':' || t[19] != 'Z')
        return std::nullopt;
    const auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (t[i] < '0' || t[i] > '9')
                return std::nullopt;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    const auto y = num(0, 4), mo = num(5, 2), d = num(8, 2);
    const auto h = num(11, 2), mi = num(14, 2), s = num(17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60)
        return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{*y},
                                          std::chrono::month{static_cast<unsigned>(*mo)},
                                          std::chrono::day{static_cast<unsigned>(*d)}};
    if (!ymd.ok())
        return std::nullopt;
    const auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
    return static_cast<std::int64_t>(days) * 86400 + *h * 3600 + *mi * 60 + *s;
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
    g.present = d.has_guardian();
    if (!g.present)
        return g;
    g.version = d.get("version");
    g.kernel = d.get("kernel");
    g.state = normalize_state(d.get("state"), guardian_states());
    g.suspend_safety = normalize_state(d.get("suspend-safety"), suspend_safeties());
    // last-verification: "<ISO-8601> <healthy|warning|critical>" or empty.
    // Anything else is not guardian's format: its verdict is unknown.
    if (const std::string v = d.get("last-verification"); !v.empty()) {
        g.last_verdict_time = parse_iso8601_utc(first_word(v));
        g.last_verdict = g.last_verdict_time && v.find(' ') == v.rfind(' ')
                             ? normalize_state(last_word(v), verdicts())
                             : "unknown";
        if (g.last_verdict == "none")
            g.last_verdict = "unknown";
    }
    g.last_verification_seconds = verdict_delay(d.get("last-verification-timing"));
    // last-restore: "<ISO-8601> <signals>" or empty.
    if (const std::string r = d.get("last-restore"); !r.empty())
        g.last_restore_time = parse_iso8601_utc(first_word(r));
    g.incident = !d.get("incident").empty() || g.state == "incident";
    return g;
}

GuestStatus guest_status_from_state(const nlohmann::json& state, GuestStatus g) {
    if (!state.is_object())
        return g;
    g.present = true;
    if (auto s = string_member(state, "state"))
        g.state = normalize_state(*s, guardian_states());
    if (auto s = string_member(state, "suspend_safety"))
        g.suspend_safety = normalize_state(*s, suspend_safeties());
    if (auto s = string_member(state, "kernel"); s && !s->empty())
        g.kernel = *s;
    if (auto s = string_member(state, "last_restore"); s && !s->empty())
        g.last_restore_time = parse_iso8601_utc(first_word(*s));
    if (const auto* inc = member(state, "incident"); inc != nullptr && inc->is_object())
        g.incident = true;
    g.incident = g.incident || g.state == "incident";

    g.filesystems.clear();
    if (const auto* fss = member(state, "filesystems"); fss != nullptr && fss->is_array())
        for (const auto& f : *fss)
            g.filesystems.push_back({string_member(f, "device").value_or(""),
                                     string_member(f, "mount_point").value_or(""),
                                     true,
                                     {},
                                     {},
                                     {},
                                     {}});
    const auto* v = member(state, "last_verification");
    if (v == nullptr || !v->is_object())
        return g;
    if (auto s = string_member(*v, "verdict")) {
        g.last_verdict = normalize_state(*s, verdicts());
        if (g.last_verdict == "none")
            g.last_verdict = "unknown";
    }
    if (auto s = string_member(*v, "time"))
        g.last_verdict_time = parse_iso8601_utc(*s);
    const auto* fss = member(*v, "filesystems");
    if (fss == nullptr || !fss->is_array())
        return g;
    for (const auto& f : *fss) {
        const std::string device = string_member(f, "device").value_or("");
        const std::string mount_point = string_member(f, "mount_point").value_or("");
        auto it = std::find_if(g.filesystems.begin(), g.filesystems.end(), [&](const auto& x) {
            return x.device == device && x.mount_point == mount_point;
        });
        if (it == g.filesystems.end())
            it = g.filesystems.insert(g.filesystems.end(),
                                      {device, mount_point, false, {}, {}, {}, {}});
        if (const auto* c = member(f, "checked"); c != nullptr && c->is_boolean())
            it->checked = c->get<bool>();
        it->findings = array_size(f, "findings");
        it->geometry_changes = array_size(f, "geometry_changes");
        if (const auto* fc = member(f, "frozen_compared"); fc != nullptr && *fc == true)
            it->frozen_changes = array_size(f, "frozen_changes");
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
