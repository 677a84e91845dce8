// A bound AF_UNIX datagram socket for the protocol tests: what systemd's
// notify socket, journald's native socket or syslogd's /dev/log would
// receive, read back with a timeout.
#pragma once

#include <optional>
#include <string>

namespace guardian::test {

class DatagramSocket {
public:
    // Binds `name`: a path, or "@name" in the abstract namespace.
    explicit DatagramSocket(const std::string& name);
    DatagramSocket(const DatagramSocket&) = delete;
    DatagramSocket& operator=(const DatagramSocket&) = delete;
    ~DatagramSocket();
    [[nodiscard]] bool ok() const { return m_fd >= 0; }
    // The next datagram, or nullopt after `timeout_ms`.
    [[nodiscard]] std::optional<std::string> receive(int timeout_ms = 2000) const;

private:
    int m_fd = -1;
};

} // namespace guardian::test
