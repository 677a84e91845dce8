// The damage matrix: for each metadata structure class, damage a real ext4
// image the two ways corruption arrives (one flipped byte inside the
// checksummed region; a whole block overwritten with a data block, as a
// misdirected write does) and assert the exact finding the engine reports.
// Block numbers come from dumpe2fs/debugfs, never from the engine.
#include "tests/integration/damage_matrix.hpp"
#include "tests/integration/scan_expect.hpp"
#include "tests/support/ext4_image.hpp"
#include "tests/support/ext4_layout.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

enum class Damage { flip_byte, misdirected_write };

// Where to damage and what the engine must say about it.
struct Target {
    std::uint64_t block = 0;
    std::uint32_t offset = 0; // for flip_byte
    std::vector<Finding> expected;
    // false: expected findings must all be present, others may follow (used
    // where the damage destroys what locates further metadata).
    bool exact = true;
};

struct DamageCase {
    std::string name;
    ImageKind image;
    Damage damage;
    bool checked_live; // bitmaps are checked in stable mode only
    std::function<Target(const fs::path&, const FsLayout&)> locate;
};

Finding at(Structure s, std::optional<std::uint32_t> group, std::optional<std::uint32_t> inode,
           std::optional<std::uint64_t> block) {
    return Finding{s, group, inode, block, ""};
}

// A group other than 0 whose bitmap is initialised, so a wrong group number
// cannot pass by accident; group 0 when there is none.
std::uint32_t initialised_group(const FsLayout& l, bool inode_bitmap) {
    for (std::uint32_t g = 1; g < l.groups.size(); ++g)
        if (!(inode_bitmap ? l.groups[g].inode_uninit : l.groups[g].block_uninit))
            return g;
    return 0;
}

// An inode outside group 0 (inode numbers of /big's entries run past 1024).
const std::string k_far_file = std::string(k_htree_dir) + "/entry_with_a_longish_name_2500";

Target superblock(const fs::path&, const FsLayout&) {
    // s_volume_name, inside the crc32c-covered 1020 bytes.
    return {0, 1024 + 0x78, {at(Structure::superblock, {}, {}, {})}};
}

Target group_descriptor(const fs::path&, const FsLayout& l) {
    // bg_free_blocks_count_lo of group 1's descriptor.
    return {1, l.desc_size + 0x0C, {at(Structure::group_descriptor, 1, {}, {})}};
}

Target all_group_descriptors(const fs::path&, const FsLayout& l) {
    Target t{1, 0, {}, false};
    for (std::uint32_t g = 0; g < l.groups.size(); ++g)
        t.expected.push_back(at(Structure::group_descriptor, g, {}, {}));
    return t;
}

Target block_bitmap(const fs::path&, const FsLayout& l) {
    const std::uint32_t g = initialised_group(l, false);
    return {l.groups[g].block_bitmap,
            16,
            {at(Structure::block_bitmap, g, {}, l.groups[g].block_bitmap)}};
}

Target inode_bitmap(const fs::path&, const FsLayout& l) {
    const std::uint32_t g = initialised_group(l, true);
    return {l.groups[g].inode_bitmap,
            16,
            {at(Structure::inode_bitmap, g, {}, l.groups[g].inode_bitmap)}};
}

Target one_inode(const fs::path& image, const FsLayout&) {
    const std::uint32_t ino = inode_of(image, k_far_file);
    const InodeLocation loc = imap(image, ino);
    // i_atime: inside the inode, covered by the inode checksum.
    return {loc.block, loc.offset + 0x08, {at(Structure::inode, loc.group, ino, loc.block)}};
}

Target inode_table_block(const fs::path& image, const FsLayout& l) {
    const std::uint32_t ino = inode_of(image, k_far_file);
    const InodeLocation loc = imap(image, ino);
    Target t{loc.block, 0, {}};
    const std::uint32_t per_block = l.block_size / l.inode_size;
    const std::uint32_t first = ino - loc.offset / l.inode_size;
    for (std::uint32_t i = first; i < first + per_block; ++i)
        if (inode_in_use(image, i))
            t.expected.push_back(at(Structure::inode, (i - 1) / l.inodes_per_group, i, loc.block));
    return t;
}

Target extent_block(const fs::path& image, int level, std::uint32_t offset) {
    const std::uint32_t ino = inode_of(image, k_frag_file);
    for (const auto& b : extent_tree_blocks(image, k_frag_file))
        if (b.level == level)
            return {b.block, offset, {at(Structure::extent_block, {}, ino, b.block)}};
    throw std::runtime_error("no extent tree block at level " + std::to_string(level));
}

Target extent_leaf(const fs::path& image, const FsLayout&) {
    return extent_block(image, 2, 100);
}
// The second index entry's ei_block: not a pointer, so nothing else breaks.
Target extent_index(const fs::path& image, const FsLayout&) {
    return extent_block(image, 1, 24);
}

Target dir_block(const fs::path& image, const std::string& dir, std::uint64_t logical,
                 std::uint32_t offset, Structure s) {
    const std::uint32_t ino = inode_of(image, dir);
    const std::uint64_t block = bmap(image, dir, logical);
    return {block, offset, {at(s, {}, ino, block)}};
}

// Linear directory: "." and ".." take 12 bytes each; "a.txt"'s name is at 32.
Target linear_dir(const fs::path& image, const FsLayout&) {
    return dir_block(image, k_small_dir, 0, 32, Structure::directory_block);
}
// An htree leaf is an ordinary directory block; offset 8 is its first name.
Target htree_leaf(const fs::path& image, const FsLayout&) {
    return dir_block(image, k_htree_dir, 1, 8, Structure::directory_block);
}
// dx_root: entry 1's hash at 0x28 (entries start at 0x20, 8 bytes each).
Target htree_root(const fs::path& image, const FsLayout&) {
    return dir_block(image, k_htree_dir, 0, 0x28, Structure::htree_block);
}

Target xattr(const fs::path& image, const FsLayout&) {
    const std::uint32_t ino = inode_of(image, k_xattr_file);
    const auto block = xattr_block(image, k_xattr_file);
    if (!block)
        throw std::runtime_error("image has no xattr block");
    // Values are packed at the end of the block: 4000 is inside the 3000-byte value.
    return {*block, 4000, {at(Structure::xattr_block, {}, ino, *block)}};
}

Target journal_superblock(const fs::path& image, const FsLayout&) {
    const std::uint64_t b = journal_superblock_block(image);
    // s_users[]: inside the 1024 bytes the jbd2 v3 checksum covers.
    return {b, 0x100, {at(Structure::journal_superblock, {}, {}, b)}};
}

Target journal_log_block(const fs::path& image, const std::string& type, std::uint32_t offset) {
    for (const auto& b : journal_log(image))
        if (b.type == type)
            return {b.block, offset, {at(Structure::journal_block, {}, {}, b.block)}};
    throw std::runtime_error("journal has no " + type);
}

// Descriptor: the first tag's UUID (after 12-byte header + 16-byte tag3).
Target journal_descriptor(const fs::path& image, const FsLayout&) {
    return journal_log_block(image, "descriptor block", 31);
}
// Commit: a byte of h_commit_sec (0x30..0x37).
Target journal_commit(const fs::path& image, const FsLayout&) {
    return journal_log_block(image, "commit block", 0x37);
}

const std::vector<DamageCase>& damage_cases() {
    using enum Damage;
    static const std::vector<DamageCase> cases{
        // name                            image                   damage   live   locate
        {"superblock_byte", ImageKind::full, flip_byte, true, superblock},
        {"group_descriptor_byte", ImageKind::full, flip_byte, true, group_descriptor},
        {"group_descriptor_block", ImageKind::full, misdirected_write, true, all_group_descriptors},
        {"block_bitmap_byte", ImageKind::full, flip_byte, false, block_bitmap},
        {"block_bitmap_block", ImageKind::full, misdirected_write, false, block_bitmap},
        {"inode_bitmap_byte", ImageKind::full, flip_byte, false, inode_bitmap},
        {"inode_bitmap_block", ImageKind::full, misdirected_write, false, inode_bitmap},
        {"inode_byte", ImageKind::full, flip_byte, true, one_inode},
        {"inode_table_block", ImageKind::full, misdirected_write, true, inode_table_block},
        {"extent_leaf_byte", ImageKind::full, flip_byte, true, extent_leaf},
        {"extent_leaf_block", ImageKind::full, misdirected_write, true, extent_leaf},
        {"extent_index_byte", ImageKind::full, flip_byte, true, extent_index},
        {"extent_index_block", ImageKind::full, misdirected_write, true, extent_index},
        {"directory_byte", ImageKind::full, flip_byte, true, linear_dir},
        {"directory_block", ImageKind::full, misdirected_write, true, linear_dir},
        {"htree_leaf_byte", ImageKind::full, flip_byte, true, htree_leaf},
        {"htree_leaf_block", ImageKind::full, misdirected_write, true, htree_leaf},
        {"htree_root_byte", ImageKind::full, flip_byte, true, htree_root},
        {"htree_root_block", ImageKind::full, misdirected_write, true, htree_root},
        {"xattr_byte", ImageKind::full, flip_byte, true, xattr},
        {"xattr_block", ImageKind::full, misdirected_write, true, xattr},
        {"journal_superblock_byte", ImageKind::journal_log, flip_byte, true, journal_superblock},
        {"journal_superblock_block", ImageKind::journal_log, misdirected_write, true,
         journal_superblock},
        {"journal_descriptor_byte", ImageKind::journal_log, flip_byte, true, journal_descriptor},
        // The log starts at s_start; a block there without a valid header is
        // damage, not an empty log (the journal superblock says a transaction
        // begins there).
        {"journal_descriptor_block", ImageKind::journal_log, misdirected_write, true,
         journal_descriptor},
        {"journal_commit_byte", ImageKind::journal_log, flip_byte, true, journal_commit},
        // A commit block replaced by garbage reads as an unfinished last
        // transaction, which a crash legitimately leaves: not in the matrix.
    };
    return cases;
}

using Param = MatrixParam<DamageCase>;

class DamageMatrix : public testing::TestWithParam<Param> {};

TEST_P(DamageMatrix, ReportsExactlyTheDamagedStructure) {
    const DamageCase& c = *GetParam().c;
    const CheckMode mode = GetParam().mode;
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(c.image, image);
    const FsLayout layout = read_layout(image);
    const Target t = c.locate(image, layout);

    if (c.damage == Damage::flip_byte) {
        flip_byte(image, t.block, t.offset, layout.block_size);
    } else {
        copy_block(image, bmap(image, k_data_file, 0), t.block, layout.block_size);
    }

    const auto r = scan_image(image, mode);
    ASSERT_TRUE(r.ok()) << "scan failed: " << r.error().message;
    const auto& findings = r->report.findings;
    const std::string got = describe_all(findings);
    SCOPED_TRACE("damaged block " + std::to_string(t.block) + "; findings:\n" + got);

    if (mode == CheckMode::live && !c.checked_live) {
        EXPECT_TRUE(findings.empty()) << "live mode must not judge bitmaps";
        return;
    }
    const auto want = contract_keys(t.expected);
    const auto have = contract_keys(findings);
    if (t.exact) {
        EXPECT_EQ(have, want);
    } else {
        for (const auto& w : want)
            EXPECT_NE(std::find(have.begin(), have.end(), w), have.end()) << "missing: " << w;
    }
}

INSTANTIATE_TEST_SUITE_P(Ext4, DamageMatrix, testing::ValuesIn(matrix(damage_cases())),
                         matrix_name<DamageCase>);

// --- undamaged images -------------------------------------------------------

class CleanImage : public testing::TestWithParam<CleanParam> {};

TEST_P(CleanImage, HasNoFindings) {
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(GetParam().image, image);
    const auto r = scan_image(image, GetParam().mode);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->report.findings.empty()) << describe_all(r->report.findings);
    const bool csum =
        GetParam().image == ImageKind::full || GetParam().image == ImageKind::journal_log;
    EXPECT_EQ(r->report.metadata_csum, csum);
    if (csum) {
        EXPECT_GT(r->report.stats.inodes_checked, 3000u) << "the engine skipped the inode tables";
    } else {
        // Nothing to verify against: the report must say so, not claim "intact".
        EXPECT_FALSE(r->report.not_verified.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(Ext4, CleanImage,
                         testing::ValuesIn(clean_matrix({ImageKind::full, ImageKind::journal_log,
                                                         ImageKind::no_metadata_csum,
                                                         ImageKind::ext2})),
                         clean_name);

// --- the images really hold what the matrix relies on ----------------------

TEST(DamageMatrixImage, HoldsEveryStructureClass) {
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(ImageKind::journal_log, image);
    const FsLayout l = read_layout(image);
    EXPECT_EQ(l.groups.size(), 4u);
    EXPECT_GE(extent_tree_depth(image, k_frag_file), 2);
    EXPECT_TRUE(is_htree(image, k_htree_dir));
    EXPECT_TRUE(xattr_block(image, k_xattr_file).has_value());
    EXPECT_GT(imap(image, inode_of(image, k_far_file)).group, 0u);
    const auto log = journal_log(image);
    ASSERT_EQ(log.size(), 2u) << debugfs(image, "logdump");
    EXPECT_EQ(log[0].type, "descriptor block");
    EXPECT_EQ(log[1].type, "commit block");
    EXPECT_NE(initialised_group(l, true), 0u);
}

// A whole superblock block overwritten leaves nothing that says "ext4": the
// engine must either refuse with an error or report the superblock.
TEST(DamageMatrixSuperblock, OverwrittenBlockZeroIsAnErrorOrAFinding) {
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(ImageKind::full, image);
    copy_block(image, bmap(image, k_data_file, 0), 0);
    const auto r = scan_image(image, CheckMode::stable);
    if (!r.ok()) {
        EXPECT_FALSE(r.error().message.empty());
        return;
    }
    const auto keys = contract_keys(r->report.findings);
    EXPECT_NE(std::find(keys.begin(), keys.end(), "superblock"), keys.end())
        << describe_all(r->report.findings);
}

} // namespace
} // namespace guardian::test
