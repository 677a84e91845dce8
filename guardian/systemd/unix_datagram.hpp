// One AF_UNIX datagram to a named socket: the transport of sd_notify(3) and
// of journald's native protocol (and of syslog's /dev/log). A name starting
// with '@' is in the abstract namespace (Linux: a leading NUL byte), as
// systemd writes it in $NOTIFY_SOCKET.
#pragma once

#include "guardian/util/fd.hpp"
#include "guardian/util/result.hpp"

#include <string>
#include <string_view>

namespace guardian::systemd {

class UnixDatagramSender {
public:
    // Sends `payload` as one datagram to `socket_name` (sendto on an
    // unconnected socket, created on first use and kept). The error's code
    // is the errno: ENOENT/ECONNREFUSED when nobody listens there, EMSGSIZE
    // when the datagram is too large, EPROTOTYPE for a stream socket.
    [[nodiscard]] Status send(const std::string& socket_name, std::string_view payload);

private:
    Fd m_fd;
};

// Sends over a stream socket (old syslog daemons listen on /dev/log with
// SOCK_STREAM): connect, write all, close.
[[nodiscard]] Status send_unix_stream(const std::string& socket_name, std::string_view payload);

} // namespace guardian::systemd
