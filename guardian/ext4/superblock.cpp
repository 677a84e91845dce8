#include "guardian/ext4/superblock.hpp"

#include "guardian/ext4/checksums.hpp"

#include <cstdio>

namespace guardian::ext4 {
namespace {

std::string hex(std::uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08x", v);
    return b;
}

std::string uuid_string(Bytes u) {
    char b[40];
    std::snprintf(b, sizeof b,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u8(u, 0),
                  u8(u, 1), u8(u, 2), u8(u, 3), u8(u, 4), u8(u, 5), u8(u, 6), u8(u, 7), u8(u, 8),
                  u8(u, 9), u8(u, 10), u8(u, 11), u8(u, 12), u8(u, 13), u8(u, 14), u8(u, 15));
    return b;
}

} // namespace

std::string SuperInfo::type() const {
    if ((feature_incompat & (k_incompat_extents | k_incompat_flex_bg | k_incompat_64bit)) ||
        metadata_csum())
        return "ext4";
    return has_journal() ? "ext3" : "ext2";
}

std::string SuperInfo::uuid() const {
    return uuid_string(Bytes(raw).subspan(0x68, 16));
}

std::string SuperInfo::label() const {
    std::string out;
    for (std::size_t i = 0; i < 16 && u8(raw, 0x78 + i) != 0; ++i)
        out.push_back(static_cast<char>(u8(raw, 0x78 + i)));
    return out;
}

SuperInfo parse_superblock(Bytes r, std::string& insane) {
    SuperInfo s;
    s.raw.assign(r.begin(), r.end());
    s.raw.resize(1024);
    r = Bytes(s.raw);
    const std::uint32_t log_bs = le32(r, 0x18);
    s.inodes_count = le32(r, 0x0);
    s.first_data_block = le32(r, 0x14);
    s.blocks_per_group = le32(r, 0x20);
    s.clusters_per_group = le32(r, 0x24);
    s.inodes_per_group = le32(r, 0x28);
    s.inode_size = le32(r, 0x4C) == 0 ? 128 : le16(r, 0x58);
    s.feature_compat = le32(r, 0x5C);
    s.feature_incompat = le32(r, 0x60);
    s.feature_ro_compat = le32(r, 0x64);
    s.reserved_gdt = le16(r, 0xCE);
    s.journal_inum = le32(r, 0xE0);
    s.journal_dev = le32(r, 0xE4);
    s.first_meta_bg = le32(r, 0x104);
    const bool is64 = s.feature_incompat & k_incompat_64bit;
    s.blocks_count = le32(r, 0x4) | (is64 ? std::uint64_t{le32(r, 0x150)} << 32 : 0);
    s.desc_size = is64 ? le16(r, 0xFE) : 32;
    s.csum_seed = fs_csum_seed(r);
    if (le16(r, 0x38) != 0xEF53)
        insane = "bad magic";
    else if (log_bs > 6)
        insane = "s_log_block_size " + std::to_string(log_bs) + " is impossible";
    if (!insane.empty())
        return s;
    s.block_size = 1024u << log_bs;
    s.sb_block = 1024 / s.block_size;
    if (s.blocks_per_group == 0 || s.blocks_per_group > 8 * s.block_size * 16)
        insane = "s_blocks_per_group " + std::to_string(s.blocks_per_group) + " is impossible";
    else if (s.inodes_per_group == 0 || s.inodes_per_group > 8 * s.block_size)
        insane = "s_inodes_per_group " + std::to_string(s.inodes_per_group) + " is impossible";
    else if (s.inode_size < 128 || s.inode_size > s.block_size ||
             (s.inode_size & (s.inode_size - 1)) != 0)
        insane = "s_inode_size " + std::to_string(s.inode_size) + " is impossible";
    else if (s.desc_size < 32 || s.desc_size > 1024 || (s.desc_size & (s.desc_size - 1)) != 0)
        insane = "s_desc_size " + std::to_string(s.desc_size) + " is impossible";
    else if (s.blocks_count <= s.first_data_block || s.first_data_block > 1)
        insane = "s_blocks_count " + std::to_string(s.blocks_count) + " / s_first_data_block " +
                 std::to_string(s.first_data_block) + " are impossible";
    if (!insane.empty())
        return s;
    const std::uint64_t groups =
        (s.blocks_count - s.first_data_block + s.blocks_per_group - 1) / s.blocks_per_group;
    if (groups > (1u << 31) || groups * s.inodes_per_group != s.inodes_count)
        insane = "s_inodes_count " + std::to_string(s.inodes_count) + " does not match " +
                 std::to_string(groups) + " groups of " + std::to_string(s.inodes_per_group);
    s.group_count = static_cast<std::uint32_t>(groups);
    return s;
}

void add_superblock_geometry(const SuperInfo& s, std::map<std::string, std::string>& g) {
    const Bytes r(s.raw);
    auto dec = [&](const char* name, std::uint64_t v) {
        g[std::string("superblock.") + name] = std::to_string(v);
    };
    dec("s_inodes_count", s.inodes_count);
    dec("s_blocks_count", s.blocks_count);
    dec("s_first_data_block", s.first_data_block);
    dec("s_log_block_size", le32(r, 0x18));
    dec("s_log_cluster_size", le32(r, 0x1C));
    dec("s_blocks_per_group", s.blocks_per_group);
    dec("s_inodes_per_group", s.inodes_per_group);
    dec("s_inode_size", s.inode_size);
    dec("s_desc_size", s.desc_size);
    dec("s_rev_level", le32(r, 0x4C));
    dec("s_first_ino", le32(r, 0x54));
    dec("s_journal_inum", s.journal_inum);
    dec("s_log_groups_per_flex", u8(r, 0x174));
    dec("s_reserved_gdt_blocks", s.reserved_gdt);
    dec("s_first_meta_bg", s.first_meta_bg);
    // ext4 sets some feature bits itself while mounted: EXT_ATTR (0x8) with the
    // first xattr, LARGE_FILE (ro 0x2) with the first file over 2 GiB,
    // ORPHAN_PRESENT (ro 0x10000) while the orphan file holds inodes. Those
    // bits are not geometry; every other bit is.
    g["superblock.feature_compat"] = hex(s.feature_compat & ~0x8u);
    // RECOVER flips at every mount and clean unmount: not geometry.
    g["superblock.feature_incompat"] = hex(s.feature_incompat & ~k_incompat_recover);
    g["superblock.feature_ro_compat"] = hex(s.feature_ro_compat & ~(0x2u | 0x10000u));
    g["superblock.uuid"] = s.uuid();
    if (s.metadata_csum()) {
        dec("s_checksum_type", u8(r, 0x175));
        if (s.feature_incompat & k_incompat_csum_seed)
            g["superblock.s_checksum_seed"] = hex(le32(r, 0x270));
    }
}

GroupDesc parse_group_desc(Bytes d) {
    GroupDesc g;
    const bool wide = d.size() >= 64;
    auto hi32 = [&](std::size_t off) { return wide ? std::uint64_t{le32(d, off)} << 32 : 0; };
    g.block_bitmap = le32(d, 0x0) | hi32(0x20);
    g.inode_bitmap = le32(d, 0x4) | hi32(0x24);
    g.inode_table = le32(d, 0x8) | hi32(0x28);
    g.flags = le16(d, 0x12);
    g.itable_unused = le16(d, 0x1C) | (wide ? std::uint32_t{le16(d, 0x32)} << 16 : 0);
    g.block_bitmap_csum = le16(d, 0x18) | (wide ? std::uint32_t{le16(d, 0x38)} << 16 : 0);
    g.inode_bitmap_csum = le16(d, 0x1A) | (wide ? std::uint32_t{le16(d, 0x3A)} << 16 : 0);
    g.bitmap_csum_hi = wide;
    return g;
}

void add_group_geometry(std::uint32_t group, const GroupDesc& gd,
                        std::map<std::string, std::string>& g) {
    const std::string p = "group_descriptor." + std::to_string(group) + ".";
    g[p + "bg_block_bitmap"] = std::to_string(gd.block_bitmap);
    g[p + "bg_inode_bitmap"] = std::to_string(gd.inode_bitmap);
    g[p + "bg_inode_table"] = std::to_string(gd.inode_table);
}

} // namespace guardian::ext4
