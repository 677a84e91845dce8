// Fingerprint comparison on real images: a change made with debugfs -w must
// show up as exactly the regions whose bytes changed. The expected set is
// derived independently: diff the two image files block by block and name
// each changed metadata block from dumpe2fs/debugfs's view of the layout.
#include "guardian/ext4/scan.hpp"
#include "tests/support/ext4_image.hpp"
#include "tests/support/ext4_layout.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

using RegionKey = std::pair<Structure, std::optional<std::uint32_t>>;

std::string show(const std::set<RegionKey>& keys) {
    std::string out;
    for (const auto& [s, g] : keys)
        out += std::string(to_string(s)) + (g ? " group " + std::to_string(*g) : "") + "\n";
    return out.empty() ? "(none)\n" : out;
}

Fingerprint fingerprint_of(const fs::path& image) {
    ext4::ScanOptions o;
    o.path = image.string();
    o.mode = CheckMode::stable;
    auto r = ext4::scan(o);
    if (!r.ok())
        throw std::runtime_error("scan " + image.string() + ": " + r.error().message);
    return std::move(r).value().fingerprint;
}

// Which metadata region each block of `image` belongs to. Backup superblocks
// and descriptors, and data blocks, are not in the map.
class MetadataMap {
public:
    void add(const fs::path& image) {
        const FsLayout l = read_layout(image);
        m_layout = l;
        for (std::uint32_t g = 0; g < l.groups.size(); ++g) {
            const auto& gl = l.groups[g];
            m_blocks[gl.block_bitmap] = {Structure::block_bitmap, g};
            m_blocks[gl.inode_bitmap] = {Structure::inode_bitmap, g};
            for (std::uint64_t b = 0; b < gl.inode_table_blocks; ++b)
                m_blocks[gl.inode_table + b] = {Structure::inode, g};
        }
        for (const std::string dir : {"/", "/lost+found", k_small_dir, k_htree_dir}) {
            const auto blocks = file_blocks(image, dir);
            for (const auto b : blocks)
                m_blocks[b] = {Structure::directory_block, group_of(b)};
            if (is_htree(image, dir))
                m_blocks[bmap(image, dir, 0)] = {Structure::htree_block,
                                                 group_of(bmap(image, dir, 0))};
        }
        for (const auto& e : extent_tree_blocks(image, k_frag_file))
            m_blocks[e.block] = {Structure::extent_block, group_of(e.block)};
        if (const auto x = xattr_block(image, k_xattr_file))
            m_blocks[*x] = {Structure::xattr_block, group_of(*x)};
    }

    // The regions the byte differences between two images fall in.
    std::set<RegionKey> regions_changed(const fs::path& before, const fs::path& after) const {
        std::set<RegionKey> out;
        for (const auto& [block, offsets] : changed_bytes(before, after)) {
            if (block == 0) {
                for (const auto off : offsets)
                    if (off >= 1024 && off < 2048)
                        out.insert({Structure::superblock, std::nullopt});
            } else if (block == 1) {
                for (const auto off : offsets)
                    out.insert({Structure::group_descriptor, off / m_layout.desc_size});
            } else if (const auto it = m_blocks.find(block); it != m_blocks.end()) {
                out.insert(it->second);
            }
        }
        return out;
    }

private:
    std::uint32_t group_of(std::uint64_t block) const {
        return static_cast<std::uint32_t>(block / m_layout.blocks_per_group);
    }

    FsLayout m_layout;
    std::map<std::uint64_t, RegionKey> m_blocks;
};

std::set<RegionKey> regions_reported(const std::vector<Difference>& diffs) {
    std::set<RegionKey> out;
    for (const auto& d : diffs)
        if (d.field.empty())
            out.insert({d.structure, d.group});
    return out;
}

std::string describe_all(const std::vector<Difference>& diffs) {
    std::string out;
    for (const auto& d : diffs)
        out += "  " + describe(d) + "\n";
    return out.empty() ? "  (none)\n" : out;
}

class CompareTest : public testing::Test {
protected:
    void SetUp() override {
        m_before = m_dir.path() / "before";
        m_after = m_dir.path() / "after";
        copy_image(ImageKind::full, m_before);
        fs::copy_file(m_before, m_after);
    }

    // Applies debugfs commands to the "after" image.
    void change(const std::string& commands) {
        const fs::path cmds = m_dir.path() / "cmds";
        std::ofstream(cmds) << commands;
        const CommandResult r = run_command(e2fs_env() + " debugfs -w -f '" + cmds.string() +
                                            "' '" + m_after.string() + "'");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        ASSERT_EQ(r.err.find("make_link"), std::string::npos) << r.err;
    }

    void expect_exactly_the_changed_regions() {
        MetadataMap map;
        map.add(m_before);
        map.add(m_after);
        const std::set<RegionKey> expected = map.regions_changed(m_before, m_after);
        ASSERT_FALSE(expected.empty()) << "the change touched no metadata: the test is broken";
        const auto diffs = compare(fingerprint_of(m_before), fingerprint_of(m_after));
        EXPECT_EQ(regions_reported(diffs), expected) << "expected:\n"
                                                     << show(expected) << "reported:\n"
                                                     << describe_all(diffs);
        for (const auto& d : diffs)
            EXPECT_TRUE(d.field.empty())
                << "geometry must not change with a file or xattr: " << describe(d);
    }

    fs::path host_file(const std::string& name, std::size_t size, char fill) {
        const fs::path p = m_dir.path() / name;
        std::ofstream(p, std::ios::binary) << std::string(size, fill);
        return p;
    }

    TempDir m_dir;
    fs::path m_before;
    fs::path m_after;
};

TEST_F(CompareTest, UnchangedImageGivesIdenticalFingerprints) {
    const Fingerprint a = fingerprint_of(m_before);
    const Fingerprint b = fingerprint_of(m_after);
    EXPECT_TRUE(compare(a, b).empty()) << describe_all(compare(a, b));
    EXPECT_EQ(a.regions, b.regions);
    EXPECT_EQ(a.geometry, b.geometry);
    EXPECT_FALSE(a.geometry.empty());
    // Every per-group structure is fingerprinted for every group.
    std::set<RegionKey> keys;
    for (const auto& r : a.regions)
        keys.insert({r.structure, r.group});
    for (std::uint32_t g = 0; g < 4; ++g)
        EXPECT_TRUE(keys.count({Structure::group_descriptor, g})) << "group " << g;
    EXPECT_TRUE(keys.count({Structure::superblock, std::nullopt}));
}

TEST_F(CompareTest, NewFile) {
    change("write " + host_file("content", 10000, 'n').string() + " " + k_small_dir + "/new.txt\n");
    expect_exactly_the_changed_regions();
}

TEST_F(CompareTest, ChangedXattr) {
    change("ea_set -f " + host_file("value", 3000, 'y').string() + " " + k_xattr_file +
           " user.big\n");
    expect_exactly_the_changed_regions();
}

TEST_F(CompareTest, ResizedDirectory) {
    std::string cmds;
    for (int i = 0; i < 4; ++i)
        cmds += std::string("expand_dir ") + k_small_dir + "\n";
    for (int i = 0; i < 300; ++i)
        cmds += std::string("ln ") + k_data_file + " " + k_small_dir + "/link_number_" +
                std::to_string(i) + "\n";
    cmds += std::string("sif ") + k_data_file + " links_count 301\n";
    change(cmds);
    expect_exactly_the_changed_regions();
}

TEST_F(CompareTest, FingerprintJsonRoundTrip) {
    const Fingerprint fp = fingerprint_of(m_before);
    const auto back = fingerprint_from_json(fingerprint_to_json(fp));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->regions, fp.regions);
    EXPECT_EQ(back->geometry, fp.geometry);
    EXPECT_EQ(back->identity.uuid, fp.identity.uuid);
    EXPECT_EQ(back->mode, fp.mode);
    EXPECT_TRUE(compare(fp, *back).empty());
}

// --- guardianctl snapshot / compare ---------------------------------------

fs::path guardianctl() {
    return binary_dir() / "guardian" / "guardianctl";
}

CommandResult ctl(const std::string& args) {
    return run_command("'" + guardianctl().string() + "' " + args);
}

TEST_F(CompareTest, CliExitCodes) {
    ASSERT_TRUE(fs::exists(guardianctl())) << guardianctl();
    const fs::path a = m_dir.path() / "a.json";
    const fs::path b = m_dir.path() / "b.json";
    const fs::path c = m_dir.path() / "c.json";
    ASSERT_EQ(ctl("snapshot --image '" + m_before.string() + "' -o '" + a.string() + "'").exit_code,
              0);
    ASSERT_EQ(ctl("snapshot --image '" + m_after.string() + "' -o '" + b.string() + "'").exit_code,
              0);
    const CommandResult same = ctl("compare '" + a.string() + "' '" + b.string() + "'");
    EXPECT_EQ(same.exit_code, 0) << same.out << same.err;

    change("write " + host_file("content", 5000, 'c').string() + " /cli.txt\n");
    ASSERT_EQ(ctl("snapshot --image '" + m_after.string() + "' -o '" + c.string() + "'").exit_code,
              0);
    const CommandResult differ = ctl("compare '" + a.string() + "' '" + c.string() + "'");
    EXPECT_EQ(differ.exit_code, 1) << differ.out << differ.err;
    EXPECT_NE(differ.out.find("inode"), std::string::npos) << "lists the differing regions:\n"
                                                           << differ.out;

    // Unusable input: truncated JSON, not JSON at all, a missing file.
    const fs::path truncated = m_dir.path() / "truncated.json";
    {
        std::ifstream in(a);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream(truncated) << text.substr(0, text.size() / 2);
    }
    const fs::path garbage = host_file("garbage.json", 100, 'g');
    for (const fs::path& bad : {truncated, garbage, m_dir.path() / "missing.json"}) {
        const CommandResult r = ctl("compare '" + a.string() + "' '" + bad.string() + "'");
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out << r.err;
        EXPECT_FALSE(r.err.empty()) << bad << ": no reason given";
        EXPECT_NE(r.err.find(bad.filename().string()), std::string::npos)
            << "the reason names the file: " << r.err;
    }
}

} // namespace
} // namespace guardian::test
