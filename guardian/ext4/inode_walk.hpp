// Inodes and what they reference: verifies each inode of an inode-table
// block, then the extent tree blocks (level by level), directory and htree
// blocks, and xattr blocks reachable from in-use inodes. References are
// queued while inode tables stream by and read in sorted, coalesced batches.
#pragma once

#include "guardian/ext4/scan_context.hpp"

#include <cstdint>
#include <unordered_set>
#include <vector>

namespace guardian::ext4 {

class InodeWalker {
public:
    explicit InodeWalker(ScanContext& ctx) : m_ctx(ctx) {}

    // One inode-table block of `group`, holding inodes from `first_ino`.
    void inode_block(std::uint32_t group, std::uint64_t block, Bytes data, std::uint32_t first_ino);
    // Reads and verifies everything queued so far (and what that reveals).
    [[nodiscard]] Status drain();

private:
    struct Owner {
        std::uint32_t ino = 0;
        std::uint32_t seed = 0; // per-inode checksum seed
        std::uint64_t size_blocks = 0;
        bool dir = false;
        bool htree = false;
    };
    struct TreeRef {
        std::uint64_t block;
        std::uint16_t depth;
        Owner owner;
        Span via;
    };
    struct DirRef {
        std::uint64_t block;
        std::uint64_t logical;
        Owner owner;
        Span via;
    };
    struct XattrRef {
        std::uint64_t block;
        std::uint32_t ino;
        Span via;
    };

    // Entries of an extent node (in an inode's i_block or an extent block).
    void extent_entries(Bytes node, std::uint16_t depth, const Owner& owner, const Span& via);
    [[nodiscard]] Status read_trees();
    [[nodiscard]] Status read_dirs();
    [[nodiscard]] Status read_xattrs();
    void check_tree_block(const TreeRef& ref, Bytes data);
    void check_dir_block(const DirRef& ref, Bytes data);
    void check_xattr_block(const XattrRef& ref, Bytes data);
    void suspect(Structure s, std::uint32_t ino, const Span& at, std::optional<Span> via,
                 std::string detail);
    void record(Structure s, std::uint64_t block, Bytes data);
    [[nodiscard]] bool first_visit(std::uint64_t block);

    ScanContext& m_ctx;
    std::vector<TreeRef> m_trees;
    std::vector<DirRef> m_dirs;
    std::vector<XattrRef> m_xattrs;
    // Every extent/dir/xattr block is read once: guards against loops and
    // cross-links in damaged trees, and bounds the work.
    std::unordered_set<std::uint64_t> m_visited;
    std::unordered_set<std::uint64_t> m_xattr_seen;
};

} // namespace guardian::ext4
