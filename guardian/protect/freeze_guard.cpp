#include "guardian/protect/freeze_guard.hpp"

#include "guardian/util/memory_lock.hpp"

#include "guardian/core/incident.hpp"
#include "guardian/protect/fs_control.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace guardian::protect {
namespace {

void say(const char* what) {
    // One write(2): no stdio buffering in a process whose job is to act
    // while everything around it may be dying.
    char line[160];
    const int n = std::snprintf(line, sizeof line, "guardian-freeze-guard[%d]: %s\n",
                                static_cast<int>(::getpid()), what);
    if (n > 0)
        (void)!::write(STDERR_FILENO, line, static_cast<std::size_t>(n));
}

GuardExit thaw_everything(const std::vector<Fd>& fds, const std::vector<std::string>& names,
                          GuardExit why) {
    // Reverse of the order the daemon froze in: root_last() froze root last.
    for (std::size_t i = fds.size(); i-- > 0;) {
        Status s = thaw_fd(fds[i].get(), names[i]);
        if (!s.ok() && classify(s.error()) != FsControlError::not_frozen)
            say(s.error().message.c_str());
    }
    return why;
}

Result<GuardExit> decode_status(int status) {
    if (WIFEXITED(status) && WEXITSTATUS(status) <= 4)
        return static_cast<GuardExit>(WEXITSTATUS(status));
    return Error{"freeze guard ended abnormally (status " + std::to_string(status) + ")", 0};
}

} // namespace

std::int64_t monotonic_now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

GuardExit run_freeze_guard(int control_fd, std::int64_t deadline_monotonic_ns,
                           const std::vector<std::string>& mount_points) {
    // Keep every page resident: thawing must not wait for a page-in from a
    // frozen filesystem. Failure (no CAP_IPC_LOCK) is survivable.
    if (const Status locked = lock_memory(); !locked)
        say((locked.error().message + "; continuing unlocked").c_str());

    std::vector<Fd> fds;
    fds.reserve(mount_points.size());
    for (const auto& m : root_last(mount_points)) {
        Result<Fd> fd = open_fd(m, O_RDONLY | O_DIRECTORY);
        if (!fd.ok()) {
            say(fd.error().message.c_str());
            return GuardExit::setup_failed;
        }
        fds.push_back(std::move(fd).value());
    }
    const std::vector<std::string> names = root_last(mount_points);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGPIPE);
    if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0)
        return GuardExit::setup_failed;
    sigdelset(&mask, SIGPIPE); // blocked only, so a dead daemon's socket cannot kill us
    Fd sig(::signalfd(-1, &mask, SFD_CLOEXEC));
    Fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    if (!sig.valid() || !timer.valid())
        return GuardExit::setup_failed;
    itimerspec when{};
    when.it_value.tv_sec = static_cast<time_t>(deadline_monotonic_ns / 1'000'000'000);
    when.it_value.tv_nsec = static_cast<long>(deadline_monotonic_ns % 1'000'000'000);
    if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
        when.it_value.tv_nsec = 1; // zero would disarm the timer
    if (::timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &when, nullptr) != 0)
        return GuardExit::setup_failed;

    if (::send(control_fd, &guard_ready, 1, MSG_NOSIGNAL) != 1) {
        // The daemon is already gone: it may have frozen nothing yet, but a
        // thaw of a filesystem that is not frozen is harmless.
        return thaw_everything(fds, names, GuardExit::thawed_orphaned);
    }

    pollfd pfds[3] = {{control_fd, POLLIN, 0}, {timer.get(), POLLIN, 0}, {sig.get(), POLLIN, 0}};
    for (;;) {
        const int n = ::poll(pfds, 3, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return thaw_everything(fds, names, GuardExit::thawed_orphaned);
        }
        if (pfds[1].revents) {
            say("freeze deadline passed: thawing");
            return thaw_everything(fds, names, GuardExit::thawed_deadline);
        }
        if (pfds[2].revents) {
            say("signalled: thawing");
            return thaw_everything(fds, names, GuardExit::thawed_signal);
        }
        if (pfds[0].revents) {
            char c = 0;
            const ssize_t r = ::recv(control_fd, &c, 1, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r == 1 && c == guard_disarm)
                return GuardExit::disarmed;
            if (r == 1)
                continue; // unknown byte: ignore, keep guarding
            say("daemon gone: thawing");
            return thaw_everything(fds, names, GuardExit::thawed_orphaned);
        }
    }
}

Result<FreezeGuard> FreezeGuard::start(const std::string& guard_exe,
                                       const std::vector<std::string>& mount_points,
                                       std::int64_t deadline_monotonic_ns,
                                       std::chrono::milliseconds ready_timeout) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return Error::from_errno("socketpair for the freeze guard");
    Fd ours(sv[0]);
    Fd theirs(sv[1]);

    // The guard's end becomes its fd 3 (dup2 clears close-on-exec there);
    // ours stays close-on-exec so no other child keeps the guard's EOF away.
    std::vector<std::string> args = {"guardian-freeze-guard",
                                     "--control-fd",
                                     "3",
                                     "--deadline-monotonic-ns",
                                     std::to_string(deadline_monotonic_ns),
                                     "--"};
    args.insert(args.end(), mount_points.begin(), mount_points.end());
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, theirs.get(), 3);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, guard_exe.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return Error::from_errno("spawn " + guard_exe, rc);
    theirs.reset();
    FreezeGuard guard(pid, std::move(ours));

    pollfd p{guard.m_control.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(ready_timeout.count()));
    char c = 0;
    if (n == 1 && ::recv(guard.m_control.get(), &c, 1, 0) == 1 && c == guard_ready)
        return guard;
    guard.m_control.reset();
    (void)guard.wait();
    return Error{"freeze guard " + guard_exe + " did not report ready", 0};
}

Result<GuardExit> FreezeGuard::disarm() {
    if (::send(m_control.get(), &guard_disarm, 1, MSG_NOSIGNAL) != 1)
        return Error::from_errno("tell the freeze guard to exit");
    return wait();
}

Result<GuardExit> FreezeGuard::wait() {
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0)
        if (errno != EINTR)
            return Error::from_errno("wait for the freeze guard");
    m_control.reset();
    return decode_status(status);
}

} // namespace guardian::protect
