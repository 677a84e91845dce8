// Running one hook: posix_spawn into a new process group with an empty
// signal mask and default dispositions (guardiand blocks signals for its
// event loop; a hook must not inherit that), stdin at end-of-file, stdout and
// stderr into one pipe read with a bound.
//
// Waiting is a short poll tick plus waitid(WNOHANG), not a pidfd: guardian
// runs inside guests whose kernels predate pidfd_open (Linux 5.3), and hooks
// run seldom enough that a 20 ms tick while one is running costs nothing.
// A timed-out hook's leader is left unreaped (WNOWAIT) until its group got
// SIGKILL, so the group id cannot be reused by an unrelated process meanwhile.
#include "guardian/hooks/hook_runner.hpp"

#include "guardian/util/fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace guardian::hooks {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds k_tick{20};

// RAII for the two posix_spawn attribute objects.
class SpawnSetup {
public:
    SpawnSetup() {
        m_actions_ok = posix_spawn_file_actions_init(&m_actions) == 0;
        m_attr_ok = posix_spawnattr_init(&m_attr) == 0;
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
    ~SpawnSetup() {
        if (m_actions_ok)
            posix_spawn_file_actions_destroy(&m_actions);
        if (m_attr_ok)
            posix_spawnattr_destroy(&m_attr);
    }
    [[nodiscard]] bool ok() const noexcept { return m_actions_ok && m_attr_ok; }
    posix_spawn_file_actions_t* actions() noexcept { return &m_actions; }
    posix_spawnattr_t* attr() noexcept { return &m_attr; }

private:
    posix_spawn_file_actions_t m_actions{};
    posix_spawnattr_t m_attr{};
    bool m_actions_ok = false;
    bool m_attr_ok = false;
};

// Reads what is available from the non-blocking pipe; false once it is at EOF.
bool drain(int fd, HookResult& r, std::size_t limit) {
    std::array<char, 4096> buf{};
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n > 0) {
            const auto got = static_cast<std::size_t>(n);
            const std::size_t room = limit > r.output.size() ? limit - r.output.size() : 0;
            r.output.append(buf.data(), std::min(got, room));
            if (got > room)
                r.output_truncated = true;
            continue;
        }
        if (n == 0)
            return false;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
}

bool has_exited(pid_t pid) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0)
        if (errno != EINTR)
            return true; // not our child any more: nothing left to wait for
    return info.si_pid == pid;
}

// Waits for output or the tick; keeps reading the pipe while it is open.
// After end-of-file the hook is almost always exiting (every writer closed
// the pipe), so the sleep starts at 1 ms and doubles up to the tick: a hook
// costs ~1 ms of latency, not a whole tick.
void wait_tick(Fd& out, HookResult& r, std::size_t limit, std::chrono::milliseconds max_wait,
               std::chrono::milliseconds& after_eof) {
    const bool open = out.valid();
    pollfd p{open ? out.get() : -1, POLLIN, 0};
    const auto tick = open ? k_tick : after_eof;
    const auto ms = std::max<long long>(0, std::min(max_wait, tick).count());
    if (::poll(&p, 1, static_cast<int>(ms)) > 0 && open && !drain(out.get(), r, limit))
        out.reset(); // EOF: poll then only sleeps (a negative fd is ignored)
    if (!open)
        after_eof = std::min(after_eof * 2, k_tick);
}

std::chrono::milliseconds until(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now());
}

HookResult start_failure(HookResult r, const std::string& what, int err) {
    r.outcome = HookResult::Outcome::failed_to_start;
    r.error = what + ": " + std::strerror(err);
    return r;
}

} // namespace

HookResult run_hook(const std::string& path, HookEvent event, const HookOptions& options) {
    HookOptions o = options;
    o.environment.insert(o.environment.begin(), {"GUARDIAN_EVENT", std::string(to_string(event))});
    return run_program({path, std::string(to_string(event))}, o);
}

HookResult run_program(const std::vector<std::string>& args, const HookOptions& options) {
    const auto start = Clock::now();
    HookResult r;
    if (args.empty())
        return start_failure(std::move(r), "run: no program", EINVAL);
    const std::string& path = args.front();
    r.name = std::filesystem::path(path).filename().string();

    std::array<int, 2> out_pipe{-1, -1};
    std::array<int, 2> in_pipe{-1, -1};
    if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0)
        return start_failure(std::move(r), "pipe", errno);
    Fd out_read(out_pipe[0]);
    Fd out_write(out_pipe[1]);
    if (::pipe2(in_pipe.data(), O_CLOEXEC) != 0)
        return start_failure(std::move(r), "pipe", errno);
    Fd in_read(in_pipe[0]);
    Fd(in_pipe[1]).reset(); // closed at once: the hook's stdin reads end-of-file

    SpawnSetup setup;
    if (!setup.ok())
        return start_failure(std::move(r), "posix_spawn setup", ENOMEM);
    sigset_t empty;
    sigset_t all_catchable;
    sigemptyset(&empty);
    sigfillset(&all_catchable);
    sigdelset(&all_catchable, SIGKILL);
    sigdelset(&all_catchable, SIGSTOP);
    int rc = posix_spawn_file_actions_adddup2(setup.actions(), in_read.get(), 0);
    rc = rc != 0 ? rc : posix_spawn_file_actions_adddup2(setup.actions(), out_write.get(), 1);
    rc = rc != 0 ? rc : posix_spawn_file_actions_adddup2(setup.actions(), out_write.get(), 2);
    rc = rc != 0 ? rc : posix_spawnattr_setpgroup(setup.attr(), 0);
    rc = rc != 0 ? rc : posix_spawnattr_setsigmask(setup.attr(), &empty);
    rc = rc != 0 ? rc : posix_spawnattr_setsigdefault(setup.attr(), &all_catchable);
    rc = rc != 0 ? rc
                 : posix_spawnattr_setflags(setup.attr(), POSIX_SPAWN_SETPGROUP |
                                                              POSIX_SPAWN_SETSIGMASK |
                                                              POSIX_SPAWN_SETSIGDEF);
    if (rc != 0)
        return start_failure(std::move(r), "posix_spawn setup", rc);

    std::vector<std::string> env = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    };
    for (const auto& [k, v] : options.environment)
        env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> owned = args;
    std::vector<char*> argv;
    for (auto& a : owned)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t pid = -1;
    rc = ::posix_spawn(&pid, path.c_str(), setup.actions(), setup.attr(), argv.data(), envp.data());
    if (rc != 0)
        return start_failure(std::move(r), "exec " + path, rc);
    out_write.reset();
    in_read.reset();
    (void)::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);

    const auto deadline = start + options.timeout;
    std::chrono::milliseconds after_eof{1};
    bool timed_out = false;
    while (!has_exited(pid)) {
        if (Clock::now() >= deadline) {
            timed_out = true;
            break;
        }
        wait_tick(out_read, r, options.output_limit, until(deadline), after_eof);
    }
    if (timed_out) {
        ::kill(-pid, SIGTERM);
        const auto grace_end = Clock::now() + options.kill_grace;
        while (!has_exited(pid) && Clock::now() < grace_end)
            wait_tick(out_read, r, options.output_limit, until(grace_end), after_eof);
        // Also when the leader obeyed SIGTERM: children it left behind go too.
        ::kill(-pid, SIGKILL);
    }
    int status = 0;
    pid_t waited = -1;
    while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    const int wait_errno = waited < 0 ? errno : 0;
    if (out_read.valid())
        (void)drain(out_read.get(), r, options.output_limit); // what was written before exit

    if (timed_out) {
        r.outcome = HookResult::Outcome::timed_out;
    } else if (wait_errno != 0) {
        // Someone else reaped it (SIGCHLD set to SIG_IGN): the status is lost.
        r.outcome = HookResult::Outcome::exited;
        r.exit_code = -1;
        r.error = std::string("exit status lost: ") + std::strerror(wait_errno);
    } else if (WIFEXITED(status)) {
        r.outcome = HookResult::Outcome::exited;
        r.exit_code = WEXITSTATUS(status);
    } else {
        r.outcome = HookResult::Outcome::signaled;
        r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    r.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return r;
}

} // namespace guardian::hooks
