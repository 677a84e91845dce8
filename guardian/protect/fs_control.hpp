// The filesystem-level ioctls guardian acts with: FIFREEZE / FITHAW and
// EXT4_IOC_SHUTDOWN. Each takes a mount point (the ioctl goes to an fd of the
// mount point directory, opened read-only, which writes nothing). This pair of
// files is the only place these ioctl numbers and their errno values exist.
#pragma once

#include "guardian/util/result.hpp"

#include <string>
#include <vector>

namespace guardian::protect {

// Error::code values callers may branch on without seeing errno.
enum class FsControlError {
    none = 0,
    already_frozen, // FIFREEZE on a frozen fs (EBUSY)
    not_frozen,     // FITHAW on a thawed fs (EINVAL)
    unsupported,    // the filesystem has no such ioctl (EOPNOTSUPP / ENOTTY)
    other,
};
[[nodiscard]] FsControlError classify(const Error& error) noexcept;

// FIFREEZE: syncs, checkpoints the journal, then blocks every writer until
// thawed. An already frozen fs is its own error (classify(): already_frozen).
[[nodiscard]] Status freeze(const std::string& mount_point);
// FITHAW. A fs that is not frozen is its own error (classify(): not_frozen).
[[nodiscard]] Status thaw(const std::string& mount_point);

// FITHAW on an fd of the mount point opened earlier (the freeze guard holds
// its fds from start-up); `name` is for the error text.
[[nodiscard]] Status thaw_fd(int fd, const std::string& name);

// Freezes all, in root_last() order. On the first failure, thaws the ones it
// froze (reverse order) and returns that failure: all or nothing.
[[nodiscard]] Status freeze_all(const std::vector<std::string>& mount_points);

// Thaws all in the reverse of the freeze order (root first), continuing past
// failures; "not frozen" is not a failure. Returns the failures.
[[nodiscard]] std::vector<Error> thaw_all(const std::vector<std::string>& mount_points);

// EXT4_IOC_SHUTDOWN with EXT4_GOING_FLAGS_NOLOGFLUSH: from now on every write
// fails with EIO; nothing is flushed (the write path is suspect), the journal
// is aborted. Irreversible until the fs is unmounted.
[[nodiscard]] Status shutdown_nologflush(const std::string& mount_point);

// Whether the kernel has EXT4_IOC_SHUTDOWN (Linux >= 4.10), asked without
// shutting anything down: the ioctl with a flags value no kernel accepts.
// ext4 checks the flags before acting and answers EINVAL (EPERM without
// CAP_SYS_ADMIN: the ioctl exists too); a kernel without it answers ENOTTY.
[[nodiscard]] Result<bool> shutdown_ioctl_supported(const std::string& mount_point);

} // namespace guardian::protect
