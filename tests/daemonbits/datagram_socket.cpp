#include "tests/daemonbits/datagram_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <vector>

namespace guardian::test {

DatagramSocket::DatagramSocket(const std::string& name) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (name.empty() || name.size() >= sizeof(addr.sun_path))
        return;
    std::memcpy(addr.sun_path, name.data(), name.size());
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@')
        addr.sun_path[0] = '\0';
    else
        len = static_cast<socklen_t>(len + 1);
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (m_fd >= 0 && ::bind(m_fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
        ::close(m_fd);
        m_fd = -1;
    }
}

DatagramSocket::~DatagramSocket() {
    if (m_fd >= 0)
        ::close(m_fd);
}

std::optional<std::string> DatagramSocket::receive(int timeout_ms) const {
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1)
        return std::nullopt;
    std::vector<char> buf(1 << 20);
    const ssize_t n = ::recv(m_fd, buf.data(), buf.size(), 0);
    if (n < 0)
        return std::nullopt;
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

} // namespace guardian::test
