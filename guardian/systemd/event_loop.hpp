// sd-event, owned. guardiand has exactly one event loop: every input (the
// xenstore watch fd, the clock-change timerfd, signals, one-shot timers, the
// watchdog) is a source on it, so an idle daemon wakes for nothing but the
// watchdog.
#pragma once

#include "guardian/util/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

struct sd_event;
struct sd_event_source;

namespace guardian::systemd {

class EventLoop {
public:
    using Callback = std::function<void()>;

    [[nodiscard]] static Result<EventLoop> create();
    EventLoop(EventLoop&&) noexcept;
    EventLoop& operator=(EventLoop&&) noexcept;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    ~EventLoop();

    // Calls cb whenever fd is readable.
    [[nodiscard]] Status watch_readable(int fd, Callback cb);
    // SIGTERM/SIGINT/SIGHUP...: blocked and delivered through the loop.
    [[nodiscard]] Status on_signal(int signo, Callback cb);
    // One-shot timer on CLOCK_MONOTONIC; re-arming replaces the previous one
    // with the same slot name.
    [[nodiscard]] Status set_timer(int slot, std::chrono::nanoseconds from_now, Callback cb);
    void cancel_timer(int slot);
    // WATCHDOG=1 at half of $WATCHDOG_USEC when systemd asked for it.
    [[nodiscard]] Status enable_watchdog();

    [[nodiscard]] Status run();
    void exit(int code = 0);

private:
    struct Impl;
    explicit EventLoop(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// sd_notify(3), a no-op outside systemd ($NOTIFY_SOCKET unset).
void notify_ready(const std::string& status);
void notify_status(const std::string& status);
void notify_stopping();

} // namespace guardian::systemd
