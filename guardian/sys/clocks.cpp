#include "guardian/sys/clocks.hpp"

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <sys/timerfd.h>
#include <unistd.h>

namespace guardian {
namespace {

std::chrono::nanoseconds read_clock(clockid_t id) {
    timespec ts{};
    // clock_gettime cannot fail for these clocks on Linux >= 2.6.39.
    ::clock_gettime(id, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

} // namespace

ClockSample SystemClocks::now() {
    ClockSample s;
    s.monotonic = read_clock(CLOCK_MONOTONIC);
    s.boottime = read_clock(CLOCK_BOOTTIME);
    s.realtime = read_clock(CLOCK_REALTIME);
    return s;
}

Result<ClockChangeWatcher> ClockChangeWatcher::create() {
    const int fd = ::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("timerfd_create(CLOCK_REALTIME)");
    ClockChangeWatcher w{Fd(fd)};
    GUARDIAN_TRY(w.arm());
    return w;
}

Status ClockChangeWatcher::arm() {
    // Far in the future, so it only ever "fires" by being cancelled. A fixed
    // absolute date (2200) rather than now+N keeps it valid after any step.
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(INT64_C(7258118400));
    if (::timerfd_settime(m_fd.get(), TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec,
                          nullptr) != 0)
        return Error::from_errno("timerfd_settime(TFD_TIMER_CANCEL_ON_SET)");
    return ok_status();
}

Result<bool> ClockChangeWatcher::consume() {
    std::uint64_t expirations = 0;
    const ssize_t n = ::read(m_fd.get(), &expirations, sizeof expirations);
    if (n >= 0)
        return false; // an expiry in 2200: nothing to report
    if (errno == EAGAIN || errno == EINTR)
        return false;
    if (errno != ECANCELED)
        return Error::from_errno("read clock-change timerfd");
    GUARDIAN_TRY(arm());
    return true;
}

} // namespace guardian
