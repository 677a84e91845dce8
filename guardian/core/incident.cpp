#include "guardian/core/incident.hpp"

#include <algorithm>

namespace guardian {

void IncidentRecord::reserve_for(std::size_t filesystems) {
    // Stopping and continuing the other processes, two whole-system
    // notifications, a reboot, and two steps per filesystem.
    steps.reserve(5 + 2 * filesystems);
}

bool IncidentRecord::all_done() const noexcept {
    return std::all_of(steps.begin(), steps.end(),
                       [](const IncidentStepRecord& s) { return s.outcome == StepOutcome::done; });
}

std::vector<const IncidentStepRecord*> IncidentRecord::of(IncidentStep step) const {
    std::vector<const IncidentStepRecord*> out;
    for (const auto& s : steps)
        if (s.step == step)
            out.push_back(&s);
    return out;
}

IncidentStepRecord step_record(IncidentStep step, std::string target, const Status& status,
                               std::string_view method, std::int64_t monotonic_ns) {
    IncidentStepRecord r;
    r.step = step;
    r.target = std::move(target);
    r.method = std::string(method);
    r.outcome = status.ok() ? StepOutcome::done : StepOutcome::failed;
    if (!status.ok())
        r.detail = status.error().message;
    r.monotonic_ns = monotonic_ns;
    return r;
}

std::string_view to_string(IncidentStep step) noexcept {
    switch (step) {
    case IncidentStep::stop_processes:
        return "stop-processes";
    case IncidentStep::continue_processes:
        return "continue-processes";
    case IncidentStep::notify_provider:
        return "notify-provider";
    case IncidentStep::kmsg_line:
        return "kmsg-line";
    case IncidentStep::shutdown:
        return "shutdown";
    case IncidentStep::fsck_mark:
        return "fsck-mark";
    case IncidentStep::reboot:
        return "reboot";
    }
    return "unknown";
}

std::string_view to_string(StepOutcome outcome) noexcept {
    switch (outcome) {
    case StepOutcome::done:
        return "done";
    case StepOutcome::failed:
        return "failed";
    case StepOutcome::skipped:
        return "skipped";
    }
    return "unknown";
}

std::string timed_out_steps(const IncidentRecord& record) {
    std::string out;
    for (const auto& s : record.steps) {
        if (!s.timed_out)
            continue;
        if (!out.empty())
            out += ", ";
        out += to_string(s.step);
        if (!s.target.empty())
            out += " " + s.target;
    }
    return out;
}

std::string describe(const IncidentRecord& record) {
    std::string out;
    for (const auto& s : record.steps) {
        out += to_string(s.step);
        if (!s.target.empty())
            out += " " + s.target;
        out += ": ";
        out += to_string(s.outcome);
        if (!s.method.empty())
            out += " (" + s.method + ")";
        if (!s.detail.empty())
            out += ": " + s.detail;
        out += "\n";
    }
    return out;
}

std::vector<std::string> root_last(std::vector<std::string> mount_points) {
    std::stable_partition(mount_points.begin(), mount_points.end(),
                          [](const std::string& m) { return m != "/"; });
    return mount_points;
}

} // namespace guardian
