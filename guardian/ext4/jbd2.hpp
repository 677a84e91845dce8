// The jbd2 journal: its superblock and its active log. The log matters twice:
// its own checksums are verified (journal superblock, descriptor / commit /
// revoke blocks, data-block tags), and the set of home blocks that have a
// newer committed version in the log tells the scanner which home locations
// may legitimately be stale on a live filesystem (written to the journal,
// not yet checkpointed home).
#pragma once

#include "guardian/core/findings.hpp"
#include "guardian/ext4/block_reader.hpp"
#include "guardian/ext4/bytes.hpp"
#include "guardian/ext4/journal_rules.hpp"
#include "guardian/ext4/region_digests.hpp"
#include "guardian/ondisk/jbd2_format.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

namespace guardian::ext4 {

// Logical journal block -> physical fs block, from the journal inode's map.
struct JournalExtent {
    std::uint64_t logical = 0;
    std::uint64_t physical = 0;
    std::uint64_t count = 0;
};

struct JournalSuperblock {
    std::vector<std::byte> raw; // the 1024-byte journal superblock as read
    std::uint64_t physical = 0; // fs block holding it
    std::uint32_t blocktype = 0;
    std::uint32_t blocksize = 0;
    std::uint32_t maxlen = 0;
    std::uint32_t first = 0;
    std::uint32_t sequence = 0;
    std::uint32_t start = 0;
    std::uint32_t feature_compat = 0;
    std::uint32_t feature_incompat = 0;
    std::uint32_t feature_ro_compat = 0;
    std::uint32_t num_fc_blocks = 0;
    std::uint32_t csum_seed = 0;
    [[nodiscard]] bool csum_v2or3() const noexcept {
        return feature_incompat & (jbd2::k_incompat_csum_v2 | jbd2::k_incompat_csum_v3);
    }
    [[nodiscard]] bool csum_v3() const noexcept {
        return feature_incompat & jbd2::k_incompat_csum_v3;
    }
    [[nodiscard]] bool has_64bit() const noexcept {
        return feature_incompat & jbd2::k_incompat_64bit;
    }
};

// A damaged journal object, with the fs block it lives in and, for log
// blocks, the transaction, so a live re-check can tell whether the log has
// since moved past it.
struct JournalFinding {
    Finding finding;
    std::uint64_t block = 0;
    std::uint32_t transaction = 0;
    // The block the journal superblock names as the log's start is not a log
    // block: valid only while the superblock still names it (see scan_confirm).
    bool log_start = false;
};

struct LogScan {
    std::unordered_set<std::uint64_t> pending_home; // home blocks with a committed newer version
    std::vector<BlockDigest> log_blocks;            // committed log blocks as read (fingerprint)
    std::vector<JournalFinding> findings;
    std::uint32_t transactions = 0;
    bool truncated = false; // walk stopped early at a cap
};

class Journal {
public:
    // `inode_size`: the journal inode's i_size in bytes (the journal length jbd2 uses).
    Journal(BlockReader& reader, std::vector<JournalExtent> map, std::uint64_t fs_blocks,
            std::uint64_t inode_size);

    // Reads and parses the journal superblock (logical block 0). Structural
    // problems that make the log unusable are returned as findings.
    [[nodiscard]] Result<JournalSuperblock> read_superblock(std::vector<Finding>& findings);

    // Walks the log from (start, sequence) as recovery's scan pass does.
    // `verify_open` also reports damage inside a transaction with no commit
    // block yet (right for a stable filesystem; on a live one that transaction
    // is still being written).
    [[nodiscard]] Result<LogScan> walk(const JournalSuperblock& jsb, std::uint32_t start,
                                       std::uint32_t sequence, bool verify_open);

    [[nodiscard]] std::uint64_t physical(std::uint64_t logical) const; // 0: unmapped

private:
    BlockReader& m_reader;
    std::vector<JournalExtent> m_map;
    std::uint64_t m_fs_blocks;
    JournalInode m_inode;
};

} // namespace guardian::ext4
