// The key table: the one place that says which options exist, their types,
// defaults, accepted values and help text. data/guardian.conf documents the
// same keys and a test checks the two agree.
#include "guardian/core/config.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace guardian {
namespace {

template <class E, std::size_t N> using Choices = std::array<std::pair<std::string_view, E>, N>;

constexpr Choices<Policy, 2> k_policies{
    {{"protect", Policy::protect}, {"observe", Policy::observe}}};
constexpr Choices<RebootMode, 3> k_reboot_modes{{{"immediate", RebootMode::immediate},
                                                 {"orderly", RebootMode::orderly},
                                                 {"none", RebootMode::none}}};
constexpr Choices<Priority, 5> k_log_levels{{{"err", Priority::err},
                                             {"warning", Priority::warning},
                                             {"notice", Priority::notice},
                                             {"info", Priority::info},
                                             {"debug", Priority::debug}}};

template <class E, std::size_t N>
bool parse_choice(const Choices<E, N>& choices, std::string_view text, E& out) {
    for (const auto& [name, value] : choices) {
        if (name == text) {
            out = value;
            return true;
        }
    }
    return false;
}

template <class E, std::size_t N> std::string choice_name(const Choices<E, N>& choices, E value) {
    for (const auto& [name, v] : choices)
        if (v == value)
            return std::string(name);
    return "?";
}

bool parse_bool(std::string_view text, bool& out) {
    if (text == "yes" || text == "true" || text == "on" || text == "1") {
        out = true;
        return true;
    }
    if (text == "no" || text == "false" || text == "off" || text == "0") {
        out = false;
        return true;
    }
    return false;
}

std::string bool_text(bool b) {
    return b ? "yes" : "no";
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == ',';
}

// Entries separated by blanks or commas.
std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i]))
            ++i;
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i]))
            ++i;
        if (i > start)
            out.emplace_back(text.substr(start, i - start));
    }
    return out;
}

bool is_absolute_path(std::string_view p) {
    return !p.empty() && p.front() == '/' && p.find_first_of(" \t") == std::string_view::npos;
}

bool parse_targets(std::string_view text, bool allow_auto, bool allow_empty, TargetList& out) {
    TargetList parsed;
    for (auto& entry : split_list(text)) {
        if (entry == "auto" && allow_auto)
            parsed.automatic = true;
        else if (is_absolute_path(entry))
            parsed.paths.push_back(std::move(entry));
        else
            return false;
    }
    if (!parsed.automatic && parsed.paths.empty() && !allow_empty)
        return false;
    out = std::move(parsed);
    return true;
}

std::string targets_text(const TargetList& t) {
    std::string s = t.automatic ? "auto" : "";
    for (const auto& p : t.paths)
        s += (s.empty() ? "" : " ") + p;
    return s;
}

bool parse_duration_in(std::string_view text, Duration lo, Duration hi, Duration& out) {
    Duration d{};
    if (!parse_duration(text, d) || d < lo || d > hi)
        return false;
    out = d;
    return true;
}

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Each row's lambdas touch exactly one member; a test pins the defaults.
const std::vector<ConfigKey>& table() {
    static const std::vector<ConfigKey> keys = {
        {"policy", "protect|observe", "protect", "one of protect, observe",
         "What to do when verification after a restore ends critical. protect: report to the "
         "provider, stop writes, force fsck at next boot and reboot (each step below). observe: "
         "report only.",
         [](Config& c, std::string_view v) { return parse_choice(k_policies, v, c.policy); },
         [](const Config& c) { return choice_name(k_policies, c.policy); }},
        {"reboot", "immediate|orderly|none", "immediate", "one of immediate, orderly, none",
         "How the protective path ends. immediate: reboot(2) without syncing, nothing more is "
         "written. orderly: ask systemd for a normal reboot (services stop, caches are written "
         "back: only for filesystems you trust). none: leave the machine running with writes "
         "stopped.",
         [](Config& c, std::string_view v) { return parse_choice(k_reboot_modes, v, c.reboot); },
         [](const Config& c) { return choice_name(k_reboot_modes, c.reboot); }},
        {"stop_writes", "boolean", "yes", "yes or no",
         "With policy protect: shut each affected filesystem down (EXT4_IOC_SHUTDOWN, no log "
         "flush) so that nothing more is written through a suspect block device.",
         [](Config& c, std::string_view v) { return parse_bool(v, c.stop_writes); },
         [](const Config& c) { return bool_text(c.stop_writes); }},
        {"force_fsck", "boolean", "yes", "yes or no",
         "With policy protect: record an error in each affected filesystem's journal superblock "
         "so that the next boot runs a full e2fsck, also with e2fsck older than 1.47.1.",
         [](Config& c, std::string_view v) { return parse_bool(v, c.force_fsck); },
         [](const Config& c) { return bool_text(c.force_fsck); }},
        {"guard", "list", "auto", "'auto' and/or absolute mount points or /dev/ paths",
         "Filesystems to guard, by mount point or device, separated by blanks or commas. auto: "
         "every ext4 filesystem on a Xen virtual block device (xvd*), or every local ext4 "
         "filesystem when not running on Xen. 'auto /srv' adds /srv to that.",
         [](Config& c, std::string_view v) { return parse_targets(v, true, false, c.guard); },
         [](const Config& c) { return targets_text(c.guard); }},
        {"skip", "list", "", "absolute mount points or /dev/ paths (or nothing)",
         "Filesystems never to guard, even when guard selects them. Empty: skip nothing.",
         [](Config& c, std::string_view v) { return parse_targets(v, false, true, c.skip); },
         [](const Config& c) { return targets_text(c.skip); }},
        {"freeze_timeout", "duration", "1m", "a duration from 1s to 1h (e.g. 90s, 5m)",
         "Longest a coordinated freeze may last. When it passes without a restore the "
         "filesystems are thawed anyway. Time while the domain is saved does not count.",
         [](Config& c, std::string_view v) {
             return parse_duration_in(v, seconds(1), hours(1), c.freeze_timeout);
         },
         [](const Config& c) { return format_duration(c.freeze_timeout); }},
        {"kmsg_window", "duration", "10m", "a duration up to 24h (0 disables)",
         "How long after a restore the kernel log (/dev/kmsg) and ext4 error counters are "
         "watched for signs of damage. 0: do not watch.",
         [](Config& c, std::string_view v) {
             return parse_duration_in(v, Duration(0), hours(24), c.kmsg_window);
         },
         [](const Config& c) { return format_duration(c.kmsg_window); }},
        {"verify_live_checksums", "boolean", "yes", "yes or no",
         "After a restore, verify ext4's own metadata checksums on disk (O_DIRECT) of the mounted "
         "guarded filesystems. no: only feature and geometry checks (and the byte-exact "
         "comparison of a coordinated freeze).",
         [](Config& c, std::string_view v) { return parse_bool(v, c.verify_live_checksums); },
         [](const Config& c) { return bool_text(c.verify_live_checksums); }},
        {"baseline_refresh", "duration", "10m", "a duration from 10s to 24h",
         "How often the baseline is taken again while nothing suspicious is going on.",
         [](Config& c, std::string_view v) {
             return parse_duration_in(v, seconds(10), hours(24), c.baseline_refresh);
         },
         [](const Config& c) { return format_duration(c.baseline_refresh); }},
        {"heartbeat", "duration", "10m", "0 or a duration from 1m to 24h",
         "How often the boot history records that this boot is still alive (one small "
         "append to /var/lib/guardian/boot-history, fsync'd), which bounds when an unclean end "
         "happened. Never written while a filesystem is frozen or after a critical verdict. 0: "
         "only at start and shutdown.",
         [](Config& c, std::string_view v) {
             Duration d{};
             if (!parse_duration(v, d) || (d != Duration(0) && (d < minutes(1) || d > hours(24))))
                 return false;
             c.heartbeat = d;
             return true;
         },
         [](const Config& c) { return format_duration(c.heartbeat); }},
        {"hook_dir", "path", "/etc/guardian/hooks.d", "an absolute path",
         "Directory of hooks: executables run in name order with the event (pre-freeze, "
         "post-thaw, restore, incident) as argument.",
         [](Config& c, std::string_view v) {
             if (!is_absolute_path(v))
                 return false;
             c.hook_dir = std::string(v);
             return true;
         },
         [](const Config& c) { return c.hook_dir; }},
        {"hook_timeout", "duration", "30s", "a duration from 1s to 1h",
         "Longest one hook may run; then its process group gets SIGTERM and, shortly after, "
         "SIGKILL.",
         [](Config& c, std::string_view v) {
             return parse_duration_in(v, seconds(1), hours(1), c.hook_timeout);
         },
         [](const Config& c) { return format_duration(c.hook_timeout); }},
        {"risk_table", "path", "/usr/share/guardian/kernel-risk.json", "an absolute path",
         "The kernel risk table: which kernels mishandle a backend feature change.",
         [](Config& c, std::string_view v) {
             if (!is_absolute_path(v))
                 return false;
             c.risk_table = std::string(v);
             return true;
         },
         [](const Config& c) { return c.risk_table; }},
        {"log_level", "err|warning|notice|info|debug", "info",
         "one of err, warning, notice, info, debug", "Least important messages still logged.",
         [](Config& c, std::string_view v) { return parse_choice(k_log_levels, v, c.log_level); },
         [](const Config& c) { return choice_name(k_log_levels, c.log_level); }},
    };
    return keys;
}

} // namespace

std::span<const ConfigKey> config_keys() {
    return table();
}

const ConfigKey* find_config_key(std::string_view name) {
    const auto& keys = table();
    const auto it =
        std::find_if(keys.begin(), keys.end(), [&](const ConfigKey& k) { return k.name == name; });
    return it == keys.end() ? nullptr : &*it;
}

} // namespace guardian
