// The damage matrix for filesystems without metadata_csum (issue 10): ext4
// as Debian 8 made it (uninit_bg's crc16 descriptor checksums only) and ext3
// (indirect block maps, no checksums at all). Nothing here can be caught by
// a checksum, so every case damages a structural field (one byte) or
// overwrites a whole metadata block with a data block (a misdirected write),
// and asserts the exact finding: structure class, group, inode, block.
// Block numbers come from dumpe2fs/debugfs, never from the engine, and every
// case first proves it is real damage: `e2fsck -fn` on the damaged image must
// exit non-zero. Plus the one structural case on the metadata_csum image that
// no checksum covers: the journal superblock's s_maxlen.
#include "guardian/ext4/scan.hpp"
#include "tests/integration/scan_expect.hpp"
#include "tests/support/ext4_image.hpp"
#include "tests/support/ext4_layout.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

// The structure class of an ext2/ext3 block-map block (IND/DIND/TIND), by its
// --json name; resolved at run time so this file states the vocabulary the
// validator must speak (see /work/notes/h10-vocabulary.md).
constexpr const char* k_indirect = "indirect_block";

enum class Damage { flip_byte, misdirected_write };

// One finding the engine must report, by its --json structure name, with
// the start of its detail text (which rule fired; empty: any rule).
struct Want {
    std::string structure;
    std::optional<std::uint32_t> group;
    std::optional<std::uint32_t> inode;
    std::optional<std::uint64_t> block;
    std::string detail;
};

struct Target {
    std::uint64_t block = 0;
    std::uint32_t offset = 0; // for flip_byte
    std::vector<Want> expected;
    // Findings the engine may report besides `expected`, as prefixes of their
    // contract keys (scan_expect.hpp), each with the reason it may appear.
    std::vector<std::string> may_also;
};

struct DamageCase {
    std::string name;
    ImageKind image;
    Damage damage;
    std::function<Target(const fs::path&, const FsLayout&)> locate;
};

// The file whose inode sits outside group 0 and whose entry is in /big.
const std::string k_far_file = std::string(k_htree_dir) + "/entry_with_a_longish_name_2500";

Want at(const char* s, std::optional<std::uint32_t> group, std::optional<std::uint32_t> inode,
        std::optional<std::uint64_t> block, std::string detail = "") {
    return Want{s, group, inode, block, std::move(detail)};
}

// --- where to damage (all positions from e2fsprogs) -------------------------

// jbd2 superblock: s_maxlen is the big-endian u32 at 0x10..0x13 (after the
// 12-byte header and s_blocksize). Its low byte: 4096 blocks become 4351,
// more than the journal inode has; e2fsck: "Journal superblock is corrupt".
Target journal_maxlen(const fs::path& image, const FsLayout&) {
    const std::uint64_t b = journal_superblock_block(image);
    return {b, 0x13, {at("journal_superblock", {}, {}, b, "s_maxlen ")}, {}};
}

Target journal_superblock(const fs::path& image, const FsLayout&) {
    const std::uint64_t b = journal_superblock_block(image);
    return {b, 0, {at("journal_superblock", {}, {}, b, "bad magic")}, {}};
}

// Group 1's bg_block_bitmap (le32 at 0 of its descriptor), second byte: the
// bitmap moves past the end of the 32768-block filesystem (a location is a
// `geometry` finding), and the descriptor's crc16 no longer matches.
Target descriptor_bitmap_location_crc16(const fs::path&, const FsLayout& l) {
    return {1,
            l.desc_size + 1,
            {at("group_descriptor", 1, {}, {}, "checksum mismatch"),
             at("geometry", 1, {}, {}, "group 1: block bitmap at block ")},
            {}};
}
// ext3 has no descriptor checksum: the location itself must be judged. The
// high byte puts the bitmap far past the end of the filesystem.
Target descriptor_bitmap_location(const fs::path&, const FsLayout& l) {
    return {1, l.desc_size + 3, {at("geometry", 1, {}, {}, "group 1: block bitmap at block ")}, {}};
}

Target extent_block(const fs::path& image, bool leaf, std::uint32_t offset) {
    const std::uint32_t ino = inode_of(image, k_frag_file);
    for (const auto& b : extent_tree_blocks(image, k_frag_file))
        if (b.leaf == leaf)
            return {
                b.block, offset, {at("extent_block", {}, ino, b.block, "bad extent header: ")}, {}};
    throw std::runtime_error(std::string("no extent ") + (leaf ? "leaf" : "index") + " block");
}
// eh_magic (0xF30A, little-endian at 0): its high byte.
Target extent_leaf_magic(const fs::path& image, const FsLayout&) {
    return extent_block(image, true, 1);
}
// eh_entries (at 2), low byte: 339 entries become 428, past eh_max (340).
Target extent_leaf_entries(const fs::path& image, const FsLayout&) {
    return extent_block(image, true, 2);
}
// The index block's eh_magic, low byte.
Target extent_index_magic(const fs::path& image, const FsLayout&) {
    return extent_block(image, false, 0);
}
Target extent_index(const fs::path& image, const FsLayout&) {
    return extent_block(image, false, 0);
}
Target extent_leaf(const fs::path& image, const FsLayout&) {
    return extent_block(image, true, 0);
}

// /sub's only block; "."'s rec_len (12, at offset 4) low byte: 243, neither
// 4-aligned nor reaching a valid next entry.
Target directory_rec_len(const fs::path& image, const FsLayout&) {
    const std::uint32_t ino = inode_of(image, k_small_dir);
    const std::uint64_t b = bmap(image, k_small_dir, 0);
    return {b, 4, {at("directory_block", {}, ino, b, "entry at offset 0: bad rec_len")}, {}};
}
Target directory_block(const fs::path& image, const FsLayout& l) {
    Target t = directory_rec_len(image, l);
    t.offset = 0;
    t.expected[0].detail = "entry at offset 0: ";
    return t;
}

// dx_root's dx_countlimit.limit (le16 at 0x20), low byte: 508 becomes 259.
Target htree_limit(const fs::path& image, const FsLayout&) {
    const std::uint32_t ino = inode_of(image, k_htree_dir);
    const std::uint64_t b = bmap(image, k_htree_dir, 0);
    return {b, 0x20, {at("htree_block", {}, ino, b, "bad dx ")}, {}};
}

// i_mode's high byte: S_IFREG 0o100644 becomes 0o077244, no file type at all.
Target inode_mode(const fs::path& image, const FsLayout&) {
    const std::uint32_t ino = inode_of(image, k_far_file);
    const InodeLocation loc = imap(image, ino);
    const std::string dir = "directory_block inode=" + std::to_string(inode_of(image, k_htree_dir));
    // /big's entry says "regular file", the inode no longer does; a validator
    // that compares entry file types with inode modes reports /big's block too.
    return {loc.block, loc.offset + 1, {at("inode", loc.group, ino, loc.block, "bad mode")}, {dir}};
}

// A data block over the inode table block holding k_far_file: every in-use
// inode in it becomes garbage. Garbage inodes point anywhere, so findings
// about what they point to may follow (but no other inode may be named).
Target inode_table_block(const fs::path& image, const FsLayout& l) {
    const std::uint32_t ino = inode_of(image, k_far_file);
    const InodeLocation loc = imap(image, ino);
    Target t{
        loc.block,
        0,
        {},
        {"extent_block", "directory_block", "htree_block", "xattr_block", std::string(k_indirect)}};
    const std::uint32_t per_block = l.block_size / l.inode_size;
    const std::uint32_t first = ino - loc.offset / l.inode_size;
    for (std::uint32_t i = first; i < first + per_block; ++i)
        if (inode_in_use(image, i))
            t.expected.push_back(at("inode", (i - 1) / l.inodes_per_group, i, loc.block));
    return t;
}

// h_magic (0xEA020000, little-endian at 0): its high byte.
Target xattr_magic(const fs::path& image, const FsLayout&) {
    const std::uint32_t ino = inode_of(image, k_xattr_file);
    const auto b = xattr_block(image, k_xattr_file);
    if (!b)
        throw std::runtime_error("image has no xattr block");
    return {*b, 3, {at("xattr_block", {}, ino, *b, "bad xattr block header: magic")}, {}};
}
Target xattr_whole_block(const fs::path& image, const FsLayout& l) {
    Target t = xattr_magic(image, l);
    t.offset = 0;
    return t;
}

Target indirect(const fs::path& image, const std::string& file, int level, std::uint32_t offset) {
    const std::uint32_t ino = inode_of(image, file);
    for (const auto& b : indirect_blocks(image, file))
        if (b.level == level)
            return {b.block, offset, {at(k_indirect, {}, ino, b.block, "entry 0: block ")}, {}};
    throw std::runtime_error(file + " has no indirect block of level " + std::to_string(level));
}
// /data.bin's IND: its first pointer's high byte, far past the last block.
Target indirect_pointer(const fs::path& image, const FsLayout&) {
    return indirect(image, k_data_file, 1, 3);
}
// /frag.bin's DIND: its first pointer (to an IND) far past the last block.
Target double_indirect_pointer(const fs::path& image, const FsLayout&) {
    return indirect(image, k_frag_file, 2, 3);
}
Target indirect_block(const fs::path& image, const FsLayout&) {
    return indirect(image, k_frag_file, 1, 0);
}
Target double_indirect_block(const fs::path& image, const FsLayout&) {
    return indirect(image, k_frag_file, 2, 0);
}

const std::vector<DamageCase>& damage_cases() {
    using enum Damage;
    constexpr ImageKind u = ImageKind::ext4_uninit_bg;
    constexpr ImageKind e3 = ImageKind::ext3;
    static const std::vector<DamageCase> cases{
        // ext4, no metadata_csum, uninit_bg
        {"uninit_bg_journal_maxlen_byte", u, flip_byte, journal_maxlen},
        {"uninit_bg_journal_superblock_block", u, misdirected_write, journal_superblock},
        {"uninit_bg_descriptor_bitmap_location_byte", u, flip_byte,
         descriptor_bitmap_location_crc16},
        {"uninit_bg_extent_leaf_magic_byte", u, flip_byte, extent_leaf_magic},
        {"uninit_bg_extent_leaf_entries_byte", u, flip_byte, extent_leaf_entries},
        {"uninit_bg_extent_index_magic_byte", u, flip_byte, extent_index_magic},
        {"uninit_bg_extent_index_block", u, misdirected_write, extent_index},
        {"uninit_bg_extent_leaf_block", u, misdirected_write, extent_leaf},
        {"uninit_bg_directory_rec_len_byte", u, flip_byte, directory_rec_len},
        {"uninit_bg_directory_block", u, misdirected_write, directory_block},
        {"uninit_bg_htree_limit_byte", u, flip_byte, htree_limit},
        {"uninit_bg_inode_mode_byte", u, flip_byte, inode_mode},
        {"uninit_bg_inode_table_block", u, misdirected_write, inode_table_block},
        {"uninit_bg_xattr_magic_byte", u, flip_byte, xattr_magic},
        {"uninit_bg_xattr_block", u, misdirected_write, xattr_whole_block},
        // ext3
        {"ext3_journal_maxlen_byte", e3, flip_byte, journal_maxlen},
        {"ext3_journal_superblock_block", e3, misdirected_write, journal_superblock},
        {"ext3_descriptor_bitmap_location_byte", e3, flip_byte, descriptor_bitmap_location},
        {"ext3_directory_rec_len_byte", e3, flip_byte, directory_rec_len},
        {"ext3_directory_block", e3, misdirected_write, directory_block},
        {"ext3_htree_limit_byte", e3, flip_byte, htree_limit},
        {"ext3_inode_mode_byte", e3, flip_byte, inode_mode},
        {"ext3_inode_table_block", e3, misdirected_write, inode_table_block},
        {"ext3_xattr_magic_byte", e3, flip_byte, xattr_magic},
        {"ext3_xattr_block", e3, misdirected_write, xattr_whole_block},
        {"ext3_indirect_pointer_byte", e3, flip_byte, indirect_pointer},
        {"ext3_double_indirect_pointer_byte", e3, flip_byte, double_indirect_pointer},
        {"ext3_indirect_block", e3, misdirected_write, indirect_block},
        {"ext3_double_indirect_block", e3, misdirected_write, double_indirect_block},
        // metadata_csum, but the journal superblock carries no checksum
        // (mke2fs does not enable journal checksums): only structure shows it.
        {"csum_journal_maxlen_byte", ImageKind::full, flip_byte, journal_maxlen},
    };
    return cases;
}

// contract_key, plus the group of a `geometry` finding: here the geometry
// is a group descriptor's locations, and which group matters.
std::string key_of(const Finding& f) {
    std::string key = contract_key(f);
    if (f.structure == Structure::geometry)
        key += " group=" + (f.group ? std::to_string(*f.group) : std::string("-"));
    return key;
}

// nullopt when the engine's vocabulary has no such structure name.
std::optional<std::string> key_of(const Want& w) {
    const auto s = structure_from_string(w.structure);
    if (!s)
        return std::nullopt;
    return key_of(Finding{*s, w.group, w.inode, w.block, ""});
}

bool starts_with_any(const std::string& key, const std::vector<std::string>& prefixes) {
    for (const auto& p : prefixes)
        if (key.rfind(p, 0) == 0)
            return true;
    return false;
}

struct MatrixParam {
    const DamageCase* c;
    CheckMode mode;
};

void PrintTo(const MatrixParam& p, std::ostream* os) {
    *os << p.c->name << " (" << to_string(p.mode) << ")";
}

class StructuralDamage : public testing::TestWithParam<MatrixParam> {};

Result<ext4::ScanResult> scan_image(const fs::path& image, CheckMode mode) {
    ext4::ScanOptions o;
    o.path = image.string();
    o.mode = mode;
    return ext4::scan(o);
}

// Every structural rule judges a structure from its own bytes (and fixed
// geometry), so each case is found in live mode as well as in stable mode.
TEST_P(StructuralDamage, ReportsExactlyTheDamagedStructure) {
    const DamageCase& c = *GetParam().c;
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(c.image, image);
    const FsLayout layout = read_layout(image);
    const Target t = c.locate(image, layout);
    ASSERT_FALSE(t.expected.empty());

    if (c.damage == Damage::flip_byte)
        flip_byte(image, t.block, t.offset, layout.block_size);
    else
        copy_block(image, bmap(image, k_data_file, 0), t.block, layout.block_size);

    const FsckVerdict fsck = e2fsck_readonly(image);
    ASSERT_NE(fsck.exit_code, 0) << "e2fsck -fn finds nothing wrong: the case is not damage\n"
                                 << fsck.output;

    const auto r = scan_image(image, GetParam().mode);
    ASSERT_TRUE(r.ok()) << "scan failed: " << r.error().message;
    const auto& findings = r->report.findings;
    SCOPED_TRACE("damaged block " + std::to_string(t.block) + "; findings:\n" +
                 describe_all(findings) + "e2fsck -fn (exit " + std::to_string(fsck.exit_code) +
                 "):\n" + fsck.output.substr(0, 1500));

    std::set<std::string> want;
    for (const auto& w : t.expected) {
        const auto key = key_of(w);
        ASSERT_TRUE(key) << "the engine has no structure named \"" << w.structure << "\"";
        want.insert(*key);
        const auto found = std::find_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return key_of(f) == *key; });
        if (found == findings.end())
            ADD_FAILURE() << "missing: " << *key;
        else
            EXPECT_EQ(found->detail.rfind(w.detail, 0), 0u)
                << *key << ": detail should start with \"" << w.detail << "\"";
    }
    for (const auto& f : findings) {
        const std::string h = key_of(f);
        EXPECT_TRUE(want.count(h) || starts_with_any(h, t.may_also)) << "unexpected: " << h;
    }
}

std::vector<MatrixParam> matrix() {
    std::vector<MatrixParam> out;
    for (const auto& c : damage_cases())
        for (const CheckMode m : {CheckMode::live, CheckMode::stable})
            out.push_back({&c, m});
    return out;
}

INSTANTIATE_TEST_SUITE_P(NoChecksum, StructuralDamage, testing::ValuesIn(matrix()),
                         [](const testing::TestParamInfo<MatrixParam>& p) {
                             return p.param.c->name + "_" + std::string(to_string(p.param.mode));
                         });

// --- undamaged images -------------------------------------------------------

struct CleanParam {
    ImageKind image;
    CheckMode mode;
};

void PrintTo(const CleanParam& p, std::ostream* os) {
    *os << to_string(p.image) << " (" << to_string(p.mode) << ")";
}

class StructuralClean : public testing::TestWithParam<CleanParam> {};

TEST_P(StructuralClean, HasNoFindingsAndSaysWhatWasNotVerified) {
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(GetParam().image, image);
    ASSERT_EQ(e2fsck_readonly(image).exit_code, 0) << e2fsck_readonly(image).output;
    const auto r = scan_image(image, GetParam().mode);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->report.findings.empty()) << describe_all(r->report.findings);
    EXPECT_FALSE(r->report.metadata_csum);
    // The structural rules read every in-use inode (3000+ in /big alone).
    EXPECT_GT(r->report.stats.inodes_checked, 3000u) << "the engine skipped the inode tables";
    // No checksums: the report must say what that leaves unverified.
    EXPECT_FALSE(r->report.not_verified.empty());
}

std::vector<CleanParam> clean_matrix() {
    std::vector<CleanParam> out;
    for (const ImageKind k : {ImageKind::ext4_uninit_bg, ImageKind::ext3})
        for (const CheckMode m : {CheckMode::live, CheckMode::stable})
            out.push_back({k, m});
    return out;
}

INSTANTIATE_TEST_SUITE_P(NoChecksum, StructuralClean, testing::ValuesIn(clean_matrix()),
                         [](const testing::TestParamInfo<CleanParam>& p) {
                             return to_string(p.param.image) + "_" +
                                    std::string(to_string(p.param.mode));
                         });

// --- the images really hold what the cases rely on --------------------------

std::string features(const fs::path& image) {
    const CommandResult r = run_command("dumpe2fs -h '" + image.string() + "' 2>/dev/null");
    const auto at = r.out.find("Filesystem features:");
    return at == std::string::npos ? "" : r.out.substr(at, r.out.find('\n', at) - at) + " ";
}

TEST(StructuralDamageImage, Ext4UninitBgIsDebian8Ext4) {
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(ImageKind::ext4_uninit_bg, image);
    const std::string f = features(image);
    EXPECT_NE(f.find(" uninit_bg "), std::string::npos) << f;
    EXPECT_NE(f.find(" extent "), std::string::npos) << f;
    EXPECT_EQ(f.find(" metadata_csum "), std::string::npos) << f;
    EXPECT_EQ(f.find(" 64bit "), std::string::npos) << f;
    EXPECT_GE(extent_tree_depth(image, k_frag_file), 2);
    EXPECT_TRUE(is_htree(image, k_htree_dir));
    EXPECT_TRUE(xattr_block(image, k_xattr_file).has_value());
    EXPECT_GT(imap(image, inode_of(image, k_far_file)).group, 0u);
    EXPECT_EQ(e2fsck_readonly(image).exit_code, 0);
}

TEST(StructuralDamageImage, Ext3HasIndirectMapsAndAJournal) {
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(ImageKind::ext3, image);
    const std::string f = features(image);
    EXPECT_NE(f.find(" has_journal "), std::string::npos) << f;
    EXPECT_EQ(f.find(" extent "), std::string::npos) << f;
    EXPECT_EQ(f.find(" uninit_bg "), std::string::npos) << f;
    const auto frag = indirect_blocks(image, k_frag_file);
    ASSERT_FALSE(frag.empty());
    EXPECT_EQ(frag.front().level, 1);
    EXPECT_TRUE(std::any_of(frag.begin(), frag.end(), [](auto& b) { return b.level == 2; }));
    EXPECT_EQ(indirect_blocks(image, k_data_file).size(), 1u);
    EXPECT_TRUE(is_htree(image, k_htree_dir));
    EXPECT_TRUE(xattr_block(image, k_xattr_file).has_value());
    EXPECT_GT(imap(image, inode_of(image, k_far_file)).group, 0u);
    EXPECT_EQ(e2fsck_readonly(image).exit_code, 0);
}

} // namespace
} // namespace guardian::test
