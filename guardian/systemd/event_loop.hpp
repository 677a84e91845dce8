// guardiand's one event loop, on epoll: every input (the xenstore watch fd,
// the clock-change timerfd, signals through a signalfd, one-shot timers as
// timerfds, child exits, the systemd watchdog) is a source on it, so an idle
// daemon wakes for nothing but the watchdog. Only calls Linux 2.6.27 has
// (epoll_create1, timerfd, signalfd4), so the same binary runs on the old
// guests that are most at risk.
#pragma once

#include "guardian/util/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <sys/types.h>

namespace guardian::systemd {

class EventLoop {
public:
    using Callback = std::function<void()>;
    // The wait status (waitpid(2)) of the child that exited.
    using ChildCallback = std::function<void(int status)>;

    [[nodiscard]] static Result<EventLoop> create();
    EventLoop(EventLoop&&) noexcept;
    EventLoop& operator=(EventLoop&&) noexcept;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    ~EventLoop();

    // Calls cb whenever fd is readable (level-triggered). The fd stays the
    // caller's and must outlive the loop.
    [[nodiscard]] Status watch_readable(int fd, Callback cb);
    // SIGTERM/SIGINT/SIGHUP...: blocked and delivered through the loop.
    [[nodiscard]] Status on_signal(int signo, Callback cb);
    // Reaps child `pid` when it exits and calls cb with its wait status.
    // SIGCHLD is blocked and read through the loop; other children (hooks,
    // which wait for themselves) are left alone.
    [[nodiscard]] Status on_child_exit(pid_t pid, ChildCallback cb);
    // One-shot timer on CLOCK_MONOTONIC; re-arming replaces the previous one
    // in the same slot (also from within that timer's own callback).
    [[nodiscard]] Status set_timer(int slot, std::chrono::nanoseconds from_now, Callback cb);
    void cancel_timer(int slot);
    // WATCHDOG=1 at half of $WATCHDOG_USEC when systemd asked for it (see
    // watchdog_interval()); a no-op otherwise. Sent from the loop, so a
    // stuck loop stops the pings and systemd restarts the daemon.
    [[nodiscard]] Status enable_watchdog();

    // Dispatches until exit(); a callback that throws is removed (the
    // watchdog then tells systemd that something is wrong) and the loop goes on.
    [[nodiscard]] Status run();
    void exit(int code = 0);
    // The code given to exit().
    [[nodiscard]] int exit_code() const noexcept;

private:
    struct Impl;
    explicit EventLoop(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace guardian::systemd
