// The clock port's real adapter and the CANCEL_ON_SET timerfd, on this
// machine's kernel. Setting the clock needs CAP_SYS_TIME: the test sets
// CLOCK_REALTIME to its own current reading (a step of microseconds), and
// skips where that is not allowed.
#include "guardian/core/restore_detector.hpp"
#include "guardian/sys/clocks.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <poll.h>

namespace guardian {
namespace {

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

TEST(Clocks, SystemClocksAreConsistent) {
    SystemClocks clocks;
    const ClockSample a = clocks.now();
    const ClockSample b = clocks.now();
    EXPECT_GE(a.boottime, a.monotonic);
    EXPECT_GE(b.monotonic, a.monotonic);
    EXPECT_GT(a.realtime, std::chrono::seconds(1'600'000'000)); // after 2020
    // Nothing suspended the machine between two back-to-back reads.
    EXPECT_LT(b.suspended() - a.suspended(), std::chrono::milliseconds(100));
}

TEST(Clocks, WatcherIsQuietWhileNobodySetsTheClock) {
    auto w = ClockChangeWatcher::create();
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_GE(w->fd(), 0);
    EXPECT_FALSE(readable(w->fd(), 50));
    const auto r = w->consume();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(*r);
}

// The fallback for Linux < 3.0 (no TFD_TIMER_CANCEL_ON_SET): a timer every
// poll_period; with the wall clock not stepped, each tick reports nothing.
TEST(Clocks, PollingWatcherTicksAndReportsNoStepWhenNoneHappened) {
    auto w = ClockChangeWatcher::create_polling();
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_TRUE(w->polling());
    EXPECT_FALSE(readable(w->fd(), 50));
    const auto period_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(ClockChangeWatcher::poll_period);
    ASSERT_TRUE(readable(w->fd(), static_cast<int>(period_ms.count()) + 1000));
    const auto r = w->consume();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(*r);
    EXPECT_FALSE(readable(w->fd(), 20)); // the tick was read
}

TEST(Clocks, ThisKernelHasBoottimeAndCancelOnSet) {
    EXPECT_TRUE(boottime_available());
    EXPECT_TRUE(cancel_on_set_available());
    EXPECT_EQ(clock_methods(), "boottime+cancel-on-set");
    auto w = ClockChangeWatcher::create();
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_FALSE(w->polling());
    EXPECT_TRUE(SystemClocks().now().boottime_known);
}

TEST(Clocks, SettingTheClockWakesTheWatcherButIsNotARestore) {
    auto w = ClockChangeWatcher::create();
    ASSERT_TRUE(w.ok()) << w.error().message;
    SystemClocks clocks;
    RestoreDetector detector;
    detector.observe_clock(clocks.now());

    timespec now{};
    ASSERT_EQ(::clock_gettime(CLOCK_REALTIME, &now), 0);
    if (::clock_settime(CLOCK_REALTIME, &now) != 0)
        GTEST_SKIP() << "cannot set CLOCK_REALTIME here: " << std::strerror(errno);

    ASSERT_TRUE(readable(w->fd(), 1000));
    auto r = w->consume();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(*r);
    // Re-armed: quiet again until the next set, and it fires again then.
    EXPECT_FALSE(readable(w->fd(), 20));
    ASSERT_EQ(::clock_gettime(CLOCK_REALTIME, &now), 0);
    ASSERT_EQ(::clock_settime(CLOCK_REALTIME, &now), 0);
    ASSERT_TRUE(readable(w->fd(), 1000));
    r = w->consume();
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r);

    // What the daemon does on that wake-up: a clock set without BOOTTIME
    // moving away from MONOTONIC is no restore.
    detector.observe_clock(clocks.now());
    EXPECT_FALSE(detector.decide(clocks.now()).restored);
}

} // namespace
} // namespace guardian
