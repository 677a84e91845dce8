// Consistency of an internal jbd2 journal's superblock with itself and with
// the journal inode, as e2fsck_journal_load and jbd2's journal_get_superblock
// judge it ("Journal superblock is corrupt"). Needs no checksum, so it holds
// on ext3 and on v2/v3 journals alike (a changed s_maxlen whose checksum was
// recomputed is still caught).
#pragma once

#include "guardian/ext4/bytes.hpp"

#include <cstdint>
#include <string>

namespace guardian::ext4 {

struct JournalInode {
    std::uint32_t fs_block_size = 0;
    std::uint64_t size_blocks = 0;   // i_size / block size: what jbd2 takes as the journal length
    std::uint64_t mapped_blocks = 0; // logical blocks 0.. mapped without a hole
};

// `jsb`: the 1024-byte journal superblock. Empty: sound.
[[nodiscard]] std::string journal_superblock_problem(Bytes jsb, const JournalInode& inode);

} // namespace guardian::ext4
