// Hooks: executables in hook_dir (/etc/guardian/hooks.d) that guardiand runs
// around its events, e.g. to quiesce a database before a freeze. They run in
// name order, one at a time, each with the event name as its only argument
// and GUARDIAN_EVENT in a clean environment, each in its own process group
// with a timeout (SIGTERM to the group, then SIGKILL), output captured up to
// a bound for the log. Like run-parts, leftovers of package managers and
// editors are skipped, so an upgrade never runs a stale copy of a hook.
#pragma once

#include "guardian/util/log.hpp"
#include "guardian/util/result.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace guardian::hooks {

enum class HookEvent { pre_freeze, post_thaw, restore, incident };
// "pre-freeze", "post-thaw", "restore", "incident": the argument hooks get.
[[nodiscard]] std::string_view to_string(HookEvent e) noexcept;

struct HookOptions {
    std::chrono::milliseconds timeout{30'000};
    // Between SIGTERM and SIGKILL of a timed-out hook's process group.
    std::chrono::milliseconds kill_grace{2'000};
    std::size_t output_limit = 16 * 1024; // bytes of stdout+stderr kept per hook
    // Added to the environment after GUARDIAN_EVENT, e.g. {"GUARDIAN_DEVICES", "..."}.
    std::vector<std::pair<std::string, std::string>> environment;
};

struct HookResult {
    enum class Outcome { exited, signaled, timed_out, failed_to_start };
    std::string name; // file name in hook_dir
    Outcome outcome = Outcome::failed_to_start;
    int exit_code = -1; // with exited
    int signal = 0;     // with signaled (the signal that ended it)
    std::string output; // stdout and stderr interleaved, at most output_limit bytes
    bool output_truncated = false;
    std::string error; // with failed_to_start: why
    std::chrono::milliseconds duration{0};

    [[nodiscard]] bool ok() const noexcept { return outcome == Outcome::exited && exit_code == 0; }
    // "exit 0", "exit 3", "killed by signal 9", "timed out", "failed to start: ..."
    [[nodiscard]] std::string describe() const;
};

// Whether a directory entry's name may be a hook (pure): not a dotfile, not
// an editor backup (`*~`), not a dpkg/rpm/ucf leftover (`*.dpkg-old`,
// `*.dpkg-new`, `*.dpkg-dist`, `*.dpkg-tmp`, `*.dpkg-bak`, `*.rpmnew`,
// `*.rpmsave`, `*.rpmorig`, `*.ucf-old`, `*.ucf-new`, `*.ucf-dist`).
[[nodiscard]] bool is_hook_name(std::string_view name) noexcept;

// Names of the hooks in `dir` in run order (byte order): entries passing
// is_hook_name that are regular files (symlinks followed) executable by us.
// A missing directory has no hooks.
[[nodiscard]] Result<std::vector<std::string>> list_hooks(const std::string& dir);

// Runs one executable with `event` as its argument; never throws. The caller
// must not ignore SIGCHLD (SIG_IGN reaps children automatically and the exit
// status is lost: reported as exit -1); sd-event's default is fine.
[[nodiscard]] HookResult run_hook(const std::string& path, HookEvent event,
                                  const HookOptions& options);

// The same for any program: `args` is argv (args[0] the absolute path); a
// clean environment with PATH and options.environment.
[[nodiscard]] HookResult run_program(const std::vector<std::string>& args,
                                     const HookOptions& options);

// Runs every hook of `dir` in order (all of them, also after a failure: each
// hook stands alone) and logs each result; failures carry the hook_failed
// MESSAGE_ID. An unreadable directory is logged and yields no results.
[[nodiscard]] std::vector<HookResult> run_hooks(const std::string& dir, HookEvent event,
                                                const HookOptions& options, Logger& log);

[[nodiscard]] bool all_ok(const std::vector<HookResult>& results) noexcept;

} // namespace guardian::hooks
