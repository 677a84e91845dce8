// One-shot CLOCK_MONOTONIC timers by slot: the daemon's only notion of
// "later". MONOTONIC does not advance while the domain is saved, so a freeze
// deadline is not eaten by the save itself. The event loop implements this
// port; tests fire timers by hand.
#pragma once

#include <chrono>
#include <functional>

namespace guardian::daemon {

enum class TimerSlot {
    settle = 1,
    freeze_deadline,
    kmsg_window_end,
    baseline_refresh,
    trouble_flush, // armed only while a kernel report is open
    heartbeat,
};

class Timers {
public:
    virtual ~Timers() = default;
    // Replaces a pending timer in the same slot.
    virtual void set(TimerSlot slot, std::chrono::nanoseconds from_now,
                     std::function<void()> callback) = 0;
    virtual void cancel(TimerSlot slot) = 0;
};

} // namespace guardian::daemon
