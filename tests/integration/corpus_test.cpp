// e2fsprogs' own corrupted images (../shared/corpus/e2fsprogs/<case>/) through
// `guardianctl check --mode stable --json`: no case may crash or hang (CI runs
// this under ASan/UBSan, so leaks and UB surface too); every case whose
// expected e2fsck output reports a checksum failure in a structure guardian
// verifies must come back as damage; and every case whose expected output
// reports damage of the kind the structural rules judge (issue 10: no
// checksum needed) must come back as damage, exit 1, unless it is listed as
// out of scope with the reason. Plus the inputs that are not ext4 at all.
#include "tests/support/ext4_image.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> corpus_dir() {
    const auto shared = shared_dir();
    if (!shared || !fs::is_directory(*shared / "corpus" / "e2fsprogs"))
        return std::nullopt;
    return *shared / "corpus" / "e2fsprogs";
}

std::vector<std::string> corpus_cases() {
    std::vector<std::string> out;
    if (const auto dir = corpus_dir())
        for (const auto& e : fs::directory_iterator(*dir))
            if (e.is_directory())
                out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// e2fsck's wording for a checksum that does not match, in the structures
// guardian verifies. "directory has no checksum" (a missing tail, not a wrong
// one) is deliberately not here.
const std::vector<std::regex>& checksum_failures() {
    static const std::vector<std::regex> re{
        std::regex(R"(Inode \d+ passes checks, but checksum does not match inode)"),
        std::regex(R"(extent block passes checks, but checksum does not match)"),
        std::regex(R"(extended attribute block \d+ passes checks, but checksum does not match)"),
        std::regex(R"(directory passes checks but fails checksum)"),
        std::regex(R"(Problem in HTREE directory inode \d+: (root|internal) node fails checksum)"),
        std::regex(R"((inode|block) bitmap does not match checksum)"),
        std::regex(R"(Superblock checksum does not match superblock)"),
        std::regex(R"(One or more block group descriptor checksums are invalid)"),
    };
    return re;
}

// e2fsck's wording (e2fsck/problem.c) for damage the structural rules judge
// from the damaged structure's own bytes and the fixed geometry: journal
// superblock fields, crc16 group descriptor checksums and descriptor
// locations, inode mode/flags/extra_isize/block pointers, extent headers and
// entries, indirect block entries, directory entries, htree roots and nodes,
// xattr block headers; and, judged after the whole walk in stable mode
// (link_ledger.hpp), link counts, deletion times and regular-file sizes;
// the htree index against its names' hashes (htree_index.hpp), xattr entry
// hashes and in-inode xattr geometry (xattr_rules.hpp); and block
// ownership (block_owners.hpp): multiply-claimed blocks, bitmap
// differences and padding. Messages about free counts or reachability are
// not here: no rule judges those.
const std::vector<std::regex>& structural_failures() {
    static const std::vector<std::regex> re{
        std::regex(R"(Journal superblock is corrupt)"),
        std::regex(R"([Jj]ournal superblock has an unknown (incompatible|read-only) feature)"),
        std::regex(R"(One or more block group descriptor checksums are invalid)"),
        std::regex(R"(ext2fs_check_desc: Corrupt group descriptor)"),
        std::regex(R"((Block|Inode) bitmap for group \d+ is not in group)"),
        std::regex(R"(Inode table for group \d+ is not in group)"),
        std::regex(R"(conflicts with some other fs block)"),
        std::regex(R"(Inode \d+ (\(.*\) )?has invalid mode)"),
        std::regex(R"(Inode \d+ has (EXTENTS_FL|INLINE_DATA_FL) flag on filesystem without)"),
        std::regex(R"(Inode \d+ has the casefold flag set but)"),
        std::regex(R"(Inode \d+ has a extra size \(\d+\) which is invalid)"),
        std::regex(R"(Inode \d+ has illegal block\(s\))"),
        std::regex(R"(Illegal (indirect|double indirect|triple indirect) block)"),
        std::regex(R"(Inode \d+ has an invalid extent node)"),
        std::regex(R"(Inode \d+ has an invalid extent\s)"),
        std::regex(R"(Inode \d+ has out of order extents)"),
        std::regex(R"(Inode \d+ has zero length extent)"),
        std::regex(R"(Directory inode \d+, block #\d+, offset \d+: directory corrupted)"),
        std::regex(R"(has a zero-length name)"),
        std::regex(R"(has illegal characters in its name)"),
        std::regex(R"(Missing '\.\.?' in directory inode)"),
        std::regex(
            R"(First entry '.*' \(inode=\d+\) in directory inode \d+ \(.*\) should be '\.')"),
        std::regex(R"(Second entry '.*' \(inode=\d+\) in directory inode \d+ should be '\.\.')"),
        std::regex(R"(has bad inode #)"),
        std::regex(R"(Problem in HTREE directory inode \d+: (root node|block #\d+|node \(\d+\)) )"
                   R"(has (invalid|bad) (limit|count))"),
        std::regex(R"(HTREE directory inode \d+ has an unsupported hash version)"),
        std::regex(R"(HTREE directory inode \d+ has a tree depth \(\d+\) which is too big)"),
        std::regex(R"(HTREE directory inode \d+ has an invalid root node)"),
        std::regex(R"(HTREE directory inode \d+ uses an incompatible htree root node flag)"),
        std::regex(R"(Inode \d+ has a bad extended attribute block)"),
        std::regex(R"(Inode \d+ ref count is \d+, should be \d+)"),
        std::regex(R"(Unattached (zero-length )?inode \d+)"),
        std::regex(R"(Deleted inode \d+ has zero dtime)"),
        std::regex(R"(Inode \d+ is in use, but has dtime set)"),
        std::regex(R"(Inode \d+, i_size is \d+, should be \d+)"),
        std::regex(R"(references inode \d+ found in group \d+'s unused inodes area)"),
        std::regex(R"(Multiply-claimed block\(s\) in inode \d+)"),
        std::regex(R"(i_file_acl_hi for inode \d+ \(.*\) is \d+, should be zero)"),
        std::regex(R"(Logical start \d+ does not match logical start \d+ at next level)"),
        std::regex(R"(Extended attribute in inode \d+ has a (hash|value size) \(\d+\) which is )"
                   R"(invalid)"),
        std::regex(R"(Problem in HTREE directory inode \d+: block #\d+ (has an unordered hash )"
                   R"(table|has bad (min|max) hash|has invalid depth|not referenced))"),
        std::regex(R"((Block|Inode) bitmap differences: )"),
        std::regex(R"(Padding at end of (block|inode) bitmap is not set)"),
        std::regex(R"(i_file_acl for inode \d+ \(.*\) is \d+, should be zero)"),
        std::regex(R"(Superblock has_journal flag is clear, but a journal is present)"),
        std::regex(R"(Duplicate (filename )?entry '.*' (in .* )?found)"),
        std::regex(R"(is duplicate '\.\.?' entry)"),
    };
    return re;
}

// Structural cases judged out of scope, with the reason: the e2fsck message
// above appears, but what it reports is not something a structural rule can
// see without the whole filesystem (or is not damage guardian must catch).
const std::map<std::string, std::string> k_structural_out_of_scope{
    // The illegal blocks are in the bad blocks inode (inode 1: i_mode 0,
    // i_links_count 0), a list of blocks and not a file; the rules judge
    // in-use inodes only (links > 0 and a mode, as the kernel does).
    {"f_badbblocks", "bad blocks inode's block list (inode 1 is not an in-use inode)"},
    // The corrupted entries are inside inline-data directories (i_block and
    // the system.data xattr), not in directory blocks.
    {"f_inlinedata_dirblocks", "entries of an inline-data directory, not a directory block"},
    // Same, plus "invalid mode (00)": inodes with i_mode 0 are unused to the
    // rules (e2fsck calls them in use only because the inode bitmap does).
    {"f_inlinedata_repair", "inline-data directory entries and i_mode 0 inodes"},
    // The link-count messages below follow e2fsck's own repairs in the run
    // expect.1 records: it clears an entry (or a whole inode) first, and the
    // count it then finds wrong was right on the image as shipped.
    {"f_badtable", "ref count after e2fsck clears the entry of an inode in a bad block"},
    {"f_short_encrypted_dirent", "unattached after e2fsck clears a short encrypted entry"},
    // Names that are equal once casefolded (the directory's encoding folds
    // them): duplicate_name_problem compares the bytes as stored, and does
    // not judge casefolded directories at all.
    {"f_bad_fname", "duplicate names after casefolding (casefolded directories not judged)"},
    {"f_write_ea_no_extra_isize", "ref count after e2fsck clears an inline-data directory"},
    // Large xattr values in inodes of their own (ea_inode): those inodes are
    // named by xattr entries, not directory entries, and not counted.
    {"f_ea_inode_disconnected", "ea_inode reference counts (named by xattr entries)"},
    {"f_ea_zero_size", "ea_inode reference counts (named by xattr entries)"},
    // A directory's size against a map that is an extent tree: judged only
    // where the whole map is in the inode (dir_size_problem).
    {"f_holedir3", "directory i_size against an extent tree below the inode"},
    // Bitmap differences that follow e2fsck's own repairs (it clears an
    // inline-data inode whose xattr is missing, then its block is free).
    {"f_ea_inode_self_ref", "block bitmap difference after e2fsck clears an inode"},
    // expect.1 is e2fsck -E unshare_blocks on a shared_blocks filesystem:
    // blocks shared between files are that feature's point.
    {"f_unshare_blocks_no_space", "shared_blocks: multiply-claimed blocks are legal"},
    {"f_unshare_blocks_ok", "shared_blocks: multiply-claimed blocks are legal"},
    // The differences are those of the filesystem after the journal replay;
    // ownership is not judged while transactions wait in the journal.
    {"j_recover_csum2_32bit", "bitmap differences after e2fsck replays the journal"},
    {"j_recover_csum2_64bit", "bitmap differences after e2fsck replays the journal"},
};

// Images e2fsck -fn flags (exit 4) that stable mode does not find yet; no
// regex above matches their expect.1, so nothing here asserts them:
// - quota usage (f_quota, f_quota_deallocate_inode, f_quota_invalid_inum,
//   f_orphquot): quota files are accounting, not structure;
// - orphan lists and orphan files whose members e2fsck would release
//   (f_orphan, f_orphan_extents_inode, f_orphan_indirect_inode,
//   f_clear_orphan_file): the ledger exempts orphans by design;
// - ea_inode reference counts (f_ea_inode_fast_symlink, f_ea_inode_self_ref),
//   the bad blocks inode's own fields (f_invalid_bad_inode), damage seen only
//   after a journal replay (f_jnl_64bit, j_recover_fast_commit); f_zero_super
//   exits 2 (no usable primary superblock; e2fsck uses a backup).

// Cases without an expect.1 (e2fsprogs drives them from a script) whose own
// name says a jbd2 v3 checksum on disk is wrong.
const std::set<std::string> k_journal_checksum_cases{
    "j_corrupt_commit_csum", "j_corrupt_descr_csum", "j_corrupt_journal_block",
    "j_corrupt_revoke_csum", "j_corrupt_sb_csum",
};

// Judged out of scope, with the reason. Keep this list short and explained.
const std::map<std::string, std::string> k_out_of_scope{
    // The image has no group descriptor checksums; e2fsprogs' script runs
    // `tune2fs -O uninit_bg` first, and the failure in expect.1 is about the
    // descriptors as tune2fs left them, not as shipped.
    {"f_uninit_enable", "expect.1 describes the image after tune2fs -O uninit_bg"},
};

fs::path guardianctl() {
    return binary_dir() / "guardian" / "guardianctl";
}

// Runs the check bounded in time: a hang fails the case instead of the suite.
CommandResult check_image(const fs::path& image) {
    return run_command("timeout 30 '" + guardianctl().string() + "' check --image '" +
                       image.string() + "' --mode stable --json");
}

void expect_one_line_reason(const CommandResult& r) {
    EXPECT_FALSE(r.err.empty()) << "exit 2 without a reason";
    const auto body = r.err.substr(0, r.err.find_last_not_of('\n') + 1);
    EXPECT_EQ(body.find('\n'), std::string::npos) << "reason is not one line:\n" << r.err;
}

class Corpus : public testing::TestWithParam<std::string> {};

bool any_match(const std::string& text, const std::vector<std::regex>& res) {
    return std::any_of(res.begin(), res.end(),
                       [&](const std::regex& re) { return std::regex_search(text, re); });
}

TEST_P(Corpus, StableCheckSurvivesAndSeesDamage) {
    const fs::path dir = *corpus_dir() / GetParam();
    TempDir tmp;
    const fs::path image = tmp.path() / "image";
    std::string unpack;
    if (fs::exists(dir / "image.gz"))
        unpack = "gzip -dc '" + (dir / "image.gz").string() + "'";
    else if (fs::exists(dir / "image.bz2"))
        unpack = "bzip2 -dc '" + (dir / "image.bz2").string() + "'";
    else if (fs::exists(dir / "image"))
        unpack = "cat '" + (dir / "image").string() + "'";
    else
        GTEST_SKIP() << "no image in " << dir;
    const CommandResult u = run_command(unpack + " > '" + image.string() + "'");
    ASSERT_EQ(u.exit_code, 0) << u.err;

    const CommandResult r = check_image(image);
    SCOPED_TRACE("stdout:\n" + r.out + "stderr:\n" + r.err);
    ASSERT_NE(r.exit_code, 124) << "guardianctl hung (30 s)";
    ASSERT_LE(r.exit_code, 2) << "guardianctl crashed or was killed";
    if (r.exit_code == 2) {
        expect_one_line_reason(r);
    } else {
        const auto j = nlohmann::json::parse(r.out, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << "--json output is not JSON";
        ASSERT_TRUE(j.contains("findings") && j["findings"].is_array());
        EXPECT_EQ(r.exit_code == 1, !j["findings"].empty()) << "exit code and findings disagree";
    }

    const std::string expect = fs::exists(dir / "expect.1") ? slurp(dir / "expect.1") : "";
    const bool checksum_damage =
        k_journal_checksum_cases.count(GetParam()) > 0 || any_match(expect, checksum_failures());
    const bool structural_damage = any_match(expect, structural_failures());
    if (!checksum_damage && !structural_damage)
        return;
    if (const auto it = k_out_of_scope.find(GetParam()); it != k_out_of_scope.end()) {
        std::cout << "[ info ] " << GetParam() << " out of scope: " << it->second << "\n";
        return;
    }
    if (checksum_damage) {
        EXPECT_NE(r.exit_code, 0) << "e2fsck finds a checksum failure guardian verifies; "
                                     "guardianctl says intact";
    }
    if (!structural_damage)
        return;
    if (const auto it = k_structural_out_of_scope.find(GetParam());
        it != k_structural_out_of_scope.end()) {
        std::cout << "[ info ] " << GetParam() << " structural damage out of scope: " << it->second
                  << "\n";
        return;
    }
    EXPECT_EQ(r.exit_code, 1) << "e2fsck reports damage the structural rules judge; "
                                 "guardianctl does not report it as damage";
}

INSTANTIATE_TEST_SUITE_P(E2fsprogs, Corpus, testing::ValuesIn(corpus_cases()),
                         [](const testing::TestParamInfo<std::string>& p) {
                             std::string n = p.param;
                             for (auto& c : n)
                                 if (!std::isalnum(static_cast<unsigned char>(c)))
                                     c = '_';
                             return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Corpus);

TEST(CorpusPresence, SharedCorpusIsThere) {
    if (!corpus_dir())
        GTEST_SKIP() << "../shared/corpus/e2fsprogs is absent (set GUARDIAN_SHARED_DIR); "
                        "the corpus cases were not run";
    EXPECT_GT(corpus_cases().size(), 100u);
}

// --- inputs that are not a readable ext4 -----------------------------------

class NotExt4 : public testing::Test {
protected:
    void expect_unusable(const fs::path& file) {
        ASSERT_TRUE(fs::exists(guardianctl())) << guardianctl();
        const CommandResult r = check_image(file);
        EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
        expect_one_line_reason(r);
    }
    TempDir m_dir;
};

TEST_F(NotExt4, TruncatedImage) {
    const fs::path full = m_dir.path() / "full";
    copy_image(ImageKind::full, full);
    fs::resize_file(full, 100 * 1024);
    expect_unusable(full);
}

TEST_F(NotExt4, ZeroFilledFile) {
    const fs::path f = m_dir.path() / "zeros";
    std::ofstream(f, std::ios::binary) << std::string(16u << 20, '\0');
    expect_unusable(f);
}

TEST_F(NotExt4, SwapArea) {
    const fs::path f = m_dir.path() / "swap";
    std::ofstream(f, std::ios::binary) << std::string(16u << 20, '\0');
    ASSERT_EQ(run_command("mkswap '" + f.string() + "'").exit_code, 0);
    expect_unusable(f);
}

TEST_F(NotExt4, RandomBytes) {
    const fs::path f = m_dir.path() / "random";
    ASSERT_EQ(run_command("head -c 8388608 /dev/urandom > '" + f.string() + "'").exit_code, 0);
    expect_unusable(f);
}

TEST_F(NotExt4, MissingFile) {
    expect_unusable(m_dir.path() / "does-not-exist");
}

} // namespace
} // namespace guardian::test
