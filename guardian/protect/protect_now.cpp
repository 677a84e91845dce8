#include "guardian/protect/protect_now.hpp"

#include "guardian/protect/fs_control.hpp"

#include <algorithm>
#include <memory>
#include <optional>

namespace guardian::protect {
namespace {

class Recorder {
public:
    Recorder(IncidentRecord& record, const EmergencyPorts& ports)
        : m_record(record), m_ports(ports) {}

    void add(IncidentStep step, const std::string& target, const Status& status,
             std::string_view method = {}) {
        m_record.steps.push_back(step_record(step, target, status, method,
                                             m_ports.monotonic_ns ? m_ports.monotonic_ns() : 0));
    }
    void timed_out(IncidentStep step, const std::string& target, std::string_view method,
                   std::chrono::milliseconds deadline) {
        IncidentStepRecord r;
        r.step = step;
        r.target = target;
        r.method = std::string(method);
        r.outcome = StepOutcome::failed;
        r.timed_out = true;
        r.detail = timed_out_text(deadline);
        r.monotonic_ns = m_ports.monotonic_ns ? m_ports.monotonic_ns() : 0;
        m_record.steps.push_back(std::move(r));
        m_hung.push_back(target);
    }
    // A filesystem one of whose steps timed out: its device is not
    // answering, and a later step on it would only wait out another deadline.
    [[nodiscard]] bool hung(const std::string& target) const {
        return std::find(m_hung.begin(), m_hung.end(), target) != m_hung.end();
    }
    [[nodiscard]] bool any_hung() const noexcept { return !m_hung.empty(); }
    void skip_hung(IncidentStep step, const std::string& target) {
        skip(step, target, "device not answering (an earlier step on it timed out)");
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
    std::vector<std::string> m_hung;
};

// What a step's thread owns: its input, moved in, and its result. Shared
// with the emergency thread, which abandons it on timeout.
template <typename Plan, typename T> struct StepState {
    Plan plan;
    FsActions* fs = nullptr;
    std::optional<Result<T>> result;
};

void mark_one(FsckMarkPlan& plan, const EmergencyPorts& ports, std::chrono::milliseconds deadline,
              Recorder& rec) {
    const std::string target = plan.mount_point;
    const std::string planned(to_string(plan.method));
    if (rec.hung(target)) {
        rec.skip_hung(IncidentStep::fsck_mark, target);
        return;
    }
    auto st = std::make_shared<StepState<FsckMarkPlan, FsckMarkMethod>>();
    st->plan = std::move(plan);
    st->fs = ports.fs;
    auto* raw = st.get();
    Result<bool> finished = run_with_deadline(
        st, [raw] { raw->result.emplace(raw->fs->mark(raw->plan)); }, deadline);
    if (finished.ok() && !finished.value()) {
        rec.timed_out(IncidentStep::fsck_mark, target, planned, deadline);
        return; // the plan (its device fd) stays with the abandoned thread
    }
    plan = std::move(st->plan);
    if (!finished.ok())
        rec.add(IncidentStep::fsck_mark, target, std::move(finished).error(), planned);
    else if (st->result->ok())
        rec.add(IncidentStep::fsck_mark, target, ok_status(), to_string(st->result->value()));
    else
        rec.add(IncidentStep::fsck_mark, target, std::move(*st->result).error(), planned);
}

// Returns false if writes may not have stopped (failed or timed out).
bool stop_one(const WriteStopPlan& stop, const EmergencyPorts& ports,
              std::chrono::milliseconds deadline, Recorder& rec) {
    const std::string planned(stop.method == WriteStopMethod::none ? "none"
                                                                   : to_string(stop.method));
    if (rec.hung(stop.mount_point)) {
        rec.skip_hung(IncidentStep::shutdown, stop.mount_point);
        return false;
    }
    auto st = std::make_shared<StepState<WriteStopPlan, WriteStopMethod>>();
    st->plan = stop;
    st->fs = ports.fs;
    auto* raw = st.get();
    Result<bool> finished = run_with_deadline(
        st, [raw] { raw->result.emplace(raw->fs->stop_writes(raw->plan)); }, deadline);
    if (!finished.ok()) {
        rec.add(IncidentStep::shutdown, stop.mount_point, std::move(finished).error(), planned);
        return false;
    }
    if (!finished.value()) {
        rec.timed_out(IncidentStep::shutdown, stop.mount_point, planned, deadline);
        return false;
    }
    if (!st->result->ok()) {
        rec.add(IncidentStep::shutdown, stop.mount_point, std::move(*st->result).error(), planned);
        return false;
    }
    rec.add(IncidentStep::shutdown, stop.mount_point, ok_status(), to_string(st->result->value()));
    return true;
}

// Step 1: the provider first, through channels that do not touch the disk.
void tell_provider(const EmergencyPorts& ports, IncidentRecord& record, Recorder& rec) {
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
}

// Records the reboot step and reboots; false if the reboot failed.
bool reboot_with(Rebooter& rebooter, std::string method, IncidentRecord& record, Recorder& rec) {
    rec.add(IncidentStep::reboot, {}, ok_status(), method);
    Status s = rebooter.reboot_now();
    if (s.ok())
        return true;
    record.steps.back().outcome = StepOutcome::failed;
    record.steps.back().detail = s.error().message;
    return false;
}

// write_nothing: every disk step skipped, then reboot(2) at once. False if
// the reboot failed (the caller then stops writes after all).
bool reboot_writing_nothing(const EmergencyPlan& plan, const EmergencyPorts& ports,
                            IncidentRecord& record, Recorder& rec) {
    for (const auto& fs : plan.filesystems) {
        rec.skip(IncidentStep::shutdown, fs.fsck_mark.mount_point, plan.write_nothing_why);
        rec.skip(IncidentStep::fsck_mark, fs.fsck_mark.mount_point, plan.write_nothing_why);
    }
    Rebooter* rebooter = ports.immediate_rebooter ? ports.immediate_rebooter : ports.rebooter;
    if (!rebooter)
        return false;
    return reboot_with(*rebooter, "reboot(2): nothing written", record, rec);
}

} // namespace

Result<WriteStopMethod> RealFsActions::stop_writes(const WriteStopPlan& plan) {
    return protect::stop_writes(plan);
}

Result<FsckMarkMethod> RealFsActions::mark(FsckMarkPlan& plan) {
    return apply_fsck_mark(plan);
}

void protect_now(EmergencyPlan& plan, const EmergencyPorts& ports, IncidentRecord& record) {
    record.reserve_for(plan.filesystems.size());
    Recorder rec(record, ports);

    // 1. The provider first.
    tell_provider(ports, record, rec);

    // Root last, like every other multi-filesystem action.
    std::stable_partition(plan.filesystems.begin(), plan.filesystems.end(),
                          [](const FsProtectionPlan& p) { return p.fsck_mark.mount_point != "/"; });

    // A block path that writes wrong data: nothing more goes through it.
    std::string_view no_mark_why = "disabled by configuration";
    bool reboot_failed = false;
    if (plan.write_nothing && plan.reboot != RebootPolicy::none) {
        if (reboot_writing_nothing(plan, ports, record, rec))
            return;
        // reboot(2) failed: the lesser harm now is one write of ext4's
        // journal abort (the shutdown) against every later write.
        reboot_failed = true;
        plan.fsck_mark = false;
        no_mark_why = plan.write_nothing_why;
    }

    // The kernel's error path needs a filesystem that is not shut down yet
    // (ext4 ignores errors after a shutdown), so those marks come first.
    if (plan.fsck_mark)
        for (auto& fs : plan.filesystems)
            if (fs.fsck_mark.method == FsckMarkMethod::kernel_error_path)
                mark_one(fs.fsck_mark, ports, plan.step_deadline, rec);

    // 2. Stop every write.
    bool writes_unstopped = false;
    for (const auto& fs : plan.filesystems) {
        if (!plan.shutdown) {
            rec.skip(IncidentStep::shutdown, fs.fsck_mark.mount_point, "disabled by configuration");
            continue;
        }
        WriteStopPlan fallback;
        fallback.mount_point = fs.fsck_mark.mount_point;
        if (!stop_one(fs.write_stop ? *fs.write_stop : fallback, ports, plan.step_deadline, rec))
            writes_unstopped = true;
    }

    // 3. Force the full check at next boot.
    for (auto& fs : plan.filesystems) {
        if (!plan.fsck_mark)
            rec.skip(IncidentStep::fsck_mark, fs.fsck_mark.mount_point, no_mark_why);
        else if (fs.fsck_mark.method != FsckMarkMethod::kernel_error_path)
            mark_one(fs.fsck_mark, ports, plan.step_deadline, rec);
    }

    // Tell the provider and the console which steps timed out before the
    // reboot: after it, the record is gone with the guest's memory.
    if (rec.any_hung()) {
        const std::string hung = timed_out_steps(record);
        if (ports.notifier)
            rec.add(IncidentStep::notify_provider, {}, ports.notifier->report_incident(record),
                    "steps timed out");
        if (ports.kmsg)
            rec.add(IncidentStep::kmsg_line, {},
                    ports.kmsg->write_line("device not answering, steps timed out: " + hung +
                                           "; rebooting without sync"),
                    "steps timed out");
    }

    if (reboot_failed)
        return; // recorded with the skipped steps

    // 4. Go down without syncing. Writes that could not be stopped leave
    // only one safe end: reboot(2) now, before the cache is written back;
    // the same after a step timed out (an orderly reboot would sync and
    // unmount through the device that stopped answering).
    Rebooter* rebooter = ports.rebooter;
    RebootPolicy policy = plan.reboot;
    if ((writes_unstopped || rec.any_hung()) && policy != RebootPolicy::immediate) {
        policy = RebootPolicy::immediate;
        if (ports.immediate_rebooter)
            rebooter = ports.immediate_rebooter;
    }
    if (policy == RebootPolicy::none || !rebooter) {
        rec.skip(IncidentStep::reboot, {}, "reboot = none");
        return;
    }
    (void)reboot_with(*rebooter,
                      policy != RebootPolicy::immediate         ? "orderly"
                      : rec.any_hung() && policy != plan.reboot ? "reboot(2): a step timed out"
                      : policy != plan.reboot ? "reboot(2): writes could not be stopped"
                                              : "reboot(2)",
                      record, rec);
}

} // namespace guardian::protect
