#include "guardian/protect/fsck_mark.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace guardian::protect {
namespace {

// MS_* flags that reproduce the current per-mount and superblock flags: a
// legacy MS_REMOUNT resets every flag it is not given.
unsigned long current_mount_flags(const struct statvfs& st) {
    unsigned long flags = MS_REMOUNT;
    const auto has = [&](unsigned long f) { return (st.f_flag & f) != 0; };
    if (has(ST_RDONLY))
        flags |= MS_RDONLY;
    if (has(ST_NOSUID))
        flags |= MS_NOSUID;
    if (has(ST_NODEV))
        flags |= MS_NODEV;
    if (has(ST_NOEXEC))
        flags |= MS_NOEXEC;
    if (has(ST_SYNCHRONOUS))
        flags |= MS_SYNCHRONOUS;
    if (has(ST_NOATIME))
        flags |= MS_NOATIME;
    if (has(ST_NODIRATIME))
        flags |= MS_NODIRATIME;
    if (has(ST_RELATIME))
        flags |= MS_RELATIME;
    return flags;
}

Status pwrite_full(int fd, std::span<const std::byte> buf, std::uint64_t offset,
                   const std::string& what) {
    std::size_t done = 0;
    while (done < buf.size()) {
        const ssize_t n =
            ::pwrite(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("write " + what);
        }
        done += static_cast<std::size_t>(n);
    }
    return ok_status();
}

Status write_text(const std::string& path, std::string_view text) {
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(path, O_WRONLY));
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0)
        return Error::from_errno("write " + path);
    return ok_status();
}

Result<FsckMarkMethod> apply_kernel_error_path(FsckMarkPlan& plan) {
    // Without errors=remount-ro the kernel keeps running and the error it
    // records in the superblock is lost in the journal replay; with it, jbd2
    // aborts the journal with -EIO and records that in s_errno.
    if (::mount(nullptr, plan.mount_point.c_str(), nullptr, plan.remount_flags,
                plan.remount_data.c_str()) != 0)
        return Error::from_errno("remount " + plan.mount_point + " " + plan.remount_data);
    GUARDIAN_TRY(write_text(plan.trigger_path, "guardian: critical verdict, forcing fsck\n"));
    return FsckMarkMethod::kernel_error_path;
}

} // namespace

Result<std::string> kernel_block_name(const std::string& device, const SystemRoot& root) {
    struct stat st {};
    if (::stat(device.c_str(), &st) != 0)
        return Error::from_errno("stat " + device);
    if (!S_ISBLK(st.st_mode))
        return Error{device + " is not a block device", 0};
    const std::string link = root.path("/sys/dev/block/" + std::to_string(major(st.st_rdev)) + ":" +
                                       std::to_string(minor(st.st_rdev)));
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(link, ec);
    if (!ec)
        return target.filename().string();
    return std::filesystem::path(device).filename().string();
}

std::string_view to_string(FsckMarkMethod method) noexcept {
    switch (method) {
    case FsckMarkMethod::journal_errno:
        return "journal-errno";
    case FsckMarkMethod::superblock_flag:
        return "superblock-flag";
    case FsckMarkMethod::kernel_error_path:
        return "kernel-error-path";
    }
    return "unknown";
}

Result<FsckMarkPlan> plan_fsck_mark(const std::string& device, const std::string& mount_point,
                                    const SystemRoot& root, const PlanOptions& options) {
    GUARDIAN_TRY_ASSIGN(const FsLayout layout, read_fs_layout(device));
    if (layout.external_journal)
        return Error{device + ": external journal devices are not supported", 0};

    FsckMarkPlan plan;
    plan.device = device;
    plan.mount_point = mount_point;
    plan.blocksize = layout.blocksize;
    plan.remount_data = "errors=remount-ro";
    if (layout.has_journal) {
        plan.method = FsckMarkMethod::journal_errno;
        plan.offset = layout.journal_sb_block * layout.blocksize;
    } else {
        plan.method = FsckMarkMethod::superblock_flag;
        plan.offset = 1024;
    }

    // Validate now what the emergency will patch, so a plan that exists works.
    {
        GUARDIAN_TRY_ASSIGN(Fd probe, open_fd(device, O_RDONLY));
        GUARDIAN_TRY(pread_full(probe.get(), plan.buffer, plan.offset, device));
        std::array<std::byte, 1024> copy = plan.buffer;
        GUARDIAN_TRY(layout.has_journal ? patch_journal_superblock(copy)
                                        : patch_fs_superblock(copy));
    }

    GUARDIAN_TRY_ASSIGN(std::string name, kernel_block_name(device, root));
    plan.trigger_path = root.path("/sys/fs/ext4/" + name + "/trigger_fs_error");
    struct statvfs st {};
    if (::statvfs(mount_point.c_str(), &st) != 0)
        return Error::from_errno("statvfs " + mount_point);
    plan.remount_flags = current_mount_flags(st);

    // The kernel's error path needs /sys/fs/ext4/<dev>/trigger_fs_error,
    // which not every kernel has (and a test root may hide): without it that
    // path is no method at all, and the device write is the only one.
    const bool have_trigger = ::access(plan.trigger_path.c_str(), W_OK) == 0;
    if (!options.force_kernel_error_path || !have_trigger) {
        // O_DSYNC: the one pwrite is written back and flushed on its own,
        // without fsync(2), which would write back every dirty page of the
        // device (the filesystem's own metadata included).
        Result<Fd> fd = open_fd(device, O_RDWR | O_DSYNC);
        if (fd.ok()) {
            plan.device_fd = std::move(fd).value();
            if (options.force_kernel_error_path)
                plan.note = "kernel error path asked for, but " + plan.trigger_path +
                            " is missing: writing the device instead";
            return plan;
        }
        const int err = fd.error().code;
        if (err != EBUSY && err != EROFS && err != EACCES && err != EPERM)
            return std::move(fd).error();
        if (!have_trigger)
            return Error{"no fsck-mark method for " + device +
                             ": the device cannot be opened "
                             "for writing (" +
                             fd.error().message + ") and " + plan.trigger_path + " is missing",
                         err};
        plan.note = "device not writable while mounted (" + fd.error().message +
                    "): the kernel's error path instead";
    }
    // Without a journal the kernel's own error path writes EXT2_ERROR_FS
    // straight into the superblock, and no replay can lose it.
    plan.method = FsckMarkMethod::kernel_error_path;
    return plan;
}

Result<FsckMarkMethod> apply_fsck_mark(FsckMarkPlan& plan) {
    if (plan.method == FsckMarkMethod::kernel_error_path)
        return apply_kernel_error_path(plan);
    if (!plan.device_fd.valid())
        return Error{"fsck mark for " + plan.device + ": no writable device handle", 0};
    GUARDIAN_TRY(pread_full(plan.device_fd.get(), plan.buffer, plan.offset, plan.device));
    GUARDIAN_TRY(plan.method == FsckMarkMethod::journal_errno
                     ? patch_journal_superblock(plan.buffer)
                     : patch_fs_superblock(plan.buffer));
    GUARDIAN_TRY(pwrite_full(plan.device_fd.get(), plan.buffer, plan.offset, plan.device));
    return plan.method;
}

} // namespace guardian::protect
