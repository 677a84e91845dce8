// guardian-test-xenstored itself: the raw wire format, its robustness against
// junk, and the restore controls the daemon tests rely on, with guardian's
// client and libxenstore alike. Also the factory's "not a Xen guest" answer.
#include "tests/xen/xenstore_server_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace guardian::test {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::vector<std::pair<std::string, std::string>> pairs(const std::vector<xen::WatchEvent>& evs) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : evs)
        out.emplace_back(e.path, e.token);
    return out;
}

// One raw protocol connection: send a message, read one reply.
class RawConnection {
public:
    explicit RawConnection(const std::string& socket) : m_fd(connect_unix(socket)) {
        if (m_fd < 0)
            throw std::runtime_error("connect " + socket);
        timeval tv{2, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;
    ~RawConnection() { ::close(m_fd); }

    bool send_bytes(std::string_view bytes) {
        return ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(bytes.size());
    }
    bool send_msg(std::uint32_t type, std::uint32_t req_id, std::string_view payload,
                  std::uint32_t announced_len = UINT32_MAX) {
        const std::array<std::uint32_t, 4> h{type, req_id, 0,
                                             announced_len == UINT32_MAX
                                                 ? static_cast<std::uint32_t>(payload.size())
                                                 : announced_len};
        std::string msg(16, '\0');
        std::memcpy(msg.data(), h.data(), 16);
        msg.append(payload);
        return send_bytes(msg);
    }
    // {type, req_id, payload}, or type UINT32_MAX when the server closed.
    std::tuple<std::uint32_t, std::uint32_t, std::string> recv_msg() {
        std::array<std::uint32_t, 4> h{};
        if (!recv_exact(reinterpret_cast<char*>(h.data()), 16))
            return {UINT32_MAX, 0, {}};
        std::string payload(h[3], '\0');
        if (!recv_exact(payload.data(), payload.size()))
            return {UINT32_MAX, 0, {}};
        return {h[0], h[1], payload};
    }
    // True when the server closed this connection (EOF within the timeout).
    bool closed_by_peer() {
        char c = 0;
        return ::recv(m_fd, &c, 1, 0) == 0;
    }

private:
    bool recv_exact(char* p, std::size_t n) {
        while (n > 0) {
            const ssize_t r = ::recv(m_fd, p, n, 0);
            if (r <= 0)
                return false;
            p += r;
            n -= static_cast<std::size_t>(r);
        }
        return true;
    }
    int m_fd;
};

// The cases that also use a client run with each (xenstore_clients.hpp).
class TestXenstoredWithClient : public ::testing::TestWithParam<ClientKind> {};
INSTANTIATE_TEST_SUITE_P(Clients, TestXenstoredWithClient, ::testing::ValuesIn(all_clients()),
                         client_name);

constexpr std::uint32_t xs_read = 2;
constexpr std::uint32_t xs_write = 11;
constexpr std::uint32_t xs_error = 16;

TEST(TestXenstored, SpeaksTheWireFormat) {
    TestXenstored server;
    RawConnection c(server.guest_socket());
    ASSERT_TRUE(c.send_msg(xs_write, 41, std::string("data/x\0value", 12)));
    EXPECT_EQ(c.recv_msg(), std::make_tuple(xs_write, 41u, std::string("OK\0", 3)));
    ASSERT_TRUE(c.send_msg(xs_read, 42, std::string("data/x\0", 7)));
    EXPECT_EQ(c.recv_msg(), std::make_tuple(xs_read, 42u, std::string("value")));
    // Errors carry the errno name, NUL-terminated.
    ASSERT_TRUE(c.send_msg(xs_read, 43, std::string("data/none\0", 10)));
    EXPECT_EQ(c.recv_msg(), std::make_tuple(xs_error, 43u, std::string("ENOENT\0", 7)));
    // An unknown type and an unterminated argument are EINVAL.
    ASSERT_TRUE(c.send_msg(99, 44, ""));
    EXPECT_EQ(c.recv_msg(), std::make_tuple(xs_error, 44u, std::string("EINVAL\0", 7)));
    ASSERT_TRUE(c.send_msg(xs_read, 45, "data/x"));
    EXPECT_EQ(c.recv_msg(), std::make_tuple(xs_error, 45u, std::string("EINVAL\0", 7)));
}

TEST_P(TestXenstoredWithClient, OversizedMessageClosesOnlyThatConnection) {
    TestXenstored server;
    RawConnection bad(server.guest_socket());
    ASSERT_TRUE(bad.send_msg(xs_write, 1, std::string(100, 'x'), 5000));
    EXPECT_TRUE(bad.closed_by_peer());
    EXPECT_TRUE(server.alive());
    auto xs = server.guest(GetParam());
    EXPECT_TRUE(xs->write("data/after", "1").ok());
}

TEST_P(TestXenstoredWithClient, SurvivesGarbageAndServesTheNextClient) {
    TestXenstored server;
    auto watcher = server.guest(GetParam()); // a client connected throughout
    ASSERT_TRUE(watcher->watch("data", "d").ok());
    ASSERT_EQ(wait_events(*watcher, 1).size(), 1u);

    std::mt19937 rng(20261121); // fixed seed: a failure is reproducible
    for (int round = 0; round < 50; ++round) {
        RawConnection junk(round % 2 ? server.guest_socket() : server.control_socket());
        std::string bytes(static_cast<std::size_t>(rng() % 3000), '\0');
        for (char& b : bytes)
            b = static_cast<char>(rng());
        // Every other round a valid header with a random type and a junk
        // payload of the announced length, so the request parsers see junk too.
        if (round % 2) {
            ASSERT_TRUE(junk.send_msg(static_cast<std::uint32_t>(rng() % 32),
                                      static_cast<std::uint32_t>(rng()),
                                      bytes.substr(0, bytes.size() % 4096)));
        } else {
            (void)junk.send_bytes(bytes);
        }
    }
    // A truncated header followed by a hang-up.
    {
        RawConnection half(server.guest_socket());
        ASSERT_TRUE(half.send_bytes("\x02\x00\x00"));
    }
    ASSERT_TRUE(server.alive());
    auto xs = server.guest(GetParam());
    ASSERT_TRUE(xs->write("data/still", "here").ok());
    EXPECT_EQ(xs->read("data/still").value(), "here");
    // The long-lived client was not disturbed either.
    EXPECT_EQ(watcher->read("data/still").value(), "here");
}

TEST_P(TestXenstoredWithClient, ResumeRefiresEveryWatch) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    auto dom0 = server.dom0(GetParam());
    ASSERT_TRUE(xs->watch("domid", "domid").ok());
    ASSERT_TRUE(xs->watch("device/vbd", "vbd").ok());
    ASSERT_EQ(wait_events(*xs, 2).size(), 2u);

    ASSERT_TRUE(dom0->write("/tool/test-xenstored/resume", "").ok());
    EXPECT_THAT(pairs(wait_events(*xs, 2)),
                UnorderedElementsAre(std::pair{"domid", "domid"}, std::pair{"device/vbd", "vbd"}));
    // The control path is a command, not a node.
    EXPECT_FALSE(dom0->read("/tool/test-xenstored/resume").ok());
}

TEST_P(TestXenstoredWithClient, SigusrOneIsAResume) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    ASSERT_TRUE(xs->watch("control/shutdown", "s").ok());
    ASSERT_EQ(wait_events(*xs, 1).size(), 1u);
    server.signal(SIGUSR1);
    EXPECT_THAT(pairs(wait_events(*xs, 1)),
                UnorderedElementsAre(std::pair{"control/shutdown", "s"}));
}

TEST_P(TestXenstoredWithClient, RestoreAsANewDomainMovesTheHome) {
    TestXenstored server(1);
    auto xs = server.guest(GetParam());
    auto dom0 = server.dom0(GetParam());
    ASSERT_TRUE(dom0->write("/local/domain/1/domid", "1").ok());
    ASSERT_TRUE(xs->write("data/guardian/state", "running").ok());
    ASSERT_TRUE(xs->watch("domid", "domid").ok());
    ASSERT_EQ(wait_events(*xs, 1).size(), 1u);

    // The toolstack prepares domain 2, then the guest resumes as it.
    ASSERT_TRUE(dom0->write("/tool/test-xenstored/introduce", "2").ok());
    ASSERT_TRUE(dom0->write("/local/domain/2/domid", "2").ok());
    ASSERT_TRUE(dom0->write("/tool/test-xenstored/resume", "2").ok());
    EXPECT_THAT(pairs(wait_events(*xs, 1)), UnorderedElementsAre(std::pair{"domid", "domid"}));
    EXPECT_EQ(xs->read("domid").value(), "2");
    // data/ did not come along, and the old domain is gone.
    EXPECT_TRUE(xen::is_not_found(xs->read("data/guardian/state").error()));
    EXPECT_TRUE(xen::is_not_found(dom0->read("/local/domain/1/domid").error()));
    // The guest now writes in its new home, and relative watches follow it.
    ASSERT_TRUE(xs->write("data/guardian/state", "restored").ok());
    EXPECT_EQ(dom0->read("/local/domain/2/data/guardian/state").value(), "restored");
    ASSERT_TRUE(dom0->write("/local/domain/2/domid", "2").ok());
    EXPECT_THAT(pairs(wait_events(*xs, 1)), UnorderedElementsAre(std::pair{"domid", "domid"}));
    // Guest connections cannot use the controls.
    EXPECT_EQ(xs->write("/tool/test-xenstored/resume", "").error().code, EACCES);
}

TEST(OpenXenstore, SaysNotAXenGuestWhenThereIsNoXenstore) {
    TempDir root;
    ::unsetenv("XENSTORED_PATH");
    auto xs = xen::open_xenstore(SystemRoot(root.path().string()));
    ASSERT_FALSE(xs.ok());
    EXPECT_TRUE(xen::is_not_xen(xs.error()));
    EXPECT_FALSE(xen::is_not_found(xs.error()));
    EXPECT_EQ(xs.error().message, "not a Xen guest: no /dev/xen/xenbus and no XENSTORED_PATH");
}

TEST(OpenXenstore, UsesXenstoredPath) {
    TestXenstored server;
    ::setenv("XENSTORED_PATH", server.guest_socket().c_str(), 1);
    TempDir empty_root;
    auto xs = xen::open_xenstore(SystemRoot(empty_root.path().string()));
    ::unsetenv("XENSTORED_PATH");
    ASSERT_TRUE(xs.ok()) << xs.error().message;
    ASSERT_TRUE((*xs)->write("data/x", "1").ok());
    EXPECT_EQ((*xs)->read("/local/domain/7/data/x").value(), "1");
}

TEST(OpenXenstore, BrokenXenstoredPathIsAnErrorNotNotXen) {
    TempDir dir;
    const std::string missing = (dir.path() / "no.sock").string();
    ::setenv("XENSTORED_PATH", missing.c_str(), 1);
    auto xs = xen::open_xenstore();
    ::unsetenv("XENSTORED_PATH");
    ASSERT_FALSE(xs.ok());
    EXPECT_FALSE(xen::is_not_xen(xs.error()));
    EXPECT_THAT(xs.error().message, HasSubstr(missing));
}

} // namespace
} // namespace guardian::test
