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
#include "tests/integration/damage_matrix.hpp"
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

enum class Damage { flip_byte, set_byte, set_bytes, misdirected_write };

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
    std::uint8_t value = 0;            // for set_byte
    std::vector<std::uint8_t> bytes{}; // for set_bytes, from `offset` on
};

struct DamageCase {
    std::string name;
    ImageKind image;
    Damage damage;
    std::function<Target(const fs::path&, const FsLayout&)> locate;
    // A rule that can race with legitimate concurrent changes runs in
    // stable mode only: in live mode its finding must not appear.
    bool stable_only = false;
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

// Another byte of the block an existing case damages, with its finding.
Target same_block(Target t, std::uint32_t offset, std::string detail, std::uint8_t value = 0) {
    t.offset = offset;
    t.value = value;
    t.expected[0].detail = std::move(detail);
    return t;
}

// dx_root_info (after '.' and '..', at 0x18): hash_version at 0x1C (1,
// half_md4, becomes 254) and indirect_levels at 0x1E (0 becomes 255).
Target htree_hash_version(const fs::path& image, const FsLayout& l) {
    return same_block(htree_limit(image, l), 0x1C, "bad dx_root: hash version 254 unknown");
}
Target htree_indirect_levels(const fs::path& image, const FsLayout& l) {
    return same_block(htree_limit(image, l), 0x1E, "bad dx_root: indirect levels 255");
}

// /sub's block: "a.txt" (the third entry, at 24; its name at 32) becomes
// "/.txt"; e2fsck pass 2: "has illegal characters in its name".
Target directory_name_slash(const fs::path& image, const FsLayout& l) {
    return same_block(directory_rec_len(image, l), 32,
                      "entry at offset 24: name contains '/' or NUL", '/');
}

// "a.txt"'s file type (at 24 + 7): 1, a regular file. Set to 2 it claims a
// directory (e2fsck pass 2: "Setting filetype for entry 'a.txt' ... to 1");
// flipped it is 254, no file type at all ("has an incorrect filetype").
// Judging an entry against its inode is stable-only.
Target directory_file_type_wrong(const fs::path& image, const FsLayout& l) {
    return same_block(directory_rec_len(image, l), 31,
                      "entry at offset 24: file type 2 but inode " +
                          std::to_string(inode_of(image, k_xattr_file)) + " is a regular file",
                      2);
}
Target directory_file_type_unknown(const fs::path& image, const FsLayout& l) {
    return same_block(directory_rec_len(image, l), 31, "entry at offset 24: file type 254 unknown");
}
// "a.txt"'s inode number (le32 at 24), low byte set to name an inode past
// the last one in use (3016 becomes 3024 on these images). e2fsck pass 2:
// "has deleted/unused inode". ext3 only: with uninit_bg that part of the
// inode table is never initialised, so the scan does not read it.
Target directory_unused_inode(const fs::path& image, const FsLayout& l) {
    const std::uint32_t target = (inode_of(image, k_xattr_file) & ~0xFFu) | 0xD0u;
    if (inode_in_use(image, target))
        throw std::runtime_error("inode " + std::to_string(target) + " is in use");
    return same_block(directory_rec_len(image, l), 24,
                      "entry at offset 24: inode " + std::to_string(target) + " is not in use",
                      0xD0);
}

// /sub's inode: i_size 4096 (one block). Its third byte set: 16715776, a
// whole number of blocks but far more than the one it maps; its second
// byte cleared: 0, less than it maps. e2fsck: "i_size is ..., should be 4096".
Target dir_size(const fs::path& image, std::uint32_t byte, const char* detail) {
    const std::uint32_t ino = inode_of(image, k_small_dir);
    const InodeLocation loc = imap(image, ino);
    return {loc.block, loc.offset + 4 + byte, {at("inode", loc.group, ino, loc.block, detail)}, {}};
}
Target dir_size_larger(const fs::path& image, const FsLayout&) {
    return dir_size(image, 2, "directory i_size 16715776 is larger than its mapped blocks");
}
Target dir_size_smaller(const fs::path& image, const FsLayout&) {
    Target t = dir_size(image, 1, "directory i_size 0 is smaller than its mapped blocks");
    t.value = 0;
    return t;
}

// /frag.bin's second leaf covers [678, 1356) (its index entry's key to the
// next key). Its first extent's ee_block (le32 at 12): the low byte flipped
// puts it below the key (601), the high byte far past the next key.
Target extent_leaf_range(const fs::path& image, std::uint32_t offset) {
    const std::uint32_t ino = inode_of(image, k_frag_file);
    int leaves = 0;
    for (const auto& b : extent_tree_blocks(image, k_frag_file))
        if (b.leaf && ++leaves == 2)
            return {b.block,
                    offset,
                    {at("extent_block", {}, ino, b.block, "extent 0: logical block ")},
                    {}};
    throw std::runtime_error("no second extent leaf");
}
Target extent_leaf_below_index(const fs::path& image, const FsLayout&) {
    return extent_leaf_range(image, 12);
}
Target extent_leaf_beyond_index(const fs::path& image, const FsLayout&) {
    return extent_leaf_range(image, 15);
}

// /sub/a.txt's xattr block: one entry at 32 ("user.big", 3000 bytes at
// 1096). e_value_inum (le32 at 36) low byte: 255, without ea_inode; the
// high byte of e_value_offs (le16 at 34): the value starts past the block.
Target xattr_entry(const fs::path& image, std::uint32_t offset, const char* detail) {
    const std::uint32_t ino = inode_of(image, k_xattr_file);
    const auto b = xattr_block(image, k_xattr_file);
    if (!b)
        throw std::runtime_error("image has no xattr block");
    return {*b, offset, {at("xattr_block", {}, ino, *b, detail)}, {}};
}
Target xattr_value_inum(const fs::path& image, const FsLayout&) {
    return xattr_entry(image, 36, "entry 0: e_value_inum 255 set without the ea_inode feature");
}
Target xattr_value_offset(const fs::path& image, const FsLayout&) {
    return xattr_entry(image, 35, "entry 0: value [64328, 67328) outside the block");
}

// --- what only the whole walk shows (stable mode: link_ledger.hpp) ---------

// One field of an inode (its byte `field` on, within the inode) set to
// `bytes`; the finding names that inode in its inode table block.
Target inode_field(const fs::path& image, const std::string& file, std::uint32_t field,
                   std::vector<std::uint8_t> bytes, std::string detail) {
    const std::uint32_t ino = inode_of(image, file);
    const InodeLocation loc = imap(image, ino);
    Target t{loc.block,
             loc.offset + field,
             {at("inode", loc.group, ino, loc.block, std::move(detail))},
             {}};
    t.bytes = std::move(bytes);
    return t;
}

// i_links_count (le16 at 0x1A). a.txt has one name: 2 is one too many
// (e2fsck pass 4: "ref count is 2, should be 1"). /sub has two ("sub" in /
// and its own "."): 7 is five too many.
Target file_link_count(const fs::path& image, const FsLayout&) {
    return inode_field(image, k_xattr_file, 0x1A, {2},
                       "link count 2 but 1 directory entry names it");
}
Target dir_link_count(const fs::path& image, const FsLayout&) {
    return inode_field(image, k_small_dir, 0x1A, {7},
                       "link count 7 but 2 directory entries name it");
}
// a.txt's entry in /sub (its inode number, le32 at 24) cleared: the entry
// is deleted, the inode keeps its link. e2fsck pass 4: "Unattached inode".
Target unattached_inode(const fs::path& image, const FsLayout&) {
    const std::uint32_t ino = inode_of(image, k_xattr_file);
    const InodeLocation loc = imap(image, ino);
    Target t{bmap(image, k_small_dir, 0),
             24,
             {at("inode", loc.group, ino, loc.block,
                 "link count 1 but no directory entry names it (unattached)")},
             {}};
    t.bytes = {0, 0, 0, 0};
    return t;
}
// a.txt's link count 0 with i_dtime 0, on no orphan list: e2fsck pass 1
// "Deleted inode has zero dtime", pass 2 "has deleted/unused inode".
Target zero_dtime(const fs::path& image, const FsLayout&) {
    Target t = inode_field(image, k_xattr_file, 0x1A, {0},
                           "link count 0 (deleted) but dtime 0, and not on the orphan list");
    const std::uint32_t ino = inode_of(image, k_xattr_file);
    const std::uint64_t b = bmap(image, k_small_dir, 0);
    t.expected.push_back(at("directory_block", {}, inode_of(image, k_small_dir), b,
                            "entry at offset 24: inode " + std::to_string(ino) + " is not in use"));
    return t;
}
// a.txt's i_dtime (le32 at 0x14), top byte: 0x50000000, a deletion time on
// an inode in use. e2fsck pass 1: "is in use, but has dtime set".
Target dtime_set(const fs::path& image, const FsLayout&) {
    return inode_field(
        image, k_xattr_file, 0x17, {0x50},
        "in use (link count 1) but dtime 1342177280 set, and not on the orphan list");
}
// i_size (le32 at 4) cleared on a file with data: e2fsck pass 1 "i_size is
// 0, should be ...". /data.bin's map is in its inode on ext4 (one extent)
// and reaches an indirect block on ext3; /frag.bin's is an extent tree of
// depth 2 on ext4 and reaches a double indirect block on ext3: the last
// block with data is learnt only from those blocks.
Target file_size_short(const fs::path& image, const FsLayout&) {
    return inode_field(image, k_data_file, 4, {0, 0, 0, 0}, "i_size 0 ends before logical block ");
}
Target fragmented_file_size_short(const fs::path& image, const FsLayout&) {
    return inode_field(image, k_frag_file, 4, {0, 0, 0, 0}, "i_size 0 ends before logical block ");
}

// The whole-walk cases (stable mode only), the same on both kinds.
void add_ledger_cases(std::vector<DamageCase>& cases, const std::string& prefix, ImageKind kind) {
    const std::pair<const char*, Target (*)(const fs::path&, const FsLayout&)> ledger[] = {
        {"file_link_count", file_link_count},
        {"dir_link_count", dir_link_count},
        {"unattached_inode", unattached_inode},
        {"zero_dtime", zero_dtime},
        {"dtime_set", dtime_set},
        {"file_size_short", file_size_short},
        {"fragmented_file_size_short", fragmented_file_size_short},
    };
    for (const auto& [name, locate] : ledger)
        cases.push_back({prefix + "_" + name, kind, Damage::set_bytes, locate, true});
}

const std::vector<DamageCase>& damage_cases() {
    using enum Damage;
    constexpr ImageKind u = ImageKind::ext4_uninit_bg;
    constexpr ImageKind e3 = ImageKind::ext3;
    static const std::vector<DamageCase> cases = [] {
        std::vector<DamageCase> v{
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
            {"uninit_bg_htree_hash_version_byte", u, flip_byte, htree_hash_version},
            {"uninit_bg_htree_indirect_levels_byte", u, flip_byte, htree_indirect_levels},
            {"uninit_bg_directory_name_slash", u, set_byte, directory_name_slash},
            {"uninit_bg_directory_file_type_wrong", u, set_byte, directory_file_type_wrong, true},
            {"uninit_bg_directory_file_type_unknown_byte", u, flip_byte,
             directory_file_type_unknown},
            {"uninit_bg_dir_size_larger_byte", u, flip_byte, dir_size_larger},
            {"uninit_bg_dir_size_smaller_byte", u, set_byte, dir_size_smaller},
            {"uninit_bg_extent_leaf_below_index_byte", u, flip_byte, extent_leaf_below_index},
            {"uninit_bg_extent_leaf_beyond_index_byte", u, flip_byte, extent_leaf_beyond_index},
            {"uninit_bg_xattr_value_inum_byte", u, flip_byte, xattr_value_inum},
            {"uninit_bg_xattr_value_offset_byte", u, flip_byte, xattr_value_offset},
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
            {"ext3_htree_hash_version_byte", e3, flip_byte, htree_hash_version},
            {"ext3_htree_indirect_levels_byte", e3, flip_byte, htree_indirect_levels},
            {"ext3_directory_name_slash", e3, set_byte, directory_name_slash},
            {"ext3_directory_file_type_wrong", e3, set_byte, directory_file_type_wrong, true},
            {"ext3_directory_file_type_unknown_byte", e3, flip_byte, directory_file_type_unknown},
            {"ext3_directory_unused_inode", e3, set_byte, directory_unused_inode, true},
            {"ext3_dir_size_larger_byte", e3, flip_byte, dir_size_larger},
            {"ext3_dir_size_smaller_byte", e3, set_byte, dir_size_smaller},
            {"ext3_xattr_value_inum_byte", e3, flip_byte, xattr_value_inum},
            {"ext3_xattr_value_offset_byte", e3, flip_byte, xattr_value_offset},
            // metadata_csum, but the journal superblock carries no checksum
            // (mke2fs does not enable journal checksums): only structure shows it.
            {"csum_journal_maxlen_byte", ImageKind::full, flip_byte, journal_maxlen},
        };
        add_ledger_cases(v, "uninit_bg", u);
        add_ledger_cases(v, "ext3", e3);
        return v;
    }();
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

using Param = MatrixParam<DamageCase>;

class StructuralDamage : public testing::TestWithParam<Param> {};

// Every structural rule that judges a structure from its own bytes (and
// fixed geometry) finds its case in live mode as well as in stable mode;
// the stable-only ones must stay silent in live mode.
TEST_P(StructuralDamage, ReportsExactlyTheDamagedStructure) {
    const DamageCase& c = *GetParam().c;
    TempDir dir;
    const fs::path image = dir.path() / "image";
    copy_image(c.image, image);
    const FsLayout layout = read_layout(image);
    const Target t = c.locate(image, layout);
    ASSERT_FALSE(t.expected.empty());

    if (c.damage == Damage::flip_byte) {
        flip_byte(image, t.block, t.offset, layout.block_size);
    } else if (c.damage == Damage::set_byte || c.damage == Damage::set_bytes) {
        auto bytes = read_block(image, t.block, layout.block_size);
        if (c.damage == Damage::set_byte)
            bytes.at(t.offset) = static_cast<char>(t.value);
        for (std::size_t i = 0; i < t.bytes.size(); ++i)
            bytes.at(t.offset + i) = static_cast<char>(t.bytes[i]);
        write_block(image, t.block, bytes);
    } else {
        copy_block(image, bmap(image, k_data_file, 0), t.block, layout.block_size);
    }

    const FsckVerdict fsck = e2fsck_readonly(image);
    ASSERT_NE(fsck.exit_code, 0) << "e2fsck -fn finds nothing wrong: the case is not damage\n"
                                 << fsck.output;

    const auto r = scan_image(image, GetParam().mode);
    ASSERT_TRUE(r.ok()) << "scan failed: " << r.error().message;
    const auto& findings = r->report.findings;
    SCOPED_TRACE("damaged block " + std::to_string(t.block) + "; findings:\n" +
                 describe_all(findings) + "e2fsck -fn (exit " + std::to_string(fsck.exit_code) +
                 "):\n" + fsck.output.substr(0, 1500));

    if (c.stable_only && GetParam().mode == CheckMode::live) {
        for (const auto& f : findings)
            EXPECT_TRUE(starts_with_any(key_of(f), t.may_also))
                << "unexpected in live mode (the rule is stable-only): " << key_of(f);
        return;
    }
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

INSTANTIATE_TEST_SUITE_P(NoChecksum, StructuralDamage, testing::ValuesIn(matrix(damage_cases())),
                         matrix_name<DamageCase>);

// --- undamaged images -------------------------------------------------------

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

INSTANTIATE_TEST_SUITE_P(
    NoChecksum, StructuralClean,
    testing::ValuesIn(clean_matrix({ImageKind::ext4_uninit_bg, ImageKind::ext3})), clean_name);

// --- a stable-only rule e2fsck -fn reports without failing ---------------

// jbd2 s_start (big-endian u32 at 0x1C), low byte: 0 becomes 255 on a clean
// filesystem (needs_recovery clear). e2fsck -fn prints "Superblock
// needs_recovery flag is clear, but journal has data" and, answering no to
// running or clearing the journal, exits 0; the kernel's mount would wipe the
// log. So it is not in the matrix (whose cases must make e2fsck fail), but it
// is reported in stable mode. Live mode walks the log from s_start (a mounted
// filesystem always has the flag set) and may report the block there.
TEST(StructuralStableOnly, JournalStartWithoutNeedsRecovery) {
    for (const ImageKind kind : {ImageKind::ext4_uninit_bg, ImageKind::ext3, ImageKind::full}) {
        SCOPED_TRACE(to_string(kind));
        TempDir dir;
        const fs::path image = dir.path() / "image";
        copy_image(kind, image);
        const std::uint64_t b = journal_superblock_block(image);
        flip_byte(image, b, 0x1F);
        const FsckVerdict fsck = e2fsck_readonly(image);
        EXPECT_NE(fsck.output.find("needs_recovery flag is clear, but journal has data"),
                  std::string::npos)
            << fsck.output;
        const auto stable = scan_image(image, CheckMode::stable);
        ASSERT_TRUE(stable.ok()) << stable.error().message;
        ASSERT_EQ(stable->report.findings.size(), 1u) << describe_all(stable->report.findings);
        const Finding& f = stable->report.findings[0];
        EXPECT_EQ(contract_key(f), "journal_superblock block=" + std::to_string(b));
        EXPECT_EQ(f.detail, "s_start 255 but the filesystem's needs_recovery flag is clear");
        const auto live = scan_image(image, CheckMode::live);
        ASSERT_TRUE(live.ok()) << live.error().message;
        for (const auto& g : live->report.findings)
            EXPECT_EQ(g.structure, Structure::journal_block) << describe(g);
    }
}

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
