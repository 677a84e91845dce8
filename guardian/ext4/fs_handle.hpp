// The libext2fs adapter: an RAII owner for ext2_filsys, and the few things
// guardian asks libext2fs for (opening with the format's own validation,
// group descriptor block locations for meta_bg, block maps of block-mapped
// inodes and of the journal, where the journal superblock lies for protect/).
// errcode_t values never leave this file pair: it is guardian's one
// libext2fs adapter.
#pragma once

#include "guardian/ext4/bytes.hpp"
#include "guardian/ext4/jbd2.hpp"
#include "guardian/util/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct struct_ext2_filsys;

namespace guardian::ext4 {

// Where a group's superblock copy and descriptor blocks are (sparse_super,
// sparse_super2, meta_bg as libext2fs decides).
struct GroupBackups {
    bool has_super = false;
    std::uint64_t super = 0;
    std::uint64_t old_desc = 0;       // first block of the descriptor table (+ reserved GDT)
    std::uint64_t old_desc_count = 0; // 0: none in this group
    std::uint64_t new_desc = 0;       // meta_bg descriptor block; 0: none
};

// What the superblock says about the filesystem's health: the boot report
// reads it after fsck ran (s_lastcheck moves on a full check, which also
// clears the error state and count).
struct SuperblockHealth {
    bool error_flag = false;    // EXT2_ERROR_FS in s_state
    bool valid_flag = false;    // EXT2_VALID_FS in s_state (cleanly unmounted/checked)
    std::int64_t lastcheck = 0; // s_lastcheck (with _hi), seconds since the epoch
    std::uint32_t error_count = 0;
    std::int64_t first_error_time = 0; // 0: none recorded
    std::int64_t last_error_time = 0;
    std::uint16_t mount_count = 0;
};

// What protect/ plans its fsck mark and write stop from (at baseline time).
struct FsLayout {
    bool has_journal = false;
    bool external_journal = false;
    std::uint32_t blocksize = 0;
    std::uint64_t journal_sb_block = 0; // physical block of journal logical block 0
    // s_errors: the default error behaviour (1 continue, 2 remount-ro, 3
    // panic); a mount option `errors=` overrides it.
    std::uint16_t errors_behavior = 1;
};

class FsHandle {
public:
    // Opens read-only, ignoring checksum errors (damage is reported, not fatal).
    // A missing magic is "not an ext2/3/4 filesystem"; other rejections are
    // returned with libext2fs's reason in `rejected` (damage, not an error).
    struct OpenOutcome;
    [[nodiscard]] static Result<OpenOutcome> open(const std::string& path);
    ~FsHandle();
    FsHandle(const FsHandle&) = delete;
    FsHandle& operator=(const FsHandle&) = delete;

    // Block of the descriptor table holding descriptor block `i` (meta_bg aware).
    [[nodiscard]] std::uint64_t descriptor_block(std::uint64_t i) const;
    // Physical blocks of a block-mapped (or extent) inode, logical order;
    // at most `cap` entries. Reads through libext2fs.
    [[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint64_t>>
    block_map(std::uint32_t ino, std::uint64_t cap) const;
    [[nodiscard]] std::vector<JournalExtent> journal_map(std::uint32_t ino) const;
    [[nodiscard]] GroupBackups group_backups(std::uint32_t group) const;
    // i_size of an inode as libext2fs reads it; 0 when it cannot be read.
    [[nodiscard]] std::uint64_t inode_size_bytes(std::uint32_t ino) const;
    [[nodiscard]] SuperblockHealth health() const;
    // Where the journal superblock lies (an error when the journal inode
    // cannot be mapped).
    [[nodiscard]] Result<FsLayout> layout() const;
    // The major htree hash of a directory entry's name with the dx_root's
    // hash `version` (legacy, half_md4, tea; the unsigned variants when the
    // superblock says so) and the filesystem's seed; `casefold` folds the
    // name with the filesystem's encoding first. None: version unknown.
    [[nodiscard]] std::optional<std::uint32_t> dir_hash(std::uint8_t version, Bytes name,
                                                        bool casefold) const;

private:
    explicit FsHandle(struct_ext2_filsys* fs) : m_fs(fs) {}
    struct_ext2_filsys* m_fs;
};

struct FsHandle::OpenOutcome {
    std::unique_ptr<FsHandle> fs; // null when rejected
    std::string rejected;         // why libext2fs refused it
};

// Opens `device` read-only and reads its layout; a filesystem libext2fs
// rejects is an error here (nothing can be planned on it).
[[nodiscard]] Result<FsLayout> read_fs_layout(const std::string& device);

} // namespace guardian::ext4
