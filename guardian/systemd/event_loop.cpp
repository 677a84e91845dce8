#include "guardian/systemd/event_loop.hpp"

#include <csignal>
#include <map>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

namespace guardian::systemd {
namespace {

struct SourceUnref {
    void operator()(sd_event_source* s) const noexcept { sd_event_source_unref(s); }
};
using SourcePtr = std::unique_ptr<sd_event_source, SourceUnref>;

struct EventUnref {
    void operator()(sd_event* e) const noexcept { sd_event_unref(e); }
};

Error sd_error(const std::string& what, int negative_errno) {
    return Error::from_errno(what, -negative_errno);
}

// No exception may cross into sd-event's C frames: callbacks are wrapped.
int dispatch(void* userdata) noexcept {
    auto* cb = static_cast<EventLoop::Callback*>(userdata);
    try {
        (*cb)();
    } catch (...) {
        return -EIO; // sd-event disables the source; the daemon's watchdog notices
    }
    return 0;
}

} // namespace

struct EventLoop::Impl {
    std::unique_ptr<sd_event, EventUnref> event;
    // Callbacks live in stable heap cells: sd-event holds raw pointers to them.
    std::vector<std::pair<SourcePtr, std::unique_ptr<Callback>>> sources;
    std::map<int, std::pair<SourcePtr, std::unique_ptr<Callback>>> timers;
};

EventLoop::EventLoop(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
EventLoop::EventLoop(EventLoop&&) noexcept = default;
EventLoop& EventLoop::operator=(EventLoop&&) noexcept = default;
EventLoop::~EventLoop() = default;

Result<EventLoop> EventLoop::create() {
    sd_event* e = nullptr;
    if (const int r = sd_event_new(&e); r < 0)
        return sd_error("sd_event_new", r);
    auto impl = std::make_unique<Impl>();
    impl->event.reset(e);
    return EventLoop(std::move(impl));
}

Status EventLoop::watch_readable(int fd, Callback cb) {
    auto cell = std::make_unique<Callback>(std::move(cb));
    sd_event_source* s = nullptr;
    const int r = sd_event_add_io(
        m_impl->event.get(), &s, fd, EPOLLIN,
        [](sd_event_source*, int, uint32_t, void* ud) { return dispatch(ud); }, cell.get());
    if (r < 0)
        return sd_error("sd_event_add_io fd " + std::to_string(fd), r);
    m_impl->sources.emplace_back(SourcePtr(s), std::move(cell));
    return ok_status();
}

Status EventLoop::on_signal(int signo, Callback cb) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
        return Error::from_errno("sigprocmask");
    auto cell = std::make_unique<Callback>(std::move(cb));
    sd_event_source* s = nullptr;
    const int r = sd_event_add_signal(
        m_impl->event.get(), &s, signo,
        [](sd_event_source*, const signalfd_siginfo*, void* ud) { return dispatch(ud); },
        cell.get());
    if (r < 0)
        return sd_error("sd_event_add_signal " + std::to_string(signo), r);
    m_impl->sources.emplace_back(SourcePtr(s), std::move(cell));
    return ok_status();
}

Status EventLoop::set_timer(int slot, std::chrono::nanoseconds from_now, Callback cb) {
    cancel_timer(slot);
    uint64_t now = 0;
    if (const int r = sd_event_now(m_impl->event.get(), CLOCK_MONOTONIC, &now); r < 0)
        return sd_error("sd_event_now", r);
    const auto usec = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(from_now).count());
    auto cell = std::make_unique<Callback>(std::move(cb));
    sd_event_source* s = nullptr;
    const int r = sd_event_add_time(
        m_impl->event.get(), &s, CLOCK_MONOTONIC, now + usec, 1000,
        [](sd_event_source*, uint64_t, void* ud) { return dispatch(ud); }, cell.get());
    if (r < 0)
        return sd_error("sd_event_add_time", r);
    m_impl->timers[slot] = {SourcePtr(s), std::move(cell)};
    return ok_status();
}

void EventLoop::cancel_timer(int slot) {
    auto it = m_impl->timers.find(slot);
    if (it == m_impl->timers.end())
        return;
    sd_event_source_set_enabled(it->second.first.get(), SD_EVENT_OFF);
    m_impl->timers.erase(it);
}

Status EventLoop::enable_watchdog() {
    if (const int r = sd_event_set_watchdog(m_impl->event.get(), 1); r < 0)
        return sd_error("sd_event_set_watchdog", r);
    return ok_status();
}

Status EventLoop::run() {
    if (const int r = sd_event_loop(m_impl->event.get()); r < 0)
        return sd_error("sd_event_loop", r);
    return ok_status();
}

void EventLoop::exit(int code) {
    sd_event_exit(m_impl->event.get(), code);
}

void notify_ready(const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void notify_status(const std::string& status) {
    sd_notify(0, ("STATUS=" + status).c_str());
}

void notify_stopping() {
    sd_notify(0, "STOPPING=1");
}

} // namespace guardian::systemd
