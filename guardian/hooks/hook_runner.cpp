#include "guardian/hooks/hook_runner.hpp"

#include "guardian/core/message_ids.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <system_error>

namespace guardian::hooks {

std::string_view to_string(HookEvent e) noexcept {
    switch (e) {
    case HookEvent::pre_freeze:
        return "pre-freeze";
    case HookEvent::post_thaw:
        return "post-thaw";
    case HookEvent::restore:
        return "restore";
    case HookEvent::incident:
        return "incident";
    }
    return "?";
}

std::string HookResult::describe() const {
    switch (outcome) {
    case Outcome::exited:
        return "exit " + std::to_string(exit_code);
    case Outcome::signaled:
        return "killed by signal " + std::to_string(signal);
    case Outcome::timed_out:
        return "timed out";
    case Outcome::failed_to_start:
        return "failed to start: " + error;
    }
    return "?";
}

bool is_hook_name(std::string_view name) noexcept {
    if (name.empty() || name.front() == '.' || name.back() == '~')
        return false;
    // The suffixes run-parts(8) and systemd ignore, so a configuration file
    // kept aside by an upgrade never runs as a second copy of a hook.
    static constexpr std::array<std::string_view, 11> k_leftovers = {
        ".dpkg-old", ".dpkg-new", ".dpkg-dist", ".dpkg-tmp", ".dpkg-bak", ".rpmnew",
        ".rpmsave",  ".rpmorig",  ".ucf-old",   ".ucf-new",  ".ucf-dist",
    };
    return std::none_of(k_leftovers.begin(), k_leftovers.end(),
                        [&](std::string_view s) { return name.ends_with(s); });
}

Result<std::vector<std::string>> list_hooks(const std::string& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec == std::errc::no_such_file_or_directory)
        return names;
    if (ec)
        return Error::from_errno("open hook directory " + dir, ec.value());
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!is_hook_name(name))
            continue;
        std::error_code sec;
        if (!std::filesystem::is_regular_file(it->path(), sec))
            continue;
        // access(X_OK) answers for our own credentials, which is what exec uses.
        if (::access(it->path().c_str(), X_OK) != 0)
            continue;
        names.push_back(name);
    }
    if (ec)
        return Error::from_errno("read hook directory " + dir, ec.value());
    std::sort(names.begin(), names.end()); // byte order, as run-parts in the C locale
    return names;
}

std::vector<HookResult> run_hooks(const std::string& dir, HookEvent event,
                                  const HookOptions& options, Logger& log) {
    std::vector<HookResult> results;
    auto names = list_hooks(dir);
    if (!names) {
        log.error("hooks for " + std::string(to_string(event)) +
                      " not run: " + names.error().message,
                  {{"MESSAGE_ID", std::string(message_id::hook_failed)},
                   {"GUARDIAN_HOOK_EVENT", std::string(to_string(event))}});
        return results;
    }
    for (const auto& name : *names) {
        HookResult r = run_hook(dir + "/" + name, event, options);
        LogFields fields = {{"GUARDIAN_HOOK", r.name},
                            {"GUARDIAN_HOOK_EVENT", std::string(to_string(event))},
                            {"GUARDIAN_HOOK_RESULT", r.describe()},
                            {"GUARDIAN_HOOK_DURATION_MS", std::to_string(r.duration.count())}};
        if (!r.output.empty())
            fields.emplace_back("GUARDIAN_HOOK_OUTPUT",
                                r.output + (r.output_truncated ? "\n[output truncated]" : ""));
        const std::string line = "hook " + r.name + " " + std::string(to_string(event)) + ": " +
                                 r.describe() + " after " + std::to_string(r.duration.count()) +
                                 " ms";
        if (r.ok()) {
            log.info(line, fields);
        } else {
            fields.emplace_back("MESSAGE_ID", std::string(message_id::hook_failed));
            log.warning(line, fields);
        }
        results.push_back(std::move(r));
    }
    return results;
}

bool all_ok(const std::vector<HookResult>& results) noexcept {
    return std::all_of(results.begin(), results.end(), [](const HookResult& r) { return r.ok(); });
}

} // namespace guardian::hooks
