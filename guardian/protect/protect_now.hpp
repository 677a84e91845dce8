// The emergency sequence on a critical verdict (policy `protect`), in the
// order DESIGN.md fixes: tell the provider (xenstore, one kmsg line), stop
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

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace guardian::protect {

enum class RebootPolicy { immediate, orderly, none };

// The filesystem actions, behind a port so the sequence's order is testable
// without a filesystem; RealFsActions does the ioctls and device writes.
class FsActions {
public:
    virtual ~FsActions() = default;
    [[nodiscard]] virtual Status shutdown(const std::string& mount_point) = 0;
    [[nodiscard]] virtual Result<FsckMarkMethod> mark(FsckMarkPlan& plan) = 0;
};

class RealFsActions final : public FsActions {
public:
    [[nodiscard]] Status shutdown(const std::string& mount_point) override;
    [[nodiscard]] Result<FsckMarkMethod> mark(FsckMarkPlan& plan) override;
};

struct EmergencyPlan {
    std::vector<FsckMarkPlan> filesystems; // any order; the sequence puts root last
    bool shutdown = true;
    bool fsck_mark = true;
    RebootPolicy reboot = RebootPolicy::immediate;
};

struct EmergencyPorts {
    ProviderNotifier* notifier = nullptr;       // null: step recorded as skipped
    KmsgWriter* kmsg = nullptr;                 // null: step recorded as skipped
    FsActions* fs = nullptr;                    // required
    Rebooter* rebooter = nullptr;               // required unless reboot == none
    std::function<std::int64_t()> monotonic_ns; // clock for the record; null: 0
};

// Runs the sequence. A failing step is recorded and the sequence goes on:
// each later step still protects the data (a failed notification must not
// keep the disk writable). With reboot == immediate this returns only if
// reboot(2) failed.
void protect_now(EmergencyPlan& plan, const EmergencyPorts& ports, IncidentRecord& record);

} // namespace guardian::protect
