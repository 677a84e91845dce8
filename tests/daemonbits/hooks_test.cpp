// The hook runner with real shell scripts in a temporary hook directory.
#include "guardian/hooks/hook_runner.hpp"

#include "guardian/core/message_ids.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace guardian::hooks {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::TempDir;

void write_script(const fs::path& p, const std::string& body, bool executable = true) {
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, executable ? fs::perms(0755) : fs::perms(0644));
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A process is gone when /proc has no entry or it is a zombie nobody reaps.
bool process_gone(const std::string& pid) {
    std::ifstream stat("/proc/" + pid + "/stat");
    if (!stat)
        return true;
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    return paren != std::string::npos && line.size() > paren + 2 && line[paren + 2] == 'Z';
}

TEST(HookNames, SkipsDotfilesBackupsAndPackageLeftovers) {
    EXPECT_TRUE(is_hook_name("50-postgresql"));
    EXPECT_TRUE(is_hook_name("10-log.sh"));
    EXPECT_TRUE(is_hook_name("dpkg-old-fashioned"));
    for (const char* bad :
         {"", ".hidden", ".50-x", "50-x~", "50-x.dpkg-old", "50-x.dpkg-new", "50-x.dpkg-dist",
          "50-x.dpkg-tmp", "50-x.dpkg-bak", "50-x.rpmnew", "50-x.rpmsave", "50-x.rpmorig",
          "50-x.ucf-old", "50-x.ucf-new", "50-x.ucf-dist"})
        EXPECT_FALSE(is_hook_name(bad)) << bad;
}

TEST(HookEvents, ArgumentNames) {
    EXPECT_EQ(to_string(HookEvent::pre_freeze), "pre-freeze");
    EXPECT_EQ(to_string(HookEvent::post_thaw), "post-thaw");
    EXPECT_EQ(to_string(HookEvent::restore), "restore");
    EXPECT_EQ(to_string(HookEvent::incident), "incident");
}

TEST(HookList, OrderAndSkipping) {
    TempDir tmp;
    const fs::path d = tmp.path();
    const std::string log = (d / "ran").string();
    const std::string body = "echo \"$(basename \"$0\")\" >> " + log;
    for (const char* name : {"50-c", "10-a", "2-b", "B-upper", "a-lower", "60-x.dpkg-old",
                             "60-x.dpkg-new", "60-x.dpkg-dist", "60-x.dpkg-tmp", "60-x.rpmnew",
                             "60-x.rpmsave", "60-x.rpmorig", "60-x~", ".60-hidden"})
        write_script(d / name, body);
    write_script(d / "70-not-executable", body, false);
    fs::create_directories(d / "80-a-directory");
    fs::create_symlink(d / "10-a", d / "90-link-to-a");
    fs::create_symlink(d / "missing", d / "95-dangling");
    fs::remove(d / "ran");

    auto names = list_hooks(d.string());
    ASSERT_TRUE(names.ok()) << names.error().message;
    const std::vector<std::string> expected = {"10-a",         "2-b",     "50-c",
                                               "90-link-to-a", "B-upper", "a-lower"};
    EXPECT_EQ(*names, expected);

    CapturingLogger log_sink;
    const auto results = run_hooks(d.string(), HookEvent::restore, HookOptions{}, log_sink);
    ASSERT_EQ(results.size(), expected.size());
    EXPECT_TRUE(all_ok(results));
    // 90-link-to-a runs the script of 10-a, which prints its own $0 name.
    EXPECT_EQ(slurp(log), "10-a\n2-b\n50-c\n90-link-to-a\nB-upper\na-lower\n");
}

TEST(HookList, MissingDirectoryHasNoHooks) {
    TempDir tmp;
    auto names = list_hooks((tmp.path() / "nope").string());
    ASSERT_TRUE(names.ok());
    EXPECT_TRUE(names->empty());
}

TEST(HookRun, ArgumentEnvironmentAndOutput) {
    TempDir tmp;
    const fs::path hook = tmp.path() / "10-args";
    write_script(hook, "echo \"argc=$# arg=$1 event=$GUARDIAN_EVENT dev=$GUARDIAN_DEVICES\"\n"
                       "echo to-stderr >&2\n"
                       "echo \"home=${HOME:-unset}\"\n"
                       "read line; echo \"stdin-rc=$?\"");
    HookOptions options;
    options.environment = {{"GUARDIAN_DEVICES", "/dev/xvda1 /dev/xvdb"}};
    const HookResult r = run_hook(hook.string(), HookEvent::pre_freeze, options);
    EXPECT_EQ(r.outcome, HookResult::Outcome::exited);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.name, "10-args");
    EXPECT_EQ(r.output, "argc=1 arg=pre-freeze event=pre-freeze dev=/dev/xvda1 /dev/xvdb\n"
                        "to-stderr\nhome=unset\nstdin-rc=1\n");
    EXPECT_FALSE(r.output_truncated);
}

TEST(HookRun, ExitCodesAndSignals) {
    TempDir tmp;
    write_script(tmp.path() / "exit3", "exit 3");
    write_script(tmp.path() / "killed", "kill -9 $$");
    HookResult r = run_hook((tmp.path() / "exit3").string(), HookEvent::incident, {});
    EXPECT_EQ(r.outcome, HookResult::Outcome::exited);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.describe(), "exit 3");

    r = run_hook((tmp.path() / "killed").string(), HookEvent::incident, {});
    EXPECT_EQ(r.outcome, HookResult::Outcome::signaled);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_EQ(r.describe(), "killed by signal 9");
}

TEST(HookRun, SignalMaskIsNotInherited) {
    // guardiand blocks signals for its event loop; a hook must still die of
    // SIGTERM when it does not handle it.
    sigset_t block;
    sigset_t old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
    TempDir tmp;
    write_script(tmp.path() / "term-self", "kill -TERM $$; sleep 5; exit 0");
    const HookResult r = run_hook((tmp.path() / "term-self").string(), HookEvent::restore, {});
    ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
    EXPECT_EQ(r.outcome, HookResult::Outcome::signaled);
    EXPECT_EQ(r.signal, SIGTERM);
}

TEST(HookRun, TimeoutKillsTheWholeProcessGroup) {
    TempDir tmp;
    const fs::path pidfile = tmp.path() / "child.pid";
    // The background child would outlive its parent without the group kill.
    write_script(tmp.path() / "slow",
                 "sleep 60 & echo $! > " + pidfile.string() + "\necho started\nsleep 60");
    HookOptions options;
    options.timeout = 300ms;
    options.kill_grace = 300ms;
    const HookResult r = run_hook((tmp.path() / "slow").string(), HookEvent::pre_freeze, options);
    EXPECT_EQ(r.outcome, HookResult::Outcome::timed_out);
    EXPECT_EQ(r.describe(), "timed out");
    EXPECT_GE(r.duration, 300ms);
    EXPECT_LT(r.duration, 3s);
    EXPECT_EQ(r.output, "started\n");
    const std::string child = slurp(pidfile).substr(0, slurp(pidfile).find('\n'));
    ASSERT_FALSE(child.empty());
    // The orphaned sleep is reparented and reaped asynchronously.
    for (int i = 0; i < 100 && !process_gone(child); ++i)
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(process_gone(child)) << "background child " << child << " survived";
}

TEST(HookRun, TimeoutEscalatesToSigkillWhenSigtermIsIgnored) {
    TempDir tmp;
    write_script(tmp.path() / "stubborn", "trap '' TERM\nwhile :; do sleep 0.05; done");
    HookOptions options;
    options.timeout = 200ms;
    options.kill_grace = 300ms;
    const HookResult r =
        run_hook((tmp.path() / "stubborn").string(), HookEvent::pre_freeze, options);
    EXPECT_EQ(r.outcome, HookResult::Outcome::timed_out);
    EXPECT_GE(r.duration, 500ms); // it waited out the grace period
    EXPECT_LT(r.duration, 3s);
}

TEST(HookRun, OutputIsBounded) {
    TempDir tmp;
    write_script(tmp.path() / "chatty", "yes 0123456789 | head -c 200000; exit 0");
    HookOptions options;
    options.output_limit = 1000;
    const HookResult r = run_hook((tmp.path() / "chatty").string(), HookEvent::restore, options);
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.output.size(), 1000u);
    EXPECT_TRUE(r.output_truncated);
    EXPECT_TRUE(r.output.starts_with("0123456789\n0123456789\n"));
}

TEST(HookRun, UnrunnableHookFailsToStart) {
    TempDir tmp;
    const fs::path bad = tmp.path() / "bad-interpreter";
    std::ofstream(bad) << "#!/nonexistent/interpreter\n";
    fs::permissions(bad, fs::perms(0755));
    const HookResult r = run_hook(bad.string(), HookEvent::restore, {});
    EXPECT_EQ(r.outcome, HookResult::Outcome::failed_to_start);
    EXPECT_NE(r.error.find("No such file or directory"), std::string::npos) << r.error;
    EXPECT_FALSE(r.ok());
}

TEST(HookRun, FailuresAreLoggedWithMessageIdAndLaterHooksStillRun) {
    TempDir tmp;
    write_script(tmp.path() / "10-fails", "echo db unreachable; exit 2");
    write_script(tmp.path() / "20-works", "echo fine");
    CapturingLogger log;
    const auto results = run_hooks(tmp.path().string(), HookEvent::pre_freeze, {}, log);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_FALSE(all_ok(results));
    EXPECT_TRUE(results[1].ok());
    const auto entries = log.entries();
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].priority, Priority::warning);
    EXPECT_TRUE(entries[0].message.starts_with("hook 10-fails pre-freeze: exit 2 after "));
    auto field = [](const CapturingLogger::Entry& e, const std::string& k) {
        for (const auto& [key, value] : e.fields)
            if (key == k)
                return value;
        return std::string("<absent>");
    };
    EXPECT_EQ(field(entries[0], "MESSAGE_ID"), message_id::hook_failed);
    EXPECT_EQ(field(entries[0], "GUARDIAN_HOOK_OUTPUT"), "db unreachable\n");
    EXPECT_EQ(field(entries[0], "GUARDIAN_HOOK_EVENT"), "pre-freeze");
    EXPECT_EQ(entries[1].priority, Priority::info);
    EXPECT_EQ(field(entries[1], "MESSAGE_ID"), "<absent>");
}

// Any program with its own arguments (guardiand runs journalctl this way
// around a freeze): argv as given, a clean environment without the hook's
// GUARDIAN_EVENT, the exit status reported.
TEST(ProgramRun, ArgumentsEnvironmentAndStatus) {
    const auto r = run_program(
        {"/bin/sh", "-c", "echo \"$0|$1|${GUARDIAN_EVENT-unset}|$X\"; exit 3", "first", "second"},
        HookOptions{2s, 1s, 1024, {{"X", "y"}}});
    EXPECT_EQ(r.outcome, HookResult::Outcome::exited);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.output, "first|second|unset|y\n");
    EXPECT_EQ(run_program({}, HookOptions{}).outcome, HookResult::Outcome::failed_to_start);
}

} // namespace
} // namespace guardian::hooks
