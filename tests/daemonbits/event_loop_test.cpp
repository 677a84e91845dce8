// The epoll event loop: timers (order, replacement, cancel, re-arm from
// their own callback), fd readiness, signals, child exits, a throwing
// callback, and the systemd watchdog pings on a real notify socket.
#include "guardian/systemd/event_loop.hpp"
#include "tests/daemonbits/datagram_socket.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace guardian::systemd {
namespace {

using namespace std::chrono_literals;

EventLoop make_loop() {
    auto loop = EventLoop::create();
    EXPECT_TRUE(loop) << loop.error().message;
    return std::move(loop).value();
}

// Ends a test's run() after `after` even if what it waits for never comes.
void set_deadline(EventLoop& loop, std::chrono::milliseconds after = 5s) {
    ASSERT_TRUE(loop.set_timer(99, after, [&loop] { loop.exit(7); }));
}

TEST(EventLoop, TimersFireInDeadlineOrderAndSlotsReplace) {
    EventLoop loop = make_loop();
    std::vector<std::string> fired;
    ASSERT_TRUE(loop.set_timer(1, 60ms, [&] { fired.push_back("slot1-first"); }));
    // Same slot: replaces the pending one.
    ASSERT_TRUE(loop.set_timer(1, 30ms, [&] { fired.push_back("slot1"); }));
    ASSERT_TRUE(loop.set_timer(2, 10ms, [&] { fired.push_back("slot2"); }));
    ASSERT_TRUE(loop.set_timer(3, 20ms, [&] { fired.push_back("slot3"); }));
    loop.cancel_timer(3);
    ASSERT_TRUE(loop.set_timer(4, 100ms, [&] { loop.exit(0); }));
    set_deadline(loop);
    ASSERT_TRUE(loop.run());
    EXPECT_EQ(loop.exit_code(), 0);
    EXPECT_EQ(fired, (std::vector<std::string>{"slot2", "slot1"}));
}

TEST(EventLoop, TimerReArmsItselfFromItsCallback) {
    EventLoop loop = make_loop();
    int runs = 0;
    std::function<void()> tick = [&] {
        if (++runs == 3) {
            loop.exit(0);
            return;
        }
        ASSERT_TRUE(loop.set_timer(1, 5ms, tick));
    };
    ASSERT_TRUE(loop.set_timer(1, 5ms, tick));
    set_deadline(loop);
    ASSERT_TRUE(loop.run());
    EXPECT_EQ(runs, 3);
    EXPECT_EQ(loop.exit_code(), 0);
}

TEST(EventLoop, ReadableFdAndThrowingCallbackIsRemoved) {
    EventLoop loop = make_loop();
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    int reads = 0;
    int throws = 0;
    ASSERT_TRUE(loop.watch_readable(p[0], [&] {
        char c = 0;
        ASSERT_EQ(::read(p[0], &c, 1), 1);
        ++reads;
        if (c == 'x') {
            ++throws;
            throw std::runtime_error("callback failed");
        }
        if (c == 'q')
            loop.exit(0);
    }));
    ASSERT_EQ(::write(p[1], "ax", 2), 2);
    // After the throw the source is gone: 'q' is never read, the deadline ends the run.
    ASSERT_TRUE(loop.set_timer(1, 50ms, [&] { ASSERT_EQ(::write(p[1], "q", 1), 1); }));
    set_deadline(loop, 300ms);
    ASSERT_TRUE(loop.run());
    EXPECT_EQ(reads, 2);
    EXPECT_EQ(throws, 1);
    EXPECT_EQ(loop.exit_code(), 7);
    ::close(p[0]);
    ::close(p[1]);
}

TEST(EventLoop, SignalsArriveThroughTheLoop) {
    EventLoop loop = make_loop();
    int usr1 = 0;
    ASSERT_TRUE(loop.on_signal(SIGUSR1, [&] {
        ++usr1;
        loop.exit(0);
    }));
    // Blocked by on_signal, so raise() leaves it pending for the signalfd
    // instead of killing the test.
    ASSERT_EQ(::raise(SIGUSR1), 0);
    set_deadline(loop);
    ASSERT_TRUE(loop.run());
    EXPECT_EQ(usr1, 1);
    EXPECT_EQ(loop.exit_code(), 0);
    EXPECT_FALSE(loop.on_signal(SIGCHLD, [] {}));
}

TEST(EventLoop, ChildExitIsReapedWithItsStatus) {
    EventLoop loop = make_loop();
    const pid_t quick = ::fork();
    ASSERT_GE(quick, 0);
    if (quick == 0)
        ::_exit(3); // may be gone before the loop watches it
    const pid_t slow = ::fork();
    ASSERT_GE(slow, 0);
    if (slow == 0) {
        ::usleep(100'000);
        ::_exit(5);
    }
    std::vector<int> codes;
    auto record = [&](int status) {
        codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (codes.size() == 2)
            loop.exit(0);
    };
    ASSERT_TRUE(loop.on_child_exit(quick, record));
    ASSERT_TRUE(loop.on_child_exit(slow, record));
    set_deadline(loop);
    ASSERT_TRUE(loop.run());
    EXPECT_EQ(codes, (std::vector<int>{3, 5}));
    EXPECT_EQ(::waitpid(slow, nullptr, WNOHANG), -1) << "already reaped";
}

TEST(EventLoop, WatchdogPingsAtHalfTheInterval) {
    test::TempDir tmp;
    const std::string path = (tmp.path() / "notify").string();
    test::DatagramSocket socket(path);
    ASSERT_TRUE(socket.ok());
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    ::setenv("WATCHDOG_USEC", "100000", 1); // 100 ms: a ping every 50 ms
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    EventLoop loop = make_loop();
    const Status enabled = loop.enable_watchdog();
    ASSERT_TRUE(enabled) << enabled.error().message;
    ASSERT_TRUE(loop.set_timer(1, 280ms, [&] { loop.exit(0); }));
    const Status ran = loop.run();
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ASSERT_TRUE(ran);
    int pings = 0;
    while (auto d = socket.receive(0)) {
        EXPECT_EQ(*d, "WATCHDOG=1");
        ++pings;
    }
    // At 50, 100, ... 250 ms: 5; allow a slow machine.
    EXPECT_GE(pings, 3);
    EXPECT_LE(pings, 6);
}

TEST(EventLoop, WatchdogOffWithoutWatchdogUsec) {
    ::unsetenv("WATCHDOG_USEC");
    EventLoop loop = make_loop();
    EXPECT_TRUE(loop.enable_watchdog());
}

} // namespace
} // namespace guardian::systemd
