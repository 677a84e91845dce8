#include "guardian/systemd/unix_datagram.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace guardian::systemd {
namespace {

struct UnixAddress {
    sockaddr_un addr{};
    socklen_t len = 0;
};

Result<UnixAddress> make_address(const std::string& name) {
    UnixAddress a;
    a.addr.sun_family = AF_UNIX;
    if (name.size() < 2 || (name[0] != '/' && name[0] != '@'))
        return Error{"socket name \"" + name + "\": neither a path nor an @abstract name", EINVAL};
    if (name.size() >= sizeof(a.addr.sun_path))
        return Error{"socket name \"" + name + "\": too long", ENAMETOOLONG};
    std::memcpy(a.addr.sun_path, name.data(), name.size());
    std::size_t len = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@')
        a.addr.sun_path[0] = '\0'; // abstract: the length, not a NUL, ends the name
    else
        len += 1; // a path's terminating NUL
    a.len = static_cast<socklen_t>(len);
    return a;
}

const sockaddr* as_sockaddr(const UnixAddress& a) {
    return reinterpret_cast<const sockaddr*>(&a.addr); // NOLINT: the sockets API
}

} // namespace

Status UnixDatagramSender::send(const std::string& socket_name, std::string_view payload) {
    GUARDIAN_TRY_ASSIGN(const UnixAddress address, make_address(socket_name));
    if (!m_fd.valid()) {
        m_fd.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!m_fd.valid())
            return Error::from_errno("socket(AF_UNIX, SOCK_DGRAM)");
    }
    // Never blocking: a receiver that stopped reading (journald stuck on a
    // disk that no longer answers, its queue full) must not stop the
    // daemon with it, least of all on the way to an emergency. A full
    // queue is EAGAIN, and the caller falls back (journal: to /dev/kmsg).
    for (;;) {
        const ssize_t n = ::sendto(m_fd.get(), payload.data(), payload.size(),
                                   MSG_NOSIGNAL | MSG_DONTWAIT, as_sockaddr(address), address.len);
        if (n >= 0)
            return ok_status();
        if (errno != EINTR)
            return Error::from_errno("send to " + socket_name);
    }
}

Status send_unix_stream(const std::string& socket_name, std::string_view payload) {
    GUARDIAN_TRY_ASSIGN(const UnixAddress address, make_address(socket_name));
    // Non-blocking for the same reason: a stuck syslog daemon's full
    // backlog or buffer is an error here, not a wait.
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid())
        return Error::from_errno("socket(AF_UNIX, SOCK_STREAM)");
    if (::connect(fd.get(), as_sockaddr(address), address.len) != 0)
        return Error::from_errno("connect " + socket_name);
    while (!payload.empty()) {
        const ssize_t n = ::send(fd.get(), payload.data(), payload.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("send to " + socket_name);
        payload.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_status();
}

} // namespace guardian::systemd
