// Inodes and what they reference: verifies each inode of an inode-table
// block, then the extent tree blocks (level by level), directory and htree
// blocks, and xattr blocks reachable from in-use inodes. References are
// queued while inode tables stream by and read in sorted, coalesced batches.
#pragma once

#include "guardian/ext4/block_set.hpp"
#include "guardian/ext4/dir_rules.hpp"
#include "guardian/ext4/entry_rules.hpp"
#include "guardian/ext4/htree_index.hpp"
#include "guardian/ext4/link_ledger.hpp"
#include "guardian/ext4/scan_context.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_set>
#include <vector>

namespace guardian::ext4 {

class InodeWalker {
public:
    explicit InodeWalker(ScanContext& ctx);
    // Batches still in flight are withdrawn by ~ReadBatch.
    ~InodeWalker() = default;
    InodeWalker(const InodeWalker&) = delete;
    InodeWalker& operator=(const InodeWalker&) = delete;

    struct Owner {
        std::uint32_t ino = 0;
        std::uint32_t seed = 0; // per-inode checksum seed
        std::uint64_t size_blocks = 0;
        bool dir = false;
        bool htree = false;
        bool encrypted = false;      // names are ciphertext
        bool hash_in_dirent = false; // encrypted and casefolded: siphash
        bool casefold = false;
        bool track_size = false; // a regular file whose map the ledger awaits
    };
    enum class Map : std::uint8_t { none, extents, block_mapped_dir, block_mapped };
    // An in-use inode whose checksum holds: what it references is followed.
    struct LiveInode {
        Owner owner;
        Span here;
        std::uint64_t acl = 0;
        std::uint32_t offset = 0; // within its inode-table block
        Map map = Map::none;
        bool follow = false;           // references to read (else only claims)
        bool direct = false;           // block-mapped: i_block[0..14] are block numbers
        std::uint64_t resize_dind = 0; // the resize inode's double-indirect block
    };
    // What one inode-table block yields on its own. verify_block() touches no
    // state but the superblock, so blocks of a chunk can be verified on two
    // threads; apply() then takes the results in block order on one thread,
    // so findings and digests never depend on thread timing.
    // A regular file's size against the part of its map its inode holds
    // (stable mode): judged at once when `complete`, else awaits its blocks.
    struct SizeFact {
        std::uint32_t ino;
        std::uint64_t size;
        std::int64_t last_data;
        bool complete;
        Span here;
    };
    struct BlockResult {
        std::uint32_t first_ino = 0; // the block's inodes (staged_types)
        std::uint32_t inodes = 0;
        std::uint64_t checked = 0;
        std::vector<Suspect> suspects;
        std::vector<LiveInode> live;
        // Stable mode only (the ledger's): the rare inodes worth noting.
        std::vector<LinkLedger::DtimeFacts> dtimes;
        std::vector<SizeFact> sizes;
        std::vector<std::string> entries_incomplete;
        bool skipped = false;      // an in-use inode whose map was not followed
        bool maybe_orphan = false; // links 0 with a mode and no dtime
    };
    [[nodiscard]] BlockResult verify_block(std::uint64_t block, Bytes data,
                                           std::uint32_t first_ino) const;
    void apply(BlockResult& result, Bytes data);
    // verify_block's parts: one inode; the bad blocks list (stable mode);
    // an in-use inode whose rules held, whose references are followed.
    void verify_inode(std::uint64_t block, Bytes data, std::size_t off, std::uint32_t ino,
                      BlockResult& r) const;
    void bad_blocks_inode(std::uint64_t block, Bytes data, std::size_t off, BlockResult& r) const;
    // `seed`: the inode's checksum seed (metadata_csum), for its blocks.
    void follow_inode(std::uint64_t block, Bytes data, std::size_t off, std::uint32_t ino,
                      std::uint32_t seed, BlockResult& r) const;
    // verify_block + apply: one inode-table block holding inodes from `first_ino`.
    void inode_block(std::uint64_t block, Bytes data, std::uint32_t first_ino);
    // Starts reading what is queued and verifies the batches that were
    // already in flight, so the reads of one chunk's references overlap the
    // verification of the next chunk's inodes.
    [[nodiscard]] Status pump();
    // Reads and verifies everything queued so far (and what that reveals).
    [[nodiscard]] Status drain();
    // After drain(): judges the directory entries whose inode was read after
    // their directory block (stable mode, inode_types), then what the ledger
    // gathered (stable mode: link counts, dtimes, file sizes).
    void finish();

private:
    struct TreeRef {
        std::uint64_t block;
        std::uint16_t depth;
        Owner owner;
        Span via;
        LogicalRange range; // what the parent index entry gives this node
    };
    struct DirRef {
        std::uint64_t block;
        std::uint64_t logical;
        Owner owner;
        Span via;
    };
    // A single (level 1), double (2) or triple (3) indirect block.
    struct IndirectRef {
        std::uint64_t block;
        std::uint8_t level;
        std::uint32_t ino;
        Span via;
        std::uint64_t base; // the logical block its first pointer maps (level 1)
    };
    struct XattrRef {
        std::uint64_t block;
        std::uint32_t ino;
        Span via;
    };

    // Entries of an extent node (in an inode's i_block or an extent block).
    // `from`: the inode (its i_block) or an extent block, for ownership.
    void extent_entries(Bytes node, std::uint16_t depth, const Owner& owner, const Span& via,
                        LogicalRange range, Structure from);
    // Stable mode: the blocks an inode's own i_block names (block-mapped).
    void claim_direct(const LiveInode& live, Bytes iblock);
    void claim(std::uint64_t first, std::uint64_t count, std::uint32_t ino, Structure via);
    // References read together; checked in the order they were queued.
    struct InFlight {
        std::unique_ptr<ReadBatch> batch;
        std::vector<TreeRef> trees;
        std::vector<DirRef> dirs;
        std::vector<XattrRef> xattrs;
        std::vector<IndirectRef> indirects;
    };
    [[nodiscard]] Status submit();
    // References queued and not yet submitted.
    [[nodiscard]] bool queued() const {
        return !m_trees.empty() || !m_dirs.empty() || !m_xattrs.empty() || !m_indirects.empty();
    }
    [[nodiscard]] Status complete_oldest();
    void check_tree_block(const TreeRef& ref, Bytes data);
    void check_dir_block(const DirRef& ref, Bytes data);
    void check_dx_node(const DirRef& ref, Bytes data, std::size_t count_offset);
    void check_dir_leaf(const DirRef& ref, Bytes data);
    void check_xattr_block(const XattrRef& ref, Bytes data);
    void check_indirect_block(const IndirectRef& ref, Bytes data);
    // A directory entry naming an inode (stable mode): judged when its
    // directory block is checked if the inode was read already, else in
    // finish(). One finding per directory block.
    struct EntryRef {
        std::uint64_t block;
        std::uint32_t dir;
        std::uint32_t offset;
        std::uint32_t target;
        std::uint8_t type;
    };
    void check_entry_target(const EntryRef& e);
    void suspect(Structure s, std::uint32_t ino, const Span& at, std::optional<Span> via,
                 std::string detail);
    [[nodiscard]] Suspect make_suspect(Structure s, std::uint32_t ino, const Span& at,
                                       std::optional<Span> via, std::string detail) const;
    void record(Structure s, std::uint64_t block, Bytes data);
    [[nodiscard]] bool first_visit(std::uint64_t block);

    ScanContext& m_ctx;
    std::deque<TreeRef> m_trees;
    std::deque<DirRef> m_dirs;
    std::deque<XattrRef> m_xattrs;
    std::deque<IndirectRef> m_indirects;
    // Every extent/dir/xattr block is read once: guards against loops and
    // cross-links in damaged trees, and bounds the work.
    BlockSet m_visited;
    BlockSet m_xattr_seen;
    std::deque<InFlight> m_in_flight;
    std::vector<EntryRef> m_later_entries;
    std::unordered_set<std::uint64_t> m_flagged_dirs; // one finding per directory block
    std::unique_ptr<LinkLedger> m_ledger;             // stable mode only
    std::unique_ptr<HtreeIndex> m_htree;              // stable mode only
    std::vector<NamedEntry> m_leaf_names;             // scratch: one leaf's names (stable)
};

} // namespace guardian::ext4
