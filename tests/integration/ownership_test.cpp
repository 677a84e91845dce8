// Block ownership and bitmaps in stable mode (block_owners.hpp), with
// `e2fsck -fn` as the oracle: on filesystems of several shapes (1 KiB and
// 4 KiB blocks; ext2, ext3 with 128- and 256-byte inodes, ext4 as mke2fs
// 1.42 made it, today's ext4) seeded damage that no checksum covers:
// cross-linked blocks, bitmaps that disagree with what is in use in both
// directions, BLOCK_UNINIT on a group holding data, a descriptor's bitmap
// pointer moved onto a file; htree damage; xattrs; duplicate names in a
// linear and an htree directory block. Every case e2fsck flags must come back with the
// structure named; the undamaged images give no finding in either mode.
#include "tests/integration/oracle.hpp"

#include <gtest/gtest.h>

#include <random>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

struct Shape {
    std::string name;
    std::string mkfs; // options after mke2fs -q -F
    bool uninit_bg = false;
};

const std::vector<Shape>& shapes() {
    static const std::vector<Shape> s{
        {"ext2_1k", "-t ext2 -b 1024", false},
        {"ext3_1k_128", "-t ext3 -b 1024 -I 128", false},
        {"ext3_4k_256", "-t ext3 -b 4096 -I 256 -g 2048", false},
        {"ext4_142_4k",
         "-t ext4 -b 4096 -g 2048 -O ^metadata_csum,^64bit,^orphan_file,^metadata_csum_seed,"
         "uninit_bg,flex_bg",
         true},
        {"ext4_1k", "-t ext4 -b 1024", false},
        {"ext4_4k", "-t ext4 -b 4096 -g 2048", false},
    };
    return s;
}

// 64 MiB, populated: small files, files past the direct blocks (indirect
// maps on ext2/3), a directory of many entries.
fs::path make_image(const TempDir& tmp, const Shape& s) {
    const fs::path src = tmp.path() / "src";
    fs::create_directories(src / "many");
    sh("cd '" + src.string() +
       "' && for i in $(seq 1 40); do head -c $((i * 3000)) /dev/urandom > f$i; done" +
       " && head -c 600000 /dev/urandom > big1 && head -c 900000 /dev/urandom > big2" +
       " && cd many && seq -f 'an_entry_with_a_rather_long_name_%05g' 1 6000 | xargs touch");
    const fs::path image = tmp.path() / (s.name + ".img");
    sh("mke2fs -q -F " + s.mkfs + " -d '" + src.string() + "' '" + image.string() + "' 64M");
    // An xattr too big for the inode: an xattr block.
    const fs::path value = tmp.path() / "value";
    sh("head -c 700 /dev/zero | tr '\\0' x > '" + value.string() + "'");
    debugfs(image, "ea_set -f " + value.string() + " /f5 user.big", true);
    debugfs(image, "ea_set /f6 user.small tiny_value", true); // in the inode where it fits
    // e2fsck -D indexes /many: on 1 KiB blocks its htree has two levels.
    run_command("e2fsck -fyD '" + image.string() + "'");
    return image;
}

struct Stats {
    std::uint32_t groups = 0;
    std::uint32_t blocks_per_group = 0;
    std::uint32_t first_data_block = 0;
};
Stats stats_of(const fs::path& image) {
    const std::string out = sh("dumpe2fs -h '" + image.string() + "' 2>/dev/null");
    Stats st;
    st.blocks_per_group = static_cast<std::uint32_t>(number_after(out, "Blocks per group:"));
    st.first_data_block = static_cast<std::uint32_t>(number_after(out, "First block:"));
    const std::uint64_t blocks = number_after(out, "Block count:");
    st.groups = static_cast<std::uint32_t>(
        (blocks - st.first_data_block + st.blocks_per_group - 1) / st.blocks_per_group);
    return st;
}

enum class Kind {
    cross_link,
    block_free,
    block_set,
    inode_free,
    inode_set,
    block_uninit,
    moved_bitmap,
    xattr_refcount,
    htree_order,
    htree_version,
    htree_depth,
    htree_past_end,
    xattr_hash,
    inode_xattr_size,
    duplicate_name,
    duplicate_name_htree
};

// Applies one seeded damage; false when the shape has nothing to damage that way.
bool damage(const fs::path& image, const Shape& s, Kind k, std::mt19937& rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const std::string a = "/f" + std::to_string(pick(20, 40));
    const std::string b = "/f" + std::to_string(pick(1, 19));
    const bool extents = s.mkfs.find("ext4") != std::string::npos;
    switch (k) {
    case Kind::cross_link: {
        // b's first block (block-mapped: i_block[0]; extents: ee_start_lo of
        // the first extent, i_block[5]) onto a block of a.
        const std::uint64_t target = block_of(image, a, static_cast<std::uint64_t>(pick(0, 3)));
        debugfs(image,
                "sif " + b + " block[" + (extents ? "5" : "0") + "] " + std::to_string(target),
                true);
        return true;
    }
    case Kind::block_free:
        debugfs(image, "freeb " + std::to_string(block_of(image, a, 1)), true);
        return true;
    case Kind::block_set: {
        const std::string out = debugfs(image, "ffb 1 " + std::to_string(pick(3000, 9000)));
        debugfs(image, "setb " + std::to_string(number_after(out, "Free blocks found: ")), true);
        return true;
    }
    case Kind::inode_free:
        debugfs(image, "freei " + a, true);
        return true;
    case Kind::inode_set: {
        const std::string out = debugfs(image, "ffi");
        debugfs(image, "seti <" + std::to_string(number_after(out, "Free inode found: ")) + ">",
                true);
        return true;
    }
    case Kind::block_uninit: {
        if (!s.uninit_bg)
            return false;
        const Stats st = stats_of(image);
        const std::uint64_t blk = block_of(image, "/big2", 0);
        const auto g =
            static_cast<std::uint32_t>((blk - st.first_data_block) / st.blocks_per_group);
        debugfs(image, "set_bg " + std::to_string(g) + " flags 2", true);
        debugfs(image, "set_bg " + std::to_string(g) + " checksum calc", true);
        return true;
    }
    case Kind::moved_bitmap: {
        const Stats st = stats_of(image);
        if (st.groups < 5)
            return false;
        const auto g = static_cast<std::uint32_t>(pick(2, static_cast<int>(st.groups) - 3));
        debugfs(image,
                "set_bg " + std::to_string(g) + " block_bitmap " +
                    std::to_string(block_of(image, "/big1", 2)),
                true);
        debugfs(image, "set_bg " + std::to_string(g) + " checksum calc", true);
        return true;
    }
    case Kind::htree_order: // the root's dx_entry 2 hash (at 32 + 16) below entry 1's
        zap(image, block_of(image, "/many", 0), 48, 4, 0);
        return true;
    case Kind::htree_version: // dx_root_info.hash_version (0x1C): another valid one
        zap(image, block_of(image, "/many", 0), 0x1C, 1, pick(0, 2) == 1 ? 2 : 0);
        return true;
    case Kind::htree_depth: // dx_root_info.indirect_levels (0x1E) lowered
        zap(image, block_of(image, "/many", 0), 0x1E, 1, 0);
        return true;
    case Kind::htree_past_end: // dx_entry 1's block (at 32 + 8 + 4), high byte
        zap(image, block_of(image, "/many", 0), 47, 1, 0x0E);
        return true;
    case Kind::xattr_hash: { // e_hash (at 12) of the first entry (at 32) of /f5's xattr block
        const auto acl = number_after(debugfs(image, "stat /f5"), "File ACL: ");
        zap(image, acl, 44 + pick(0, 3), 1, 0x5A);
        return true;
    }
    case Kind::inode_xattr_size: {
        // e_value_size (at 8) of /f6's first in-inode entry: after the 128
        // bytes, i_extra_isize (32) and the magic (4).
        if (s.name == "ext3_1k_128")
            return false; // no room for in-inode xattrs
        const std::string at = debugfs(image, "imap /f6");
        const std::uint64_t blk = number_after(at, "located at block ");
        const auto p = at.find("offset 0x");
        const std::uint64_t off = std::stoull(at.substr(p + 9), nullptr, 16);
        zap(image, blk, static_cast<int>(off) + 128 + 32 + 4 + 8 + 1, 1, 0x7F);
        return true;
    }
    case Kind::duplicate_name: // two names alike in the root's (linear) first block
        return duplicate_a_name(image, block_of(image, "/", 0), rng);
    case Kind::duplicate_name_htree: { // ... in a leaf of /many
        const auto leaves =
            number_after(debugfs(image, "stat /many"), "Size: ") / block_size_of(image);
        return duplicate_a_name(
            image,
            block_of(image, "/many",
                     static_cast<std::uint64_t>(pick(1, static_cast<int>(leaves) - 1))),
            rng);
    }
    case Kind::xattr_refcount: {
        // h_refcount (le32 at 4) of /f5's xattr block.
        const auto acl = number_after(debugfs(image, "stat /f5"), "File ACL: ");
        debugfs(image,
                "zap_block -o 4 -l 1 -p " + std::to_string(pick(2, 9)) + " " + std::to_string(acl),
                true);
        return true;
    }
    }
    return false;
}

using Case = OracleCase<Kind>;
std::vector<Case> cases() {
    return {
        {Kind::cross_link, "cross_link", {"inode", "extent_block", "indirect_block"}},
        {Kind::block_free, "block_free", {"block_bitmap"}},
        {Kind::block_set, "block_set", {"block_bitmap"}},
        {Kind::inode_free, "inode_free", {"inode_bitmap"}},
        {Kind::inode_set, "inode_set", {"inode_bitmap"}},
        {Kind::block_uninit, "block_uninit", {"block_bitmap"}},
        // Without flex_bg a bitmap away from its group is a geometry finding.
        {Kind::moved_bitmap, "moved_bitmap", {"group_descriptor", "geometry"}},
        {Kind::xattr_refcount, "xattr_refcount", {"xattr_block"}},
        {Kind::htree_order, "htree_order", {"htree_block"}},
        {Kind::htree_version, "htree_version", {"htree_block"}},
        {Kind::htree_depth, "htree_depth", {"htree_block"}},
        {Kind::htree_past_end, "htree_past_end", {"htree_block"}},
        {Kind::xattr_hash, "xattr_hash", {"xattr_block"}},
        {Kind::inode_xattr_size, "inode_xattr_size", {"inode"}},
        {Kind::duplicate_name, "duplicate_name", {"directory_block"}},
        {Kind::duplicate_name_htree, "duplicate_name_htree", {"directory_block"}},
    };
}

class Ownership : public testing::TestWithParam<Shape> {};

TEST_P(Ownership, CleanImageHasNoFindings) {
    TempDir tmp;
    const fs::path image = make_image(tmp, GetParam());
    expect_clean(image);
}

// After the kernel mounted it, wrote and removed files and unmounted it.
TEST_P(Ownership, CleanAfterKernelMountHasNoFindings) {
    if (const std::string why = why_no_loop_devices(); !why.empty())
        GTEST_SKIP() << why;
    TempDir tmp;
    const fs::path image = make_image(tmp, GetParam());
    const fs::path mnt = tmp.path() / "mnt";
    fs::create_directories(mnt);
    sh("mount -o loop '" + image.string() + "' '" + mnt.string() + "'");
    const CommandResult w =
        run_command("cd '" + mnt.string() +
                    "' && mkdir -p w && for i in $(seq 1 200); do head -c $((i * 700)) " +
                    "/dev/urandom > w/x$i; done && rm -f w/x1* f3 && mv big1 w/ && sync");
    sh("umount '" + mnt.string() + "'");
    ASSERT_EQ(w.exit_code, 0) << w.err;
    expect_clean(image);
}

TEST_P(Ownership, EveryDamageE2fsckFlagsIsFound) {
    const Shape& s = GetParam();
    TempDir tmp;
    const int flagged = expect_flagged_cases_found<Kind>(
        make_image(tmp, s), s.name, cases(),
        [&](const fs::path& image, Kind k, std::mt19937& rng) { return damage(image, s, k, rng); },
        [](Kind k, const std::vector<Finding>& f) {
            // The descriptor moved, not the file: no finding blames the file.
            if (k != Kind::moved_bitmap)
                return;
            for (const Finding& x : f)
                EXPECT_TRUE(x.structure != Structure::inode &&
                            x.structure != Structure::extent_block &&
                            x.structure != Structure::indirect_block)
                    << describe(f);
        });
    EXPECT_GT(flagged, 0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Ownership, testing::ValuesIn(shapes()),
                         [](const testing::TestParamInfo<Shape>& p) { return p.param.name; });

} // namespace
} // namespace guardian::test
