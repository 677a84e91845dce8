// Starts guardian-test-xenstored on sockets in a temporary directory and
// opens real clients on it: the guest (XENSTORED_PATH = guest socket) and
// dom0 (the control socket), guardian's XsClient by default, or the one a
// ClientKind names (xenstore_clients.hpp). For tests that need the wire
// protocol rather than the in-memory fake.
#pragma once

#include "guardian/xen/xs_client.hpp"
#include "tests/support/test_env.hpp"
#include "tests/xen/xenstore_clients.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace guardian::test {

// A raw unix-socket connection, for feeding the server bytes no client sends.
inline int connect_unix(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        ::close(fd);
        return -1;
    }
    path.copy(addr.sun_path, path.size());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

class TestXenstored {
public:
    // `guests`: further guest domains, each on its own socket, their homes
    // laid out as xl does (guardian-test-xenstored --guest).
    explicit TestXenstored(unsigned domid = 7, const std::vector<unsigned>& guests = {})
        : m_guest((m_dir.path() / "guest.sock").string()),
          m_control((m_dir.path() / "control.sock").string()) {
        std::vector<std::string> args{"guardian-test-xenstored", "--domid", std::to_string(domid),
                                      "--control", m_control};
        for (const unsigned g : guests) {
            m_guests[g] = (m_dir.path() / ("guest-" + std::to_string(g) + ".sock")).string();
            args.insert(args.end(), {"--guest", std::to_string(g) + ":" + m_guests[g]});
        }
        // GUARDIAN_XENSTORED_VERBOSE=1 logs every request (for debugging).
        if (std::getenv("GUARDIAN_XENSTORED_VERBOSE"))
            args.emplace_back("--verbose");
        args.push_back(m_guest);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        m_pid = ::fork();
        if (m_pid < 0)
            throw std::runtime_error("fork failed");
        if (m_pid == 0) {
            ::execv(GUARDIAN_TEST_XENSTORED, argv.data());
            ::_exit(127);
        }
        // Ready when both sockets accept connections.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            const int a = connect_unix(m_guest);
            const int b = connect_unix(m_control);
            const bool ready = a >= 0 && b >= 0;
            if (a >= 0)
                ::close(a);
            if (b >= 0)
                ::close(b);
            if (ready)
                break;
            if (!alive() || std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("guardian-test-xenstored did not start");
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    TestXenstored(const TestXenstored&) = delete;
    TestXenstored& operator=(const TestXenstored&) = delete;
    ~TestXenstored() { stop(); }

    // Ends the server (SIGTERM) and waits for it; idempotent.
    void stop() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            int status = 0;
            ::waitpid(m_pid, &status, 0);
            m_pid = -1;
        }
    }

    [[nodiscard]] bool alive() {
        int status = 0;
        return m_pid > 0 && ::waitpid(m_pid, &status, WNOHANG) == 0;
    }
    void signal(int sig) const { ::kill(m_pid, sig); }
    [[nodiscard]] const std::string& guest_socket() const { return m_guest; }
    [[nodiscard]] const std::string& control_socket() const { return m_control; }

    // A real XsClient connected as the guest / as dom0.
    [[nodiscard]] std::unique_ptr<xen::XsClient> guest() const { return open_at(m_guest); }
    // ... as one of the further guests given to the constructor.
    [[nodiscard]] std::unique_ptr<xen::XsClient> guest(unsigned domid) const {
        return open_at(m_guests.at(domid));
    }
    [[nodiscard]] std::unique_ptr<xen::XsClient> dom0() const { return open_at(m_control); }
    // The same with the client `kind` names.
    [[nodiscard]] std::unique_ptr<xen::XenStore> guest(ClientKind kind) const {
        return open_client(kind, m_guest);
    }
    [[nodiscard]] std::unique_ptr<xen::XenStore> dom0(ClientKind kind) const {
        return open_client(kind, m_control);
    }

    static std::unique_ptr<xen::XsClient> open_at(const std::string& socket) {
        ::setenv("XENSTORED_PATH", socket.c_str(), 1);
        auto client = xen::XsClient::open();
        ::unsetenv("XENSTORED_PATH");
        if (!client)
            throw std::runtime_error(client.error().message);
        return std::move(client).value();
    }

private:
    TempDir m_dir;
    std::string m_guest;
    std::string m_control;
    std::map<unsigned, std::string> m_guests;
    pid_t m_pid = -1;
};

// Collects watch events until `count` arrived or `timeout` passed, waiting on
// the client's watch fd as a daemon's event loop would.
inline std::vector<xen::WatchEvent>
wait_events(xen::XenStore& xs, std::size_t count,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    std::vector<xen::WatchEvent> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < count) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            break;
        pollfd p{xs.watch_fd(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            break;
        auto events = xs.read_watch_events();
        if (!events)
            break;
        out.insert(out.end(), events->begin(), events->end());
    }
    return out;
}

} // namespace guardian::test
