// State shared by the stages of one scan (internal to guardian/ext4).
#pragma once

#include "guardian/core/findings.hpp"
#include "guardian/ext4/block_reader.hpp"
#include "guardian/ext4/fixed_metadata.hpp"
#include "guardian/ext4/fs_handle.hpp"
#include "guardian/ext4/region_digests.hpp"
#include "guardian/ext4/superblock.hpp"

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace guardian::ext4 {

class BlockOwners;

// A finding not yet reported. On a live filesystem a mismatch can be a race
// rather than damage, so each candidate remembers the block whose bytes are
// wrong and the block that referenced it (inode table or parent extent
// block), with digests of both as read: the confirmation pass re-reads them
// and reports only damage that persists unchanged.
// Bytes [offset, offset + size) of a block (size 0: the whole block) and
// their digest as first read.
struct Span {
    std::uint64_t block = 0;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
    std::uint64_t hash = 0;
};

[[nodiscard]] std::uint64_t block_hash(Bytes data);
[[nodiscard]] Span make_span(std::uint64_t block, Bytes block_data, std::size_t offset = 0,
                             std::size_t size = 0);

struct Suspect {
    Finding finding;
    Span at;                 // the bytes found wrong
    std::optional<Span> via; // what referenced them (the inode, the parent extent block)
    bool journal = false;    // a journal log finding: re-checked by walking the log again
};

struct ScanContext {
    SuperInfo sb;
    std::vector<GroupDesc> groups;
    // Where no file may map a block (filled by the geometry check).
    FixedMetadata fixed;
    BlockReader* reader = nullptr;
    FsHandle* fs = nullptr;
    bool fingerprint = true;
    CheckMode mode = CheckMode::live;
    // Stable mode with the filetype feature: every inode as read, by number
    // (dirent_type_of_mode, k_inode_unused or k_inode_unknown; dir_rules.hpp),
    // so directory entries can be judged against their inodes.
    std::vector<std::uint8_t> inode_types;
    // The same, as the inode-table threads write it (verify_block); copied
    // into inode_types by apply(), block by block in order. The directory
    // checks read inode_types while those threads verify the next chunk.
    std::vector<std::uint8_t> staged_types;
    // Stable mode, journal replayed, no bigalloc: who claims each block
    // (block_owners.hpp); null otherwise.
    BlockOwners* owners = nullptr;
    // Some in-use inode's map was not followed (dtime set, or a finding):
    // blocks and xattr references may be missing from the claims.
    bool walk_incomplete = false;
    // An inode that may be an orphan (link count 0 with a mode, dtime 0):
    // its blocks and bitmap bits stay until the orphan is released.
    bool maybe_orphans = false;
    std::size_t batch_bytes = 8u << 20; // referenced blocks read at once
    RegionDigests digests;
    std::vector<Suspect> suspects;
    std::vector<std::string> not_verified; // for the report, from the stages
    std::uint64_t inodes_checked = 0;
};

} // namespace guardian::ext4
