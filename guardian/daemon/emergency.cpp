// The critical verdict. Policy `observe` reports only; `protect` (default)
// runs the emergency sequence of guardian/protect: provider first (xenstore
// data/guardian/incident, one /dev/kmsg line), then EXT4_IOC_SHUTDOWN on each
// affected filesystem (root last), the fsck mark prepared at baseline time,
// and the reboot the configuration asks for.
#include "guardian/daemon/daemon.hpp"

#include "guardian/core/message_ids.hpp"
#include "guardian/daemon/state_file.hpp"
#include "guardian/hooks/hook_runner.hpp"
#include "guardian/protect/fs_control.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace guardian::daemon {
namespace {

// Called again, before the reboot, when steps timed out: the provider
// learns that the device stopped answering, and where (the contract's
// incident encoding says so).
class XenStoreNotifier final : public protect::ProviderNotifier {
public:
    explicit XenStoreNotifier(xen::ReportPublisher& publisher) : m_publisher(publisher) {}
    [[nodiscard]] Status report_incident(const IncidentRecord& record) override {
        return m_publisher.publish_incident(record);
    }

private:
    xen::ReportPublisher& m_publisher;
};

protect::RebootPolicy reboot_policy(RebootMode m) {
    switch (m) {
    case RebootMode::immediate:
        return protect::RebootPolicy::immediate;
    case RebootMode::orderly:
        return protect::RebootPolicy::orderly;
    case RebootMode::none:
        return protect::RebootPolicy::none;
    }
    return protect::RebootPolicy::immediate;
}

} // namespace

void Daemon::halt_processes() {
    constexpr std::string_view method = "SIGSTOP to every other process";
    if (m_ports.halter) {
        m_halted = step_record(IncidentStep::stop_processes, {}, m_ports.halter->stop_others(),
                               method, protect::monotonic_now_ns());
        return;
    }
    IncidentStepRecord r;
    r.step = IncidentStep::stop_processes;
    r.method = std::string(method);
    r.outcome = StepOutcome::skipped;
    r.detail = "no process halter";
    r.monotonic_ns = protect::monotonic_now_ns();
    m_halted = std::move(r);
}

bool Daemon::processes_stopped() const noexcept {
    return m_halted && m_halted->outcome == StepOutcome::done;
}

void Daemon::continue_processes(IncidentRecord* record) {
    const bool stopped = processes_stopped();
    m_halted.reset();
    if (!stopped)
        return;
    IncidentStepRecord r =
        step_record(IncidentStep::continue_processes, {}, m_ports.halter->continue_others(),
                    "SIGCONT to every other process", protect::monotonic_now_ns());
    m_ports.log->log(r.outcome == StepOutcome::done ? Priority::warning : Priority::crit,
                     "processes stopped at the restore continued: no reboot followed" +
                         (r.detail.empty() ? std::string() : " (" + r.detail + ")"),
                     {{"MESSAGE_ID", std::string(message_id::protective_action)}});
    if (record)
        record->steps.push_back(std::move(r));
}

void Daemon::report_only(const VerdictResult& result) {
    m_ports.log->log(Priority::crit,
                     "policy observe: reporting only, no action: " + result.summary(),
                     {{"MESSAGE_ID", std::string(message_id::verification_critical)}});
}

// The machine has already set the state to "incident" and published it: the
// verdict, its reason and timing reach dom0 before anything else happens
// (xenstore only, nothing on the suspect disks). After this it thaws a
// coordinated freeze (writes fail with EIO by then, so nothing gets through;
// frozen, every process that touches the filesystems would hang) and
// publishes and persists the record.
void Daemon::protect(const VerdictResult& result) {
    Logger& log = *m_ports.log;
    const std::string reason = result.summary();

    protect::EmergencyPlan plan;
    plan.shutdown = m_settings.config.stop_writes;
    plan.fsck_mark = m_settings.config.force_fsck;
    plan.reboot = reboot_policy(m_settings.config.reboot);
    std::string unstoppable; // mount points whose writes nothing can stop
    for (auto& fs : m_fs) {
        if (std::find(result.affected_devices.begin(), result.affected_devices.end(),
                      fs.mount.source) == result.affected_devices.end())
            continue;
        const auto& stop = fs.protection.write_stop;
        if (plan.shutdown && stop && stop->method == protect::WriteStopMethod::none)
            unstoppable += (unstoppable.empty() ? "" : ", ") + fs.mount.mount_point;
        // The prepared plan, as it is; its fsck mark (which may hold the
        // device open) is used up, the write stop stays planned.
        plan.filesystems.push_back(std::move(fs.protection));
        fs.protection = protect::FsProtectionPlan{};
        fs.protection.write_stop = plan.filesystems.back().write_stop;
        fs.protection.fsck_mark.device = fs.mount.source;
        fs.protection.fsck_mark.mount_point = fs.mount.mount_point;
        fs.fsck_prepared = false;
    }
    IncidentRecord record;
    record.reason = reason;
    // Stopped at the restore, before anything else: the first step.
    if (m_halted)
        record.steps.push_back(*m_halted);
    // A block path that writes other pages' contents: ext4's shutdown (its
    // journal abort writes the journal superblock) and the fsck mark would
    // themselves go through it, and a garbled journal superblock leaves the
    // guest unable to mount root (seen on the Xen rig). So nothing is
    // written, and the provider, told first, runs the full check from
    // outside. Needs a reboot: without one, stopping writes is the lesser harm.
    plan.write_nothing =
        result.block_path_writes_unsafe && plan.reboot != protect::RebootPolicy::none;
    if (plan.write_nothing) {
        std::string mounts;
        for (const auto& fs : plan.filesystems)
            mounts += (mounts.empty() ? "" : ", ") + fs.fsck_mark.mount_point;
        plan.write_nothing_why = "block path unsafe: nothing written through it";
        record.reason +=
            "; nothing written to " + mounts +
            " after the verdict (the block path writes wrong data; " +
            (processes_stopped() ? "every other process stopped at the restore; " : "") +
            "no write stop, no fsck mark): rebooting at once; run e2fsck -f on "
            "them from outside before the next boot";
    }
    if (!plan.write_nothing && !unstoppable.empty()) {
        // Said before anything happens: with the immediate reboot that
        // follows, nothing after protect_now() gets logged.
        record.reason += "; writes to " + unstoppable +
                         " cannot be stopped on this kernel: rebooting at once without sync";
        log.log(Priority::crit,
                "writes to " + unstoppable +
                    " cannot be stopped (no EXT4_IOC_SHUTDOWN and no error path that skips "
                    "the sync): fsck mark, then reboot(2) at once whatever `reboot` says",
                {{"MESSAGE_ID", std::string(message_id::protective_action)},
                 {"GUARDIAN_METHODS", m_methods}});
    }
    std::optional<XenStoreNotifier> notifier;
    if (m_publisher)
        notifier.emplace(*m_publisher);
    protect::EmergencyPorts ports;
    ports.notifier = notifier ? &*notifier : nullptr;
    ports.kmsg = m_kmsg_writer ? &*m_kmsg_writer : nullptr;
    ports.fs = m_ports.fs_actions;
    ports.rebooter = m_ports.rebooter;
    ports.immediate_rebooter = m_ports.immediate_rebooter;
    ports.monotonic_ns = [] { return protect::monotonic_now_ns(); };
    // The boot history is a file: not through a block path that writes wrong data.
    if (plan.reboot != protect::RebootPolicy::none && !plan.write_nothing)
        record_emergency_end(result);
    protect::protect_now(plan, ports, record);
    // Only reached when the reboot is off or failed (or, in tests, recorded).
    // After a failed one the writes are stopped by now (protect_now), so the
    // processes stopped at the restore go on.
    const bool rebooting = std::any_of(record.steps.begin(), record.steps.end(), [](const auto& s) {
        return s.step == IncidentStep::reboot && s.outcome == StepOutcome::done;
    });
    if (rebooting)
        m_halted.reset();
    else
        continue_processes(&record);
    // Report what was used, which may differ from the plan (an ioctl the kernel refused after all,
    // a mark that failed).
    for (const auto& step : record.steps)
        for (auto& fs : m_fs)
            if (fs.mount.mount_point == step.target && !step.method.empty()) {
                if (step.step == IncidentStep::shutdown)
                    fs.methods.shutdown = step.method;
                else if (step.step == IncidentStep::fsck_mark)
                    fs.methods.fsck_mark = step.method;
            }
    report_methods();
    m_incident = record;
    log.log(Priority::crit, "protective actions taken:\n" + describe(record),
            {{"MESSAGE_ID", std::string(message_id::protective_action)}});
}

} // namespace guardian::daemon
