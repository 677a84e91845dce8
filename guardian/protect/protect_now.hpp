// The emergency sequence on a critical verdict (policy `protect`), in the
// order docs/design.md gives: tell the provider (xenstore, one kmsg line), stop
// every write (shutdown, root last), make the next boot run a full fsck, then
// reboot without syncing. Every step's outcome lands in the IncidentRecord.
//
// The plan is prepared at baseline time (device fds, offsets, the kmsg line's
// buffer, the record's storage); the sequence itself parses nothing and execs
// nothing unless the operator chose an orderly reboot.
#pragma once

#include "guardian/core/incident.hpp"
#include "guardian/protect/fsck_mark.hpp"
#include "guardian/protect/ports.hpp"
#include "guardian/protect/step_deadline.hpp"
#include "guardian/protect/write_stop.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace guardian::protect {

enum class RebootPolicy { immediate, orderly, none };

// The filesystem actions, behind a port so the sequence's order is testable
// without a filesystem; RealFsActions does the ioctls and device writes.
// Each call runs on a thread of its own with a deadline (step_deadline.hpp)
// and may still be running, abandoned, after protect_now() returned: an
// implementation must outlive the process's last step thread (the daemon's
// lives as long as the process).
class FsActions {
public:
    virtual ~FsActions() = default;
    // Returns the method that stopped writes (write_stop.hpp).
    [[nodiscard]] virtual Result<WriteStopMethod> stop_writes(const WriteStopPlan& plan) = 0;
    [[nodiscard]] virtual Result<FsckMarkMethod> mark(FsckMarkPlan& plan) = 0;
};

class RealFsActions final : public FsActions {
public:
    [[nodiscard]] Result<WriteStopMethod> stop_writes(const WriteStopPlan& plan) override;
    [[nodiscard]] Result<FsckMarkMethod> mark(FsckMarkPlan& plan) override;
};

// One filesystem's protection, prepared and probed at baseline time: how
// its writes stop and how its next fsck is forced. The emergency only
// executes it; nothing is looked up or matched then.
struct FsProtectionPlan {
    FsProtectionPlan() = default;
    // A filesystem whose write stop was not planned gets the
    // EXT4_IOC_SHUTDOWN attempt.
    FsProtectionPlan(FsckMarkPlan mark) // NOLINT(google-explicit-constructor)
        : fsck_mark(std::move(mark)) {}
    FsckMarkPlan fsck_mark; // names the device and mount point
    std::optional<WriteStopPlan> write_stop;
};

struct EmergencyPlan {
    std::vector<FsProtectionPlan> filesystems; // any order; the sequence puts root last
    bool shutdown = true;
    bool fsck_mark = true;
    RebootPolicy reboot = RebootPolicy::immediate;
    // Nothing may be written to the affected filesystems, not even to stop
    // writes or to mark them: the block path itself writes other pages'
    // contents (a frontend reusing grants its backend still maps;
    // docs/design.md, "Writing nothing"). The sequence skips the write stop
    // and the fsck mark, saying `write_nothing_why`, and reboots with
    // reboot(2) at once; only if that fails does it stop writes after all.
    // The daemon sets it only with a reboot configured.
    bool write_nothing = false;
    std::string write_nothing_why;
    // Per step that does I/O to a suspect device (fsck mark, stop writes):
    // one that overruns is recorded as timed out and the sequence goes on.
    std::chrono::milliseconds step_deadline = default_step_deadline;
};

struct EmergencyPorts {
    ProviderNotifier* notifier = nullptr;       // null: step recorded as skipped
    KmsgWriter* kmsg = nullptr;                 // null: step recorded as skipped
    FsActions* fs = nullptr;                    // required
    Rebooter* rebooter = nullptr;               // required unless reboot == none
    std::function<std::int64_t()> monotonic_ns; // clock for the record; null: 0
    // reboot(2) without sync, for when writes could not be stopped: then the
    // sequence reboots at once whatever `reboot` says (an orderly reboot
    // would sync through the suspect device; `none` would leave it written).
    // Null: `rebooter` (tests pass a recording one).
    Rebooter* immediate_rebooter = nullptr;
};

// Runs the sequence. A failing step is recorded and the sequence goes on:
// each later step still protects the data (a failed notification must not
// keep the disk writable). A step that overruns `step_deadline` is recorded
// as timed out, later steps on that filesystem are skipped, the provider and
// kmsg are told which steps timed out, and the reboot is reboot(2) without
// sync whatever `reboot` says (anything else would wait on the dead disk).
// With reboot == immediate (or writes that could not be stopped, or a step
// that timed out, or write_nothing) this returns only if reboot(2) failed.
void protect_now(EmergencyPlan& plan, const EmergencyPorts& ports, IncidentRecord& record);

} // namespace guardian::protect
