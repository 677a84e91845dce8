#include "guardian/protect/protect_now.hpp"

#include "guardian/protect/fs_control.hpp"

#include <algorithm>

namespace guardian::protect {
namespace {

class Recorder {
public:
    Recorder(IncidentRecord& record, const EmergencyPorts& ports)
        : m_record(record), m_ports(ports) {}

    void add(IncidentStep step, const std::string& target, const Status& status,
             std::string_view method = {}) {
        IncidentStepRecord r;
        r.step = step;
        r.target = target;
        r.method = std::string(method);
        r.outcome = status.ok() ? StepOutcome::done : StepOutcome::failed;
        if (!status.ok())
            r.detail = status.error().message;
        r.monotonic_ns = m_ports.monotonic_ns ? m_ports.monotonic_ns() : 0;
        m_record.steps.push_back(std::move(r));
    }
    void skip(IncidentStep step, const std::string& target, std::string_view why) {
        IncidentStepRecord r;
        r.step = step;
        r.target = target;
        r.outcome = StepOutcome::skipped;
        r.detail = std::string(why);
        r.monotonic_ns = m_ports.monotonic_ns ? m_ports.monotonic_ns() : 0;
        m_record.steps.push_back(std::move(r));
    }

private:
    IncidentRecord& m_record;
    const EmergencyPorts& m_ports;
};

void mark_one(FsckMarkPlan& plan, const EmergencyPorts& ports, Recorder& rec) {
    Result<FsckMarkMethod> m = ports.fs->mark(plan);
    if (m.ok())
        rec.add(IncidentStep::fsck_mark, plan.mount_point, ok_status(), to_string(m.value()));
    else
        rec.add(IncidentStep::fsck_mark, plan.mount_point, std::move(m).error(),
                to_string(plan.method));
}

} // namespace

Status RealFsActions::shutdown(const std::string& mount_point) {
    return shutdown_nologflush(mount_point);
}

Result<FsckMarkMethod> RealFsActions::mark(FsckMarkPlan& plan) {
    return apply_fsck_mark(plan);
}

void protect_now(EmergencyPlan& plan, const EmergencyPorts& ports, IncidentRecord& record) {
    record.reserve_for(plan.filesystems.size());
    Recorder rec(record, ports);

    // 1. The provider first, through channels that do not touch the disk.
    if (ports.notifier)
        rec.add(IncidentStep::notify_provider, {}, ports.notifier->report_incident(record));
    else
        rec.skip(IncidentStep::notify_provider, {}, "no notifier");
    if (ports.kmsg)
        rec.add(
            IncidentStep::kmsg_line, {},
            ports.kmsg->write_line("critical verdict, protecting filesystems: " + record.reason));
    else
        rec.skip(IncidentStep::kmsg_line, {}, "no kmsg writer");

    // Root last, like every other multi-filesystem action.
    std::stable_partition(plan.filesystems.begin(), plan.filesystems.end(),
                          [](const FsckMarkPlan& p) { return p.mount_point != "/"; });

    // The kernel's error path needs a filesystem that is not shut down yet
    // (ext4 ignores errors after a shutdown), so those marks come first.
    if (plan.fsck_mark)
        for (auto& fs : plan.filesystems)
            if (fs.method == FsckMarkMethod::kernel_error_path)
                mark_one(fs, ports, rec);

    // 2. Stop every write.
    for (const auto& fs : plan.filesystems) {
        if (plan.shutdown)
            rec.add(IncidentStep::shutdown, fs.mount_point, ports.fs->shutdown(fs.mount_point),
                    "nologflush");
        else
            rec.skip(IncidentStep::shutdown, fs.mount_point, "disabled by configuration");
    }

    // 3. Force the full check at next boot.
    for (auto& fs : plan.filesystems) {
        if (!plan.fsck_mark)
            rec.skip(IncidentStep::fsck_mark, fs.mount_point, "disabled by configuration");
        else if (fs.method != FsckMarkMethod::kernel_error_path)
            mark_one(fs, ports, rec);
    }

    // 4. Go down without syncing.
    if (plan.reboot == RebootPolicy::none || !ports.rebooter) {
        rec.skip(IncidentStep::reboot, {}, "reboot = none");
        return;
    }
    rec.add(IncidentStep::reboot, {}, ok_status(),
            plan.reboot == RebootPolicy::immediate ? "reboot(2)" : "orderly");
    Status s = ports.rebooter->reboot_now();
    if (!s.ok()) {
        record.steps.back().outcome = StepOutcome::failed;
        record.steps.back().detail = s.error().message;
    }
}

} // namespace guardian::protect
