// guardiand's configuration: the values, the table of keys that defines them
// (name, type, default, accepted values, help), and the pure parser of
// `key = value` text (ccache's table-driven config). Reading
// /etc/guardian/guardian.conf and conf.d/ is the adapter in guardian/config/;
// this file never touches the file system, it gets text with a name.
#pragma once

#include "guardian/util/log.hpp"
#include "guardian/util/result.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// What to do on a critical verdict: act (protect) or only report (observe).
enum class Policy { protect, observe };
// How the protective path ends: reboot(2) without syncing, an orderly
// `systemctl reboot`-style request, or no reboot at all.
enum class RebootMode { immediate, orderly, none };

using Duration = std::chrono::milliseconds;

// A set of filesystems named by mount point or by device path. `automatic`
// stands for the built-in choice: every ext4 filesystem on a Xen virtual
// block device (xvd*), or, off a Xen guest, every local ext4 filesystem.
struct TargetList {
    bool automatic = false;
    std::vector<std::string> paths; // absolute mount points or /dev/... paths

    bool operator==(const TargetList&) const = default;
};

struct Config {
    Policy policy = Policy::protect;
    RebootMode reboot = RebootMode::immediate;
    bool stop_writes = true; // EXT4_IOC_SHUTDOWN on each affected filesystem
    bool force_fsck = true;  // mark each affected filesystem so the next boot checks it
    TargetList guard{true, {}};
    TargetList skip{};
    Duration freeze_timeout = std::chrono::minutes(1);
    Duration kmsg_window = std::chrono::minutes(10); // 0: do not watch the kernel log
    bool verify_live_checksums = true;
    Duration baseline_refresh = std::chrono::minutes(10);
    Duration heartbeat = std::chrono::minutes(10); // boot history "last alive"; 0: never
    std::string hook_dir = "/etc/guardian/hooks.d";
    Duration hook_timeout = std::chrono::seconds(30);
    std::string risk_table = "/usr/share/guardian/kernel-risk.json";
    Priority log_level = Priority::info;

    bool operator==(const Config&) const = default;
};

// One row of the key table. `apply` parses a value into the config and says
// whether it was acceptable; `render` prints the current value in the form
// `apply` accepts, so rendered output parses back to the same config.
struct ConfigKey {
    std::string_view name;
    std::string_view type;     // "duration", "boolean", "path", "list", one of "a|b"
    std::string_view fallback; // the default, as text
    std::string_view expected; // completes "expected ..." in a bad-value error
    std::string_view help;     // one paragraph for data/guardian.conf and --dump-config
    std::function<bool(Config&, std::string_view)> apply;
    std::function<std::string(const Config&)> render;
};

// The table, in the order the keys are documented and rendered.
[[nodiscard]] std::span<const ConfigKey> config_keys();
[[nodiscard]] const ConfigKey* find_config_key(std::string_view name);

// One configuration text and the name it is reported under in errors.
struct ConfigSource {
    std::string path;
    std::string text;
};

// Where an effective value came from; an empty path is the built-in default.
struct ValueOrigin {
    std::string path;
    std::size_t line = 0;
};

struct EffectiveConfig {
    Config config;
    std::map<std::string, ValueOrigin, std::less<>> origins; // by key name
};

// The defaults with every source applied in order (a later value for a key
// replaces an earlier one, also within one file). Errors read
// `path:line: unknown option 'x'` or
// `path:line: bad value 'y' for 'key': expected ...`; every bad line of every
// source is reported, one per line of the error message.
[[nodiscard]] Result<EffectiveConfig> parse_config(std::span<const ConfigSource> sources);

// The built-in defaults with their origins (no sources).
[[nodiscard]] EffectiveConfig default_config();

// `key = value  # origin` lines for every key in table order, for
// `guardiand --dump-config`; the output parses back to the same Config.
[[nodiscard]] std::string render_config(const EffectiveConfig& effective);

// "1m", "30s", "500ms", "2h": a number and one unit. Exposed for the tests and
// for the CLI's own options.
[[nodiscard]] bool parse_duration(std::string_view text, Duration& out);
[[nodiscard]] std::string format_duration(Duration d);

[[nodiscard]] std::string_view to_string(Policy p) noexcept;
[[nodiscard]] std::string_view to_string(RebootMode m) noexcept;

} // namespace guardian
