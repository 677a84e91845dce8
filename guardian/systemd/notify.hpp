// sd_notify(3) without libsystemd: the service manager's documented, stable
// protocol is one datagram of newline-separated KEY=VALUE assignments
// (READY=1, STATUS=..., STOPPING=1, WATCHDOG=1) to the AF_UNIX socket named
// by $NOTIFY_SOCKET (a path, or '@' for the abstract namespace). Outside
// systemd (SysV init, a shell) $NOTIFY_SOCKET is unset and all of this is a
// no-op.
#pragma once

#include "guardian/util/result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace guardian::systemd {

// Sends `state` to $NOTIFY_SOCKET; ok without sending when it is unset.
[[nodiscard]] Status notify(std::string_view state);

// Errors are ignored on purpose: a service manager that went away must not
// stop the daemon.
void notify_ready(const std::string& status);
void notify_status(const std::string& status);
void notify_stopping();
void notify_watchdog();

// What sd_watchdog_enabled(3) returns, from $WATCHDOG_USEC and $WATCHDOG_PID:
// the interval when the watchdog is on and meant for process `self`
// (WATCHDOG_PID unset, or equal to self); nullopt otherwise, also for
// malformed or zero values.
[[nodiscard]] std::optional<std::chrono::microseconds> parse_watchdog(const char* usec,
                                                                      const char* pid, pid_t self);
// The same for this process's environment.
[[nodiscard]] std::optional<std::chrono::microseconds> watchdog_interval();

} // namespace guardian::systemd
