// Block ownership for a stable-mode scan (e2fsck passes 1, 1b and 5): every
// block the walk finds in use is claimed once, by the fixed metadata, a
// file's map (extents, extent tree, indirect blocks) or an xattr block; a
// second claim is a cross-link. After the walk the claims are compared with
// the on-disk block bitmaps, and the inodes in use with the inode bitmaps.
//
// Memory stays small: one bit per block (pages allocated where claims land),
// a log of the files' claims (16 bytes an extent, searched only to name the
// first owner of a doubly claimed block) and the double claims themselves.
// On a mounted filesystem none of this holds (allocations and bitmap updates
// land at different moments), so only stable mode keeps it.
#pragma once

#include "guardian/core/findings.hpp"
#include "guardian/ext4/fixed_metadata.hpp"
#include "guardian/ext4/scan_context.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace guardian::ext4 {

// Who claims a block: an inode (through which structure) or, with ino 0,
// the fixed metadata.
struct Claimant {
    std::uint32_t ino = 0;
    Structure via = Structure::inode;
};

class BlockOwners {
public:
    explicit BlockOwners(const SuperInfo& sb);

    // Claims [first, first + count); blocks outside the filesystem are left
    // to the structural rules. Blocks already claimed are double claims.
    void claim(std::uint64_t first, std::uint64_t count, Claimant who);
    // The fixed metadata (collisions among it are the geometry check's).
    void claim_fixed(std::uint64_t first, std::uint64_t count);
    // A descriptor's bitmap or inode table whose place breaks the layout of
    // its neighbours: claimed first, so a file claiming the same blocks
    // names the descriptor as the damaged side.
    struct Displaced {
        MetaExtent extent;
        std::uint64_t expected = 0; // where the neighbours put it
    };
    void claim_displaced(const Displaced& d);
    [[nodiscard]] bool claimed(std::uint64_t block) const;
    // Bit i: claimed(first + i), for i < 64 (blocks past the end: 0).
    [[nodiscard]] std::uint64_t claimed_word(std::uint64_t first) const;

    // Inodes as the walk saw them (written from both inode-table threads,
    // each to its own inodes' bytes).
    enum : std::uint8_t { k_not_read = 0, k_free = 1, k_used = 2 };
    void inode_seen(std::uint32_t ino, bool used) {
        if (ino < m_inodes.size())
            m_inodes[ino] = used ? k_used : k_free;
    }

    // xattr blocks: every inode naming one, and its h_refcount as read.
    void xattr_named(std::uint64_t block);
    void xattr_refcount(std::uint64_t block, std::uint32_t stored);

    // After the walk. `groups`: the descriptors; `block_bitmaps`,
    // `inode_bitmaps`: per group the bitmap bytes read (empty when the
    // group's bitmap was not read: *_UNINIT or unusable descriptor);
    // `complete`: every in-use inode's map was followed without findings,
    // so a block marked in use that no one claims is a real difference.
    struct Inputs {
        const std::vector<GroupDesc>* groups = nullptr;
        const FixedMetadata* fixed = nullptr;
        const std::vector<std::vector<std::byte>>* block_bitmaps = nullptr;
        const std::vector<std::vector<std::byte>>* inode_bitmaps = nullptr;
        bool complete = false;
        bool orphans = false; // an orphan list: its inodes keep blocks and bits
    };
    [[nodiscard]] std::vector<Suspect> judge(const Inputs& in) const;

private:
    static constexpr std::uint64_t k_page_bits = 32768;
    using Page = std::vector<std::uint64_t>;
    // Sets the bits of [first, end) in one page; the bits already set go to `was`.
    void set_range(std::uint64_t first, std::uint64_t end, std::vector<std::uint64_t>* was);
    // Per double claim, the claim before it (none: fixed metadata).
    [[nodiscard]] std::vector<std::optional<Claimant>> first_owners() const;
    void judge_doubles(const Inputs& in, std::vector<Suspect>& out) const;
    void judge_block_bitmap(const Inputs& in, std::uint32_t g, std::vector<Suspect>& out) const;
    void judge_inode_bitmap(const Inputs& in, std::uint32_t g, std::vector<Suspect>& out) const;
    void judge_xattr_refs(const Inputs& in, std::vector<Suspect>& out) const;

    const SuperInfo& m_sb;
    std::vector<std::unique_ptr<Page>> m_pages;
    // 16 bytes: the structure rides in the top byte of the count (a claim
    // longer than k_log_max_count is logged in pieces).
    struct LogEntry {
        std::uint64_t first;
        std::uint32_t count_via;
        std::uint32_t ino;
    };
    static constexpr std::uint32_t k_log_max_count = (1u << 24) - 1;
    static_assert(sizeof(LogEntry) == 16);
    // In fixed-size chunks rather than one vector: a 300,000-file walk logs
    // a few hundred thousand claims, and regrowing a vector copied them into
    // fresh pages at every doubling (a third of the scan's page faults).
    static constexpr std::size_t k_log_chunk = 4096;
    std::vector<std::unique_ptr<LogEntry[]>> m_log;
    std::size_t m_log_size = 0; // entries in use, over all chunks
    struct Double {
        std::uint64_t block;
        Claimant second;
    };
    std::vector<Double> m_doubles; // capped: the first few tell the story
    std::uint64_t m_double_count = 0;
    std::vector<Displaced> m_displaced;
    std::vector<std::uint8_t> m_inodes;
    struct XattrRefs {
        std::uint64_t block;
        std::uint32_t named;
        std::uint32_t stored;
    };
    std::vector<XattrRefs> m_xattrs; // in claim order; grouped by block when judged
};

// Where a group's bitmap or inode table lies against its neighbours: the
// place both neighbours on each side predict (an arithmetic progression:
// flex_bg packs them one after another, without flex_bg they sit at the same
// offset in every group), when both sides agree and the descriptor says
// otherwise. Needs two groups on each side.
[[nodiscard]] std::optional<std::uint64_t> displaced_position(const std::vector<std::int64_t>& at,
                                                              std::uint32_t g);

} // namespace guardian::ext4
