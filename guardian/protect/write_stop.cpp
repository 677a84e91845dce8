#include "guardian/protect/write_stop.hpp"

#include "guardian/protect/fs_control.hpp"
#include "guardian/protect/fsck_mark.hpp"
#include "guardian/util/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace guardian::protect {
namespace {

// The effective errors= behaviour: a mount option wins over the superblock.
bool remount_ro_on_error(const std::string& super_options, std::uint16_t sb_default) {
    for (std::size_t at = 0; at <= super_options.size();) {
        const std::size_t comma = std::min(super_options.find(',', at), super_options.size());
        const std::string_view opt = std::string_view(super_options).substr(at, comma - at);
        if (opt == "errors=remount-ro")
            return true;
        if (opt == "errors=continue" || opt == "errors=panic")
            return false;
        at = comma + 1;
    }
    return sb_default == 2; // EXT2_ERRORS_RO
}

Status trigger_error(const std::string& path) {
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(path, O_WRONLY));
    static constexpr char text[] = "guardian: critical verdict, stopping writes\n";
    if (::write(fd.get(), text, sizeof text - 1) < 0)
        return Error::from_errno("write " + path);
    return ok_status();
}

} // namespace

std::string_view to_string(WriteStopMethod method) noexcept {
    switch (method) {
    case WriteStopMethod::ioctl:
        return "ioctl";
    case WriteStopMethod::kernel_error:
        return "kernel-error";
    case WriteStopMethod::none:
        return "none";
    }
    return "none";
}

Result<WriteStopPlan> plan_write_stop(const std::string& device, const std::string& mount_point,
                                      const std::string& super_options, const SystemRoot& root) {
    WriteStopPlan plan;
    plan.mount_point = mount_point;
    GUARDIAN_TRY_ASSIGN(const FsLayout layout, read_fs_layout(device));
    plan.errors_remount_ro = remount_ro_on_error(super_options, layout.errors_behavior);
    if (auto name = kernel_block_name(device, root); name)
        plan.trigger_path = root.path("/sys/fs/ext4/" + *name + "/trigger_fs_error");
    const bool have_trigger =
        !plan.trigger_path.empty() && ::access(plan.trigger_path.c_str(), W_OK) == 0;

    GUARDIAN_TRY_ASSIGN(const bool ioctl, shutdown_ioctl_supported(mount_point));
    if (!have_trigger)
        plan.trigger_path.clear();
    if (ioctl) {
        plan.method = WriteStopMethod::ioctl;
        return plan;
    }
    if (have_trigger && plan.errors_remount_ro) {
        plan.method = WriteStopMethod::kernel_error;
        return plan;
    }
    plan.method = WriteStopMethod::none;
    plan.why = "no EXT4_IOC_SHUTDOWN (Linux < 4.10) and " +
               std::string(have_trigger ? "not mounted errors=remount-ro"
                                        : "no /sys/fs/ext4/<dev>/trigger_fs_error") +
               ": every other way to stop writes syncs through the suspect device first";
    return plan;
}

Result<WriteStopMethod> stop_writes(const WriteStopPlan& plan) {
    const bool kernel_error_possible = !plan.trigger_path.empty() && plan.errors_remount_ro;
    switch (plan.method) {
    case WriteStopMethod::ioctl: {
        Status s = shutdown_nologflush(plan.mount_point);
        if (s.ok())
            return WriteStopMethod::ioctl;
        const bool unknown =
            classify(s.error()) == FsControlError::unsupported || s.error().code == EINVAL;
        if (!unknown || !kernel_error_possible)
            return std::move(s).error();
        GUARDIAN_TRY(trigger_error(plan.trigger_path));
        return WriteStopMethod::kernel_error;
    }
    case WriteStopMethod::kernel_error:
        GUARDIAN_TRY(trigger_error(plan.trigger_path));
        return WriteStopMethod::kernel_error;
    case WriteStopMethod::none:
        break;
    }
    return Error{"writes to " + plan.mount_point + " cannot be stopped: " + plan.why, ENOTTY};
}

} // namespace guardian::protect
