// What only guardian's own client (XsClient) promises, with no reader
// thread: watch events read while waiting for a reply are queued and still
// wake watch_fd(); unwatch() drops what is queued for it; a lost connection
// wakes the fd once. Against the test xenstored, and against a scripted peer
// for what no well-behaved server sends (events before the reply on the
// wire, old kernels' req_id 0, oversized replies, junk events, EOF).
#include "guardian/xen/xs_wire.hpp"
#include "tests/xen/xenstore_server_fixture.hpp"
#include "tests/xen/xs_raw_header.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

namespace guardian::test {
namespace {

using namespace std::string_literals;
using ::testing::HasSubstr;
namespace wire = xen::wire;

bool readable(int fd, int timeout_ms = 0) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

TEST(XsClientEvents, EventReadBeforeAReplyIsQueuedAndWakesTheFd) {
    TestXenstored server;
    auto xs = server.guest();
    ASSERT_TRUE(xs->watch("data", "d").ok());
    ASSERT_EQ(wait_events(*xs, 1).size(), 1u);
    // The write fires our own watch after its reply; the read that follows
    // finds that event on the wire before its own reply.
    ASSERT_TRUE(xs->write("data/x", "1").ok());
    EXPECT_EQ(xs->read("data/x").value(), "1");
    // Nothing is left in the socket: only the eventfd can make this true.
    EXPECT_TRUE(readable(xs->watch_fd(), 0));
    auto evs = xs->read_watch_events();
    ASSERT_TRUE(evs.ok()) << evs.error().message;
    ASSERT_EQ(evs->size(), 1u);
    EXPECT_EQ((*evs)[0].path, "data/x");
    EXPECT_EQ((*evs)[0].token, "d");
    EXPECT_FALSE(readable(xs->watch_fd(), 0));
}

TEST(XsClientEvents, UnwatchDropsEventsAlreadyQueued) {
    TestXenstored server;
    auto xs = server.guest();
    ASSERT_TRUE(xs->watch("data", "d").ok());
    ASSERT_TRUE(xs->watch("control", "c").ok());
    ASSERT_EQ(wait_events(*xs, 2).size(), 2u);
    ASSERT_TRUE(xs->write("data/x", "1").ok());
    ASSERT_TRUE(xs->write("control/y", "1").ok());
    ASSERT_TRUE(xs->unwatch("data", "d").ok()); // reads data/x's event first
    auto evs = wait_events(*xs, 2, std::chrono::milliseconds(300));
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].token, "c");
}

TEST(XsClientEvents, LostConnectionWakesTheWatchFdOnce) {
    TestXenstored server;
    auto xs = server.guest();
    ASSERT_TRUE(xs->watch("data", "d").ok());
    ASSERT_EQ(wait_events(*xs, 1).size(), 1u);
    server.stop();
    ASSERT_TRUE(readable(xs->watch_fd(), 3000));
    auto r = xs->read_watch_events();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ECONNRESET);
    // Reported once: the fd goes quiet (no busy loop), calls keep failing.
    EXPECT_FALSE(readable(xs->watch_fd(), 100));
    EXPECT_FALSE(xs->read_watch_events().ok());
    auto w = xs->write("data/x", "1");
    ASSERT_FALSE(w.ok());
    EXPECT_THAT(w.error().message, HasSubstr("xenstore write data/x: connection lost"));
}

// A unix socket whose one connection is served by `script` on a thread.
class ScriptedPeer {
public:
    explicit ScriptedPeer(std::function<void(int)> script)
        : m_path((m_dir.path() / "peer.sock").string()) {
        m_listen = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        m_path.copy(addr.sun_path, m_path.size());
        if (m_listen < 0 ||
            ::bind(m_listen, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(m_listen, 1) != 0)
            throw std::runtime_error("scripted peer: listen");
        m_thread = std::thread([this, script = std::move(script)] {
            const int fd = ::accept(m_listen, nullptr, nullptr);
            if (fd < 0)
                return;
            timeval tv{5, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            script(fd);
            ::close(fd);
        });
    }
    ScriptedPeer(const ScriptedPeer&) = delete;
    ScriptedPeer& operator=(const ScriptedPeer&) = delete;
    ~ScriptedPeer() {
        ::shutdown(m_listen, SHUT_RDWR);
        m_thread.join();
        ::close(m_listen);
    }
    [[nodiscard]] std::unique_ptr<xen::XsClient> client() const {
        auto c = xen::XsClient::connect(m_path);
        if (!c)
            throw std::runtime_error(c.error().message);
        return std::move(c).value();
    }

    // One request from the client (blocking, bounded by SO_RCVTIMEO).
    static wire::Message recv_request(int fd) {
        wire::MessageBuffer buf;
        for (;;) {
            auto m = buf.next();
            if (m && m->has_value())
                return std::move(**m);
            char c[256];
            const ssize_t n = ::recv(fd, c, sizeof c, 0);
            if (n <= 0)
                return {};
            buf.append(std::string_view(c, static_cast<std::size_t>(n)));
        }
    }
    static void send_bytes(int fd, const std::string& bytes) {
        (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }

private:
    TempDir m_dir;
    std::string m_path;
    int m_listen = -1;
    std::thread m_thread;
};

TEST(XsClientPeer, EventBeforeTheReplyOnTheWireIsQueued) {
    ScriptedPeer peer([](int fd) {
        auto watch = ScriptedPeer::recv_request(fd);
        ScriptedPeer::send_bytes(fd, wire::encode(XS_WATCH, watch.req_id, "OK\0"s));
        auto req = ScriptedPeer::recv_request(fd);
        // Sent one byte at a time, the event first: the client must keep
        // the partial message and still find its reply.
        const std::string bytes = wire::encode(XS_WATCH_EVENT, 0, "data/x\0d\0"s) +
                                  wire::encode(XS_READ, req.req_id, "value");
        for (char c : bytes)
            ScriptedPeer::send_bytes(fd, std::string(1, c));
        (void)ScriptedPeer::recv_request(fd); // until the client goes
    });
    auto xs = peer.client();
    ASSERT_TRUE(xs->watch("data", "d").ok());
    EXPECT_EQ(xs->read("data/x").value(), "value");
    EXPECT_TRUE(readable(xs->watch_fd(), 0));
    auto evs = xs->read_watch_events().value();
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].path, "data/x");
}

TEST(XsClientPeer, OldKernelsWatchReplyWithReqIdZeroIsAccepted) {
    ScriptedPeer peer([](int fd) {
        (void)ScriptedPeer::recv_request(fd);
        ScriptedPeer::send_bytes(fd, wire::encode(XS_WATCH_EVENT, 0, "domid\0t\0"s) +
                                         wire::encode(XS_WATCH, 0, "OK\0"s));
        auto req = ScriptedPeer::recv_request(fd);
        ScriptedPeer::send_bytes(fd, wire::encode(XS_ERROR, req.req_id, "EWHATEVER\0"s));
        (void)ScriptedPeer::recv_request(fd);
    });
    auto xs = peer.client();
    ASSERT_TRUE(xs->watch("domid", "t").ok());
    auto r = xs->read("domid");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EIO); // an error name no table knows
    EXPECT_EQ(xs->read_watch_events().value().size(), 1u);
}

TEST(XsClientPeer, OversizedReplyIsAProtocolErrorNamingTheRequest) {
    ScriptedPeer peer([](int fd) {
        auto req = ScriptedPeer::recv_request(fd);
        ScriptedPeer::send_bytes(fd, raw_header(XS_READ, req.req_id, 100000) + "xx");
        (void)ScriptedPeer::recv_request(fd);
    });
    auto xs = peer.client();
    auto r = xs->read("device/vbd");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EPROTO);
    EXPECT_THAT(r.error().message, HasSubstr("xenstore read device/vbd: message of 100000 bytes"));
    // The stream is out of sync: everything after fails, nothing hangs.
    EXPECT_EQ(xs->read("device/vbd").error().code, EPROTO);
    EXPECT_FALSE(xs->read_watch_events().ok());
}

TEST(XsClientPeer, MalformedEventIsAnErrorAndTheConnectionGoesOn) {
    ScriptedPeer peer([](int fd) {
        auto w = ScriptedPeer::recv_request(fd);
        ScriptedPeer::send_bytes(fd, wire::encode(XS_WATCH, w.req_id, "OK\0"s) +
                                         wire::encode(XS_WATCH_EVENT, 0, "no-nul"));
        auto req = ScriptedPeer::recv_request(fd);
        ScriptedPeer::send_bytes(fd, wire::encode(XS_READ, req.req_id, "v"));
        (void)ScriptedPeer::recv_request(fd);
    });
    auto xs = peer.client();
    ASSERT_TRUE(xs->watch("data", "d").ok());
    ASSERT_TRUE(readable(xs->watch_fd(), 3000));
    auto evs = xs->read_watch_events();
    ASSERT_FALSE(evs.ok());
    EXPECT_EQ(evs.error().code, EPROTO);
    EXPECT_THAT(evs.error().message, HasSubstr("malformed watch event"));
    EXPECT_EQ(xs->read("data").value(), "v");
    EXPECT_TRUE(xs->read_watch_events().value().empty());
}

TEST(XsClientPeer, EndOfFileInTheMiddleOfAReplyIsConnectionReset) {
    ScriptedPeer peer([](int fd) {
        auto req = ScriptedPeer::recv_request(fd);
        ScriptedPeer::send_bytes(fd, raw_header(XS_READ, req.req_id, 10) + "abc");
    });
    auto xs = peer.client();
    auto r = xs->read("domid");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ECONNRESET);
    EXPECT_THAT(r.error().message, HasSubstr("xenstore read domid: connection lost"));
}

TEST(XsClientPeer, ReplyToAnotherRequestIsAProtocolError) {
    ScriptedPeer peer([](int fd) {
        auto req = ScriptedPeer::recv_request(fd);
        ScriptedPeer::send_bytes(fd, wire::encode(XS_READ, req.req_id + 5, "v"));
        (void)ScriptedPeer::recv_request(fd);
    });
    auto xs = peer.client();
    EXPECT_EQ(xs->read("domid").error().code, EPROTO);
}

} // namespace
} // namespace guardian::test
