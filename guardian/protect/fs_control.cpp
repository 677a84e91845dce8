#include "guardian/protect/fs_control.hpp"

#include "guardian/core/incident.hpp"
#include "guardian/util/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

namespace guardian::protect {
namespace {

// From the ext4 sources (fs/ext4/ext4.h); not in the uapi headers Debian ships.
constexpr unsigned long ext4_ioc_shutdown = _IOR('X', 125, std::uint32_t);
constexpr std::uint32_t ext4_going_flags_nologflush = 0x2;

// A mount point as an fd for ioctls. O_RDONLY|O_DIRECTORY: opening writes
// nothing (no atime for an open), and the ioctls need no write access.
Result<Fd> open_mount(const std::string& mount_point) {
    return open_fd(mount_point, O_RDONLY | O_DIRECTORY);
}

Status fd_ioctl(int fd, const std::string& mount_point, unsigned long request, const char* what,
                void* arg = nullptr) {
    int rc;
    do
        rc = ::ioctl(fd, request, arg);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        const int err = errno;
        Error e = Error::from_errno(std::string(what) + " " + mount_point, err);
        if (request == FIFREEZE && err == EBUSY)
            e.message = std::string(what) + " " + mount_point + ": already frozen";
        else if (request == FITHAW && err == EINVAL)
            e.message = std::string(what) + " " + mount_point + ": not frozen";
        return e;
    }
    return ok_status();
}

Status mount_ioctl(const std::string& mount_point, unsigned long request, const char* what,
                   void* arg = nullptr) {
    GUARDIAN_TRY_ASSIGN(Fd fd, open_mount(mount_point));
    return fd_ioctl(fd.get(), mount_point, request, what, arg);
}

} // namespace

FsControlError classify(const Error& error) noexcept {
    if (error.code == 0)
        return FsControlError::none;
    if (error.message.ends_with(": already frozen"))
        return FsControlError::already_frozen;
    if (error.message.ends_with(": not frozen"))
        return FsControlError::not_frozen;
    if (error.code == EOPNOTSUPP || error.code == ENOTTY)
        return FsControlError::unsupported;
    return FsControlError::other;
}

Status freeze(const std::string& mount_point) {
    return mount_ioctl(mount_point, FIFREEZE, "freeze");
}

Status thaw(const std::string& mount_point) {
    return mount_ioctl(mount_point, FITHAW, "thaw");
}

Status thaw_fd(int fd, const std::string& name) {
    return fd_ioctl(fd, name, FITHAW, "thaw");
}

Status freeze_all(const std::vector<std::string>& mount_points) {
    const std::vector<std::string> order = root_last(mount_points);
    for (std::size_t i = 0; i < order.size(); ++i) {
        Status s = freeze(order[i]);
        if (!s.ok()) {
            // Never leave a partial freeze behind: a frozen fs blocks sync(2)
            // for every process on the machine.
            for (std::size_t j = i; j-- > 0;)
                (void)thaw(order[j]);
            return s;
        }
    }
    return ok_status();
}

std::vector<Error> thaw_all(const std::vector<std::string>& mount_points) {
    std::vector<std::string> order = root_last(mount_points);
    std::reverse(order.begin(), order.end());
    std::vector<Error> failures;
    for (const auto& m : order) {
        Status s = thaw(m);
        if (!s.ok() && classify(s.error()) != FsControlError::not_frozen)
            failures.push_back(std::move(s).error());
    }
    return failures;
}

Status shutdown_nologflush(const std::string& mount_point) {
    std::uint32_t flags = ext4_going_flags_nologflush;
    return mount_ioctl(mount_point, ext4_ioc_shutdown, "shutdown", &flags);
}

Result<bool> shutdown_ioctl_supported(const std::string& mount_point) {
    std::uint32_t flags = 0xFFFFFFFFu; // above EXT4_GOING_FLAGS_NOLOGFLUSH: always refused
    Status s = mount_ioctl(mount_point, ext4_ioc_shutdown, "shutdown probe", &flags);
    if (s.ok())
        // Never seen: a kernel that accepted this flags value has done
        // something; say so rather than guess what.
        return Error{"shutdown probe on " + mount_point + " was accepted", 0};
    const int err = s.error().code;
    if (err == EINVAL || err == EPERM)
        return true;
    if (err == ENOTTY || err == EOPNOTSUPP)
        return false;
    return std::move(s).error();
}

} // namespace guardian::protect
