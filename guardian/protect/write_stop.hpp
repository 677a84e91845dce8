// How guardian stops every further write to a filesystem it no longer
// trusts, chosen per filesystem at baseline time (while nothing is suspect)
// and applied during the emergency without parsing or path lookups on the
// suspect filesystem.
//
// The rule: stop writes without first writing the dirty cache through the
// suspect block device. In order of preference:
//  - ioctl: EXT4_IOC_SHUTDOWN with NOLOGFLUSH (Linux >= 4.10). Nothing is
//    flushed, the journal is aborted, every later write fails with EIO.
//  - kernel-error: no EXT4_IOC_SHUTDOWN, but the filesystem is mounted
//    errors=remount-ro and has /sys/fs/ext4/<dev>/trigger_fs_error: one
//    write there runs ext4's own error path, which aborts the journal (and
//    records -EIO in it) and flips the filesystem read-only, without a sync.
//  - none: neither. Everything else that stops writes syncs first:
//    FIFREEZE and remount-ro (ext4_remount / do_remount_sb) call
//    sync_filesystem(), BLKFLSBUF syncs the filesystem on the device, and
//    BLKROSET does not stop a mounted filesystem's writes (docs/design.md). Then
//    the emergency says so (incident record, journal) and reboots at once
//    with reboot(2) and no sync: the dirty cache dies with the machine.
#pragma once

#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <string>
#include <string_view>

namespace guardian::protect {

enum class WriteStopMethod { ioctl, kernel_error, none };
[[nodiscard]] std::string_view to_string(WriteStopMethod method) noexcept;

struct WriteStopPlan {
    std::string mount_point;
    WriteStopMethod method = WriteStopMethod::ioctl;
    // kernel-error: /sys/fs/ext4/<dev>/trigger_fs_error (under SystemRoot);
    // also kept for the ioctl method, as its fallback when the ioctl turns
    // out to be missing after all.
    std::string trigger_path;
    bool errors_remount_ro = false; // the mount's effective errors= behaviour
    std::string why;                // none: why no method stops writes
};

// `super_options`: the mount's super options from mountinfo (where an
// `errors=` mount option shows); the superblock's default applies otherwise.
[[nodiscard]] Result<WriteStopPlan> plan_write_stop(const std::string& device,
                                                    const std::string& mount_point,
                                                    const std::string& super_options,
                                                    const SystemRoot& root);

// Applies the plan; returns the method that stopped writes. An ioctl plan
// whose ioctl is refused as unknown (ENOTTY/EINVAL) falls back to the
// kernel's error path when that is available. Method none is an error
// naming why.
[[nodiscard]] Result<WriteStopMethod> stop_writes(const WriteStopPlan& plan);

} // namespace guardian::protect
