// Tree shapes the ownership matrix does not build, with `e2fsck -fn` as the
// oracle in the same way (oracle.hpp): a three-level htree (largedir, 1 KiB
// blocks, long names, indexed by e2fsck -fyD; htree_dump shows two indirect
// levels) and a file mapped through its triple-indirect block on ext2 and
// ext3 (1 KiB blocks: logical blocks past 12 + 256 + 256^2 go through it).
// Seeded damage in each level of those trees, and duplicate names in an
// htree leaf; clean images give no finding in either mode.
#include "tests/integration/oracle.hpp"

#include <gtest/gtest.h>

#include <random>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

// Deterministic trees: a fixed UUID and hash seed, names from a counter.
constexpr const char* k_fixed = "-U 6f1c2a3e-8d4b-4e5f-9a60-7b8c9d0e1f20 "
                                "-E hash_seed=2b1d7c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e";

std::string le32_bytes(std::uint32_t v) {
    std::string s(4, '\0');
    for (std::size_t i = 0; i < 4; ++i)
        s[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
}

std::uint32_t le32_at(const std::string& b, std::size_t off) {
    std::uint32_t v = 0;
    for (std::size_t i = 4; i-- > 0;)
        v = (v << 8) | static_cast<unsigned char>(b[off + i]);
    return v;
}

// ---- A three-level htree -------------------------------------------------

constexpr const char* k_huge = "/huge";

// 55,000 names of 250 bytes (three to a 1 KiB leaf) are more than a root of
// 124 entries over nodes of 127 can index in two levels. The kernel makes
// them (mke2fs -d links them one at a time, far too slowly); e2fsck -fyD
// then indexes the directory as a repair would.
fs::path make_three_level_htree(const TempDir& tmp) {
    const fs::path image = tmp.path() / "largedir.img";
    sh(std::string("mke2fs -q -F -t ext4 -b 1024 -O large_dir,^metadata_csum -N 4096 ") + k_fixed +
       " '" + image.string() + "' 128M");
    const fs::path mnt = tmp.path() / "mnt";
    fs::create_directories(mnt);
    sh("mount -o loop '" + image.string() + "' '" + mnt.string() + "'");
    try {
        fs::create_directories(mnt / "huge");
        sh("head -c 3000 /dev/urandom > '" + (mnt / "target").string() + "'");
        const std::string stem(244, 'n');
        for (int i = 0; i < 55000; ++i) {
            char num[8];
            std::snprintf(num, sizeof num, "%06d", i);
            fs::create_hard_link(mnt / "target", mnt / "huge" / (stem + num));
        }
    } catch (...) {
        (void)run_command("umount '" + mnt.string() + "'");
        throw;
    }
    sh("umount '" + mnt.string() + "'");
    (void)run_command("e2fsck -fyD '" + image.string() + "'");
    return image;
}

// The root's dx_entries (limit and count, le16 each, at 0x20; entry i's
// block at 0x24 + 8 i).
std::vector<std::uint32_t> root_children(const fs::path& image) {
    const std::string root = read_bytes(image, block_of(image, k_huge, 0) * 1024, 1024);
    std::vector<std::uint32_t> out;
    const std::uint32_t count = le32_at(root, 0x20) >> 16;
    for (std::uint32_t i = 0; i < count; ++i)
        out.push_back(le32_at(root, 0x24 + 8 * i));
    return out;
}

enum class HtreeKind {
    node_order,        // an interior node's hashes out of order
    node_past_end,     // an interior node's entry pointing past the directory
    node_at_index,     // ... at the other interior node
    depth_lowered,     // the root's indirect_levels 2 -> 1
    leaf_out_of_range, // a leaf name whose hash leaves its range
    leaf_duplicate,    // two equal names in a leaf
};

const std::vector<OracleCase<HtreeKind>>& htree_cases() {
    static const std::vector<OracleCase<HtreeKind>> c{
        {HtreeKind::node_order, "node_order", {"htree_block"}},
        {HtreeKind::node_past_end, "node_past_end", {"htree_block"}},
        {HtreeKind::node_at_index, "node_at_index", {"htree_block"}},
        {HtreeKind::depth_lowered, "depth_lowered", {"htree_block"}},
        {HtreeKind::leaf_out_of_range, "leaf_out_of_range", {"htree_block"}},
        {HtreeKind::leaf_duplicate, "leaf_duplicate", {"directory_block"}},
    };
    return c;
}

// An interior node: a fake dirent (8 bytes), then limit/count and entry
// 0's block, then entry k's hash at 8 + 8 k and its block at 12 + 8 k.
struct Node {
    std::uint64_t phys = 0;
    std::string bytes;
    std::uint32_t count = 0;
    [[nodiscard]] std::uint32_t child(std::uint32_t k) const { return le32_at(bytes, 12 + 8 * k); }
};
Node read_node(const fs::path& image, std::uint32_t logical) {
    Node n;
    n.phys = block_of(image, k_huge, logical);
    n.bytes = read_bytes(image, n.phys * 1024, 1024);
    n.count = le32_at(n.bytes, 8) >> 16;
    return n;
}

bool damage_htree(const fs::path& image, HtreeKind kind, std::mt19937& rng) {
    auto pick = [&](std::uint32_t lo, std::uint32_t hi) {
        return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
    };
    const auto children = root_children(image);
    const std::size_t which = pick(0, static_cast<std::uint32_t>(children.size() - 1));
    // Index damage lands on either index level below the root; leaves hang
    // below the second.
    Node node = read_node(image, children[which]);
    const bool leaf_case =
        kind == HtreeKind::leaf_out_of_range || kind == HtreeKind::leaf_duplicate;
    if (leaf_case || pick(0, 1) == 1)
        node = read_node(image, node.child(pick(0, node.count - 1)));
    const std::uint32_t k = pick(2, node.count - 2);
    const std::uint64_t at = node.phys * 1024;
    const std::uint64_t dir_blocks = number_after(debugfs(image, "stat /huge"), "Size: ") / 1024;
    switch (kind) {
    case HtreeKind::node_order:
        write_bytes(image, at + 8 + 8 * k, le32_bytes(0));
        return true;
    case HtreeKind::node_past_end: // e2fsck 1.47.0 -n crashes on a far one (0x0E000000)
        write_bytes(image, at + 12 + 8 * k,
                    le32_bytes(static_cast<std::uint32_t>(dir_blocks + pick(0, 500))));
        return true;
    case HtreeKind::node_at_index:
        write_bytes(image, at + 12 + 8 * k, le32_bytes(children[(which + 1) % children.size()]));
        return true;
    case HtreeKind::depth_lowered:
        zap(image, block_of(image, k_huge, 0), 0x1E, 1, 1);
        return true;
    case HtreeKind::leaf_out_of_range: {
        // A byte of the leaf's first name (at 8): 'n' becomes 'o'.
        const std::uint64_t leaf = block_of(image, k_huge, node.child(k));
        write_bytes(image, leaf * 1024 + 8 + pick(0, 200), "o");
        return true;
    }
    case HtreeKind::leaf_duplicate:
        return duplicate_a_name(image, block_of(image, k_huge, node.child(k)), rng);
    }
    return false;
}

class ThreeLevelHtree : public testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = why_no_loop_devices(); !why.empty())
            GTEST_SKIP() << why;
    }
};

TEST_F(ThreeLevelHtree, IsThreeLevelsDeepAndClean) {
    TempDir tmp;
    const fs::path image = make_three_level_htree(tmp);
    const std::string dump = debugfs(image, std::string("htree_dump ") + k_huge);
    ASSERT_NE(dump.find("Indirect levels: 2"), std::string::npos) << dump.substr(0, 400);
    expect_clean(image);
}

TEST_F(ThreeLevelHtree, EveryDamageE2fsckFlagsIsFound) {
    TempDir tmp;
    EXPECT_GE(expect_flagged_cases_found<HtreeKind>(make_three_level_htree(tmp), "largedir",
                                                    htree_cases(), damage_htree),
              10);
}

// ---- A triple-indirect file ------------------------------------------------

struct TindShape {
    std::string name;
    std::string mkfs;
};

// Logical block 71680 (70 MiB) lies past 12 + 256 + 65536: the file's
// triple-indirect block maps it, through one double and one single
// indirect block. The blocks between are a hole.
constexpr std::uint64_t k_tind_logical = 71680;

fs::path make_tind_image(const TempDir& tmp, const TindShape& s) {
    const fs::path src = tmp.path() / "src";
    fs::create_directories(src);
    sh("cd '" + src.string() +
       "' && for i in $(seq 1 12); do head -c $((i * 2000)) /dev/urandom > f$i; done" +
       " && head -c 12288 /dev/urandom > tind" +
       " && head -c 1024 /dev/urandom | dd of=tind bs=1024 seek=" + std::to_string(k_tind_logical) +
       " conv=notrunc 2>/dev/null");
    const fs::path image = tmp.path() / (s.name + ".img");
    sh("mke2fs -q -F " + s.mkfs + " " + k_fixed + " -d '" + src.string() + "' '" + image.string() +
       "' 64M");
    return image;
}

// The three blocks that map the far block (triple, double, single
// indirect) and where in each the next pointer lies: past the 12 direct,
// 256 single and 256^2 double-indirect blocks, 71680 - 65804 = 5876 =
// 0 * 256^2 + 22 * 256 + 244.
constexpr std::uint64_t k_tind_first = 12 + 256 + 256 * 256;
struct TindChain {
    std::uint64_t tind = 0;
    std::uint64_t dind = 0;
    std::uint64_t ind = 0;
    std::uint64_t tind_slot = 0; // byte offsets of the pointers followed
    std::uint64_t dind_slot = 0;
    std::uint64_t ind_slot = 0;
};
TindChain tind_chain(const fs::path& image) {
    const std::uint64_t n = k_tind_logical - k_tind_first;
    TindChain c;
    c.tind = number_after(debugfs(image, "stat /tind"), "(TIND):");
    c.tind_slot = 4 * (n / (256 * 256));
    c.dind = le32_at(read_bytes(image, c.tind * 1024 + c.tind_slot, 4), 0);
    c.dind_slot = 4 * (n / 256 % 256);
    c.ind = le32_at(read_bytes(image, c.dind * 1024 + c.dind_slot, 4), 0);
    c.ind_slot = 4 * (n % 256);
    return c;
}

enum class TindKind {
    tind_cross_link, // i_block[14] onto another file's block
    tind_free,       // the triple-indirect block freed in the bitmap
    dind_past_end,   // the triple-indirect block's pointer past the filesystem
    ind_cross_link,  // the double-indirect block's pointer onto another file's block
    data_past_end,   // the single-indirect block's data pointer past the filesystem
};

const std::vector<OracleCase<TindKind>>& tind_cases() {
    static const std::vector<OracleCase<TindKind>> c{
        {TindKind::tind_cross_link, "tind_cross_link", {"inode", "indirect_block"}},
        {TindKind::tind_free, "tind_free", {"block_bitmap"}},
        {TindKind::dind_past_end, "dind_past_end", {"indirect_block"}},
        {TindKind::ind_cross_link, "ind_cross_link", {"inode", "indirect_block"}},
        {TindKind::data_past_end, "data_past_end", {"indirect_block"}},
    };
    return c;
}

bool damage_tind(const fs::path& image, TindKind kind, std::mt19937& rng) {
    const TindChain c = tind_chain(image);
    const std::string other = "/f" + std::to_string(std::uniform_int_distribution<int>(6, 12)(rng));
    const std::uint64_t victim =
        block_of(image, other, std::uniform_int_distribution<std::uint64_t>(0, 4)(rng));
    const auto beyond = static_cast<std::uint32_t>(
        std::uniform_int_distribution<std::uint32_t>(70000, 0x0FFFFFFF)(rng));
    switch (kind) {
    case TindKind::tind_cross_link:
        debugfs(image, "sif /tind block[TIND] " + std::to_string(victim), true);
        return true;
    case TindKind::tind_free:
        debugfs(image, "freeb " + std::to_string(c.tind), true);
        return true;
    case TindKind::dind_past_end:
        write_bytes(image, c.tind * 1024 + c.tind_slot, le32_bytes(beyond));
        return true;
    case TindKind::ind_cross_link:
        write_bytes(image, c.dind * 1024 + c.dind_slot,
                    le32_bytes(static_cast<std::uint32_t>(victim)));
        return true;
    case TindKind::data_past_end:
        write_bytes(image, c.ind * 1024 + c.ind_slot, le32_bytes(beyond));
        return true;
    }
    return false;
}

class TripleIndirect : public testing::TestWithParam<TindShape> {};

TEST_P(TripleIndirect, TheFarBlockGoesThroughTheTripleIndirectBlockAndIsClean) {
    TempDir tmp;
    const fs::path image = make_tind_image(tmp, GetParam());
    const std::string stat = debugfs(image, "stat /tind");
    ASSERT_NE(stat.find("(TIND):"), std::string::npos) << stat;
    EXPECT_NE(stat.find("(" + std::to_string(k_tind_logical) + "):"), std::string::npos) << stat;
    const TindChain c = tind_chain(image);
    EXPECT_EQ(block_of(image, "/tind", k_tind_logical),
              le32_at(read_bytes(image, c.ind * 1024 + c.ind_slot, 4), 0));
    expect_clean(image);
}

TEST_P(TripleIndirect, EveryDamageE2fsckFlagsIsFound) {
    TempDir tmp;
    EXPECT_GE(expect_flagged_cases_found<TindKind>(make_tind_image(tmp, GetParam()),
                                                   GetParam().name, tind_cases(), damage_tind),
              8);
}

INSTANTIATE_TEST_SUITE_P(Shapes, TripleIndirect,
                         testing::Values(TindShape{"ext2_1k", "-t ext2 -b 1024"},
                                         TindShape{"ext3_1k_128", "-t ext3 -b 1024 -I 128"}),
                         [](const testing::TestParamInfo<TindShape>& p) { return p.param.name; });

} // namespace
} // namespace guardian::test
