// Structural rules for the superblock and group descriptors: what must hold
// whatever the checksums say (and where there are none: ext2/ext3, ext4
// without metadata_csum). Pure functions of the bytes as read; each returns
// the first problem found, empty when the structure is sound. The limits are
// those e2fsck's check_super_block applies.
#pragma once

#include "guardian/ext4/bytes.hpp"
#include "guardian/ext4/superblock.hpp"

#include <string>

namespace guardian::ext4 {

// Fields parse_superblock() does not already judge.
[[nodiscard]] std::string superblock_problem(const SuperInfo& sb);

// One descriptor's counters and flags (its locations are judged as geometry).
[[nodiscard]] std::string group_desc_problem(Bytes desc, std::uint32_t group, const SuperInfo& sb);

} // namespace guardian::ext4
