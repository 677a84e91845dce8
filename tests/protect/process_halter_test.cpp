// The real SignalProcessHalter (kill(-1, SIGSTOP) and kill(-1, SIGCONT)),
// run where it cannot stop this machine: inside a PID namespace of its own
// (root). Its init there sees the other processes stop and go on, and the
// halter's own process is left running.
#include "guardian/protect/ports.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <poll.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace guardian::test {
namespace {

// Exit codes of the namespace's init, one per thing that went wrong.
enum Outcome : int {
    all_well = 0,
    no_namespace = 70,
    sleeper_not_stopped = 71,
    halter_failed = 72,
    halter_was_stopped = 73,
    sleeper_not_continued = 74,
    spawn_failed = 75,
    init_killed = 76, // its alarm: a step never came
};

pid_t spawn_sleeper() {
    const pid_t pid = ::fork();
    if (pid == 0) {
        for (;;)
            ::pause();
    }
    return pid;
}

// The halter's process: stops every other one, says so to init (which it
// could not if it had stopped itself), and continues them when init has
// seen the stops.
[[noreturn]] void halter_process(int to_init, int from_init) {
    protect::SignalProcessHalter halter;
    if (!halter.stop_others().ok())
        ::_exit(1);
    char c = 's';
    if (::write(to_init, &c, 1) != 1 || ::read(from_init, &c, 1) != 1)
        ::_exit(2);
    if (!halter.continue_others().ok())
        ::_exit(3);
    ::_exit(0);
}

// pid 1 of the new namespace: init is never signalled by kill(-1).
[[noreturn]] void namespace_init() {
    // A step that never comes ends the test, not the suite. A handler, as
    // init ignores every signal it has none for.
    struct sigaction sa {};
    sa.sa_handler = [](int) { ::_exit(init_killed); };
    ::sigaction(SIGALRM, &sa, nullptr);
    ::alarm(20);
    const pid_t a = spawn_sleeper();
    const pid_t b = spawn_sleeper();
    int up[2];
    int down[2];
    if (a < 0 || b < 0 || ::pipe(up) != 0 || ::pipe(down) != 0)
        ::_exit(spawn_failed);
    const pid_t h = ::fork();
    if (h == 0)
        halter_process(up[1], down[0]);
    if (h < 0)
        ::_exit(spawn_failed);
    int status = 0;
    for (pid_t p : {a, b})
        if (::waitpid(p, &status, WUNTRACED) != p || !WIFSTOPPED(status) ||
            WSTOPSIG(status) != SIGSTOP)
            ::_exit(sleeper_not_stopped);
    pollfd pfd{up[0], POLLIN, 0};
    char c = 0;
    if (::poll(&pfd, 1, 5000) != 1 || ::read(up[0], &c, 1) != 1)
        ::_exit(halter_was_stopped);
    if (::write(down[1], "g", 1) != 1)
        ::_exit(spawn_failed);
    for (pid_t p : {a, b})
        if (::waitpid(p, &status, WCONTINUED) != p || !WIFCONTINUED(status))
            ::_exit(sleeper_not_continued);
    if (::waitpid(h, &status, 0) != h || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        ::_exit(halter_failed);
    ::kill(a, SIGKILL);
    ::kill(b, SIGKILL);
    ::_exit(all_well);
}

TEST(SignalProcessHalter, StopsAndContinuesEveryOtherProcessButInitAndItself) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root (a PID namespace of its own, so that kill(-1) stays inside)";
    const pid_t outer = ::fork();
    ASSERT_GE(outer, 0);
    if (outer == 0) {
        if (::unshare(CLONE_NEWPID) != 0)
            ::_exit(no_namespace);
        const pid_t init = ::fork(); // pid 1 of the new namespace
        if (init == 0)
            namespace_init();
        int status = 0;
        if (init < 0 || ::waitpid(init, &status, 0) != init)
            ::_exit(spawn_failed);
        if (!WIFEXITED(status))
            ::_exit(spawn_failed);
        ::_exit(WEXITSTATUS(status));
    }
    int status = 0;
    ASSERT_EQ(::waitpid(outer, &status, 0), outer);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), all_well)
        << "70 no namespace, 71 a process not stopped, 72 the halter failed, "
           "73 the halter stopped itself, 74 a process not continued, 75 spawn failed, "
           "76 a step never came";
}

} // namespace
} // namespace guardian::test
