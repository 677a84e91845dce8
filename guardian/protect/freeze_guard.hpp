// The freeze guard: a separate small process that thaws the frozen
// filesystems when the freeze deadline passes or the daemon dies, unless the
// daemon disarms it first ("thawed, exit"). A frozen filesystem blocks every
// writer and sync(2) on the machine, so a freeze must never outlive its
// deadline or its daemon.
//
// Why a process and a socket, not PR_SET_PDEATHSIG: the death signal fires
// when the *thread* that forked dies, not the daemon, and it would kill the
// guard rather than let it thaw. Instead the daemon holds one end of a
// socketpair (close-on-exec, so no other child inherits it): EOF on the
// guard's end means the daemon is gone, however it died.
//
// The deadline is CLOCK_MONOTONIC, absolute: MONOTONIC does not advance while
// the domain is saved, so an `xl save` does not eat the deadline.
//
// systemd: with the default KillMode=control-group, stopping the service, or
// its main process dying, sends SIGTERM to the guard too; the guard treats
// SIGTERM (and SIGINT, SIGHUP) as "thaw now", so that stays safe. A SIGKILL
// to the whole cgroup (`systemctl kill -s KILL`, or TimeoutStopSec expiring)
// kills the guard as well: units that must survive that run the guard in its
// own scope/unit, or use KillMode=process for guardiand.
#pragma once

#include "guardian/util/fd.hpp"
#include "guardian/util/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace guardian::protect {

// Exit status of guardian-freeze-guard.
enum class GuardExit : int {
    disarmed = 0,        // the daemon thawed and said so
    setup_failed = 1,    // bad arguments, or a mount point could not be opened
    thawed_deadline = 2, // the deadline passed
    thawed_orphaned = 3, // the daemon's end closed (it died)
    thawed_signal = 4,   // SIGTERM/SIGINT/SIGHUP
};

// Bytes on the control socket.
inline constexpr char guard_ready = 'R';  // guard -> daemon: armed
inline constexpr char guard_disarm = 'T'; // daemon -> guard: thawed, exit

// The guard's main loop (guard/main.cpp only parses arguments). `control_fd`
// is the guard's end of the socketpair. Writes one line per event to stderr.
[[nodiscard]] GuardExit run_freeze_guard(int control_fd, std::int64_t deadline_monotonic_ns,
                                         const std::vector<std::string>& mount_points);

// The daemon's side: a running, armed guard.
class FreezeGuard {
public:
    // Starts `guard_exe` in its own session (POSIX_SPAWN_SETSID: a terminal
    // hangup or a process-group kill aimed at the daemon does not reach it)
    // and waits up to `ready_timeout` for it to report that it is armed.
    // Call this before freezing.
    [[nodiscard]] static Result<FreezeGuard> start(const std::string& guard_exe,
                                                   const std::vector<std::string>& mount_points,
                                                   std::int64_t deadline_monotonic_ns,
                                                   std::chrono::milliseconds ready_timeout);
    FreezeGuard(FreezeGuard&&) noexcept = default;
    FreezeGuard& operator=(FreezeGuard&&) noexcept = default;
    // Closing without disarm() makes the guard thaw: the safe default.
    ~FreezeGuard() = default;

    // After the daemon thawed itself: tell the guard to exit without acting,
    // and reap it. Returns its exit status.
    [[nodiscard]] Result<GuardExit> disarm();
    // Reaps the guard after it acted on its own (tests; the daemon's SIGCHLD).
    [[nodiscard]] Result<GuardExit> wait();

    [[nodiscard]] pid_t pid() const noexcept { return m_pid; }

private:
    FreezeGuard(pid_t pid, Fd control) : m_pid(pid), m_control(std::move(control)) {}
    pid_t m_pid = -1;
    Fd m_control;
};

// CLOCK_MONOTONIC now, in ns.
[[nodiscard]] std::int64_t monotonic_now_ns() noexcept;

} // namespace guardian::protect
