#include "guardian/ext4/journal_rules.hpp"

#include "guardian/ext4/checksums.hpp"
#include "guardian/ondisk/jbd2_format.hpp"

namespace guardian::ext4 {
namespace {

using namespace jbd2; // NOLINT: the format constants, in a .cpp
constexpr std::uint8_t k_crc32c = 4;
constexpr std::uint32_t k_min_journal_blocks = 1024; // JBD2_MIN_JOURNAL_BLOCKS

} // namespace

std::string journal_superblock_problem(Bytes r, const JournalInode& inode) {
    if (be32(r, 0) != k_magic)
        return "bad magic " + hex32(be32(r, 0)) + " (expected " + hex32(k_magic) + ")";
    const std::uint32_t type = be32(r, 4);
    if (type != k_sb_v1 && type != k_sb_v2)
        return "bad block type " + std::to_string(type);
    const std::uint32_t blocksize = be32(r, 0xC);
    const std::uint32_t maxlen = be32(r, 0x10);
    const std::uint32_t first = be32(r, 0x14);
    const std::uint32_t start = be32(r, 0x1C);
    if (type == k_sb_v2) {
        const std::uint32_t compat = be32(r, 0x24);
        const std::uint32_t incompat = be32(r, 0x28);
        const std::uint32_t ro_compat = be32(r, 0x2C);
        if (be32(r, 0x40) > 1)
            return "s_nr_users " + std::to_string(be32(r, 0x40)) +
                   ": an internal journal has one user";
        if (incompat & ~k_known_incompat)
            return "unknown journal feature: incompat " + hex32(incompat & ~k_known_incompat);
        if (ro_compat & ~k_known_ro_compat)
            return "unknown journal feature: ro_compat " + hex32(ro_compat & ~k_known_ro_compat);
        const bool v2or3 = incompat & (k_incompat_csum_v2 | k_incompat_csum_v3);
        if ((incompat & k_incompat_csum_v2) && (incompat & k_incompat_csum_v3))
            return "journal features CSUM_V2 and CSUM_V3 both set";
        if (v2or3 && (compat & k_compat_checksum))
            return "journal features CSUM_V2/V3 and the old CHECKSUM both set";
        if (v2or3 && u8(r, 0x50) != k_crc32c)
            return "s_checksum_type " + std::to_string(u8(r, 0x50)) + " (expected 4, crc32c)";
        if (v2or3) {
            if (const auto c = jbd2_superblock_csum(r); !c.ok())
                return c.describe();
        }
    }
    if (blocksize != inode.fs_block_size || first == 0 || first >= maxlen)
        return "impossible geometry: blocksize " + std::to_string(blocksize) + ", first " +
               std::to_string(first) + ", maxlen " + std::to_string(maxlen);
    if (maxlen > inode.size_blocks)
        return "s_maxlen " + std::to_string(maxlen) + " exceeds the journal inode's size (" +
               std::to_string(inode.size_blocks) + " blocks)";
    if (maxlen < k_min_journal_blocks)
        return "s_maxlen " + std::to_string(maxlen) + " is below jbd2's minimum of " +
               std::to_string(k_min_journal_blocks) + " blocks";
    if (start != 0 && (start < first || start >= maxlen))
        return "s_start " + std::to_string(start) + " lies outside the log [" +
               std::to_string(first) + ", " + std::to_string(maxlen) + ")";
    if (inode.mapped_blocks < inode.size_blocks)
        return "journal inode maps " + std::to_string(inode.mapped_blocks) +
               " blocks, fewer than its size (" + std::to_string(inode.size_blocks) + " blocks)";
    return {};
}

} // namespace guardian::ext4
