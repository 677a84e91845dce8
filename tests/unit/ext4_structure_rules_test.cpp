// The structural rules (no checksums needed) on hand-built byte buffers:
// journal superblock, superblock fields, group descriptor counters, and the
// fixed-metadata overlap rules, the entry rules (extent entries, block
// pointers, indirect blocks, symlinks, '.' and '..', a directory's size),
// and the directory / xattr block rules (dx_root, names, xattr entries).
#include "guardian/ext4/dir_rules.hpp"
#include "guardian/ext4/entry_rules.hpp"
#include "guardian/ext4/fixed_metadata.hpp"
#include "guardian/ext4/journal_rules.hpp"
#include "guardian/ext4/structure_rules.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace guardian::ext4 {
namespace {

using Buf = std::vector<std::byte>;

void put_be32(Buf& b, std::size_t off, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i)
        b[off + i] = std::byte((v >> (24 - 8 * i)) & 0xFF);
}
void put_le16(Buf& b, std::size_t off, std::uint16_t v) {
    b[off] = std::byte(v & 0xFF);
    b[off + 1] = std::byte(v >> 8);
}
void put_le32(Buf& b, std::size_t off, std::uint32_t v) {
    put_le16(b, off, static_cast<std::uint16_t>(v & 0xFFFF));
    put_le16(b, off + 2, static_cast<std::uint16_t>(v >> 16));
}

// A v2 journal superblock without checksums, as mke2fs writes for ext3.
Buf journal_sb(std::uint32_t maxlen = 4096) {
    Buf b(1024);
    put_be32(b, 0, 0xC03B3998);
    put_be32(b, 4, 4);
    put_be32(b, 0xC, 4096);
    put_be32(b, 0x10, maxlen);
    put_be32(b, 0x14, 1);
    put_be32(b, 0x40, 1);
    return b;
}

const JournalInode k_inode{4096, 4096, 4096};

TEST(JournalRules, SoundSuperblockPasses) {
    EXPECT_EQ(journal_superblock_problem(journal_sb(), k_inode), "");
}

TEST(JournalRules, MaxlenBeyondTheInodeIsCorrupt) {
    // e2fsck -fn: "Journal superblock is corrupt".
    EXPECT_EQ(
        journal_superblock_problem(journal_sb(5000), k_inode).rfind("s_maxlen 5000 exceeds", 0),
        0u);
    EXPECT_EQ(journal_superblock_problem(journal_sb(1000), {4096, 1000, 1000}).rfind("s_maxlen", 0),
              0u);
    // Shorter than the inode is what jbd2 and e2fsck accept (they use s_maxlen).
    EXPECT_EQ(journal_superblock_problem(journal_sb(2048), k_inode), "");
}

TEST(JournalRules, FieldsAndFeatures) {
    auto with = [](std::size_t off, std::uint32_t v) {
        Buf b = journal_sb();
        put_be32(b, off, v);
        return journal_superblock_problem(b, k_inode);
    };
    EXPECT_EQ(with(0, 0).rfind("bad magic", 0), 0u);
    EXPECT_EQ(with(4, 7).rfind("bad block type", 0), 0u);
    EXPECT_EQ(with(0xC, 1024).rfind("impossible geometry", 0), 0u);
    EXPECT_EQ(with(0x14, 0).rfind("impossible geometry", 0), 0u);
    EXPECT_EQ(with(0x14, 4096).rfind("impossible geometry", 0), 0u);
    EXPECT_EQ(with(0x1C, 9999).rfind("s_start 9999", 0), 0u);
    EXPECT_EQ(with(0x1C, 7), "");
    EXPECT_EQ(with(0x40, 2).rfind("s_nr_users 2", 0), 0u);
    EXPECT_EQ(with(0x28, 0x40).rfind("unknown journal feature: incompat", 0), 0u);
    EXPECT_EQ(with(0x2C, 0x1).rfind("unknown journal feature: ro_compat", 0), 0u);
    EXPECT_EQ(with(0x28, 0x18).rfind("journal features CSUM_V2 and CSUM_V3", 0), 0u);
    EXPECT_EQ(with(0x28, 0x1 | 0x2 | 0x4), ""); // revoke, 64bit, async commit
    Buf v3 = journal_sb();
    put_be32(v3, 0x28, 0x10);
    EXPECT_EQ(journal_superblock_problem(v3, k_inode).rfind("s_checksum_type 0", 0), 0u);
}

TEST(JournalRules, HoleInTheJournalInode) {
    EXPECT_EQ(journal_superblock_problem(journal_sb(), {4096, 4096, 100})
                  .rfind("journal inode maps 100", 0),
              0u);
}

// A 128 MiB, 4 KiB-block, 4-group ext4 superblock as parse_superblock sees it.
SuperInfo superblock() {
    Buf r(1024);
    put_le32(r, 0x0, 4096);  // s_inodes_count
    put_le32(r, 0x4, 32768); // s_blocks_count
    put_le32(r, 0x8, 1638);  // s_r_blocks_count
    put_le32(r, 0xC, 20000); // s_free_blocks_count
    put_le32(r, 0x10, 4000); // s_free_inodes_count
    put_le32(r, 0x14, 0);    // s_first_data_block
    put_le32(r, 0x18, 2);    // 4 KiB
    put_le32(r, 0x1C, 2);
    put_le32(r, 0x20, 8192);
    put_le32(r, 0x24, 8192);
    put_le32(r, 0x28, 1024);
    put_le16(r, 0x38, 0xEF53);
    put_le32(r, 0x4C, 1);
    put_le32(r, 0x54, 11);
    put_le16(r, 0x58, 256);
    put_le32(r, 0x64, 0x10); // gdt_csum
    put_le16(r, 0x15C, 32);
    put_le16(r, 0x15E, 32);
    std::string insane;
    SuperInfo sb = parse_superblock(r, insane);
    EXPECT_EQ(insane, "");
    return sb;
}

TEST(SuperblockRules, SoundPassesAndFieldsAreJudged) {
    EXPECT_EQ(superblock_problem(superblock()), "");
    auto with = [](std::size_t off, std::uint32_t v, bool wide = true) {
        SuperInfo sb = superblock();
        Buf raw = sb.raw;
        if (wide)
            put_le32(raw, off, v);
        else
            put_le16(raw, off, static_cast<std::uint16_t>(v));
        std::string insane;
        return superblock_problem(parse_superblock(raw, insane));
    };
    EXPECT_EQ(with(0x14, 1).rfind("s_blocks_count", 0), std::string::npos); // parse ok
    EXPECT_EQ(with(0x8, 20000).rfind("s_r_blocks_count", 0), 0u);
    EXPECT_EQ(with(0xC, 40000).rfind("s_free_blocks_count", 0), 0u);
    EXPECT_EQ(with(0x10, 5000).rfind("s_free_inodes_count", 0), 0u);
    EXPECT_EQ(with(0x1C, 3).rfind("s_log_cluster_size", 0), 0u);
    EXPECT_EQ(with(0x54, 5).rfind("s_first_ino", 0), 0u);
    EXPECT_EQ(with(0x15C, 6, false).rfind("s_min_extra_isize", 0), 0u);
    EXPECT_EQ(with(0x15E, 200, false).rfind("s_want_extra_isize", 0), 0u);
    EXPECT_EQ(with(0xCE, 2000, false).rfind("s_reserved_gdt_blocks", 0), 0u);
}

TEST(GroupDescriptorRules, CountersAndUninitFlags) {
    const SuperInfo sb = superblock();
    Buf d(32);
    put_le16(d, 0x0C, 100);
    put_le16(d, 0x0E, 1000);
    put_le16(d, 0x1C, 900);
    EXPECT_EQ(group_desc_problem(d, 1, sb), "");
    Buf bad = d;
    put_le16(bad, 0x0C, 9000);
    EXPECT_EQ(group_desc_problem(bad, 1, sb).rfind("bg_free_blocks_count 9000", 0), 0u);
    bad = d;
    put_le16(bad, 0x0E, 2000);
    EXPECT_EQ(group_desc_problem(bad, 1, sb).rfind("bg_free_inodes_count 2000", 0), 0u);
    bad = d;
    put_le16(bad, 0x1C, 1010);
    EXPECT_EQ(group_desc_problem(bad, 1, sb).rfind("bg_itable_unused 1010", 0), 0u);
    bad = d;
    put_le16(bad, 0x12, 0x2); // BLOCK_UNINIT
    EXPECT_EQ(group_desc_problem(bad, 1, sb), "");
    EXPECT_EQ(group_desc_problem(bad, 3, sb).rfind("bg_flags: BLOCK_UNINIT on the last group", 0),
              0u);
    SuperInfo no_csum = sb;
    no_csum.feature_ro_compat = 0;
    EXPECT_EQ(group_desc_problem(d, 1, no_csum).rfind("bg_flags", 0), 0u);
}

TEST(FixedMetadata, OverlapLookup) {
    FixedMetadata m;
    m.add({0, 2, MetaKind::superblock, 0});
    m.add({100, 1, MetaKind::block_bitmap, 0});
    m.add({102, 512, MetaKind::inode_table, 0});
    m.finish();
    EXPECT_EQ(m.overlap(2, 98), nullptr);
    EXPECT_EQ(m.overlap(101, 1), nullptr);
    ASSERT_NE(m.overlap(99, 2), nullptr);
    EXPECT_EQ(describe(*m.overlap(99, 2)), "the block bitmap of group 0");
    ASSERT_NE(m.overlap(600, 100), nullptr);
    EXPECT_EQ(m.overlap(600, 100)->kind, MetaKind::inode_table);
    EXPECT_EQ(m.overlap(614, 10), nullptr);
}

TEST(FixedMetadata, CollisionsNameBothGroups) {
    std::vector<MetaExtent> all{
        {0, 2, MetaKind::superblock, 0},     {2, 1, MetaKind::block_bitmap, 0},
        {3, 1, MetaKind::inode_bitmap, 0},   {4, 512, MetaKind::inode_table, 0},
        {8192, 1, MetaKind::superblock, 1},  {8193, 2, MetaKind::descriptors, 1},
        {200, 1, MetaKind::block_bitmap, 1},   // inside group 0's table
        {8194, 1, MetaKind::inode_bitmap, 1}}; // on group 1's GDT copy
    EXPECT_TRUE(collisions({all.begin(), all.begin() + 6}).empty());
    const auto c = collisions(all);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].group, 0u);
    EXPECT_EQ(c[0].problem, "inode table at block 4 overlaps the block bitmap of group 1");
    EXPECT_EQ(c[1].group, 1u);
    EXPECT_EQ(c[1].problem, "block bitmap at block 200 overlaps the inode table of group 0");
}

// --- entry rules -----------------------------------------------------------

// 4 KiB blocks, 32768 blocks; fixed metadata at 0..1 (superblock, GDT),
// 2 (block bitmap), 3 (inode bitmap), 4..515 (inode table).
SuperInfo small_fs() {
    SuperInfo sb;
    sb.block_size = 4096;
    sb.blocks_count = 32768;
    sb.first_data_block = 0;
    sb.blocks_per_group = 32768;
    return sb;
}

FixedMetadata small_fixed() {
    FixedMetadata m;
    m.add({0, 1, MetaKind::superblock, 0});
    m.add({1, 1, MetaKind::descriptors, 0});
    m.add({2, 1, MetaKind::block_bitmap, 0});
    m.add({3, 1, MetaKind::inode_bitmap, 0});
    m.add({4, 512, MetaKind::inode_table, 0});
    m.finish();
    return m;
}

// An extent node in i_block (room for 4 entries); each entry {logical, len, start}.
struct Ext {
    std::uint32_t logical;
    std::uint16_t len;
    std::uint64_t start;
};
Buf extent_node(const std::vector<Ext>& entries, std::uint16_t depth = 0) {
    Buf n(12 + 12 * 4);
    put_le16(n, 0, 0xF30A);
    put_le16(n, 2, static_cast<std::uint16_t>(entries.size()));
    put_le16(n, 4, 4);
    put_le16(n, 6, depth);
    for (std::size_t k = 0; k < entries.size(); ++k) {
        const std::size_t o = 12 + 12 * k;
        put_le32(n, o, entries[k].logical);
        if (depth == 0) {
            put_le16(n, o + 4, entries[k].len);
            put_le16(n, o + 6, static_cast<std::uint16_t>(entries[k].start >> 32));
            put_le32(n, o + 8, static_cast<std::uint32_t>(entries[k].start));
        } else {
            put_le32(n, o + 4, static_cast<std::uint32_t>(entries[k].start));
            put_le16(n, o + 8, static_cast<std::uint16_t>(entries[k].start >> 32));
        }
    }
    return n;
}

TEST(ExtentEntryRules, SoundLeafAndIndexPass) {
    const auto sb = small_fs();
    const auto fx = small_fixed();
    EXPECT_EQ(extent_entries_problem(extent_node({{0, 8, 1000}, {8, 4, 2000}, {100, 1, 600}}), 0,
                                     false, sb, fx),
              "");
    // An unwritten extent (len > 32768) in a regular file is fine.
    EXPECT_EQ(extent_entries_problem(extent_node({{0, 32768 + 10, 1000}}), 0, false, sb, fx), "");
    EXPECT_EQ(extent_entries_problem(extent_node({{0, 0, 700}, {50, 0, 701}}, 1), 1, false, sb, fx),
              "");
}

TEST(ExtentEntryRules, ZeroLengthOrderRangeAndFixedMetadata) {
    const auto sb = small_fs();
    const auto fx = small_fixed();
    auto leaf = [&](std::vector<Ext> e, bool dir = false) {
        return extent_entries_problem(extent_node(e), 0, dir, sb, fx);
    };
    // e2fsck: "has zero length extent".
    EXPECT_EQ(leaf({{0, 0, 37}}), "extent 0: zero length (logical block 0)");
    // e2fsck: "has out of order extents".
    EXPECT_EQ(leaf({{0, 12, 1000}, {0, 4, 2000}}).rfind("extent 1: logical block 0 overlaps", 0),
              0u);
    EXPECT_EQ(leaf({{0, 12, 1000}, {11, 4, 2000}}).rfind("extent 1: logical block 11", 0), 0u);
    // e2fsck: "has an invalid extent" (physical block / length).
    EXPECT_EQ(leaf({{0, 10, 40000}}),
              "extent 0: physical blocks 40000..40009 lie outside the filesystem");
    EXPECT_EQ(
        leaf({{0, 6000, 30000}}).rfind("extent 0: physical blocks 30000..35999 lie outside", 0),
        0u);
    EXPECT_EQ(leaf({{0, 2, 515}}), "extent 0: physical blocks 515..516 lie on the inode table of "
                                   "group 0");
    EXPECT_EQ(leaf({{0xFFFFFFF0u, 100, 1000}}).rfind("extent 0: logical blocks", 0), 0u);
    // e2fsck: "Directory inode N has extent marked uninitialized".
    EXPECT_EQ(leaf({{0, 32768 + 1, 1000}}, true),
              "extent 0: unwritten extent in a directory (logical block 0)");
    // Index entries: keys strictly increasing, child inside the fs, off metadata.
    EXPECT_EQ(extent_entries_problem(extent_node({{5, 0, 700}, {5, 0, 701}}, 1), 1, false, sb, fx)
                  .rfind("index 1: logical block 5", 0),
              0u);
    EXPECT_EQ(extent_entries_problem(extent_node({{0, 0, 2}}, 1), 1, false, sb, fx),
              "index 0: child block 2 lies on the block bitmap of group 0");
    EXPECT_EQ(extent_entries_problem(extent_node({{0, 0, 1u << 20}}, 1), 1, false, sb, fx),
              "index 0: child block 1048576 lies outside the filesystem");
}

TEST(ExtentEntryRules, EntriesInsideTheParentRange) {
    const auto sb = small_fs();
    const auto fx = small_fixed();
    const LogicalRange covers{678, 1356}; // the parent's key, the next key
    auto node = [&](std::vector<Ext> e, std::uint16_t depth = 0) {
        return extent_entries_problem(extent_node(e, depth), depth, false, sb, fx, covers);
    };
    EXPECT_EQ(node({{678, 2, 1000}, {1000, 4, 2000}}), "");
    EXPECT_EQ(node({{700, 2, 1000}}), ""); // above the key: the kernel keeps them equal, not judged
    // e2fsck: "has out of order extents" / the index start rules.
    EXPECT_EQ(node({{601, 2, 1000}}),
              "extent 0: logical block 601 outside the range its index covers [678, 1356)");
    EXPECT_EQ(node({{678, 2, 1000}, {1356, 1, 2000}}),
              "extent 1: logical block 1356 outside the range its index covers [678, 1356)");
    EXPECT_EQ(
        node({{678, 0, 700}, {1400, 0, 701}}, 1).rfind("index 1: logical block 1400 outside", 0),
        0u);
    // The root has no parent: any logical block below 2^32.
    EXPECT_EQ(extent_entries_problem(extent_node({{5, 1, 1000}}), 0, false, sb, fx), "");
}

// A 256-byte inode: mode, size, flags, i_blocks (512-byte units).
Buf inode(std::uint16_t mode, std::uint64_t size, std::uint32_t flags = 0) {
    Buf b(256);
    put_le16(b, 0x0, mode);
    put_le32(b, 0x4, static_cast<std::uint32_t>(size));
    put_le32(b, 0x6C, static_cast<std::uint32_t>(size >> 32));
    put_le16(b, 0x1A, 1);
    put_le32(b, 0x20, flags);
    return b;
}

TEST(DirSizeRules, SizeEndsAfterTheLastMappedBlock) {
    const auto sb = small_fs();
    constexpr std::uint32_t k_extents = 0x80000;
    auto with_extents = [&](std::uint64_t size, std::vector<Ext> e) {
        Buf d = inode(040755, size, k_extents);
        const Buf n = extent_node(e);
        std::memcpy(d.data() + 0x28, n.data(), n.size());
        return dir_size_problem(d, sb);
    };
    EXPECT_EQ(with_extents(3 * 4096, {{0, 3, 1000}}), "");
    // e2fsck pass 1: "i_size is X, should be Y".
    EXPECT_EQ(with_extents(8 * 4096, {{0, 3, 1000}}),
              "directory i_size 32768 is larger than its mapped blocks (3)");
    EXPECT_EQ(with_extents(4096, {{0, 1, 1000}, {5, 1, 2000}}),
              "directory i_size 4096 is smaller than its mapped blocks (logical block 5 mapped)");
    EXPECT_EQ(with_extents(0, {{0, 1, 1000}}).rfind("directory i_size 0 is smaller", 0), 0u);
    // An index root or a bad header is left to the extent rules.
    Buf idx = inode(040755, 4096, k_extents);
    const Buf n = extent_node({{0, 0, 700}}, 1);
    std::memcpy(idx.data() + 0x28, n.data(), n.size());
    EXPECT_EQ(dir_size_problem(idx, sb), "");
    // Block-mapped: direct pointers only are judged.
    Buf bm = inode(040755, 2 * 4096);
    put_le32(bm, 0x28, 1000);
    put_le32(bm, 0x2C, 1001);
    EXPECT_EQ(dir_size_problem(bm, sb), "");
    put_le32(bm, 0x28 + 4 * 4, 1002);
    EXPECT_EQ(dir_size_problem(bm, sb).rfind("directory i_size 8192 is smaller", 0), 0u);
    put_le32(bm, 0x28 + 4 * 12, 1003); // an indirect block: not all of the map is here
    EXPECT_EQ(dir_size_problem(bm, sb), "");
    // Not a directory, or not a whole number of blocks (another rule's case).
    EXPECT_EQ(dir_size_problem(inode(0100644, 10 * 4096), sb), "");
    EXPECT_EQ(with_extents(100, {{0, 1, 1000}}), "");
}

TEST(BlockPointerRules, OutsideOnMetadataAndRepeated) {
    const auto sb = small_fs();
    const auto fx = small_fixed();
    Buf f = inode(0100644, 3 * 4096);
    put_le32(f, 0x28, 1000);
    put_le32(f, 0x2C, 1001);
    put_le32(f, 0x28 + 4 * 12, 1002); // single indirect
    EXPECT_EQ(block_pointers_problem(f, sb, fx), "");
    Buf bad = f;
    put_le32(bad, 0x28 + 8, 4294901760u); // e2fsck: "Illegal block #2 (4294901760)"
    EXPECT_EQ(block_pointers_problem(bad, sb, fx),
              "i_block[2] = 4294901760 lies outside the filesystem");
    bad = f;
    put_le32(bad, 0x28 + 8, 10);
    EXPECT_EQ(block_pointers_problem(bad, sb, fx),
              "i_block[2] = 10 lies on the inode table of group 0");
    bad = f;
    put_le32(bad, 0x28 + 4 * 12, 1001); // IND = data block #1 (f_dup3)
    EXPECT_EQ(block_pointers_problem(bad, sb, fx), "i_block[12] = 1001 repeats i_block[1]");
    // Extent-mapped inodes and devices hold no block pointers here.
    bad = f;
    put_le32(bad, 0x28 + 8, 4294901760u);
    put_le32(bad, 0x20, 0x80000);
    EXPECT_EQ(block_pointers_problem(bad, sb, fx), "");
    Buf dev = inode(020644, 0);
    put_le32(dev, 0x28, 4294901760u);
    EXPECT_EQ(block_pointers_problem(dev, sb, fx), "");
}

TEST(IndirectBlockRules, EntriesOutsideSelfAndTwice) {
    const auto sb = small_fs();
    const auto fx = small_fixed();
    Buf b(4096);
    put_le32(b, 0, 2000);
    put_le32(b, 4, 2001);
    EXPECT_EQ(indirect_entries_problem(b, 1500, sb, fx), "");
    Buf bad = b;
    put_le32(bad, 8, 99999);
    EXPECT_EQ(indirect_entries_problem(bad, 1500, sb, fx),
              "entry 2: block 99999 lies outside the filesystem");
    bad = b;
    put_le32(bad, 8, 3);
    EXPECT_EQ(indirect_entries_problem(bad, 1500, sb, fx),
              "entry 2: block 3 lies on the inode bitmap of group 0");
    bad = b;
    put_le32(bad, 0, 1500); // maps itself as data (f_dup3's lost+found)
    EXPECT_EQ(indirect_entries_problem(bad, 1500, sb, fx),
              "entry 0: block 1500 is this indirect block");
    bad = b;
    put_le32(bad, 400, 2001);
    EXPECT_EQ(indirect_entries_problem(bad, 1500, sb, fx), "entry 1: block 2001 is mapped twice");
}

TEST(SymlinkRules, FastAndSlowTargets) {
    const auto sb = small_fs();
    Buf fast = inode(0120777, 5);
    std::memcpy(fast.data() + 0x28, "hello", 5);
    EXPECT_TRUE(fast_symlink(fast, sb));
    EXPECT_EQ(symlink_problem(fast, sb), "");
    Buf bad = fast;
    put_le32(bad, 0x4, 7); // i_size against the stored target
    EXPECT_EQ(symlink_problem(bad, sb), "fast symlink i_size 7 but its target is 5 bytes");
    EXPECT_EQ(symlink_problem(inode(0120777, 0), sb), "symlink i_size 0 (an empty target)");
    Buf slow = inode(0120777, 100);
    put_le32(slow, 0x28, 1000);
    EXPECT_FALSE(fast_symlink(slow, sb));
    EXPECT_EQ(symlink_problem(slow, sb), "");
    bad = slow;
    put_le32(bad, 0x6C, 1); // i_size_high: 4 GiB + 100
    EXPECT_EQ(symlink_problem(bad, sb).rfind("symlink i_size 4294967396 does not fit one block", 0),
              0u);
    bad = slow;
    put_le32(bad, 0x2C, 1001);
    EXPECT_EQ(symlink_problem(bad, sb).rfind("slow symlink maps more than one block", 0), 0u);
    // A fast symlink's i_block is text, not pointers.
    EXPECT_EQ(block_pointers_problem(fast, sb, small_fixed()), "");
    // Not a symlink: no rule.
    EXPECT_EQ(symlink_problem(inode(0100644, 0), sb), "");
}

// A directory block with entries {inode, rec_len, name}.
struct Dirent {
    std::uint32_t ino;
    std::uint16_t rec_len;
    std::string name;
};
Buf dir_block(const std::vector<Dirent>& entries) {
    Buf b(4096);
    std::size_t off = 0;
    for (const auto& e : entries) {
        put_le32(b, off, e.ino);
        put_le16(b, off + 4, e.rec_len);
        b[off + 6] = std::byte(e.name.size());
        std::memcpy(b.data() + off + 8, e.name.data(), e.name.size());
        off += e.rec_len;
    }
    return b;
}

TEST(FirstDirBlockRules, DotAndDotDot) {
    EXPECT_EQ(first_dir_block_problem(dir_block({{12, 12, "."}, {2, 4084, ".."}}), 4096, 12), "");
    // e2fsck: "Missing '.'", "First entry 'X' ... should be '.'".
    EXPECT_EQ(first_dir_block_problem(dir_block({{11, 12, "X"}, {2, 4084, ".."}}), 4096, 13),
              "first block: no '.' entry");
    EXPECT_EQ(first_dir_block_problem(dir_block({{0, 12, "."}, {2, 4084, ".."}}), 4096, 12),
              "first block: no '.' entry");
    EXPECT_EQ(first_dir_block_problem(dir_block({{14, 12, "."}, {2, 4084, ".."}}), 4096, 12),
              "first block: '.' names inode 14, not the directory");
    // e2fsck: "Missing '..'", "Second entry 'XX' ... should be '..'".
    EXPECT_EQ(first_dir_block_problem(dir_block({{15, 12, "."}, {11, 4084, "XX"}}), 4096, 15),
              "first block: no '..' entry");
    EXPECT_EQ(first_dir_block_problem(dir_block({{15, 4096, "."}}), 4096, 15),
              "first block: no '..' entry");
    // With metadata_csum the entries end at the 12-byte tail.
    EXPECT_EQ(first_dir_block_problem(dir_block({{12, 12, "."}, {2, 4072, ".."}}), 4084, 12), "");
}

// --- directory and xattr block rules ----------------------------------------

// An htree's logical block 0 as mke2fs/e2fsck -D write it: '.', '..' and
// dx_root_info {reserved 0, hash version, info length 8, levels, flags}.
Buf dx_root(std::uint8_t hash, std::uint8_t levels) {
    Buf b(4096);
    put_le32(b, 0, 12);
    put_le16(b, 4, 12);
    b[6] = std::byte{1};
    b[8] = std::byte{'.'};
    put_le32(b, 12, 2);
    put_le16(b, 16, 4084);
    b[18] = std::byte{2};
    b[20] = std::byte{'.'};
    b[21] = std::byte{'.'};
    b[0x1C] = std::byte{hash};
    b[0x1D] = std::byte{8};
    b[0x1E] = std::byte{levels};
    return b;
}

TEST(DxRootRules, HashVersionLevelsAndReservedFields) {
    SuperInfo sb = small_fs();
    for (const int h : {0, 1, 2})
        EXPECT_EQ(dx_root_problem(dx_root(static_cast<std::uint8_t>(h), 1), sb, false), "") << h;
    // e2fsck pass 1: "has an unsupported hash version (N)".
    EXPECT_EQ(dx_root_problem(dx_root(3, 0), sb, false), "bad dx_root: hash version 3 unknown");
    EXPECT_EQ(dx_root_problem(dx_root(254, 0), sb, false), "bad dx_root: hash version 254 unknown");
    // siphash only where the hash is stored in the entries (encrypted + casefolded).
    EXPECT_EQ(dx_root_problem(dx_root(6, 0), sb, true), "");
    EXPECT_EQ(dx_root_problem(dx_root(6, 0), sb, false).rfind("bad dx_root: hash version 6", 0),
              0u);
    EXPECT_EQ(dx_root_problem(dx_root(1, 0), sb, true).rfind("bad dx_root: hash version 1", 0), 0u);
    // e2fsck / the kernel: at most 2 levels in all, 3 with largedir.
    EXPECT_EQ(dx_root_problem(dx_root(1, 2), sb, false),
              "bad dx_root: indirect levels 2 (at most 1 without largedir)");
    sb.feature_incompat |= 0x4000;
    EXPECT_EQ(dx_root_problem(dx_root(1, 2), sb, false), "");
    EXPECT_EQ(dx_root_problem(dx_root(1, 3), sb, false),
              "bad dx_root: indirect levels 3 (at most 2 with largedir)");
    Buf r = dx_root(1, 0);
    put_le32(r, 0x18, 1);
    EXPECT_EQ(dx_root_problem(r, sb, false), "bad dx_root: reserved/unused fields set");
    r = dx_root(1, 0);
    r[0x1F] = std::byte{1}; // EXT2_HASH_FLAG_INCOMPAT
    EXPECT_EQ(dx_root_problem(r, sb, false), "bad dx_root: reserved/unused fields set");
}

TEST(DirNameRules, SlashAndNul) {
    auto name = [](const std::string& n) {
        return illegal_name(Bytes(reinterpret_cast<const std::byte*>(n.data()), n.size()));
    };
    EXPECT_FALSE(name("a.txt"));
    EXPECT_FALSE(name(".."));
    EXPECT_TRUE(name("a/b"));
    EXPECT_TRUE(name(std::string("a\0b", 3)));
}

TEST(DirNameRules, DuplicateNamesInOneBlock) {
    std::vector<NamedEntry> names{{"b", 12}, {"a", 24}, {"ab", 40}, {"c", 60}};
    EXPECT_EQ(duplicate_name_problem(names), "");
    names = {{"b", 12}, {"a", 24}, {"ab", 40}, {"a", 60}};
    EXPECT_EQ(duplicate_name_problem(names),
              "entries at offsets 24 and 60 have the same name (1 bytes)");
    names.clear();
    EXPECT_EQ(duplicate_name_problem(names), "");
}

TEST(DirEntryTargetRules, FileTypeAgainstTheInode) {
    EXPECT_EQ(dirent_type_of_mode(0100644), 1);
    EXPECT_EQ(dirent_type_of_mode(040755), 2);
    EXPECT_EQ(dirent_type_of_mode(0120777), 7);
    EXPECT_EQ(dirent_type_of_mode(0140755), 6);
    EXPECT_EQ(dirent_type_of_mode(0), 0);
    EXPECT_EQ(entry_target_problem(1, 12, 1), "");
    EXPECT_EQ(entry_target_problem(2, 12, k_inode_unknown), ""); // not read: not judged
    // e2fsck pass 2: "Setting filetype for entry ..." / "has deleted/unused inode".
    EXPECT_EQ(entry_target_problem(2, 12, 1), "file type 2 but inode 12 is a regular file");
    EXPECT_EQ(entry_target_problem(0, 12, 7), "file type 0 but inode 12 is a symlink");
    EXPECT_EQ(entry_target_problem(1, 3024, k_inode_unused), "inode 3024 is not in use");
}

// An xattr block: the header, then entries {name, value offset, size, inum}.
struct Xattr {
    std::string name;
    std::uint16_t offs;
    std::uint32_t size;
    std::uint32_t inum = 0;
    std::uint8_t index = 1;
};
Buf xattr_block(const std::vector<Xattr>& entries) {
    Buf b(4096);
    put_le32(b, 0, 0xEA020000);
    put_le32(b, 4, 1);
    put_le32(b, 8, 1);
    std::size_t off = 32;
    for (const auto& e : entries) {
        b[off] = std::byte(e.name.size());
        b[off + 1] = std::byte{e.index};
        put_le16(b, off + 2, e.offs);
        put_le32(b, off + 4, e.inum);
        put_le32(b, off + 8, e.size);
        std::memcpy(b.data() + off + 16, e.name.data(), e.name.size());
        off += (16 + e.name.size() + 3) & ~std::size_t{3};
    }
    return b;
}

TEST(XattrEntryRules, TableValuesAndInodes) {
    SuperInfo sb = small_fs();
    EXPECT_EQ(xattr_entries_problem(xattr_block({{"big", 1096, 3000}}), sb), "");
    EXPECT_EQ(xattr_entries_problem(xattr_block({{"a", 4000, 96}, {"b", 3000, 1000}}), sb), "");
    EXPECT_EQ(xattr_entries_problem(xattr_block({{"empty", 0, 0}}), sb), "");
    // e2fsck pass 1 (check_ext_attr): "extended attribute block ... is corrupt".
    EXPECT_EQ(xattr_entries_problem(xattr_block({{"big", 64328, 3000}}), sb),
              "entry 0: value [64328, 67328) outside the block");
    EXPECT_EQ(xattr_entries_problem(xattr_block({{"big", 40, 100}}), sb),
              "entry 0: value [40, 140) overlaps the entry table (ending at 56)");
    EXPECT_EQ(xattr_entries_problem(xattr_block({{"big", 1096, 3000, 0, 0}}), sb),
              "entry 0: name index 0");
    EXPECT_EQ(xattr_entries_problem(xattr_block({{"big", 0, 3000, 255}}), sb),
              "entry 0: e_value_inum 255 set without the ea_inode feature");
    sb.feature_incompat |= 0x400; // ea_inode
    EXPECT_EQ(xattr_entries_problem(xattr_block({{"big", 0, 3000, 255}}), sb), "");
    // Nameless entries (16 bytes each) filling the block: no terminator; the
    // last one given a 30-byte name: it runs past the end.
    Buf full = xattr_block({});
    for (std::size_t off = 32; off < 4096; off += 16)
        put_le32(full, off, 0x04000100); // name_len 0, index 1, value offset 0x400
    EXPECT_EQ(xattr_entries_problem(full, sb),
              "no end of entries (no four zero bytes before the end of the block)");
    full[4080] = std::byte{30};
    EXPECT_EQ(xattr_entries_problem(full, sb), "entry 253: runs past the end of the block");
}

} // namespace
} // namespace guardian::ext4
