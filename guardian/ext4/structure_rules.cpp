#include "guardian/ext4/structure_rules.hpp"

namespace guardian::ext4 {
namespace {

std::string exceeds(const char* field, std::uint64_t value, const char* what, std::uint64_t limit) {
    return std::string(field) + " " + std::to_string(value) + " exceeds " + what + " (" +
           std::to_string(limit) + ")";
}

// i_extra_isize-like fields: 0, or 4..inode_size-128 in steps of 4.
bool bad_extra_isize(std::uint32_t v, std::uint32_t inode_size) {
    return v != 0 && (v < 4 || v > inode_size - 128 || v % 4 != 0);
}

} // namespace

std::string superblock_problem(const SuperInfo& sb) {
    const Bytes r(sb.raw);
    const std::uint32_t log_bs = le32(r, 0x18);
    const std::uint32_t log_cs = le32(r, 0x1C);
    const bool bigalloc = sb.feature_ro_compat & k_ro_compat_bigalloc;
    if (!bigalloc) {
        if (log_cs != log_bs)
            return "s_log_cluster_size " + std::to_string(log_cs) +
                   " differs from s_log_block_size " + std::to_string(log_bs) + " without bigalloc";
        if (sb.clusters_per_group != sb.blocks_per_group)
            return "s_clusters_per_group " + std::to_string(sb.clusters_per_group) +
                   " differs from s_blocks_per_group " + std::to_string(sb.blocks_per_group) +
                   " without bigalloc";
        const std::uint32_t want = log_bs == 0 ? 1 : 0;
        if (sb.first_data_block != want)
            return "s_first_data_block " + std::to_string(sb.first_data_block) + " should be " +
                   std::to_string(want) + " with " + std::to_string(sb.block_size) + "-byte blocks";
    }
    if (sb.blocks_per_group < 8)
        return "s_blocks_per_group " + std::to_string(sb.blocks_per_group) + " is below 8";
    if (sb.inodes_per_group < sb.block_size / sb.inode_size)
        return "s_inodes_per_group " + std::to_string(sb.inodes_per_group) +
               " is less than one inode-table block";
    const std::uint64_t r_blocks = le32(r, 0x8) | (std::uint64_t{le32(r, 0x154)} << 32);
    const std::uint64_t free_blocks = le32(r, 0xC) | (std::uint64_t{le32(r, 0x158)} << 32);
    const bool is64 = sb.feature_incompat & k_incompat_64bit;
    if ((is64 ? r_blocks : r_blocks & 0xFFFFFFFF) > sb.blocks_count / 2)
        return exceeds("s_r_blocks_count", is64 ? r_blocks : r_blocks & 0xFFFFFFFF,
                       "half of s_blocks_count", sb.blocks_count / 2);
    if ((is64 ? free_blocks : free_blocks & 0xFFFFFFFF) > sb.blocks_count)
        return exceeds("s_free_blocks_count", is64 ? free_blocks : free_blocks & 0xFFFFFFFF,
                       "s_blocks_count", sb.blocks_count);
    if (le32(r, 0x10) > sb.inodes_count)
        return exceeds("s_free_inodes_count", le32(r, 0x10), "s_inodes_count", sb.inodes_count);
    if (le32(r, 0x4C) >= 1) { // dynamic revision: these fields exist
        const std::uint32_t first_ino = le32(r, 0x54);
        if (first_ino < 11 || first_ino >= sb.inodes_count)
            return "s_first_ino " + std::to_string(first_ino) + " outside [11, s_inodes_count)";
        if (bad_extra_isize(le16(r, 0x15C), sb.inode_size))
            return "s_min_extra_isize " + std::to_string(le16(r, 0x15C)) + " is impossible for " +
                   std::to_string(sb.inode_size) + "-byte inodes";
        if (bad_extra_isize(le16(r, 0x15E), sb.inode_size))
            return "s_want_extra_isize " + std::to_string(le16(r, 0x15E)) + " is impossible for " +
                   std::to_string(sb.inode_size) + "-byte inodes";
    }
    if (sb.reserved_gdt > sb.block_size / 4)
        return exceeds("s_reserved_gdt_blocks", sb.reserved_gdt, "what one block can map",
                       sb.block_size / 4);
    if (sb.flex_bg() && u8(r, 0x174) > 31)
        return "s_log_groups_per_flex " + std::to_string(u8(r, 0x174)) + " is impossible";
    return {};
}

std::string group_desc_problem(Bytes d, std::uint32_t group, const SuperInfo& sb) {
    const bool wide = d.size() >= 64;
    auto field = [&](std::size_t lo, std::size_t hi) {
        return std::uint32_t{le16(d, lo)} | (wide ? std::uint32_t{le16(d, hi)} << 16 : 0);
    };
    const std::uint32_t free_blocks = field(0x0C, 0x2C);
    const std::uint32_t free_inodes = field(0x0E, 0x2E);
    const std::uint32_t used_dirs = field(0x10, 0x30);
    const std::uint16_t flags = le16(d, 0x12);
    const std::uint32_t itable_unused = field(0x1C, 0x32);
    if (free_blocks > sb.clusters_per_group)
        return exceeds("bg_free_blocks_count", free_blocks, "the group's clusters",
                       sb.clusters_per_group);
    if (free_inodes > sb.inodes_per_group)
        return exceeds("bg_free_inodes_count", free_inodes, "the group's inodes",
                       sb.inodes_per_group);
    if (used_dirs > sb.inodes_per_group)
        return exceeds("bg_used_dirs_count", used_dirs, "the group's inodes", sb.inodes_per_group);
    constexpr std::uint16_t uninit = k_bg_inode_uninit | k_bg_block_uninit;
    if (!sb.gdt_csum()) {
        if ((flags & uninit) || itable_unused != 0)
            return "bg_flags " + std::to_string(flags) + " / bg_itable_unused " +
                   std::to_string(itable_unused) + " set without uninit_bg or metadata_csum";
        return {};
    }
    if (group + 1 == sb.group_count && (flags & k_bg_block_uninit))
        return "bg_flags: BLOCK_UNINIT on the last group";
    if (itable_unused > sb.inodes_per_group)
        return exceeds("bg_itable_unused", itable_unused, "the group's inodes",
                       sb.inodes_per_group);
    if (itable_unused > free_inodes)
        return exceeds("bg_itable_unused", itable_unused, "bg_free_inodes_count", free_inodes);
    return {};
}

} // namespace guardian::ext4
