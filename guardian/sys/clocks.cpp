#include "guardian/sys/clocks.hpp"

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace guardian {
namespace {

std::chrono::nanoseconds read_clock(clockid_t id) {
    timespec ts{};
    // Cannot fail for REALTIME and MONOTONIC; BOOTTIME only after the probe.
    ::clock_gettime(id, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

std::chrono::nanoseconds wall_offset() {
    const auto mono = read_clock(CLOCK_MONOTONIC);
    return read_clock(CLOCK_REALTIME) - mono;
}

// Far in the future, so a CANCEL_ON_SET timer only ever "fires" by being
// cancelled. A fixed absolute date (2200) rather than now+N keeps it valid
// after any step.
itimerspec far_future() {
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(INT64_C(7258118400));
    return spec;
}

int set_cancel_on_set(int fd) {
    const itimerspec spec = far_future();
    return ::timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, nullptr);
}

} // namespace

bool boottime_available() {
    static const bool available = [] {
        timespec ts{};
        return ::syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts) == 0;
    }();
    return available;
}

bool cancel_on_set_available() {
    static const bool available = [] {
        const Fd fd(::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC));
        // An unknown flag is EINVAL; anything else (no timerfd at all) is not
        // this fallback's business: ClockChangeWatcher::create() reports it.
        return fd.get() < 0 || set_cancel_on_set(fd.get()) == 0 || errno != EINVAL;
    }();
    return available;
}

std::string clock_methods() {
    std::string out = boottime_available() ? "boottime" : "wall-step";
    out += cancel_on_set_available() ? "+cancel-on-set" : "+poll";
    return out;
}

ClockSample SystemClocks::now() {
    ClockSample s;
    s.monotonic = read_clock(CLOCK_MONOTONIC);
    if (boottime_available()) {
        s.boottime = read_clock(CLOCK_BOOTTIME);
    } else {
        s.boottime = s.monotonic;
        s.boottime_known = false;
    }
    s.realtime = read_clock(CLOCK_REALTIME);
    return s;
}

Result<ClockChangeWatcher> ClockChangeWatcher::create() {
    return make(!cancel_on_set_available());
}

Result<ClockChangeWatcher> ClockChangeWatcher::create_polling() {
    return make(true);
}

Result<ClockChangeWatcher> ClockChangeWatcher::make(bool polling) {
    const int fd = ::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("timerfd_create(CLOCK_REALTIME)");
    ClockChangeWatcher w{Fd(fd)};
    w.m_polling = polling;
    GUARDIAN_TRY(w.arm());
    return w;
}

Status ClockChangeWatcher::arm() {
    if (!m_polling) {
        if (set_cancel_on_set(m_fd.get()) != 0)
            return Error::from_errno("timerfd_settime(TFD_TIMER_CANCEL_ON_SET)");
        return ok_status();
    }
    // A relative timer ticks at a steady pace whatever the wall clock does.
    itimerspec spec{};
    spec.it_value.tv_sec = poll_period.count();
    spec.it_interval.tv_sec = poll_period.count();
    if (::timerfd_settime(m_fd.get(), 0, &spec, nullptr) != 0)
        return Error::from_errno("timerfd_settime(every " + std::to_string(poll_period.count()) +
                                 " s)");
    m_wall_offset = wall_offset();
    return ok_status();
}

Result<bool> ClockChangeWatcher::consume() {
    std::uint64_t expirations = 0;
    const ssize_t n = ::read(m_fd.get(), &expirations, sizeof expirations);
    if (m_polling) {
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return Error::from_errno("read clock-poll timerfd");
        const auto now = wall_offset();
        const auto moved = now - m_wall_offset;
        m_wall_offset = now;
        return moved > step_threshold || -moved > step_threshold;
    }
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
