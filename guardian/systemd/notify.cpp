#include "guardian/systemd/notify.hpp"

#include "guardian/systemd/unix_datagram.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <mutex>

namespace guardian::systemd {
namespace {

template <class T> std::optional<T> parse_unsigned(const char* text) {
    if (text == nullptr)
        return std::nullopt;
    const std::string_view s(text);
    T value{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty())
        return std::nullopt;
    return value;
}

} // namespace

Status notify(std::string_view state) {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    if (socket == nullptr || *socket == '\0')
        return ok_status();
    // One socket for the process's lifetime, as libsystemd's sd_notify does
    // not; the daemon notifies from its loop thread only, the lock is cheap.
    static std::mutex mutex;
    static UnixDatagramSender sender;
    const std::lock_guard lock(mutex);
    return sender.send(socket, state);
}

void notify_ready(const std::string& status) {
    (void)notify("READY=1\nSTATUS=" + status);
}

void notify_status(const std::string& status) {
    (void)notify("STATUS=" + status);
}

void notify_stopping() {
    (void)notify("STOPPING=1");
}

void notify_watchdog() {
    (void)notify("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> parse_watchdog(const char* usec, const char* pid,
                                                        pid_t self) {
    const auto interval = parse_unsigned<std::uint64_t>(usec);
    if (!interval || *interval == 0 || *interval > static_cast<std::uint64_t>(INT64_MAX))
        return std::nullopt;
    if (pid != nullptr) {
        // Set by the manager for the main process only; a child that
        // inherited the environment must not ping in its parent's name.
        const auto for_pid = parse_unsigned<std::uint64_t>(pid);
        if (!for_pid || *for_pid != static_cast<std::uint64_t>(self))
            return std::nullopt;
    }
    return std::chrono::microseconds(static_cast<std::int64_t>(*interval));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    return parse_watchdog(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid());
}

} // namespace guardian::systemd
