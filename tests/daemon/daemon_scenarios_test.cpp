// guardiand's scenarios from the daemon issue, in-process: the Daemon with
// the wire-protocol test xenstored (the real libxenstore client), real ext4
// on a loop device, the real freeze guard and real ioctls; the clocks and
// timers are the test's, and the rebooter records instead of rebooting.
#include "guardian/boot/boot_history_file.hpp"
#include "guardian/daemon/daemon.hpp"
#include "tests/daemon/daemon_harness.hpp"
#include "tests/protect/fs_fixture.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <regex>
#include <string_view>
#include <unistd.h>

namespace guardian::test {
namespace {

using daemon::Daemon;
using daemon::TimerSlot;

KernelVerdict fixed_kernel() {
    return {Safety::safe, "", "6.1 has blkfront_gather_backend_features (4.2)", {}};
}

KernelVerdict unsafe_kernel() {
    return {Safety::unsafe,
            "xen-blkfront-feature-reread",
            "3.16 predates the 4.2 fix",
            {"feature-persistent", "feature-flush-cache", "feature-barrier", "feature-discard",
             "feature-max-indirect-segments"}};
}

// Flips one byte of block `block` on the device, underneath whatever the
// kernel has cached (O_DIRECT): what a dom0 edit of the image does while the
// domain is saved.
void flip_byte_on_disk(const std::string& device, std::uint64_t block, unsigned offset) {
    const int fd = ::open(device.c_str(), O_RDWR | O_DIRECT | O_SYNC);
    ASSERT_GE(fd, 0) << "open " << device << ": " << std::strerror(errno);
    void* buf = nullptr;
    ASSERT_EQ(::posix_memalign(&buf, 4096, 4096), 0);
    const auto off = static_cast<off_t>(block * 4096);
    ASSERT_EQ(::pread(fd, buf, 4096, off), 4096);
    static_cast<unsigned char*>(buf)[offset] ^= 0x5a;
    ASSERT_EQ(::pwrite(fd, buf, 4096, off), 4096);
    std::free(buf);
    ::close(fd);
}

std::uint64_t root_dir_block(const std::string& device) {
    const auto r = run_command("debugfs -R 'blocks /' " + device + " 2>/dev/null");
    return std::stoull(r.out);
}

// The guest's xenstore connection passed through, telling the test of each
// unwatch before it is sent: removing a watch is the request that a kernel
// whose xenwatch thread died can block for ever, so what must come before
// it is checked at that moment.
class UnwatchWitness final : public xen::XenStore {
public:
    explicit UnwatchWitness(std::unique_ptr<xen::XenStore> inner) : m_inner(std::move(inner)) {}
    std::function<void(std::string_view path)> on_unwatch;

    [[nodiscard]] Result<std::string> read(std::string_view path) override {
        return m_inner->read(path);
    }
    [[nodiscard]] Result<std::vector<std::string>> directory(std::string_view path) override {
        return m_inner->directory(path);
    }
    [[nodiscard]] Status write(std::string_view path, std::string_view value) override {
        return m_inner->write(path, value);
    }
    [[nodiscard]] Status remove(std::string_view path) override { return m_inner->remove(path); }
    [[nodiscard]] Status watch(std::string_view path, std::string_view token) override {
        return m_inner->watch(path, token);
    }
    [[nodiscard]] Status unwatch(std::string_view path, std::string_view token) override {
        if (on_unwatch)
            on_unwatch(path);
        return m_inner->unwatch(path, token);
    }
    [[nodiscard]] int watch_fd() const override { return m_inner->watch_fd(); }
    [[nodiscard]] Result<std::vector<xen::WatchEvent>> read_watch_events() override {
        return m_inner->read_watch_events();
    }

private:
    std::unique_ptr<xen::XenStore> m_inner;
};

class DaemonScenario : public ::testing::Test {
protected:
    void SetUp() override {
        GUARDIAN_SKIP_WITHOUT_LOOP();
        // 4 KiB blocks: flip_byte_on_disk() addresses blocks of that size.
        m_fs = std::make_unique<LoopFs>("mkfs.ext4 -q -F -b 4096 -O metadata_csum", 64);
        m_fs->mount();
        write_file_synced(m_fs->path("before.txt"), "written before the restore");
        m_xsd = std::make_unique<TestXenstored>();
        m_guest = std::make_unique<UnwatchWitness>(m_xsd->connect_guest());
    }

    void TearDown() override {
        m_daemon.reset(); // thaws anything still frozen (guard closes)
    }

    void start(KernelVerdict verdict, Policy policy = Policy::protect,
               const std::function<void(Config&)>& tweak = {}) {
        daemon::DaemonSettings s;
        s.config.guard = TargetList{false, {m_fs->mount_point()}};
        if (tweak)
            tweak(s.config);
        s.config.policy = policy;
        s.config.kmsg_window = Duration(0);
        s.config.hook_dir = m_root.path() + "/etc/guardian/hooks.d";
        s.kernel = {"6.1.0-18-amd64", std::nullopt};
        s.verdict = std::move(verdict);
        s.guard_exe = GUARDIAN_FREEZE_GUARD;
        s.journalctl = ""; // this machine's journald is not the guest's
        daemon::DaemonPorts ports{m_guest.get(),
                                  &m_clocks,
                                  &m_log,
                                  &m_timers,
                                  &m_rebooter,
                                  &m_fs_actions,
                                  SystemRoot(m_root.path()),
                                  nullptr,
                                  &m_halter};
        m_daemon = std::make_unique<Daemon>(ports, s);
        const auto st = m_daemon->start();
        ASSERT_TRUE(st.ok()) << st.error().message;
        ASSERT_EQ(m_daemon->guarded().size(), 1u);
    }

    bool pump(const std::function<bool()>& done) {
        return pump_until(
            m_guest->watch_fd(), [this] { m_daemon->on_xenstore_readable(); }, done);
    }

    // The toolstack saves the guest for a minute and restores it as domid 9,
    // on the given backend.
    void restore(const std::string& kind, const std::map<std::string, std::string>& features) {
        const auto before = m_daemon->verifications().size();
        m_xsd->populate(9, kind, features);
        m_clocks.suspend_for(std::chrono::seconds(60));
        const auto t0 = std::chrono::steady_clock::now();
        m_xsd->restore_as(9);
        ASSERT_TRUE(pump([&] { return m_daemon->verifications().size() > before; }))
            << "no verification after the restore";
        // A figure, not a target: the restore (test xenstored) -> full verdict.
        const auto took = std::chrono::steady_clock::now() - t0;
        std::printf("restore -> verdict: %.1f ms (%s)\n",
                    std::chrono::duration<double, std::milli>(took).count(), kind.c_str());
    }

    void request_freeze(const std::string& nonce) {
        ASSERT_TRUE(
            m_xsd->dom0().write("/local/domain/7/data/guardian/request", "freeze 60 " + nonce));
        ASSERT_TRUE(pump([&] { return m_daemon->frozen(); })) << "not frozen";
        EXPECT_EQ(m_xsd->read("/local/domain/7/data/guardian/freeze"), "frozen " + nonce);
    }

    [[nodiscard]] bool writable() const {
        const std::string p = m_fs->path("probe.txt");
        const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0)
            return false;
        const bool ok = ::write(fd, "x", 1) == 1 && ::fsync(fd) == 0;
        ::close(fd);
        return ok;
    }

    FakeRoot m_root;
    std::unique_ptr<LoopFs> m_fs;
    std::unique_ptr<TestXenstored> m_xsd;
    std::unique_ptr<UnwatchWitness> m_guest;
    ManualClocks m_clocks;
    ManualTimers m_timers;
    RecordingRebooter m_rebooter;
    RecordingHalter m_halter;
    protect::RealFsActions m_fs_actions;
    CapturingLogger m_log;
    std::unique_ptr<Daemon> m_daemon;
};

TEST_F(DaemonScenario, CleanRestoreIsHealthyWithNoAction) {
    start(fixed_kernel());
    restore("vbd", TestXenstored::blkback_features());
    const auto& v = m_daemon->verifications().back();
    EXPECT_EQ(v.result.verdict, Verdict::healthy) << v.result.summary();
    EXPECT_EQ(m_rebooter.calls, 0);
    EXPECT_FALSE(m_daemon->incident().has_value());
    EXPECT_TRUE(writable());
    // The report was written again at the new home (a restore drops data/).
    EXPECT_EQ(m_xsd->read("/local/domain/9/data/guardian/state"), "watching");
    EXPECT_TRUE(std::regex_match(m_xsd->read("/local/domain/9/data/guardian/last-verification"),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ healthy)")));
    // Timing from detection: the features first, then the disk, then the verdict.
    const std::string timing =
        m_xsd->read("/local/domain/9/data/guardian/last-verification-timing");
    EXPECT_TRUE(std::regex_match(
        timing, std::regex(R"(detected \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z; )"
                           R"(features \+[0-9.]+ ms; first disk read \+[0-9.]+ ms; )"
                           R"(verdict \+[0-9.]+ ms)")))
        << timing;
    const std::string last = m_xsd->read("/local/domain/9/data/guardian/last-restore");
    // The clock jump decides first; the domid change shows among the changes.
    // Without CLOCK_BOOTTIME (an emulated 2.6.32) the jump is a weak
    // REALTIME-MONOTONIC step and a strong signal (data gone, domid) decides.
    EXPECT_NE(last.find(boottime_available() ? "clock-jump" : "wall-clock-step"), std::string::npos)
        << last;
    const std::string changes = m_xsd->read("/local/domain/9/data/guardian/last-restore-changes");
    EXPECT_NE(changes.find("domid 7->9"), std::string::npos) << changes;
    EXPECT_NE(changes.find("vbd/51712/backend-path"), std::string::npos) << changes;
    // One restore, one verification: the watches firing again afterwards
    // (xs_resume) are its echo, not a second restore.
    m_daemon->on_clock_set();
    (void)pump_until(
        m_guest->watch_fd(), [this] { m_daemon->on_xenstore_readable(); }, [] { return false; },
        std::chrono::milliseconds(500));
    EXPECT_EQ(m_daemon->verifications().size(), 1u);
}

TEST_F(DaemonScenario, FeatureChangeOnFixedKernelIsAWarningWithNoAction) {
    start(fixed_kernel());
    restore("qdisk", TestXenstored::qdisk_features());
    const auto& v = m_daemon->verifications().back();
    EXPECT_EQ(v.result.verdict, Verdict::warning) << v.result.summary();
    EXPECT_EQ(m_rebooter.calls, 0);
    EXPECT_TRUE(writable());
    const std::string changes = m_xsd->read("/local/domain/9/data/guardian/last-restore-changes");
    EXPECT_NE(changes.find("feature-persistent 1->-"), std::string::npos) << changes;
    EXPECT_NE(changes.find("feature-max-indirect-segments 256->-"), std::string::npos) << changes;
}

TEST_F(DaemonScenario, FeatureChangeOnUnsafeKernelActsInOrder) {
    start(unsafe_kernel());
    restore("qdisk", TestXenstored::qdisk_features());
    const auto& v = m_daemon->verifications().back();
    ASSERT_EQ(v.result.verdict, Verdict::critical) << v.result.summary();
    ASSERT_TRUE(m_daemon->incident().has_value());
    const auto& steps = m_daemon->incident()->steps;
    std::vector<IncidentStep> order;
    for (const auto& s : steps) {
        order.push_back(s.step);
        EXPECT_EQ(s.outcome, StepOutcome::done)
            << to_string(s.step) << " " << s.target << ": " << s.detail;
    }
    EXPECT_EQ(order, (std::vector<IncidentStep>{IncidentStep::notify_provider,
                                                IncidentStep::kmsg_line, IncidentStep::shutdown,
                                                IncidentStep::fsck_mark, IncidentStep::reboot}));
    EXPECT_EQ(m_rebooter.calls, 1);
    EXPECT_EQ(m_xsd->read("/local/domain/9/data/guardian/state"), "incident");
    // The block-protocol verdict alone decided: nothing read through it.
    EXPECT_NE(
        m_xsd->read("/local/domain/9/data/guardian/last-verification-timing").find("no disk read"),
        std::string::npos);
    EXPECT_NE(m_xsd->read("/local/domain/9/data/guardian/incident").find("feature-persistent"),
              std::string::npos);
    EXPECT_FALSE(writable()); // EXT4_IOC_SHUTDOWN: every write fails
    // The next boot's e2fsck (Debian 12's) replays the journal and still
    // runs the full check.
    m_fs->umount();
    const auto fsck = run_command("e2fsck -p " + m_fs->device() + " 2>&1");
    EXPECT_NE(fsck.out.find("check forced"), std::string::npos) << fsck.out;
}

// The 2021 incident's direction: qdisk -> blkback on a kernel without the
// re-read fix. blkback newly offers persistent grants, the frontend goes on
// without them, and one older than 5.17 reuses the grants blkback keeps
// mapped: every write may carry another page. So nothing is written, not
// even the shutdown's journal abort or the fsck mark; the provider is told
// to check from outside and the reboot is immediate (docs/design.md,
// "Writing nothing").
TEST_F(DaemonScenario, PersistentGrantsNewlyOfferedOnAnUnsafeKernelWriteNothing) {
    m_xsd->populate(7, "qdisk", TestXenstored::qdisk_features());
    start(unsafe_kernel());
    // What had happened when every other process was stopped: nothing.
    std::size_t logged_at_stop = 0;
    std::string state_at_stop = "?";
    m_halter.on_stop = [&] {
        logged_at_stop = m_log.entries().size();
        state_at_stop = m_xsd->read("/local/domain/9/data/guardian/state");
    };
    const std::size_t logged_before = m_log.entries().size();
    restore("vbd", TestXenstored::blkback_features());
    EXPECT_EQ(m_halter.stops, 1);
    EXPECT_EQ(m_halter.continues, 0); // the reboot came
    // Before the verdict was logged and before anything was published at
    // the new home. What came before is the restore watch's notices (the
    // restore noticed, what changed): journald syncs its files at once only
    // for crit and above, so nothing of it is forced through the disk.
    const auto entries = m_log.entries();
    ASSERT_GT(logged_at_stop, logged_before);
    for (std::size_t i = logged_before; i < logged_at_stop; ++i) {
        EXPECT_GE(entries[i].priority, Priority::notice) << entries[i].message;
        EXPECT_EQ(entries[i].message.find("verification"), std::string::npos) << entries[i].message;
    }
    EXPECT_EQ(state_at_stop.rfind("<absent", 0), 0u) << state_at_stop;
    const auto& v = m_daemon->verifications().back();
    ASSERT_EQ(v.result.verdict, Verdict::critical) << v.result.summary();
    EXPECT_TRUE(v.result.block_path_writes_unsafe);
    ASSERT_TRUE(m_daemon->incident().has_value());
    std::vector<std::pair<IncidentStep, StepOutcome>> steps;
    for (const auto& st : m_daemon->incident()->steps)
        steps.emplace_back(st.step, st.outcome);
    EXPECT_EQ(steps, (std::vector<std::pair<IncidentStep, StepOutcome>>{
                         {IncidentStep::stop_processes, StepOutcome::done},
                         {IncidentStep::notify_provider, StepOutcome::done},
                         {IncidentStep::kmsg_line, StepOutcome::done},
                         {IncidentStep::shutdown, StepOutcome::skipped},
                         {IncidentStep::fsck_mark, StepOutcome::skipped},
                         {IncidentStep::reboot, StepOutcome::done}}));
    EXPECT_EQ(m_daemon->incident()->steps.back().method, "reboot(2): nothing written");
    EXPECT_EQ(m_rebooter.calls, 1);
    const std::string incident = m_xsd->read("/local/domain/9/data/guardian/incident");
    EXPECT_NE(incident.find("nothing written to " + m_fs->mount_point()), std::string::npos)
        << incident;
    EXPECT_NE(incident.find("run e2fsck -f on them from outside"), std::string::npos) << incident;
    EXPECT_NE(incident.find("every other process stopped at the restore"), std::string::npos)
        << incident;
    // Nothing was done to the filesystem: no shutdown, and no mark, so the
    // next boot's preen alone would not force the check (the provider does).
    EXPECT_TRUE(writable());
    m_fs->umount();
    const auto fsck = run_command("e2fsck -p " + m_fs->device() + " 2>&1");
    EXPECT_EQ(fsck.out.find("check forced"), std::string::npos) << fsck.out;
}

// reboot(2) refused: the writes are stopped after all (ext4's shutdown), and
// only then do the processes stopped at the restore go on.
TEST_F(DaemonScenario, WriteNothingWhoseRebootFailsStopsWritesThenContinuesProcesses) {
    // errors=remount-ro: below Linux 4.10 (the old-kernel variants of this
    // file) ext4's error path is the one way to stop writes without a sync.
    m_fs->umount();
    m_fs->mount("errors=remount-ro");
    m_xsd->populate(7, "qdisk", TestXenstored::qdisk_features());
    start(unsafe_kernel());
    m_rebooter.fail = true;
    restore("vbd", TestXenstored::blkback_features());
    ASSERT_TRUE(m_daemon->incident().has_value());
    const auto& steps = m_daemon->incident()->steps;
    ASSERT_FALSE(steps.empty());
    EXPECT_EQ(steps.front().step, IncidentStep::stop_processes);
    EXPECT_EQ(steps.back().step, IncidentStep::continue_processes);
    EXPECT_EQ(steps.back().outcome, StepOutcome::done);
    const auto shutdowns = m_daemon->incident()->of(IncidentStep::shutdown);
    ASSERT_EQ(shutdowns.size(), 2u); // skipped for the reboot, then done when it failed
    EXPECT_EQ(shutdowns.back()->outcome, StepOutcome::done) << describe(*m_daemon->incident());
    EXPECT_EQ(m_halter.stops, 1);
    EXPECT_EQ(m_halter.continues, 1);
    EXPECT_FALSE(writable());
    EXPECT_TRUE(m_log.contains("processes stopped at the restore continued"));
}

// Observing, or with no reboot to end it, nothing is stopped: a stopped
// guest that never reboots would be a hung guest.
TEST_F(DaemonScenario, WriteNothingVerdictStopsNoProcessWhenObserving) {
    m_xsd->populate(7, "qdisk", TestXenstored::qdisk_features());
    start(unsafe_kernel(), Policy::observe);
    restore("vbd", TestXenstored::blkback_features());
    EXPECT_TRUE(m_daemon->verifications().back().result.block_path_writes_unsafe);
    EXPECT_EQ(m_halter.stops, 0);
}

TEST_F(DaemonScenario, WriteNothingVerdictStopsNoProcessWithoutAReboot) {
    m_fs->umount();
    m_fs->mount("errors=remount-ro"); // writes stoppable on the old-kernel variants too
    m_xsd->populate(7, "qdisk", TestXenstored::qdisk_features());
    start(unsafe_kernel(), Policy::protect, [](Config& c) { c.reboot = RebootMode::none; });
    restore("vbd", TestXenstored::blkback_features());
    EXPECT_TRUE(m_daemon->verifications().back().result.block_path_writes_unsafe);
    ASSERT_TRUE(m_daemon->incident().has_value());
    EXPECT_EQ(m_halter.stops, 0);
    EXPECT_EQ(m_rebooter.calls, 0);
}

TEST_F(DaemonScenario, VerdictAndEmergencyComeBeforeTheOldBackendIsUnwatched) {
    struct AtUnwatch {
        std::string path;
        int reboots;
        std::string verification;
    };
    std::vector<AtUnwatch> seen;
    m_guest->on_unwatch = [&](std::string_view path) {
        seen.push_back({std::string(path), m_rebooter.calls,
                        m_xsd->read("/local/domain/9/data/guardian/last-verification")});
    };
    start(unsafe_kernel());
    restore("qdisk", TestXenstored::qdisk_features());
    ASSERT_EQ(seen.size(), 1u); // the vbds reconnected: the old path's watch goes
    EXPECT_EQ(seen[0].path, "/local/domain/0/backend/vbd/7/51712");
    EXPECT_EQ(seen[0].reboots, 1);
    EXPECT_NE(seen[0].verification.find(" critical"), std::string::npos) << seen[0].verification;
}

TEST_F(DaemonScenario, RestoreWhoseVbdNeverConnectsIsJudgedAndKeepsItsWatches) {
    int unwatches = 0;
    m_guest->on_unwatch = [&](std::string_view) { ++unwatches; };
    start(unsafe_kernel());
    // The frontend stays in Initialised (3), as a blkfront that died in its
    // reconnect leaves it: only the settle timer finishes the restore.
    m_xsd->populate(9, "qdisk", TestXenstored::qdisk_features(), "3");
    m_clocks.suspend_for(std::chrono::seconds(60));
    m_xsd->restore_as(9);
    ASSERT_TRUE(pump([&] { return m_timers.pending(TimerSlot::settle); })) << "not settling";
    EXPECT_TRUE(m_daemon->verifications().empty());
    m_timers.fire(TimerSlot::settle);
    ASSERT_EQ(m_daemon->verifications().size(), 1u);
    EXPECT_EQ(m_daemon->verifications().back().result.verdict, Verdict::critical);
    EXPECT_EQ(m_rebooter.calls, 1);
    EXPECT_EQ(unwatches, 0); // no request that could wait on a dead xenwatch thread
    const std::string changes = m_xsd->read("/local/domain/9/data/guardian/last-restore-changes");
    EXPECT_NE(changes.find("feature-persistent 1->-"), std::string::npos) << changes;
}

TEST_F(DaemonScenario, ObservePolicyOnlyReports) {
    start(unsafe_kernel(), Policy::observe);
    restore("qdisk", TestXenstored::qdisk_features());
    EXPECT_EQ(m_daemon->verifications().back().result.verdict, Verdict::critical);
    EXPECT_FALSE(m_daemon->incident().has_value());
    EXPECT_EQ(m_rebooter.calls, 0);
    EXPECT_TRUE(writable());
}

TEST_F(DaemonScenario, CoordinatedCleanSaveIsHealthyAndThawed) {
    start(fixed_kernel());
    request_freeze("n1");
    restore("vbd", TestXenstored::blkback_features());
    const auto& v = m_daemon->verifications().back();
    EXPECT_TRUE(v.coordinated);
    EXPECT_EQ(v.result.verdict, Verdict::healthy) << v.result.summary();
    EXPECT_FALSE(m_daemon->frozen());
    EXPECT_EQ(m_xsd->read("/local/domain/9/data/guardian/freeze"), "thawed n1 healthy");
    EXPECT_TRUE(writable());
    EXPECT_EQ(read_file(m_fs->path("before.txt")), "written before the restore");
}

TEST_F(DaemonScenario, MetadataDamagedWhileSavedIsCritical) {
    start(fixed_kernel());
    request_freeze("n2");
    // The image changes under the frozen filesystem, as a dom0 edit during
    // the save would.
    flip_byte_on_disk(m_fs->device(), root_dir_block(m_fs->device()), 40);
    restore("vbd", TestXenstored::blkback_features());
    const auto& v = m_daemon->verifications().back();
    ASSERT_EQ(v.result.verdict, Verdict::critical) << v.result.summary();
    ASSERT_EQ(v.evidence.size(), 1u);
    EXPECT_TRUE(v.evidence[0].frozen_compared);
    EXPECT_FALSE(v.evidence[0].frozen_diff.empty());
    EXPECT_EQ(m_rebooter.calls, 1);
    EXPECT_FALSE(m_daemon->frozen()); // never left frozen
}

TEST_F(DaemonScenario, NtpClockStepIsNotARestore) {
    start(fixed_kernel());
    m_clocks.step_realtime(std::chrono::seconds(30));
    m_daemon->on_clock_set();
    // Let any stray watch events in; nothing is expected, so this times out.
    (void)pump_until(
        m_guest->watch_fd(), [this] { m_daemon->on_xenstore_readable(); }, [] { return false; },
        std::chrono::milliseconds(500));
    EXPECT_TRUE(m_daemon->verifications().empty());
    EXPECT_EQ(m_daemon->state(), guardian::contract::DaemonState::watching);
}

TEST_F(DaemonScenario, FreezeDeadlineThawsWithoutARestore) {
    start(fixed_kernel());
    request_freeze("n3");
    ASSERT_TRUE(m_timers.pending(TimerSlot::freeze_deadline));
    m_timers.fire(TimerSlot::freeze_deadline);
    EXPECT_FALSE(m_daemon->frozen());
    EXPECT_EQ(m_xsd->read("/local/domain/7/data/guardian/freeze"), "auto-thawed n3");
    EXPECT_TRUE(writable());
    EXPECT_TRUE(m_daemon->verifications().empty());
}

TEST_F(DaemonScenario, FreezeTimeoutCapsALongerRequest) {
    start(fixed_kernel(), Policy::protect,
          [](Config& c) { c.freeze_timeout = std::chrono::seconds(20); });
    request_freeze("n4"); // asks for 60 s
    EXPECT_EQ(m_timers.after(TimerSlot::freeze_deadline), std::chrono::seconds(20));
    EXPECT_TRUE(m_log.contains("capped at freeze_timeout (20 s)"));
}

TEST_F(DaemonScenario, BaselineIsRefreshedOnlyWhileCalm) {
    start(fixed_kernel(), Policy::protect,
          [](Config& c) { c.baseline_refresh = std::chrono::minutes(7); });
    const auto baselines = [this] {
        std::size_t n = 0;
        for (const auto& e : m_log.entries())
            n += e.message.rfind("baseline of ", 0) == 0 ? 1u : 0u;
        return n;
    };
    EXPECT_EQ(baselines(), 1u);
    ASSERT_TRUE(m_timers.pending(TimerSlot::baseline_refresh));
    EXPECT_EQ(m_timers.after(TimerSlot::baseline_refresh), std::chrono::minutes(7));
    m_timers.fire(TimerSlot::baseline_refresh);
    EXPECT_EQ(baselines(), 2u);
    EXPECT_TRUE(m_timers.pending(TimerSlot::baseline_refresh)); // re-armed
    // Frozen for the provider: the baseline stays what it was, the timer runs on.
    request_freeze("n5");
    m_timers.fire(TimerSlot::baseline_refresh);
    EXPECT_EQ(baselines(), 2u);
    EXPECT_TRUE(m_timers.pending(TimerSlot::baseline_refresh));
    // The systemd-sleep hook's "pre" also refreshes, when calm.
    m_timers.fire(TimerSlot::freeze_deadline);
    m_daemon->on_sleep_hook(false);
    EXPECT_EQ(baselines(), 3u);
}

// The boot history's heartbeat (daemon/trouble.cpp): one snapshot per
// interval with "last alive" moved on; none while frozen (the write would
// block on, or go through, a frozen filesystem); after a critical verdict
// none either, and the emergency records its own end first.
class BootHistoryScenario : public DaemonScenario {
protected:
    [[nodiscard]] std::optional<BootEntry> this_boot() const {
        auto h = boot::read_boot_history(m_root.path() + k_boot_history_path);
        if (!h || h->boots.empty())
            return std::nullopt;
        return h->boots.back();
    }
    [[nodiscard]] std::string file() const {
        return read_file(m_root.path() + k_boot_history_path);
    }
};

TEST_F(BootHistoryScenario, HeartbeatMovesLastAliveButNeverWhileFrozen) {
    start(fixed_kernel());
    const auto first = this_boot();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->end, BootEnd::running);
    EXPECT_EQ(first->last_alive_us, 1'700'000'000'000'000);
    ASSERT_TRUE(m_timers.pending(TimerSlot::heartbeat));
    EXPECT_EQ(m_timers.after(TimerSlot::heartbeat), std::chrono::minutes(10));

    m_clocks.advance(std::chrono::minutes(10));
    m_timers.fire(TimerSlot::heartbeat);
    ASSERT_TRUE(this_boot());
    EXPECT_EQ(this_boot()->last_alive_us, first->last_alive_us + 600'000'000);
    EXPECT_EQ(this_boot()->uptime_us, first->uptime_us + 600'000'000);
    EXPECT_TRUE(m_timers.pending(TimerSlot::heartbeat)) << "re-armed";

    request_freeze("hb");
    const std::string before = file();
    m_clocks.advance(std::chrono::minutes(10));
    m_timers.fire(TimerSlot::heartbeat);
    EXPECT_EQ(file(), before) << "written while frozen";
    EXPECT_TRUE(m_timers.pending(TimerSlot::heartbeat));
}

TEST_F(BootHistoryScenario, ACriticalVerdictRecordsTheEmergencyEndThenNoHeartbeat) {
    start(unsafe_kernel());
    restore("qdisk", TestXenstored::qdisk_features());
    ASSERT_TRUE(m_daemon->incident().has_value());
    EXPECT_EQ(m_rebooter.calls, 1);
    // The state directory is not on the affected filesystem: recorded.
    ASSERT_TRUE(this_boot());
    EXPECT_EQ(this_boot()->end, BootEnd::emergency_reboot);
    const std::string before = file();
    m_clocks.advance(std::chrono::minutes(10));
    m_timers.fire(TimerSlot::heartbeat);
    EXPECT_EQ(file(), before) << "written after a critical verdict";
}

} // namespace
} // namespace guardian::test
