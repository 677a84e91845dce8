#include "guardian/systemd/event_loop.hpp"

#include "guardian/systemd/notify.hpp"
#include "guardian/util/fd.hpp"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace guardian::systemd {
namespace {

// One registered source. Dispatch holds a shared_ptr to it, so a callback
// may cancel or replace its own source while it runs.
struct Source {
    int fd = -1; // what epoll watches
    Fd owned;    // timerfd/signalfd the loop made (invalid for watch_readable)
    std::function<void()> on_ready;
};

timespec to_timespec(std::chrono::nanoseconds d) {
    if (d <= std::chrono::nanoseconds::zero())
        d = std::chrono::nanoseconds(1); // it_value 0 would disarm the timer
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
    return timespec{static_cast<time_t>(secs.count()), static_cast<long>((d - secs).count())};
}

// Reads the expiration count of a non-blocking timerfd; false when there
// was none (a stale readiness report).
bool consume_timer(int fd) {
    std::uint64_t expirations = 0;
    return ::read(fd, &expirations, sizeof expirations) == sizeof expirations;
}

// A timerfd source firing first after `first`, then every `interval` (0:
// once); `what` names it in errors.
Result<std::shared_ptr<Source>> timer_source(std::chrono::nanoseconds first,
                                             std::chrono::nanoseconds interval,
                                             std::string_view what) {
    auto s = std::make_shared<Source>();
    s->owned.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!s->owned.valid())
        return Error::from_errno("timerfd_create" + std::string(what));
    s->fd = s->owned.get();
    itimerspec spec{};
    spec.it_value = to_timespec(first);
    spec.it_interval = to_timespec(interval);
    if (::timerfd_settime(s->fd, 0, &spec, nullptr) != 0)
        return Error::from_errno("timerfd_settime" + std::string(what));
    return s;
}

} // namespace

struct EventLoop::Impl {
    Fd epoll;
    // Keyed by an id that is never reused (epoll_event.data.u64), so an
    // event still queued for a source removed in the same round finds nothing.
    std::map<std::uint64_t, std::shared_ptr<Source>> sources;
    std::uint64_t next_id = 1;
    std::map<int, std::uint64_t> timer_ids; // slot -> source id

    Fd signal_fd; // one signalfd for all handled signals
    sigset_t signal_mask{};
    std::map<int, Callback> signal_handlers;
    std::map<pid_t, ChildCallback> children;
    bool reap_pending = false; // a child was added: it may have exited already

    bool exiting = false;
    int exit_code = 0;

    Result<std::uint64_t> add(std::shared_ptr<Source> s) {
        const std::uint64_t id = next_id++;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = id;
        if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, s->fd, &ev) != 0)
            return Error::from_errno("epoll_ctl add fd " + std::to_string(s->fd));
        sources.emplace(id, std::move(s));
        return id;
    }

    void remove(std::uint64_t id) {
        auto it = sources.find(id);
        if (it == sources.end())
            return;
        (void)::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, it->second->fd, nullptr);
        sources.erase(it);
    }

    // Removes the one-shot timer in `slot`, if any.
    void drop_timer(int slot) {
        auto it = timer_ids.find(slot);
        if (it == timer_ids.end())
            return;
        remove(it->second);
        timer_ids.erase(it);
    }

    Status block_signal(int signo) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, signo);
        if (::sigprocmask(SIG_BLOCK, &one, nullptr) != 0)
            return Error::from_errno("sigprocmask");
        sigaddset(&signal_mask, signo);
        if (signal_fd.valid()) {
            // Updates the mask of the existing signalfd in place.
            if (::signalfd(signal_fd.get(), &signal_mask, 0) < 0)
                return Error::from_errno("signalfd");
            return ok_status();
        }
        signal_fd.reset(::signalfd(-1, &signal_mask, SFD_NONBLOCK | SFD_CLOEXEC));
        if (!signal_fd.valid())
            return Error::from_errno("signalfd");
        auto s = std::make_shared<Source>();
        s->fd = signal_fd.get();
        s->on_ready = [this] { read_signals(); };
        GUARDIAN_TRY(add(std::move(s)));
        return ok_status();
    }

    void read_signals() {
        signalfd_siginfo info{};
        while (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
            const int signo = static_cast<int>(info.ssi_signo);
            if (signo == SIGCHLD)
                reap_pending = true;
            else if (auto it = signal_handlers.find(signo); it != signal_handlers.end())
                Callback(it->second)(); // a copy: the handler may replace itself
        }
    }

    // waitpid for exactly the watched children: a hook's child is waited
    // for by the hook runner itself and must not be reaped here.
    void reap_children() {
        reap_pending = false;
        for (auto it = children.begin(); it != children.end();) {
            const pid_t pid = it->first;
            int status = 0;
            const pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid || (r < 0 && errno == ECHILD)) {
                // ECHILD: not ours, or reaped by someone else; -1 says so.
                ChildCallback cb = std::move(it->second);
                it = children.erase(it);
                cb(r == pid ? status : -1);
            } else {
                ++it;
            }
        }
    }

    void dispatch(std::uint64_t id) {
        auto it = sources.find(id);
        if (it == sources.end())
            return;
        const std::shared_ptr<Source> keep = it->second;
        try {
            keep->on_ready();
        } catch (...) {
            // No exception leaves the loop; a source that throws once would
            // throw again at its next event.
            remove(id);
        }
    }
};

EventLoop::EventLoop(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
EventLoop::EventLoop(EventLoop&&) noexcept = default;
EventLoop& EventLoop::operator=(EventLoop&&) noexcept = default;
EventLoop::~EventLoop() = default;

Result<EventLoop> EventLoop::create() {
    auto impl = std::make_unique<Impl>();
    impl->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!impl->epoll.valid())
        return Error::from_errno("epoll_create1");
    sigemptyset(&impl->signal_mask);
    return EventLoop(std::move(impl));
}

Status EventLoop::watch_readable(int fd, Callback cb) {
    auto s = std::make_shared<Source>();
    s->fd = fd;
    s->on_ready = std::move(cb);
    GUARDIAN_TRY(m_impl->add(std::move(s)));
    return ok_status();
}

Status EventLoop::on_signal(int signo, Callback cb) {
    if (signo == SIGCHLD)
        return Error{"on_signal: SIGCHLD belongs to on_child_exit", EINVAL};
    m_impl->signal_handlers[signo] = std::move(cb);
    return m_impl->block_signal(signo);
}

Status EventLoop::on_child_exit(pid_t pid, ChildCallback cb) {
    GUARDIAN_TRY(m_impl->block_signal(SIGCHLD));
    m_impl->children[pid] = std::move(cb);
    m_impl->reap_pending = true; // it may have exited before SIGCHLD was blocked
    return ok_status();
}

Status EventLoop::set_timer(int slot, std::chrono::nanoseconds from_now, Callback cb) {
    cancel_timer(slot);
    GUARDIAN_TRY_ASSIGN(auto s, timer_source(from_now, std::chrono::nanoseconds{0}, ""));
    Impl* impl = m_impl.get();
    s->on_ready = [impl, slot, fd = s->fd, cb = std::move(cb)] {
        if (!consume_timer(fd))
            return;
        // One-shot: gone before the callback runs, which may set it again
        // (this lambda stays alive: dispatch holds its source).
        impl->drop_timer(slot);
        cb();
    };
    GUARDIAN_TRY_ASSIGN(const std::uint64_t id, m_impl->add(std::move(s)));
    m_impl->timer_ids[slot] = id;
    return ok_status();
}

void EventLoop::cancel_timer(int slot) {
    m_impl->drop_timer(slot);
}

Status EventLoop::enable_watchdog() {
    const auto interval = watchdog_interval();
    if (!interval)
        return ok_status();
    GUARDIAN_TRY_ASSIGN(auto s, timer_source(*interval / 2, *interval / 2, " (watchdog)"));
    s->on_ready = [fd = s->fd] {
        if (consume_timer(fd))
            notify_watchdog();
    };
    GUARDIAN_TRY(m_impl->add(std::move(s)));
    return ok_status();
}

Status EventLoop::run() {
    std::array<epoll_event, 16> events{};
    while (!m_impl->exiting) {
        if (m_impl->reap_pending) {
            m_impl->reap_children();
            continue; // a child callback may have called exit()
        }
        const int n =
            ::epoll_wait(m_impl->epoll.get(), events.data(), static_cast<int>(events.size()), -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("epoll_wait");
        }
        for (int i = 0; i < n && !m_impl->exiting; ++i)
            m_impl->dispatch(events[static_cast<std::size_t>(i)].data.u64);
    }
    return ok_status();
}

void EventLoop::exit(int code) {
    m_impl->exiting = true;
    m_impl->exit_code = code;
}

int EventLoop::exit_code() const noexcept {
    return m_impl->exit_code;
}

} // namespace guardian::systemd
