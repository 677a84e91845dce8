// The clock port and the kernel's "the clock was set" notification.
// Restore detection compares CLOCK_BOOTTIME - CLOCK_MONOTONIC between samples
// (guardian/core/restore_detector.hpp); tests inject samples through Clocks.
// Older kernels lack both: CLOCK_BOOTTIME (2.6.39) and
// TFD_TIMER_CANCEL_ON_SET (3.0); each is probed once at run time and the
// fallback is named in clock_methods() (docs/old-kernels.md).
#pragma once

#include <string>

#include "guardian/core/restore_detector.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/result.hpp"

namespace guardian {

class Clocks {
public:
    virtual ~Clocks() = default;
    [[nodiscard]] virtual ClockSample now() = 0;
};

// Whether this kernel has CLOCK_BOOTTIME, probed once with the system call
// itself (a vDSO may answer where the kernel would not: an emulated old
// kernel's seccomp filter sees only the system call).
[[nodiscard]] bool boottime_available();
// Whether timerfd_settime takes TFD_TIMER_CANCEL_ON_SET, probed once.
[[nodiscard]] bool cancel_on_set_available();
// For data/guardian/methods: "boottime+cancel-on-set" on a current kernel;
// "wall-step" without CLOCK_BOOTTIME, "+poll" without CANCEL_ON_SET.
[[nodiscard]] std::string clock_methods();

// clock_gettime(2) of REALTIME, MONOTONIC and BOOTTIME, read back to back;
// without CLOCK_BOOTTIME, boottime is MONOTONIC and boottime_known false.
class SystemClocks final : public Clocks {
public:
    [[nodiscard]] ClockSample now() override;
};

// A CLOCK_REALTIME timerfd armed far in the future with
// TFD_TIMER_CANCEL_ON_SET: it becomes readable (read fails with ECANCELED)
// whenever the realtime clock is set, which a Xen restore does (and so does
// an NTP step: tell them apart with the clock samples). Pollable; re-armed
// by consume(). Without CANCEL_ON_SET (Linux < 3.0) the timer ticks every
// poll_period instead and consume() reports a set clock when
// REALTIME-MONOTONIC moved by more than step_threshold since the last tick.
class ClockChangeWatcher {
public:
    static constexpr std::chrono::seconds poll_period{2};
    static constexpr std::chrono::milliseconds step_threshold{250};

    [[nodiscard]] static Result<ClockChangeWatcher> create();
    // Tests: the polling fallback on a kernel that has CANCEL_ON_SET.
    [[nodiscard]] static Result<ClockChangeWatcher> create_polling();

    [[nodiscard]] bool polling() const noexcept { return m_polling; }

    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }
    // True when the clock was set since the last call (the timer is re-armed
    // then); false when nothing happened. Never blocks.
    [[nodiscard]] Result<bool> consume();

private:
    explicit ClockChangeWatcher(Fd fd) : m_fd(std::move(fd)) {}
    [[nodiscard]] static Result<ClockChangeWatcher> make(bool polling);
    [[nodiscard]] Status arm();

    Fd m_fd;
    bool m_polling = false;
    std::chrono::nanoseconds m_wall_offset{0}; // polling: REALTIME-MONOTONIC at the last tick
};

} // namespace guardian
