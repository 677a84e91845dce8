// The jbd2 on-disk constants (include/linux/jbd2.h) that the journal rules,
// the log walk and the fsck mark use, and the hex form they print values in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace guardian::ondisk::jbd2 {

inline constexpr std::uint32_t k_magic = 0xC03B3998;
// journal_superblock_t fields (big-endian), from the block's start.
inline constexpr std::size_t k_sb_blocktype = 0x04;
inline constexpr std::size_t k_sb_errno = 0x20;
inline constexpr std::size_t k_sb_incompat = 0x28;
inline constexpr std::size_t k_sb_checksum = 0xFC;
// Block types (h_blocktype).
inline constexpr std::uint32_t k_descriptor = 1;
inline constexpr std::uint32_t k_commit = 2;
inline constexpr std::uint32_t k_sb_v1 = 3;
inline constexpr std::uint32_t k_sb_v2 = 4;
inline constexpr std::uint32_t k_revoke = 5;
// Features.
inline constexpr std::uint32_t k_compat_checksum = 0x1;
inline constexpr std::uint32_t k_incompat_64bit = 0x2;
inline constexpr std::uint32_t k_incompat_csum_v2 = 0x8;
inline constexpr std::uint32_t k_incompat_csum_v3 = 0x10;
inline constexpr std::uint32_t k_incompat_fast_commit = 0x20;
// REVOKE, 64BIT, ASYNC_COMMIT, CSUM_V2, CSUM_V3, FAST_COMMIT.
inline constexpr std::uint32_t k_known_incompat = 0x3F;
inline constexpr std::uint32_t k_known_ro_compat = 0;

[[nodiscard]] inline std::string hex32(std::uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08x", v);
    return b;
}

} // namespace guardian::ondisk::jbd2

namespace guardian::ext4 {
namespace jbd2 = ondisk::jbd2; // the engine's journal code names it so
} // namespace guardian::ext4
