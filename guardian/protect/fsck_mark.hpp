// Making sure the next boot runs a full fsck, in a way that survives the
// journal replay of the guest's own e2fsck (docs/design.md "The kernel
// facts behind each choice"): e2fsck < 1.47.1 loses the superblock error flag during replay,
// but has always propagated the journal superblock's s_errno.
//
// Everything that needs parsing (libext2fs, the journal inode's first block,
// the sysfs name) happens when the plan is made, at baseline time. Applying
// it during an emergency is a pread, a patch in a buffer the plan owns, and
// one pwrite through a device fd the plan already holds: no allocation, no
// exec, no path lookup on the suspect filesystem.
#pragma once

#include "guardian/ext4/fs_handle.hpp"
#include "guardian/ondisk/fsck_marks.hpp"

#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace guardian::protect {

enum class FsckMarkMethod {
    // Write s_errno = -EIO into the journal superblock (crc32c fixed up).
    journal_errno,
    // No journal (ext2 layout): set EXT2_ERROR_FS in s_state (csum fixed up).
    superblock_flag,
    // The device cannot be opened for writing while mounted
    // (CONFIG_BLK_DEV_WRITE_MOUNTED=n since 6.8): let the kernel record the
    // error itself through /sys/fs/ext4/<dev>/trigger_fs_error, after a
    // remount to errors=remount-ro (with errors=continue the record is lost).
    // This must run BEFORE the shutdown: ext4 ignores errors on a shut-down fs
    // (both facts are pinned by control tests in tests/protect/). It also
    // writes through the suspect path (the remount, the error record): the
    // last resort, used only when the device cannot be opened for writing.
    kernel_error_path,
};
[[nodiscard]] std::string_view to_string(FsckMarkMethod method) noexcept;

struct FsckMarkPlan {
    std::string device;      // e.g. /dev/xvda1
    std::string mount_point; // where it is mounted
    FsckMarkMethod method = FsckMarkMethod::journal_errno;
    std::uint64_t offset = 0;    // byte offset of the journal sb or of the fs sb
    std::uint32_t blocksize = 0; // filesystem block size
    Fd device_fd;                // O_RDWR|O_DSYNC, held from planning on; invalid for kernel path
    std::string trigger_path;    // /sys/fs/ext4/<name>/trigger_fs_error (under SystemRoot)
    unsigned long remount_flags = 0;      // MS_* flags of the current mount, for the remount
    std::string remount_data;             // "errors=remount-ro"
    std::array<std::byte, 1024> buffer{}; // scratch for the patch
    std::string note; // why the method is not the first choice (logged at planning), or empty
};

struct PlanOptions {
    // Tests (and operators on kernels with the device-write restriction)
    // force the kernel path even where the device could be written.
    bool force_kernel_error_path = false;
};

// Reads the filesystem's layout (read-only, through ext4/'s adapter) and opens the
// device for writing, or falls back to the kernel's error path when that
// open is refused.
[[nodiscard]] Result<FsckMarkPlan> plan_fsck_mark(const std::string& device,
                                                  const std::string& mount_point,
                                                  const SystemRoot& root,
                                                  const PlanOptions& options = {});

// Applies the plan; returns the method that was used.
[[nodiscard]] Result<FsckMarkMethod> apply_fsck_mark(FsckMarkPlan& plan);

// The patches themselves live with the on-disk formats (pure; the tests
// call them through these names).
using ondisk::patch_fs_superblock;
using ondisk::patch_journal_superblock;

// The layout comes from ext4/'s libext2fs adapter (where the journal
// superblock lies): protect/ holds no libext2fs code of its own.
using ext4::FsLayout;
using ext4::read_fs_layout;

// The kernel's name for a block device ("loop3", "xvda1", "dm-0"), as used
// under /sys/fs/ext4/: the target of /sys/dev/block/MAJ:MIN (under `root`).
[[nodiscard]] Result<std::string> kernel_block_name(const std::string& device,
                                                    const SystemRoot& root);

} // namespace guardian::protect
