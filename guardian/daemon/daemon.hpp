// guardiand's orchestration: the baseline of every guarded filesystem, the
// verification after each restore (fastest first: block-protocol features,
// static geometry, live checksums, then a window of kernel-log watching), the
// coordinated freeze driven by the provider, and the protective sequence on a
// critical verdict. It reaches the world only through the ports it is given,
// so scenario tests run it with the test xenstored, real ext4 on loop devices
// and a rebooter that records instead of rebooting.
#pragma once

#include "guardian/core/config.hpp"
#include "guardian/core/daemon_machine.hpp"
#include "guardian/core/fingerprint.hpp"
#include "guardian/core/guest_contract.hpp"
#include "guardian/core/incident.hpp"
#include "guardian/core/mountinfo.hpp"
#include "guardian/core/state_file.hpp"
#include "guardian/core/verdict.hpp"
#include "guardian/daemon/restore_watch.hpp"
#include "guardian/daemon/timers.hpp"
#include "guardian/daemon/trouble_watch.hpp"
#include "guardian/ext4/scan.hpp"
#include "guardian/protect/freeze_guard.hpp"
#include "guardian/protect/fsck_mark.hpp"
#include "guardian/protect/ports.hpp"
#include "guardian/protect/protect_now.hpp"
#include "guardian/protect/write_stop.hpp"
#include "guardian/sys/kernel_info.hpp"
#include "guardian/sys/kmsg_reader.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace guardian::daemon {

struct DaemonPorts {
    xen::XenStore* xs = nullptr; // null: not a Xen guest (filesystems only)
    Clocks* clocks = nullptr;
    Logger* log = nullptr;
    Timers* timers = nullptr;
    protect::Rebooter* rebooter = nullptr;
    protect::FsActions* fs_actions = nullptr;
    SystemRoot root;
    // reboot(2) without sync, used instead of `rebooter` when writes could
    // not be stopped (protect_now.hpp); null: `rebooter`.
    protect::Rebooter* immediate_rebooter = nullptr;
    // Stops every other process before a block path that writes wrong data
    // is written again (docs/design.md, "Writing nothing"); null: the step
    // is recorded as skipped.
    protect::ProcessHalter* halter = nullptr;
};

struct DaemonSettings {
    Config config;
    std::string version = GUARDIAN_VERSION;
    sys::KernelInfo kernel;
    std::string distribution; // sys::read_distribution, once at start; "" when unknown
    KernelVerdict verdict;
    RestoreDetectorConfig detector;
    std::string guard_exe;                       // guardian-freeze-guard
    std::string run_dir = "/run/guardian";       // under root: state that dies with the boot
    std::string state_dir = "/var/lib/guardian"; // under root: history
    bool force_kernel_error_path = false;        // tests: exercise the fsck-mark fallback
    // Moves journald to /run for a freeze and back after (coordinated.cpp);
    // empty: leave journald alone (tests on a machine whose journal is not ours).
    std::string journalctl = "/usr/bin/journalctl";
    // The kernel trouble watch: read the previous boot's journal at start
    // (journalctl); journal_dir: journal files to read instead (tests).
    bool previous_journal = true;
    std::string previous_journal_dir;
};

// How each protective and verifying step works on this kernel and device
// (methods.cpp); published as data/guardian/methods.
struct FsMethods {
    std::string shutdown;  // ioctl, kernel-error, none, off, unknown
    std::string fsck_mark; // journal-errno, superblock-flag, kernel-error-path, off, unavailable
    std::string io;        // direct, buffered
    std::string errors;    // sysfs, superblock, unavailable
};

// One guarded filesystem and what the daemon keeps about it.
struct GuardedFs {
    MountEntry mount;
    Fingerprint baseline;              // geometry (live) at baseline time
    unsigned long errors_count = 0;    // /sys/fs/ext4/<dev>/errors_count then
    std::optional<Fingerprint> frozen; // coordinated mode: stable fingerprint
    // How writes stop and the next fsck is forced in an emergency, prepared
    // and probed at baseline time (methods.cpp); the emergency executes it.
    protect::FsProtectionPlan protection;
    bool fsck_prepared = false; // protection.fsck_mark was planned (not a bare one)
    FsMethods methods;
};

using guardian::VerificationOutcome; // core/state_file.hpp

class Daemon {
public:
    Daemon(DaemonPorts ports, DaemonSettings settings);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Chooses the guarded filesystems, takes the baseline, sets the watches.
    [[nodiscard]] Status start();

    // Event-loop entry points.
    void on_xenstore_readable();
    void on_clock_set();
    void on_kmsg_readable();
    [[nodiscard]] int kmsg_fd() const noexcept;
    void shutdown(); // SIGTERM: thaw anything we froze, publish "stopped"
    // HVM ACPI sleep (systemd-sleep hook): post = resumed, verify now.
    void on_sleep_hook(bool post);

    // For status, tests and the state file.
    [[nodiscard]] const std::vector<GuardedFs>& guarded() const noexcept { return m_fs; }
    [[nodiscard]] const std::vector<VerificationOutcome>& verifications() const noexcept {
        return m_verifications;
    }
    [[nodiscard]] const std::optional<IncidentRecord>& incident() const noexcept {
        return m_incident;
    }
    [[nodiscard]] contract::DaemonState state() const noexcept { return m_state; }
    [[nodiscard]] bool frozen() const noexcept { return m_freeze.has_value(); }
    [[nodiscard]] RestoreWatch* restore_watch() noexcept { return m_watch.get(); }
    [[nodiscard]] const TroubleWatch* trouble_watch() const noexcept { return m_trouble.get(); }
    // Each part of guardiand and whether it runs here (state.json "parts").
    [[nodiscard]] std::vector<PartStatus> parts() const;

private:
    struct FreezeSession {
        std::string nonce;
        std::optional<protect::FreezeGuard> guard;
        std::vector<std::string> mount_points;
    };

    // What an event carries to the actions it sets off (dispatch.cpp).
    struct EventData {
        const RestoreEvent* restore = nullptr; // restore_detected
        VerdictInput* input = nullptr;         // verified: what the verdict was built from
        const VerdictResult* result = nullptr; // verified
        std::string_view thaw_outcome;         // thaw: a verdict or a thaw_outcome word
        bool deadline = false;                 // thaw: the freeze deadline passed
        std::string nonce;                     // freeze_request, freeze_taken
        std::chrono::seconds timeout{0};       // freeze_request, freeze_taken
        const char* why = "";                  // refresh_baseline
    };

    // dispatch.cpp: every state change goes through the pure machine
    // (core/daemon_machine.hpp); this runs the actions it returns.
    [[nodiscard]] machine::Facts facts() const noexcept;
    void dispatch(const machine::Event& event, EventData& data);
    void dispatch(machine::EventKind kind) {
        EventData none;
        dispatch(machine::Event{kind, Verdict::healthy, false}, none);
    }
    void run(machine::Action action, EventData& data);

    // daemon.cpp
    [[nodiscard]] Status take_baseline();
    // A fresh baseline, so a restore is compared with the recent past (the
    // machine asks only while calm); persisted when it worked.
    void refresh_baseline(const char* why);
    void arm_baseline_refresh();
    [[nodiscard]] static Result<ext4::ScanResult> scan(const GuardedFs& fs, CheckMode mode,
                                                       bool fingerprint);
    [[nodiscard]] ReportInput report() const;
    void publish();
    void persist();
    void on_other_event(const xen::WatchEvent& ev);
    [[nodiscard]] std::vector<std::string> mount_points() const;

    // verification.cpp: the one sequence after a restore (block protocol,
    // then geometry and checksums; the kmsg window after the verdict).
    void on_restore(const RestoreEvent& ev);
    void verify(const RestoreEvent& ev);
    [[nodiscard]] FsEvidence verify_fs(GuardedFs& fs, bool coordinated);
    void conclude(VerdictInput input, bool coordinated);
    void open_kmsg_window(VerdictInput input);
    void close_kmsg_window();
    void judge_window();

    // trouble.cpp: the kernel trouble watch and the boot history.
    void start_trouble_watch(const std::vector<MountEntry>& mounts);
    void feed_trouble(const std::vector<KmsgRecord>& records);
    void on_trouble_flush();
    // Ends an open trouble report k_flush_after after the last record.
    void arm_trouble_flush();
    void arm_heartbeat();
    // Whether the disks may be written now (boot history): not while frozen,
    // not after a critical verdict.
    [[nodiscard]] bool may_write() const noexcept;
    void record_end_at_shutdown();
    void record_emergency_end(const VerdictResult& result);

    // coordinated.cpp
    void handle_request(const std::string& request);
    void begin_freeze(std::chrono::seconds timeout, const std::string& nonce);
    void refuse_freeze(const std::string& nonce);
    // outcome: a verdict or a contract::thaw_outcome word; deadline: the
    // freeze deadline passed (answered "auto-thawed").
    void end_freeze(std::string_view outcome, bool deadline = false);
    void write_freeze_node(const contract::FreezeAnswer& answer);

    // emergency.cpp
    void report_only(const VerdictResult& result); // policy observe
    void protect(const VerdictResult& result);     // the emergency
    // Stops every other process (the machine asks at a restore that left
    // the block path writing wrong data); the step goes into the incident.
    void halt_processes();
    [[nodiscard]] bool processes_stopped() const noexcept; // halted, not continued yet
    // Continues them when no reboot followed (it failed, or the verdict
    // did not call for one after all); the step goes into `record` if given.
    void continue_processes(IncidentRecord* record);

    // methods.cpp
    void prepare_protection(GuardedFs& fs); // the plan and the methods it reports
    [[nodiscard]] std::string describe_methods() const;
    void report_methods(); // logs the methods when they changed
    void publish_methods();
    [[nodiscard]] unsigned long read_errors_count(GuardedFs& fs); // 0 when unreadable

    DaemonPorts m_ports;
    DaemonSettings m_settings;
    std::vector<GuardedFs> m_fs;
    std::optional<xen::ReportPublisher> m_publisher; // the one writer of data/guardian/
    std::unique_ptr<RestoreWatch> m_watch;
    std::optional<sys::KmsgReader> m_kmsg;
    std::optional<protect::KmsgWriter> m_kmsg_writer;
    std::unique_ptr<TroubleWatch> m_trouble;
    bool m_flush_armed = false;
    std::optional<VerdictInput> m_window; // kmsg window open: what the verdict was built from
    ClockSample m_detected_at;            // the restore being verified: when it was noticed
    std::optional<VerificationTiming> m_timing;
    std::optional<FreezeSession> m_freeze;
    std::vector<VerificationOutcome> m_verifications;
    std::optional<VerificationRecord> m_last_verification; // as published
    std::optional<IncidentRecord> m_incident;
    std::optional<IncidentStepRecord> m_halted; // halt_processes ran, nothing continued them yet
    contract::DaemonState m_state = contract::DaemonState::starting;
    std::string m_methods; // last logged
};

} // namespace guardian::daemon
