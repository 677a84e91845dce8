// Where an image's metadata lives, found independently of guardian's engine
// by asking e2fsprogs (dumpe2fs, debugfs), plus the damage the tests do to
// it. A test that asserts "the engine names block B" gets B from here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace guardian::test {

struct GroupLayout {
    std::uint64_t block_bitmap = 0;
    std::uint64_t inode_bitmap = 0;
    std::uint64_t inode_table = 0; // first block
    std::uint64_t inode_table_blocks = 0;
    bool block_uninit = false;
    bool inode_uninit = false;
};

struct FsLayout {
    std::uint32_t block_size = 0;
    std::uint32_t blocks_per_group = 0;
    std::uint32_t inodes_per_group = 0;
    std::uint32_t inode_size = 0;
    std::uint32_t desc_size = 32;
    std::uint64_t block_count = 0;
    std::vector<GroupLayout> groups;
};

// Parses `dumpe2fs`. Throws std::runtime_error when it fails.
[[nodiscard]] FsLayout read_layout(const std::filesystem::path& image);

// Output of `debugfs -R "<command>" image` (stdout only). Throws on failure.
[[nodiscard]] std::string debugfs(const std::filesystem::path& image, const std::string& command);

// `path` is a path inside the fs or "<ino>".
[[nodiscard]] std::uint32_t inode_of(const std::filesystem::path& image, const std::string& path);
[[nodiscard]] std::uint64_t bmap(const std::filesystem::path& image, const std::string& path,
                                 std::uint64_t logical);
// Every block of a file or directory (data or directory blocks; `blocks`).
[[nodiscard]] std::vector<std::uint64_t> file_blocks(const std::filesystem::path& image,
                                                     const std::string& path);

struct InodeLocation {
    std::uint32_t group = 0;  // owning group, (ino - 1) / inodes_per_group
    std::uint64_t block = 0;  // inode table block holding it
    std::uint32_t offset = 0; // byte offset of the inode in that block
};
[[nodiscard]] InodeLocation imap(const std::filesystem::path& image, std::uint32_t ino);

struct ExtentTreeBlock {
    int level = 0;     // 1 = child of the inode's root, ...
    bool leaf = false; // holds extents rather than index entries
    std::uint64_t block = 0;
};
// The extent tree blocks of a file (`ex` output), outside the inode itself.
[[nodiscard]] std::vector<ExtentTreeBlock> extent_tree_blocks(const std::filesystem::path& image,
                                                              const std::string& path);
// The block-map blocks of an ext2/ext3 file (`stat`'s "(IND):", "(DIND):",
// "(TIND):" entries), in the order debugfs lists them.
struct IndirectBlock {
    int level = 0; // 1 = IND, 2 = DIND, 3 = TIND
    std::uint64_t block = 0;
};
[[nodiscard]] std::vector<IndirectBlock> indirect_blocks(const std::filesystem::path& image,
                                                         const std::string& path);
[[nodiscard]] int extent_tree_depth(const std::filesystem::path& image, const std::string& path);
[[nodiscard]] bool is_htree(const std::filesystem::path& image, const std::string& dir);
// "File ACL:" of the inode; nullopt when there is no xattr block.
[[nodiscard]] std::optional<std::uint64_t> xattr_block(const std::filesystem::path& image,
                                                       const std::string& path);
[[nodiscard]] bool inode_in_use(const std::filesystem::path& image, std::uint32_t ino);

struct JournalLogBlock {
    std::string type;            // "descriptor block", "commit block", "revoke table"
    std::uint64_t log_block = 0; // block number inside the journal
    std::uint64_t block = 0;     // filesystem block
};
[[nodiscard]] std::uint64_t journal_superblock_block(const std::filesystem::path& image);
[[nodiscard]] std::vector<JournalLogBlock> journal_log(const std::filesystem::path& image);

// `e2fsck -fn image`: the independent judge of whether damage is real.
struct FsckVerdict {
    int exit_code = 0;
    std::string output; // stdout and stderr
};
[[nodiscard]] FsckVerdict e2fsck_readonly(const std::filesystem::path& image);

// Damage: read/flip/overwrite by filesystem block number (4 KiB blocks).
[[nodiscard]] std::vector<char> read_block(const std::filesystem::path& image, std::uint64_t block,
                                           std::uint32_t block_size = 4096);
void write_block(const std::filesystem::path& image, std::uint64_t block,
                 const std::vector<char>& bytes);
void flip_byte(const std::filesystem::path& image, std::uint64_t block, std::uint32_t offset,
               std::uint32_t block_size = 4096);
// A misdirected write: block `to` gets the bytes of block `from`.
void copy_block(const std::filesystem::path& image, std::uint64_t from, std::uint64_t to,
                std::uint32_t block_size = 4096);

// Byte ranges that differ between two images of equal size, per block:
// block -> byte offsets (within the block) that changed.
[[nodiscard]] std::map<std::uint64_t, std::vector<std::uint32_t>>
changed_bytes(const std::filesystem::path& before, const std::filesystem::path& after,
              std::uint32_t block_size = 4096);

} // namespace guardian::test
