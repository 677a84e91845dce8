// guardianctl sleep-hook against the real guardiand: the daemon publishes its
// pid file once SIGUSR1/SIGUSR2 are handled, survives "pre", verifies after
// "post" (a history line, shown by guardianctl history), and removes the pid
// file when stopped.
#include "tests/support/test_env.hpp"
#include "tests/xen/xenstore_server_fixture.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

TEST(SleepHookDaemon, PreKeepsGuardiandRunningPostMakesItVerify) {
    TempDir tmp;
    const fs::path root = tmp.path() / "root";
    // The real /proc, /sys, /dev: the hook checks /proc/PID/comm of the daemon.
    fs::create_directories(root);
    for (const char* d : {"proc", "sys", "dev"})
        fs::create_directory_symlink(std::string("/") + d, root / d);
    fs::create_directories(root / "etc/guardian");
    std::ofstream(root / "etc/guardian/guardian.conf")
        << "kmsg_window = 0s\nrisk_table = " << GUARDIAN_SOURCE_DIR
        << "/data/kernel-risk.json\nhook_dir = " << (root / "etc/guardian/hooks.d").string()
        << "\n";
    TestXenstored xsd;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::setenv("XENSTORED_PATH", xsd.guest_socket().c_str(), 1);
        ::execl(GUARDIAND, GUARDIAND, "--foreground", "--no-mlock", "--root", root.c_str(),
                "--freeze-guard", GUARDIAN_FREEZE_GUARD, static_cast<char*>(nullptr));
        ::_exit(127);
    }
    struct Stop {
        pid_t pid;
        ~Stop() {
            if (pid > 0) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
        }
    } stop{pid};

    const fs::path pid_file = root / "run/guardian/guardiand.pid";
    ASSERT_TRUE(wait_until([&] { return fs::exists(pid_file); }, std::chrono::seconds(20)))
        << "guardiand wrote no pid file";
    std::ifstream(pid_file) >> stop.pid; // checked below against the child
    EXPECT_EQ(stop.pid, pid);
    stop.pid = pid;

    const std::string ctl = std::string(GUARDIANCTL) + " ";
    auto r = run_command(ctl + "sleep-hook pre suspend --root " + root.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("told guardiand (pid " + std::to_string(pid) + "): going to sleep"),
              std::string::npos)
        << r.out << r.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "SIGUSR1 ended guardiand";

    r = run_command(ctl + "sleep-hook post suspend --root " + root.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path history = root / "var/lib/guardian/history.jsonl";
    ASSERT_TRUE(wait_until([&] { return fs::exists(history) && fs::file_size(history) > 0; },
                           std::chrono::seconds(30)))
        << "no verification after the resume notice";
    r = run_command(ctl + "history --root " + root.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("restore"), std::string::npos) << r.out;
    r = run_command(ctl + "status --root " + root.string());
    EXPECT_NE(r.out.find("last verification: "), std::string::npos) << r.out;

    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    stop.pid = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_FALSE(fs::exists(pid_file)) << "pid file left behind";
    // With the daemon gone the hook is a quiet no-op.
    r = run_command(ctl + "sleep-hook post --root " + root.string());
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.err.find("nothing to tell"), std::string::npos) << r.err;
}

} // namespace
} // namespace guardian::test
