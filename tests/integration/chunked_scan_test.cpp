// A scan whose inode tables span several chunks (scan.cpp): the directory
// blocks a chunk's inodes reference are checked while later chunks are not
// read yet, so a directory entry can name an inode the walk has not seen.
// Such an entry is judged after the walk (inode_walk.cpp: finish(), the
// entries kept in m_later_entries), one naming an inode already read at
// once. Both must find a wrong file type, as `e2fsck -fn` does, and the
// clean image gives no finding. The benchmark's images span about a hundred
// chunks; the other tests' images fit in one.
//
// The image: ext3 (no uninit_bg, so every inode table is read whole), 16
// groups of 1024 256-byte inodes, 264 KiB of reads per group: a 2 MiB chunk
// holds seven groups. /d (group 0) names "near" (group 0) and "far", a copy
// of near's inode placed in group 14 with debugfs, two chunks later.
#include "tests/integration/oracle.hpp"

#include <gtest/gtest.h>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t k_far_ino = 14 * 1024 + 5; // group 14

fs::path make_image(const TempDir& tmp) {
    const fs::path image = tmp.path() / "chunks.img";
    sh("mke2fs -q -F -t ext3 -b 4096 -g 8192 -N 16384 -I 256 "
       "-U 4b6e0c2a-1d3f-4e5a-8b7c-9d0e1f2a3b4c -E hash_seed=7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d "
       "'" +
       image.string() + "' 512M");
    const fs::path empty = tmp.path() / "empty";
    sh("touch '" + empty.string() + "'");
    const fs::path cmds = tmp.path() / "cmds";
    sh("printf 'mkdir d\\ncd d\\nwrite " + empty.string() + " near\\n' > '" + cmds.string() + "'");
    sh("debugfs -w -f '" + cmds.string() + "' '" + image.string() + "' >/dev/null 2>&1");
    const std::uint64_t near = number_after(debugfs(image, "stat /d/near"), "Inode: ");
    const std::string far = "<" + std::to_string(k_far_ino) + ">";
    sh("printf 'copy_inode <" + std::to_string(near) + "> " + far + "\\nln " + far +
       " /d/far\\nseti " + far + "\\n' > '" + cmds.string() + "'");
    sh("debugfs -w -f '" + cmds.string() + "' '" + image.string() + "' >/dev/null 2>&1");
    // debugfs leaves the free-inode counts to e2fsck (exit 1: corrected).
    const CommandResult fix = run_command("e2fsck -fy '" + image.string() + "'");
    if (fix.exit_code > 1)
        throw std::runtime_error("e2fsck -fy: " + fix.out);
    return image;
}

// Offset of the live entry `name` in directory block `block`.
std::size_t entry_offset(const fs::path& image, std::uint64_t block, const std::string& name) {
    const std::string b = read_bytes(image, block * 4096, 4096);
    for (std::size_t off = 0; off + 8 <= b.size();) {
        const std::size_t rec_len =
            static_cast<unsigned char>(b[off + 4]) |
            (static_cast<std::size_t>(static_cast<unsigned char>(b[off + 5])) << 8);
        const std::size_t len = static_cast<unsigned char>(b[off + 6]);
        if (b.substr(off + 8, len) == name)
            return off;
        if (rec_len < 12)
            break;
        off += rec_len;
    }
    throw std::runtime_error("no entry " + name + " in block " + std::to_string(block));
}

class ChunkedScan : public ::testing::Test {
protected:
    void SetUp() override {
        image = make_image(tmp);
        dir_block = block_of(image, "/d", 0);
    }
    // Sets the file type of /d's entry `name` to 2 (a directory) and expects
    // e2fsck -fn and the stable scan to flag that block.
    void expect_wrong_type_found(const std::string& name, std::uint32_t ino) {
        const std::size_t off = entry_offset(image, dir_block, name);
        write_bytes(image, dir_block * 4096 + off + 7, std::string(1, '\x02'));
        ASSERT_EQ(run_command("e2fsck -fn '" + image.string() + "'").exit_code, 4);
        const auto r = scan_image(image, CheckMode::stable);
        ASSERT_TRUE(r.ok()) << r.error().message;
        const std::string want = "entry at offset " + std::to_string(off) +
                                 ": file type 2 but inode " + std::to_string(ino) +
                                 " is a regular file";
        const bool found = std::any_of(r->report.findings.begin(), r->report.findings.end(),
                                       [&](const Finding& f) {
                                           return f.structure == Structure::directory_block &&
                                                  f.block == dir_block && f.detail == want;
                                       });
        EXPECT_TRUE(found) << "want: " << want << "\n" << describe(r->report.findings);
    }
    TempDir tmp;
    fs::path image;
    std::uint64_t dir_block = 0;
};

TEST_F(ChunkedScan, CleanImageHasNoFindings) {
    ASSERT_EQ(number_after(debugfs(image, "stat /d/far"), "Inode: "), k_far_ino);
    expect_clean(image);
}

TEST_F(ChunkedScan, EntryNamingAnInodeOfALaterChunkIsJudged) {
    expect_wrong_type_found("far", k_far_ino);
}

TEST_F(ChunkedScan, EntryNamingAnInodeOfAnAppliedChunkIsJudged) {
    expect_wrong_type_found("near", static_cast<std::uint32_t>(
                                        number_after(debugfs(image, "stat /d/near"), "Inode: ")));
}

} // namespace
} // namespace guardian::test
