// The clock port and the kernel's "the clock was set" notification.
// Restore detection compares CLOCK_BOOTTIME - CLOCK_MONOTONIC between samples
// (guardian/core/restore_detector.hpp); tests inject samples through Clocks.
#pragma once

#include "guardian/core/restore_detector.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/result.hpp"

namespace guardian {

class Clocks {
public:
    virtual ~Clocks() = default;
    [[nodiscard]] virtual ClockSample now() = 0;
};

// clock_gettime(2) of REALTIME, MONOTONIC and BOOTTIME, read back to back.
class SystemClocks final : public Clocks {
public:
    [[nodiscard]] ClockSample now() override;
};

// A CLOCK_REALTIME timerfd armed far in the future with
// TFD_TIMER_CANCEL_ON_SET: it becomes readable (read fails with ECANCELED)
// whenever the realtime clock is set, which a Xen restore does (and so does
// an NTP step: tell them apart with the clock samples). Pollable; re-armed
// by consume().
class ClockChangeWatcher {
public:
    [[nodiscard]] static Result<ClockChangeWatcher> create();

    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }
    // True when the clock was set since the last call (the timer is re-armed
    // then); false when nothing happened. Never blocks.
    [[nodiscard]] Result<bool> consume();

private:
    explicit ClockChangeWatcher(Fd fd) : m_fd(std::move(fd)) {}
    [[nodiscard]] Status arm();

    Fd m_fd;
};

} // namespace guardian
