// guardianctl status / history / sleep-hook as a user runs them: the real
// binary on a fake system root (proc, run/guardian, var/lib/guardian). The
// sleep hook signals a real process standing in for guardiand.
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

class Guardianctl : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(root() / "proc/sys/kernel");
        fs::create_directories(root() / "proc/self");
        std::ofstream(root() / "proc/sys/kernel/osrelease") << "6.1.0-27-amd64\n";
        std::ofstream(root() / "proc/version")
            << "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP "
               "PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)\n";
        std::ofstream(root() / "proc/self/mountinfo") << "";
    }
    fs::path root() const { return m_tmp.path() / "root"; }
    CommandResult ctl(const std::string& args) const {
        // XENSTORED_PATH at a socket that is not there: never the machine's xenstore.
        return run_command("XENSTORED_PATH=" + (m_tmp.path() / "no-xenstore").string() + " " +
                           GUARDIANCTL + " " + args + " --root " + root().string());
    }
    void write(const std::string& rel, const std::string& content) const {
        fs::create_directories((root() / rel).parent_path());
        std::ofstream(root() / rel) << content;
    }

    TempDir m_tmp;
};

TEST_F(Guardianctl, StatusSaysWhenGuardiandIsNotRunning) {
    const auto r = ctl("status");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("guardiand is not running (no /run/guardian/state.json)"),
              std::string::npos)
        << r.out;
    const auto j = ctl("status --json");
    ASSERT_EQ(j.exit_code, 0) << j.err;
    const auto parsed = nlohmann::json::parse(j.out);
    EXPECT_EQ(parsed["guardiand"]["state_file_present"], false);
}

TEST_F(Guardianctl, StatusShowsGuardiandsStateVerdictAndIncident) {
    const nlohmann::json state{
        {"state", "watching"},
        {"kernel", "6.1.0-27-amd64"},
        {"suspend_safety", "safe"},
        {"suspend_reason", "fixed"},
        {"filesystems", {{{"device", "/dev/xvdb"}, {"mount_point", "/srv"}, {"uuid", "u-1"}}}},
        {"last_restore", "2026-11-21T09:59:58Z"},
        {"last_verification",
         {{"time", "2026-11-21T10:00:00Z"},
          {"verdict", "warning"},
          {"reasons", {"feature-persistent changed on a fixed kernel"}},
          {"affected", nlohmann::json::array()},
          {"coordinated", false},
          {"filesystems", nlohmann::json::array()}}},
        {"incident", {{"reason", "an earlier one"}, {"steps", nlohmann::json::array()}}}};
    write("run/guardian/state.json", state.dump(1));
    const auto r = ctl("status");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* expected :
         {"guardiand: watching", "guarding /dev/xvdb on /srv", "last restore: 2026-11-21T09:59:58Z",
          "warning   restore      feature-persistent changed on a fixed kernel",
          "INCIDENT: an earlier one"})
        EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
    const auto j = ctl("status --json");
    ASSERT_EQ(j.exit_code, 0) << j.err;
    const auto parsed = nlohmann::json::parse(j.out);
    EXPECT_EQ(parsed["guardiand"]["state"], state);

    write("run/guardian/state.json", "{ truncated");
    const auto bad = ctl("status");
    EXPECT_EQ(bad.exit_code, 0) << bad.err;
    EXPECT_NE(bad.out.find("state.json is unreadable"), std::string::npos) << bad.out;
}

TEST_F(Guardianctl, HistoryListsNewestLastAndReportsMalformedLines) {
    EXPECT_NE(ctl("history").out.find("no verification recorded yet"), std::string::npos);
    std::string lines;
    for (int i = 1; i <= 5; ++i)
        lines +=
            nlohmann::json{{"time", "t" + std::to_string(i)},
                           {"verdict", i == 5 ? "critical" : "healthy"},
                           {"reasons", i == 5 ? nlohmann::json{"bad"} : nlohmann::json::array()},
                           {"coordinated", i == 4}}
                .dump() +
            "\n";
    lines.insert(0, "garbage line\n");
    write("var/lib/guardian/history.jsonl", lines + "{\"half\": ");
    const auto r = ctl("history --limit 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "t4  healthy   coordinated  -\n"
                     "t5  critical  restore      bad\n");
    EXPECT_NE(r.err.find("history.jsonl:1: not valid JSON; skipped"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("history.jsonl:7: not valid JSON; skipped"), std::string::npos) << r.err;

    const auto j = ctl("history --json --limit 0");
    ASSERT_EQ(j.exit_code, 0) << j.err;
    const auto parsed = nlohmann::json::parse(j.out);
    EXPECT_EQ(parsed["entries"].size(), 5u);
    EXPECT_EQ(parsed["entries"][4]["verdict"], "critical");
    EXPECT_EQ(parsed["malformed"].size(), 2u);
    EXPECT_EQ(parsed["malformed"][1]["line"], 7);
}

TEST_F(Guardianctl, SleepHookWithoutGuardiandExitsZero) {
    auto r = ctl("sleep-hook pre suspend");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.err.find("nothing to tell"), std::string::npos) << r.err;
    write("run/guardian/guardiand.pid", "not-a-pid\n");
    r = ctl("sleep-hook post hibernate");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.err.find("not a pid"), std::string::npos) << r.err;
    // Bad usage is refused (the hook script only passes pre|post).
    EXPECT_NE(ctl("sleep-hook sideways").exit_code, 0);
}

// A shell standing in for guardiand: records which signal reached it.
class FakeDaemon {
public:
    explicit FakeDaemon(const fs::path& out) {
        m_pid = ::fork();
        if (m_pid == 0) {
            const std::string script = "trap 'echo USR1 >> " + out.string() +
                                       "' USR1; trap 'echo USR2 >> " + out.string() +
                                       "' USR2; i=0; while [ $i -lt 300 ]; do sleep 0.05; "
                                       "i=$((i+1)); done";
            ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        // Let the shell install its traps before anyone signals it.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    ~FakeDaemon() {
        ::kill(m_pid, SIGKILL);
        ::waitpid(m_pid, nullptr, 0);
    }
    [[nodiscard]] pid_t pid() const { return m_pid; }

private:
    pid_t m_pid = -1;
};

std::string wait_for_lines(const fs::path& p, std::size_t n) {
    for (int i = 0; i < 100; ++i) {
        std::ifstream in(p);
        std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')) >= n)
            return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
}

TEST_F(Guardianctl, SleepHookSignalsGuardiandPreUsr1PostUsr2) {
    const fs::path out = m_tmp.path() / "signals";
    FakeDaemon daemon(out);
    const std::string pid = std::to_string(daemon.pid());
    write("run/guardian/guardiand.pid", pid + "\n");
    write("proc/" + pid + "/comm", "guardiand\n");
    auto r = ctl("sleep-hook pre suspend");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("going to sleep (suspend)"), std::string::npos) << r.out;
    EXPECT_EQ(wait_for_lines(out, 1), "USR1\n");
    r = ctl("sleep-hook post");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("resumed (suspend)"), std::string::npos) << r.out;
    EXPECT_EQ(wait_for_lines(out, 2), "USR1\nUSR2\n");
}

TEST_F(Guardianctl, SleepHookNeverSignalsAProcessThatReusedAStalePid) {
    const fs::path out = m_tmp.path() / "signals";
    FakeDaemon other(out);
    const std::string pid = std::to_string(other.pid());
    write("run/guardian/guardiand.pid", pid + "\n");
    write("proc/" + pid + "/comm", "postgres\n");
    const auto r = ctl("sleep-hook pre suspend");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.err.find("not guardiand"), std::string::npos) << r.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(fs::exists(out));
}

TEST(SleepHookScript, CallsGuardianctlWithPhaseAndKind) {
    // The installed hook (systemd/system-sleep/guardian) and this command
    // must agree on the interface: `guardianctl sleep-hook pre|post KIND`.
    std::ifstream in(std::string(GUARDIAN_SOURCE_DIR) + "/systemd/system-sleep/guardian");
    const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(s.find("/usr/bin/guardianctl sleep-hook \"$1\" \"${2:-suspend}\" || true"),
              std::string::npos);
    EXPECT_NE(s.find("exit 0"), std::string::npos);
}

} // namespace
} // namespace guardian::test
