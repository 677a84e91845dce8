// What only the real guardiand process can show: a malformed configuration
// stops it from starting, a SIGKILL while the filesystems are frozen
// does not leave them frozen (the freeze guard thaws them), and what it
// tells systemd over $NOTIFY_SOCKET (status, ready, watchdog, stopping).
#include "tests/daemon/daemon_harness.hpp"
#include "tests/daemonbits/datagram_socket.hpp"
#include "tests/protect/fs_fixture.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <future>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace guardian::test {
namespace {

TEST(DaemonProcess, MalformedConfigRefusesToStartNamingFileAndLine) {
    FakeRoot root;
    root.write_config("# guardian\npolicy = protect\nfrobnicate = yes\nreboot = sometimes\n");
    const auto r =
        run_command(std::string(GUARDIAND) + " --foreground --no-mlock --root " + root.path());
    EXPECT_NE(r.exit_code, 0);
    const std::string conf = root.path() + "/etc/guardian/guardian.conf";
    EXPECT_NE(r.err.find(conf + ":3: unknown option 'frobnicate'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(conf + ":4: bad value 'sometimes' for 'reboot'"), std::string::npos)
        << r.err;
    // --check-config says the same and exits non-zero; a good file passes.
    const auto check =
        run_command(std::string(GUARDIAND) + " --check-config --root " + root.path());
    EXPECT_NE(check.exit_code, 0);
    root.write_config("policy = observe\n");
    EXPECT_EQ(
        run_command(std::string(GUARDIAND) + " --check-config --root " + root.path()).exit_code, 0);
}

TEST(DaemonProcess, SigkillWhileFrozenStillThaws) {
    GUARDIAN_SKIP_WITHOUT_LOOP();
    LoopFs fs("mkfs.ext4 -q -F -O metadata_csum", 64);
    fs.mount();
    TestXenstored xsd;
    FakeRoot root;
    root.write_config("guard = " + fs.mount_point() + "\nkmsg_window = 0s\nrisk_table = " +
                      (source_dir() / "data/kernel-risk.json").string() +
                      "\nhook_dir = " + root.path() + "/etc/guardian/hooks.d\n");
    Guardiand daemon(root.path(), xsd.guest_socket());
    ASSERT_TRUE(
        wait_until([&] { return xsd.read("/local/domain/7/data/guardian/state") == "watching"; },
                   std::chrono::seconds(20)))
        << xsd.read("/local/domain/7/data/guardian/state");
    ASSERT_TRUE(xsd.dom0().write("/local/domain/7/data/guardian/request", "freeze 300 k1"));
    ASSERT_TRUE(
        wait_until([&] { return xsd.read("/local/domain/7/data/guardian/freeze") == "frozen k1"; },
                   std::chrono::seconds(20)))
        << xsd.read("/local/domain/7/data/guardian/freeze");

    // A writer blocks on the frozen filesystem...
    auto writer = std::async(std::launch::async, [&] {
        write_file_synced(fs.path("during-freeze.txt"), "blocked until thawed");
        return true;
    });
    EXPECT_EQ(writer.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout)
        << "the filesystem was not frozen";
    // ...and completes after the daemon is killed outright: the guard thawed.
    const auto killed = std::chrono::steady_clock::now();
    daemon.kill9();
    ASSERT_EQ(writer.wait_for(std::chrono::seconds(15)), std::future_status::ready)
        << "still frozen 15 s after SIGKILL";
    EXPECT_TRUE(writer.get());
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - killed)
                        .count();
    RecordProperty("sigkill_to_thaw_ms", static_cast<int>(ms));
    EXPECT_EQ(read_file(fs.path("during-freeze.txt")), "blocked until thawed");
}

TEST(DaemonProcess, TellsSystemdStatusReadyWatchdogAndStopping) {
    TestXenstored xsd;
    FakeRoot root;
    root.write_config("risk_table = " + (source_dir() / "data/kernel-risk.json").string() + "\n");
    TempDir tmp;
    const std::string socket_path = (tmp.path() / "notify").string();
    DatagramSocket notify(socket_path);
    ASSERT_TRUE(notify.ok());
    // 400 ms: a ping every 200 ms; no WATCHDOG_PID, so it is meant for guardiand.
    Guardiand daemon(root.path(), xsd.guest_socket(),
                     {{"NOTIFY_SOCKET", socket_path}, {"WATCHDOG_USEC", "400000"}});
    std::vector<std::string> got;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int pings = 0;
    while (pings < 3 && std::chrono::steady_clock::now() < until)
        if (auto d = notify.receive(1000)) {
            got.push_back(*d);
            pings += *d == "WATCHDOG=1" ? 1 : 0;
        }
    ASSERT_GE(got.size(), 4u);
    EXPECT_EQ(got[0], "STATUS=taking the baseline");
    EXPECT_EQ(got[1], "READY=1\nSTATUS=watching for restores");
    EXPECT_EQ(pings, 3);
    const int status = daemon.terminate();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    std::optional<std::string> last;
    while (auto d = notify.receive(200))
        last = d;
    EXPECT_EQ(last, "STOPPING=1");
}

} // namespace
} // namespace guardian::test
