// guardianctl sleep-hook pre|post KIND: systemd-sleep's hook
// (systemd/system-sleep/guardian) telling guardiand about ACPI sleep. The
// daemon takes SIGUSR1 as "going to sleep" and SIGUSR2 as "resumed"; its pid
// is in /run/guardian/guardiand.pid. A sleep hook must never fail or delay
// the sleep, so every problem is a note on stderr and exit 0.
#include "guardian/cli/commands.hpp"
#include "guardian/cli/daemon_state.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <sys/types.h>

namespace guardian::cli {
namespace {

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
        s.pop_back();
    return s;
}

// guardiand's pid, checked against /proc/PID/comm so that a stale pid file
// never makes us signal whatever process reused the number (SIGUSR1 would
// kill most programs).
Result<pid_t> daemon_pid(const SystemRoot& root) {
    GUARDIAN_TRY_ASSIGN(std::string text, read_text_file(root.path(k_pid_file), 64));
    text = trimmed(std::move(text));
    long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value <= 1)
        return Error{std::string(k_pid_file) + ": not a pid: \"" + text + "\"", 0};
    const std::string comm_path = root.path(fmt::format("/proc/{}/comm", value));
    auto comm = read_text_file(comm_path, 64);
    if (!comm)
        return Error{fmt::format("guardiand (pid {}) is not running (stale {})", value, k_pid_file),
                     0};
    if (trimmed(*comm) != "guardiand")
        return Error{fmt::format("pid {} is \"{}\", not guardiand (stale {})", value,
                                 trimmed(*comm), k_pid_file),
                     0};
    return static_cast<pid_t>(value);
}

} // namespace

int run_sleep_hook(const SleepHookArgs& args) {
    const SystemRoot root(args.root);
    const bool resumed = args.phase == "post";
    auto pid = daemon_pid(root);
    if (!pid) {
        fmt::print(stderr, "guardianctl sleep-hook: {}; nothing to tell\n", pid.error().message);
        return k_exit_ok;
    }
    const int sig = resumed ? SIGUSR2 : SIGUSR1;
    if (::kill(*pid, sig) != 0) {
        const auto e = Error::from_errno(fmt::format("signal guardiand (pid {})", *pid));
        fmt::print(stderr, "guardianctl sleep-hook: {}\n", e.message);
        return k_exit_ok;
    }
    fmt::print("told guardiand (pid {}): {} ({})\n", *pid, resumed ? "resumed" : "going to sleep",
               args.kind);
    return k_exit_ok;
}

} // namespace guardian::cli
