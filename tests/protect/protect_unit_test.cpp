// Pure parts of protect/: the on-disk patches (checked against the checksum
// formulas independently of the code under test where it matters), the root
// -last order, and the emergency sequence's order with recording fakes.
#include "guardian/core/incident.hpp"
#include "guardian/protect/fsck_mark.hpp"
#include "guardian/protect/protect_now.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <ext2fs/ext2fs.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

namespace guardian::test {
namespace {

namespace gp = guardian::protect;
using Block = std::array<std::byte, 1024>;

std::uint32_t be32(const Block& b, std::size_t at) {
    return std::to_integer<std::uint32_t>(b[at]) << 24 |
           std::to_integer<std::uint32_t>(b[at + 1]) << 16 |
           std::to_integer<std::uint32_t>(b[at + 2]) << 8 |
           std::to_integer<std::uint32_t>(b[at + 3]);
}
void set_be32(Block& b, std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i)
        b[at + i] = static_cast<std::byte>(v >> (24 - 8 * i));
}

Block journal_sb(std::uint32_t incompat) {
    Block b{};
    set_be32(b, 0x00, 0xC03B3998);
    set_be32(b, 0x04, 4); // v2 superblock
    set_be32(b, 0x0C, 4096);
    set_be32(b, 0x28, incompat);
    return b;
}

TEST(JournalPatch, SetsErrnoAndAValidV3Checksum) {
    Block b = journal_sb(0x10);
    ASSERT_TRUE(gp::patch_journal_superblock(b).ok());
    EXPECT_EQ(static_cast<std::int32_t>(be32(b, 0x20)), -EIO);
    // Independent check: crc32c(~0) over the block with the field zeroed.
    Block copy = b;
    set_be32(copy, 0xFC, 0);
    EXPECT_EQ(be32(b, 0xFC),
              ext2fs_crc32c_le(~0u, reinterpret_cast<const unsigned char*>(copy.data()), 1024));
}

TEST(JournalPatch, NoChecksumWithoutCsumFeature) {
    Block b = journal_sb(0);
    ASSERT_TRUE(gp::patch_journal_superblock(b).ok());
    EXPECT_EQ(static_cast<std::int32_t>(be32(b, 0x20)), -EIO);
    EXPECT_EQ(be32(b, 0xFC), 0u);
}

TEST(JournalPatch, RefusesSomethingThatIsNotAJournalSuperblock) {
    Block b{};
    EXPECT_FALSE(gp::patch_journal_superblock(b).ok());
    EXPECT_EQ(be32(b, 0x20), 0u) << "a refused patch must not touch the buffer";
}

TEST(SuperblockPatch, SetsErrorFlagKeepsOtherStateBitsAndChecksum) {
    Block b{};
    b[0x38] = std::byte{0x53};
    b[0x39] = std::byte{0xEF};
    b[0x3A] = std::byte{0x01}; // EXT2_VALID_FS
    b[0x64] = std::byte{0x00};
    b[0x65] = std::byte{0x04}; // ro_compat metadata_csum (0x400)
    ASSERT_TRUE(gp::patch_fs_superblock(b).ok());
    EXPECT_EQ(std::to_integer<unsigned>(b[0x3A]), 0x3u);
    const std::uint32_t expect =
        ext2fs_crc32c_le(~0u, reinterpret_cast<const unsigned char*>(b.data()), 0x3FC);
    const std::uint32_t stored = std::to_integer<std::uint32_t>(b[0x3FC]) |
                                 std::to_integer<std::uint32_t>(b[0x3FD]) << 8 |
                                 std::to_integer<std::uint32_t>(b[0x3FE]) << 16 |
                                 std::to_integer<std::uint32_t>(b[0x3FF]) << 24;
    EXPECT_EQ(stored, expect);
}

TEST(SuperblockPatch, RefusesBadMagic) {
    Block b{};
    EXPECT_FALSE(gp::patch_fs_superblock(b).ok());
}

TEST(RootLast, MovesRootToTheEndKeepingTheRest) {
    EXPECT_EQ(root_last({"/", "/home", "/srv"}), (std::vector<std::string>{"/home", "/srv", "/"}));
    EXPECT_EQ(root_last({"/a", "/b"}), (std::vector<std::string>{"/a", "/b"}));
}

// The emergency sequence against fakes that log every call in one list.
struct Log {
    std::vector<std::string> calls;
};
class FakeFs final : public gp::FsActions {
public:
    explicit FakeFs(Log& log, bool fail_shutdown = false) : m_log(log), m_fail(fail_shutdown) {}
    Result<gp::WriteStopMethod> stop_writes(const gp::WriteStopPlan& p) override {
        const std::string& m = p.mount_point;
        m_log.calls.push_back("shutdown " + m);
        if (m_fail)
            return Error{"shutdown " + m + ": injected", 5};
        if (p.method == gp::WriteStopMethod::none)
            return Error{"cannot stop writes to " + m + ": " + p.why, 25};
        return p.method;
    }
    Result<gp::FsckMarkMethod> mark(gp::FsckMarkPlan& plan) override {
        m_log.calls.push_back("mark " + plan.mount_point);
        return plan.method;
    }

private:
    Log& m_log;
    bool m_fail;
};
class FakeNotifier final : public gp::ProviderNotifier {
public:
    explicit FakeNotifier(Log& log) : m_log(log) {}
    Status report_incident(const IncidentRecord& r) override {
        m_log.calls.push_back("notify " + r.reason);
        return ok_status();
    }

private:
    Log& m_log;
};
class FakeRebooter final : public gp::Rebooter {
public:
    explicit FakeRebooter(Log& log) : m_log(log) {}
    Status reboot_now() override {
        m_log.calls.push_back("reboot");
        return ok_status();
    }

private:
    Log& m_log;
};

gp::FsckMarkPlan plan_for(const std::string& mount, gp::FsckMarkMethod method) {
    gp::FsckMarkPlan p;
    p.mount_point = mount;
    p.method = method;
    return p;
}

TEST(ProtectNow, NotifiesThenShutsDownRootLastThenMarksThenReboots) {
    Log log;
    FakeFs fs(log);
    FakeNotifier notifier(log);
    FakeRebooter rebooter(log);
    gp::EmergencyPlan plan;
    plan.filesystems.push_back(plan_for("/", gp::FsckMarkMethod::journal_errno));
    plan.filesystems.push_back(plan_for("/srv", gp::FsckMarkMethod::superblock_flag));
    IncidentRecord record;
    record.reason = "feature change on unsafe kernel";
    gp::protect_now(plan, {&notifier, nullptr, &fs, &rebooter, [] { return std::int64_t{7}; }},
                    record);
    EXPECT_EQ(log.calls,
              (std::vector<std::string>{"notify feature change on unsafe kernel", "shutdown /srv",
                                        "shutdown /", "mark /srv", "mark /", "reboot"}));
    ASSERT_EQ(record.steps.size(), 7u); // notify, kmsg (skipped), 2 shutdowns, 2 marks, reboot
    EXPECT_EQ(record.steps[1].outcome, StepOutcome::skipped);
    EXPECT_EQ(record.steps[5].method, "journal-errno");
    EXPECT_EQ(record.steps[6].step, IncidentStep::reboot);
    EXPECT_EQ(record.steps[6].monotonic_ns, 7);
}

TEST(ProtectNow, KernelErrorPathMarksComeBeforeTheShutdown) {
    Log log;
    FakeFs fs(log);
    FakeRebooter rebooter(log);
    gp::EmergencyPlan plan;
    plan.filesystems.push_back(plan_for("/srv", gp::FsckMarkMethod::kernel_error_path));
    IncidentRecord record;
    gp::protect_now(plan, {nullptr, nullptr, &fs, &rebooter, nullptr}, record);
    EXPECT_EQ(log.calls, (std::vector<std::string>{"mark /srv", "shutdown /srv", "reboot"}));
}

TEST(ProtectNow, AFailedStepIsRecordedAndTheSequenceGoesOn) {
    Log log;
    FakeFs fs(log, /*fail_shutdown=*/true);
    FakeRebooter rebooter(log);
    gp::EmergencyPlan plan;
    plan.filesystems.push_back(plan_for("/srv", gp::FsckMarkMethod::journal_errno));
    IncidentRecord record;
    gp::protect_now(plan, {nullptr, nullptr, &fs, &rebooter, nullptr}, record);
    EXPECT_EQ(log.calls, (std::vector<std::string>{"shutdown /srv", "mark /srv", "reboot"}));
    const auto shutdowns = record.of(IncidentStep::shutdown);
    ASSERT_EQ(shutdowns.size(), 1u);
    EXPECT_EQ(shutdowns[0]->outcome, StepOutcome::failed);
    EXPECT_NE(shutdowns[0]->detail.find("injected"), std::string::npos);
    EXPECT_FALSE(record.all_done());
    EXPECT_NE(describe(record).find("shutdown /srv: failed"), std::string::npos);
}

// Linux < 4.10 without errors=remount-ro: nothing stops writes without a
// sync, so the sequence says so and reboots at once, overriding the
// configured reboot policy (orderly would sync; none would keep writing).
TEST(ProtectNow, WritesThatCannotBeStoppedForceAnImmediateReboot) {
    for (const auto policy : {gp::RebootPolicy::orderly, gp::RebootPolicy::none}) {
        Log log;
        Log immediate_log;
        FakeFs fs(log);
        FakeRebooter configured(log);
        FakeRebooter immediate(immediate_log);
        gp::EmergencyPlan plan;
        plan.reboot = policy;
        plan.filesystems.push_back(plan_for("/srv", gp::FsckMarkMethod::journal_errno));
        gp::WriteStopPlan stop;
        stop.mount_point = "/srv";
        stop.method = gp::WriteStopMethod::none;
        stop.why = "no EXT4_IOC_SHUTDOWN";
        plan.filesystems.back().write_stop = stop;
        IncidentRecord record;
        gp::EmergencyPorts ports{nullptr, nullptr, &fs, &configured, nullptr};
        ports.immediate_rebooter = &immediate;
        gp::protect_now(plan, ports, record);
        EXPECT_EQ(log.calls, (std::vector<std::string>{"shutdown /srv", "mark /srv"}));
        EXPECT_EQ(immediate_log.calls, (std::vector<std::string>{"reboot"}));
        const auto shutdowns = record.of(IncidentStep::shutdown);
        ASSERT_EQ(shutdowns.size(), 1u);
        EXPECT_EQ(shutdowns[0]->outcome, StepOutcome::failed);
        EXPECT_EQ(shutdowns[0]->method, "none");
        EXPECT_NE(shutdowns[0]->detail.find("no EXT4_IOC_SHUTDOWN"), std::string::npos);
        const auto reboots = record.of(IncidentStep::reboot);
        ASSERT_EQ(reboots.size(), 1u);
        EXPECT_EQ(reboots[0]->method, "reboot(2): writes could not be stopped");
    }
}

// A device that stops answering (a xen-blkfront that hit a BUG during its
// reconnect, as the real-Xen rig showed): the step's thread never returns
// until released. The sequence must not wait for it.
class HangingFs final : public gp::FsActions {
public:
    explicit HangingFs(Log& log) : m_log(log) {}
    ~HangingFs() override { release(); }
    Result<gp::WriteStopMethod> stop_writes(const gp::WriteStopPlan& p) override {
        record("shutdown " + p.mount_point);
        if (p.mount_point == "/") {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_released; });
        }
        return p.method;
    }
    Result<gp::FsckMarkMethod> mark(gp::FsckMarkPlan& plan) override {
        record("mark " + plan.mount_point);
        return plan.method;
    }
    void release() {
        {
            std::lock_guard lock(m_mutex);
            m_released = true;
        }
        m_cv.notify_all();
    }

private:
    void record(std::string call) {
        std::lock_guard lock(m_mutex);
        m_log.calls.push_back(std::move(call));
    }
    Log& m_log;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_released = false;
};

TEST(ProtectNow, AStepThatHangsTimesOutAndTheRebootIsImmediate) {
    Log log;
    Log immediate_log;
    Log main_log; // written by this thread only: the hung step holds `log`
    HangingFs fs(log);
    FakeNotifier notifier(main_log);
    FakeRebooter orderly(main_log);
    FakeRebooter immediate(immediate_log);
    gp::EmergencyPlan plan;
    plan.reboot = gp::RebootPolicy::orderly;
    plan.step_deadline = std::chrono::milliseconds(200);
    plan.filesystems.push_back(plan_for("/", gp::FsckMarkMethod::journal_errno));
    plan.filesystems.push_back(plan_for("/srv", gp::FsckMarkMethod::journal_errno));
    IncidentRecord record;
    record.reason = "verdict";
    gp::EmergencyPorts ports{&notifier, nullptr, &fs, &orderly, nullptr};
    ports.immediate_rebooter = &immediate;
    const auto t0 = std::chrono::steady_clock::now();
    gp::protect_now(plan, ports, record);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(200));
    EXPECT_LT(took, std::chrono::seconds(5)); // not waiting for the hung step

    const auto shutdowns = record.of(IncidentStep::shutdown);
    ASSERT_EQ(shutdowns.size(), 2u);
    EXPECT_EQ(shutdowns[0]->target, "/srv");
    EXPECT_EQ(shutdowns[0]->outcome, StepOutcome::done);
    EXPECT_EQ(shutdowns[1]->target, "/");
    EXPECT_TRUE(shutdowns[1]->timed_out);
    EXPECT_EQ(shutdowns[1]->outcome, StepOutcome::failed);
    EXPECT_EQ(shutdowns[1]->detail, "timed out after 0.2 s (device not answering)");
    const auto marks = record.of(IncidentStep::fsck_mark);
    ASSERT_EQ(marks.size(), 2u);
    EXPECT_EQ(marks[0]->target, "/srv");
    EXPECT_EQ(marks[0]->outcome, StepOutcome::done);
    EXPECT_EQ(marks[1]->target, "/");
    EXPECT_EQ(marks[1]->outcome, StepOutcome::skipped);
    EXPECT_EQ(marks[1]->detail, "device not answering (an earlier step on it timed out)");
    EXPECT_EQ(timed_out_steps(record), "shutdown /");
    // The provider hears twice: the verdict, then which steps timed out.
    ASSERT_EQ(record.of(IncidentStep::notify_provider).size(), 2u);
    EXPECT_EQ(record.of(IncidentStep::notify_provider)[1]->method, "steps timed out");
    // reboot(2) without sync instead of the configured orderly reboot.
    EXPECT_EQ(immediate_log.calls, (std::vector<std::string>{"reboot"}));
    EXPECT_EQ(record.of(IncidentStep::reboot)[0]->method, "reboot(2): a step timed out");
    EXPECT_EQ(main_log.calls, (std::vector<std::string>{"notify verdict", "notify verdict"}));

    // The abandoned thread finishes once the device answers, and says so.
    // (Threads that finished in time may still be counting down.)
    EXPECT_GE(gp::step_threads_running(), 1);
    fs.release();
    for (int i = 0; i < 500 && gp::step_threads_running() != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(gp::step_threads_running(), 0);
}

TEST(ProtectNow, TheWriteStopMethodUsedIsRecorded) {
    Log log;
    FakeFs fs(log);
    FakeRebooter rebooter(log);
    gp::EmergencyPlan plan;
    plan.filesystems.push_back(plan_for("/srv", gp::FsckMarkMethod::journal_errno));
    plan.filesystems.push_back(plan_for("/", gp::FsckMarkMethod::journal_errno));
    gp::WriteStopPlan stop;
    stop.mount_point = "/srv";
    stop.method = gp::WriteStopMethod::kernel_error;
    plan.filesystems.front().write_stop = stop;
    IncidentRecord record;
    gp::protect_now(plan, {nullptr, nullptr, &fs, &rebooter, nullptr}, record);
    const auto shutdowns = record.of(IncidentStep::shutdown);
    ASSERT_EQ(shutdowns.size(), 2u);
    EXPECT_EQ(shutdowns[0]->method, "kernel-error"); // /srv, planned
    EXPECT_EQ(shutdowns[1]->method, "ioctl");        // /, no plan: the default
    EXPECT_EQ(record.of(IncidentStep::reboot)[0]->method, "reboot(2)");
}

TEST(ProtectNow, RebootNoneAndDisabledStepsAreSkippedNotRun) {
    Log log;
    FakeFs fs(log);
    gp::EmergencyPlan plan;
    plan.filesystems.push_back(plan_for("/srv", gp::FsckMarkMethod::journal_errno));
    plan.shutdown = false;
    plan.fsck_mark = false;
    plan.reboot = gp::RebootPolicy::none;
    IncidentRecord record;
    gp::protect_now(plan, {nullptr, nullptr, &fs, nullptr, nullptr}, record);
    EXPECT_TRUE(log.calls.empty());
    for (const auto& s : record.steps)
        EXPECT_EQ(s.outcome, StepOutcome::skipped) << to_string(s.step);
}

// A block path that writes other pages' contents (docs/design.md, "Writing
// nothing"): neither the shutdown (its journal abort writes) nor the mark
// runs, a kernel-error-path mark neither, and the reboot is reboot(2) at
// once whatever `reboot` says.
TEST(ProtectNow, WriteNothingSkipsEveryDiskStepAndRebootsAtOnce) {
    for (const auto policy : {gp::RebootPolicy::orderly, gp::RebootPolicy::immediate}) {
        Log log;
        Log immediate_log;
        FakeFs fs(log);
        FakeNotifier notifier(log);
        FakeRebooter configured(log);
        FakeRebooter immediate(immediate_log);
        gp::EmergencyPlan plan;
        plan.reboot = policy;
        plan.write_nothing = true;
        plan.write_nothing_why = "block path unsafe";
        plan.filesystems.push_back(plan_for("/", gp::FsckMarkMethod::journal_errno));
        plan.filesystems.push_back(plan_for("/srv", gp::FsckMarkMethod::kernel_error_path));
        IncidentRecord record;
        record.reason = "grants reused";
        gp::EmergencyPorts ports{&notifier, nullptr, &fs, &configured, nullptr};
        ports.immediate_rebooter = &immediate;
        gp::protect_now(plan, ports, record);
        EXPECT_EQ(log.calls, (std::vector<std::string>{"notify grants reused"}));
        EXPECT_EQ(immediate_log.calls, (std::vector<std::string>{"reboot"}));
        for (const auto step : {IncidentStep::shutdown, IncidentStep::fsck_mark}) {
            const auto steps = record.of(step);
            ASSERT_EQ(steps.size(), 2u) << to_string(step);
            EXPECT_EQ(steps[0]->target, "/srv"); // root last, as everywhere
            for (const auto* st : steps) {
                EXPECT_EQ(st->outcome, StepOutcome::skipped);
                EXPECT_EQ(st->detail, "block path unsafe");
            }
        }
        const auto reboots = record.of(IncidentStep::reboot);
        ASSERT_EQ(reboots.size(), 1u);
        EXPECT_EQ(reboots[0]->outcome, StepOutcome::done);
        EXPECT_EQ(reboots[0]->method, "reboot(2): nothing written");
    }
}

// If reboot(2) itself fails, writes must still stop: the shutdown runs (its
// one journal write is the lesser harm); the mark stays unwritten.
class FailingRebooter final : public gp::Rebooter {
public:
    Status reboot_now() override { return Error{"reboot: injected", 1}; }
};

TEST(ProtectNow, WriteNothingWhoseRebootFailsStopsWritesAfterAll) {
    Log log;
    FakeFs fs(log);
    FailingRebooter rebooter;
    gp::EmergencyPlan plan;
    plan.write_nothing = true;
    plan.write_nothing_why = "block path unsafe";
    plan.filesystems.push_back(plan_for("/", gp::FsckMarkMethod::journal_errno));
    IncidentRecord record;
    gp::protect_now(plan, {nullptr, nullptr, &fs, &rebooter, nullptr}, record);
    EXPECT_EQ(log.calls, (std::vector<std::string>{"shutdown /"}));
    const auto reboots = record.of(IncidentStep::reboot);
    ASSERT_EQ(reboots.size(), 1u);
    EXPECT_EQ(reboots[0]->outcome, StepOutcome::failed);
    const auto shutdowns = record.of(IncidentStep::shutdown);
    ASSERT_EQ(shutdowns.size(), 2u); // skipped, then run after the failed reboot
    EXPECT_EQ(shutdowns[1]->outcome, StepOutcome::done);
    for (const auto* m : record.of(IncidentStep::fsck_mark))
        EXPECT_EQ(m->outcome, StepOutcome::skipped);
}

// With no reboot configured the flag changes nothing: the daemon never sets
// it then, and the sequence would otherwise leave writes going.
TEST(ProtectNow, WriteNothingWithoutARebootStopsWrites) {
    Log log;
    FakeFs fs(log);
    gp::EmergencyPlan plan;
    plan.write_nothing = true;
    plan.reboot = gp::RebootPolicy::none;
    plan.filesystems.push_back(plan_for("/", gp::FsckMarkMethod::journal_errno));
    IncidentRecord record;
    gp::protect_now(plan, {nullptr, nullptr, &fs, nullptr, nullptr}, record);
    EXPECT_EQ(log.calls, (std::vector<std::string>{"shutdown /", "mark /"}));
}

TEST(OrderlyRebooter, RunsSystemctlRebootAndReportsItsFailure) {
    TempDir dir;
    const std::string log = (dir.path() / "args").string();
    const std::string ok_script = (dir.path() / "systemctl-ok").string();
    const std::string bad_script = (dir.path() / "systemctl-bad").string();
    ASSERT_EQ(run_command("printf '#!/bin/sh\\necho \"$@\" > " + log + "\\n' > " + ok_script +
                          " && printf '#!/bin/sh\\nexit 3\\n' > " + bad_script + " && chmod +x " +
                          ok_script + " " + bad_script)
                  .exit_code,
              0);
    gp::OrderlyRebooter good(ok_script);
    ASSERT_TRUE(good.reboot_now().ok());
    EXPECT_EQ(run_command("cat " + log).out, "reboot --no-wall\n");
    gp::OrderlyRebooter bad(bad_script);
    EXPECT_FALSE(bad.reboot_now().ok());
}

TEST(KmsgWriter, WritesOneCriticalLineUnderTheSystemRoot) {
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "dev");
    ASSERT_EQ(run_command("touch " + (dir.path() / "dev/kmsg").string()).exit_code, 0);
    Result<gp::KmsgWriter> w = gp::KmsgWriter::open(SystemRoot(dir.path().string()));
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE(w->write_line("first").ok());
    ASSERT_TRUE(w->write_line(std::string(5000, 'x')).ok()); // cut to one record
    const std::string text = run_command("cat " + (dir.path() / "dev/kmsg").string()).out;
    EXPECT_EQ(text.substr(0, 20), "<2>guardian: first\n<");
    EXPECT_LE(text.size(), 20u + 1024u);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

} // namespace
} // namespace guardian::test
