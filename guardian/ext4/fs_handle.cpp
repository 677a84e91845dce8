#include "guardian/ext4/fs_handle.hpp"

// com_err.h has no C++ linkage guards of its own.
extern "C" {
#include <et/com_err.h>
}
#include <ext2fs/ext2fs.h>

namespace guardian::ext4 {
namespace {

struct MapCollector {
    std::vector<std::pair<std::uint64_t, std::uint64_t>>* out;
    std::uint64_t cap;
};

int collect_block(ext2_filsys, blk64_t* blocknr, e2_blkcnt_t blockcnt, blk64_t, int, void* priv) {
    auto* c = static_cast<MapCollector*>(priv);
    if (blockcnt < 0)
        return 0; // indirect blocks themselves
    if (c->out->size() >= c->cap)
        return BLOCK_ABORT;
    c->out->emplace_back(static_cast<std::uint64_t>(blockcnt), *blocknr);
    return 0;
}

} // namespace

Result<FsHandle::OpenOutcome> FsHandle::open(const std::string& path) {
    // error_message() only knows libext2fs's codes once its table is registered.
    static const bool tables = [] {
        initialize_ext2_error_table();
        return true;
    }();
    (void)tables;
    ext2_filsys fs = nullptr;
    const int flags = EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS | EXT2_FLAG_SKIP_MMP;
    const errcode_t err = ext2fs_open2(path.c_str(), nullptr, flags, 0, 0, unix_io_manager, &fs);
    OpenOutcome out;
    if (err == 0) {
        out.fs.reset(new FsHandle(fs));
        return out;
    }
    if (err == EXT2_ET_BAD_MAGIC)
        return Error{path + ": not an ext2/3/4 filesystem (no ext2 superblock magic)", 0};
    if (err == EXT2_ET_SHORT_READ)
        return Error{path + ": truncated: the superblock or group descriptors lie beyond its end",
                     0};
    if (err == EXT2_ET_UNSUPP_FEATURE || err == EXT2_ET_RO_UNSUPP_FEATURE) {
        // An external journal device carries a superblock but no filesystem.
        ext2_filsys probe = nullptr;
        if (ext2fs_open2(path.c_str(), nullptr, flags | EXT2_FLAG_JOURNAL_DEV_OK, 0, 0,
                         unix_io_manager, &probe) == 0) {
            const bool journal_dev = ext2fs_has_feature_journal_dev(probe->super) != 0;
            ext2fs_close_free(&probe);
            if (journal_dev)
                return Error{path + ": unsupported: an external journal device, not a filesystem",
                             0};
        }
        return Error{path + ": unsupported: " + error_message(err), 0};
    }
    if (err > 0 && err < 4096) // an errno
        return Error{"open " + path + ": " + error_message(err), static_cast<int>(err)};
    out.rejected = error_message(err);
    return out;
}

FsHandle::~FsHandle() {
    ext2fs_close_free(&m_fs);
}

std::uint64_t FsHandle::descriptor_block(std::uint64_t i) const {
    const blk64_t group_block = m_fs->super->s_first_data_block;
    return ext2fs_descriptor_block_loc2(m_fs, group_block, static_cast<dgrp_t>(i));
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> FsHandle::block_map(std::uint32_t ino,
                                                                         std::uint64_t cap) const {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    MapCollector c{&out, cap};
    // Errors leave a partial map: what could not be mapped is not read.
    (void)ext2fs_block_iterate3(m_fs, ino, BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY, nullptr,
                                collect_block, &c);
    return out;
}

std::vector<JournalExtent> FsHandle::journal_map(std::uint32_t ino) const {
    std::vector<JournalExtent> out;
    for (const auto& [logical, physical] : block_map(ino, 1u << 22)) {
        if (!out.empty() && out.back().logical + out.back().count == logical &&
            out.back().physical + out.back().count == physical)
            ++out.back().count;
        else
            out.push_back({logical, physical, 1});
    }
    return out;
}

GroupBackups FsHandle::group_backups(std::uint32_t group) const {
    GroupBackups b;
    blk64_t super = 0;
    blk64_t old_desc = 0;
    blk64_t new_desc = 0;
    blk_t used = 0;
    if (ext2fs_super_and_bgd_loc2(m_fs, group, &super, &old_desc, &new_desc, &used) != 0)
        return b;
    b.has_super = ext2fs_bg_has_super(m_fs, group) != 0;
    b.super = super;
    if (old_desc != 0) {
        b.old_desc = old_desc;
        // As ext2fs_reserve_super_and_bgd counts them.
        b.old_desc_count = ext2fs_has_feature_meta_bg(m_fs->super)
                               ? m_fs->super->s_first_meta_bg
                               : m_fs->desc_blocks + m_fs->super->s_reserved_gdt_blocks;
    }
    b.new_desc = new_desc;
    return b;
}

std::optional<std::uint32_t> FsHandle::dir_hash(std::uint8_t version, Bytes name,
                                                bool casefold) const {
    int v = version;
    if (v <= EXT2_HASH_TEA && (m_fs->super->s_flags & EXT2_FLAGS_UNSIGNED_HASH))
        v += 3; // legacy/half_md4/tea read names as unsigned chars
    ext2_dirhash_t hash = 0;
    ext2_dirhash_t minor = 0;
    const errcode_t err =
        ext2fs_dirhash2(v, reinterpret_cast<const char*>(name.data()),
                        static_cast<int>(name.size()), casefold ? m_fs->encoding : nullptr,
                        casefold ? EXT4_CASEFOLD_FL : 0, m_fs->super->s_hash_seed, &hash, &minor);
    if (err != 0)
        return std::nullopt;
    return static_cast<std::uint32_t>(hash);
}

std::uint64_t FsHandle::inode_size_bytes(std::uint32_t ino) const {
    ext2_inode inode{};
    if (ext2fs_read_inode(m_fs, ino, &inode) != 0)
        return 0;
    return EXT2_I_SIZE(&inode);
}

SuperblockHealth FsHandle::health() const {
    const ext2_super_block* sb = m_fs->super;
    // The _hi bytes extend the 32-bit times past 2106; both halves are unsigned.
    auto time64 = [](std::uint32_t lo, std::uint8_t hi) {
        return static_cast<std::int64_t>((static_cast<std::uint64_t>(hi) << 32) | lo);
    };
    SuperblockHealth h;
    h.error_flag = (sb->s_state & EXT2_ERROR_FS) != 0;
    h.valid_flag = (sb->s_state & EXT2_VALID_FS) != 0;
    h.lastcheck = time64(sb->s_lastcheck, sb->s_lastcheck_hi);
    h.error_count = sb->s_error_count;
    h.first_error_time = time64(sb->s_first_error_time, sb->s_first_error_time_hi);
    h.last_error_time = time64(sb->s_last_error_time, sb->s_last_error_time_hi);
    h.mount_count = sb->s_mnt_count;
    return h;
}

Result<FsLayout> FsHandle::layout() const {
    ext2_super_block* sb = m_fs->super; // the feature tests take it non-const
    FsLayout layout;
    layout.blocksize = m_fs->blocksize;
    layout.has_journal = ext2fs_has_feature_journal(sb) != 0;
    layout.errors_behavior = sb->s_errors;
    if (!layout.has_journal)
        return layout;
    if (sb->s_journal_inum == 0) {
        layout.external_journal = true;
        return layout;
    }
    blk64_t physical = 0;
    const errcode_t err =
        ext2fs_bmap2(m_fs, sb->s_journal_inum, nullptr, nullptr, 0, 0, nullptr, &physical);
    if (err != 0)
        return Error{std::string("map the journal inode: ") + error_message(err), 0};
    if (physical == 0)
        return Error{"the journal inode has no block 0", 0};
    layout.journal_sb_block = physical;
    return layout;
}

Result<FsLayout> read_fs_layout(const std::string& device) {
    GUARDIAN_TRY_ASSIGN(auto opened, FsHandle::open(device));
    if (!opened.fs)
        return Error{device + ": libext2fs rejects it: " + opened.rejected, 0};
    auto layout = opened.fs->layout();
    if (!layout)
        return Error{device + ": " + layout.error().message, layout.error().code};
    return layout;
}

} // namespace guardian::ext4
