// Structural rules on the entries that map or name other blocks and inodes:
// extent entries, an inode's block pointers, the '.'/'..' entries of a
// directory's first block, and the shape of a symlink. Each judges one
// structure's own bytes against the fixed geometry, so it needs no checksum
// and no other inode, and a healthy filesystem under write load never breaks
// it (the kernel builds these structures whole before it links them). Each
// returns the first problem found, empty when the entries are sound; the
// limits are those of e2fsck's pass 1 and pass 2.
#pragma once

#include "guardian/ext4/bytes.hpp"
#include "guardian/ext4/fixed_metadata.hpp"
#include "guardian/ext4/superblock.hpp"

#include <cstdint>
#include <string>

namespace guardian::ext4 {

// "lies outside the filesystem" / "lies on the inode table of group 2" for
// blocks [first, first + count) that a file maps; empty when they are fine.
[[nodiscard]] std::string mapped_range_problem(std::uint64_t first, std::uint64_t count,
                                               const SuperInfo& sb, const FixedMetadata& fixed);

// The entries of an extent node whose header is sound (depth 0: leaf
// extents, else index entries): zero length, order and overlap, physical
// blocks inside the filesystem and off fixed metadata, and no unwritten
// extent in a directory (the kernel never fallocates directories). A node
// below the root covers the logical blocks [lo, hi) its parent index entry
// gives it (from its key to the next key): every entry must start there.
struct LogicalRange {
    std::uint64_t lo = 0;
    std::uint64_t hi = std::uint64_t{1} << 32;
    // Below an index entry: the node's first entry starts exactly at the
    // entry's key (the kernel keeps them equal; e2fsck checks it).
    bool from_index = false;
};
[[nodiscard]] std::string extent_entries_problem(Bytes node, std::uint16_t depth, bool directory,
                                                 const SuperInfo& sb, const FixedMetadata& fixed,
                                                 LogicalRange range = {});

// i_block[0..14] of a block-mapped inode (no extents, no inline data) that
// maps blocks: each non-zero pointer inside the filesystem, off fixed
// metadata and not repeated (a file never maps one block twice). Devices, FIFOs, sockets and fast
// symlinks hold no pointers.
[[nodiscard]] std::string block_pointers_problem(Bytes inode, const SuperInfo& sb,
                                                 const FixedMetadata& fixed);

// The entries of a single, double or triple indirect block (at `self`):
// each non-zero one inside the filesystem, off fixed metadata, not the
// indirect block itself and not repeated.
[[nodiscard]] std::string indirect_entries_problem(Bytes block, std::uint64_t self,
                                                   const SuperInfo& sb, const FixedMetadata& fixed);

// A symlink's size against where its target lives: a fast symlink's target
// (in i_block) must be i_size bytes with no NUL inside; a slow one's i_size
// must fit its one block.
[[nodiscard]] std::string symlink_problem(Bytes inode, const SuperInfo& sb);

// Logical block 0 of a directory that is not an htree: '.' naming the
// directory itself, then '..'. `end` is where the entries stop (the
// checksum tail with metadata_csum).
[[nodiscard]] std::string first_dir_block_problem(Bytes block, std::size_t end,
                                                  std::uint32_t dir_ino);

// A directory's i_size against the blocks it maps, where the inode holds
// the whole map (extents in i_block, or direct pointers only): as e2fsck's
// pass 1 wants, i_size ends right after the last mapped block (up to
// s_prealloc_dir_blocks more may be mapped). Deeper maps are not judged.
[[nodiscard]] std::string dir_size_problem(Bytes inode, const SuperInfo& sb);

// Whether an in-use inode keeps its symlink target in i_block.
[[nodiscard]] bool fast_symlink(Bytes inode, const SuperInfo& sb);

} // namespace guardian::ext4
