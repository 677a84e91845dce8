// The record of one protective intervention: which step ran against which
// filesystem, in which order, and how it ended. Pure data, filled in by the
// emergency sequence (guardian/protect) and reported after the reboot, so it
// is written into memory that was reserved before the writes stopped.
#pragma once

#include "guardian/util/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

enum class IncidentStep {
    stop_processes,     // SIGSTOP to every other process (a block path that garbles writes)
    continue_processes, // SIGCONT to them again when the reboot failed
    notify_provider,    // xenstore data/guardian/incident
    kmsg_line,          // one line on /dev/kmsg (reaches the Xen console)
    shutdown,           // EXT4_IOC_SHUTDOWN, NOLOGFLUSH
    fsck_mark,          // journal s_errno / superblock error flag / kernel error path
    reboot,             // reboot(2) or the orderly request
};

enum class StepOutcome { done, failed, skipped };

struct IncidentStepRecord {
    IncidentStep step = IncidentStep::notify_provider;
    StepOutcome outcome = StepOutcome::skipped;
    std::string target;            // mount point or device; empty for whole-system steps
    std::string method;            // e.g. "journal-errno", "superblock-flag", "kernel-error-path"
    std::string detail;            // error text when failed
    std::int64_t monotonic_ns = 0; // CLOCK_MONOTONIC when the step ended
    bool timed_out = false;        // failed: overran its deadline (device not answering)
};

struct IncidentRecord {
    std::string reason; // the verdict that triggered it
    std::vector<IncidentStepRecord> steps;

    // Reserve room for the steps of `filesystems` targets, so the emergency
    // does not grow the vector while the disks are being shut down.
    void reserve_for(std::size_t filesystems);

    [[nodiscard]] bool all_done() const noexcept;
    [[nodiscard]] std::vector<const IncidentStepRecord*> of(IncidentStep step) const;
};

// A step that ran: done, or failed with the error's text.
[[nodiscard]] IncidentStepRecord step_record(IncidentStep step, std::string target,
                                             const Status& status, std::string_view method,
                                             std::int64_t monotonic_ns);

[[nodiscard]] std::string_view to_string(IncidentStep step) noexcept;
[[nodiscard]] std::string_view to_string(StepOutcome outcome) noexcept;

// The steps that overran their deadline, "shutdown /srv, fsck-mark /srv";
// empty if none did. For the provider and the console.
[[nodiscard]] std::string timed_out_steps(const IncidentRecord& record);

// One line per step, "shutdown /srv: done", for logs and the boot report.
[[nodiscard]] std::string describe(const IncidentRecord& record);

// Freeze order for several mount points: the root filesystem last, so the
// system stays usable (and the daemon's own logging keeps working) as long
// as possible; everything else in the given order. Thaw and unwind in exactly
// the reverse order, root first. Pure; also used for the shutdown order.
[[nodiscard]] std::vector<std::string> root_last(std::vector<std::string> mount_points);

} // namespace guardian
