// The sd_notify protocol against a real datagram socket in a temp dir (and
// one in the abstract namespace), and sd_watchdog_enabled's rules.
#include "guardian/systemd/notify.hpp"
#include "tests/daemonbits/datagram_socket.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

namespace guardian::systemd {
namespace {

using test::DatagramSocket;
using test::TempDir;

// Sets $NOTIFY_SOCKET for one test and restores what was there.
class NotifySocketEnv {
public:
    explicit NotifySocketEnv(const std::string& value) {
        if (const char* old = std::getenv("NOTIFY_SOCKET"))
            m_saved = old;
        ::setenv("NOTIFY_SOCKET", value.c_str(), 1);
    }
    NotifySocketEnv(const NotifySocketEnv&) = delete;
    NotifySocketEnv& operator=(const NotifySocketEnv&) = delete;
    ~NotifySocketEnv() {
        if (m_saved.empty())
            ::unsetenv("NOTIFY_SOCKET");
        else
            ::setenv("NOTIFY_SOCKET", m_saved.c_str(), 1);
    }

private:
    std::string m_saved;
};

TEST(Notify, ReadyAndStatusArriveAsOneDatagram) {
    TempDir tmp;
    const std::string path = (tmp.path() / "notify").string();
    DatagramSocket socket(path);
    ASSERT_TRUE(socket.ok());
    NotifySocketEnv env(path);
    notify_ready("watching for restores");
    EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=watching for restores");
    notify_status("taking the baseline");
    EXPECT_EQ(socket.receive(), "STATUS=taking the baseline");
    notify_stopping();
    EXPECT_EQ(socket.receive(), "STOPPING=1");
    notify_watchdog();
    EXPECT_EQ(socket.receive(), "WATCHDOG=1");
}

TEST(Notify, AbstractSocketName) {
    const std::string name = "@guardian-notify-test-" + std::to_string(std::random_device{}());
    DatagramSocket socket(name);
    ASSERT_TRUE(socket.ok());
    NotifySocketEnv env(name);
    ASSERT_TRUE(notify("READY=1"));
    EXPECT_EQ(socket.receive(), "READY=1");
}

TEST(Notify, NoSocketIsANoOpAndAMissingOneAnError) {
    {
        NotifySocketEnv env("");
        EXPECT_TRUE(notify("READY=1"));
    }
    TempDir tmp;
    NotifySocketEnv env((tmp.path() / "nobody-listens").string());
    const Status st = notify("READY=1");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ENOENT);
    NotifySocketEnv relative("relative/path");
    EXPECT_FALSE(notify("READY=1"));
}

TEST(Watchdog, EnabledOnlyForUsAndWithAnInterval) {
    const pid_t me = 4242;
    EXPECT_EQ(parse_watchdog("30000000", nullptr, me), std::chrono::seconds(30));
    EXPECT_EQ(parse_watchdog("30000000", "4242", me), std::chrono::seconds(30));
    // WATCHDOG_PID names another process: a child that inherited the environment.
    EXPECT_EQ(parse_watchdog("30000000", "4243", me), std::nullopt);
    EXPECT_EQ(parse_watchdog("30000000", "x", me), std::nullopt);
    EXPECT_EQ(parse_watchdog(nullptr, nullptr, me), std::nullopt);
    EXPECT_EQ(parse_watchdog("0", nullptr, me), std::nullopt);
    EXPECT_EQ(parse_watchdog("", nullptr, me), std::nullopt);
    EXPECT_EQ(parse_watchdog("12s", nullptr, me), std::nullopt);
    EXPECT_EQ(parse_watchdog("-5", nullptr, me), std::nullopt);
}

} // namespace
} // namespace guardian::systemd
