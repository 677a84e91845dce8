// What a stable-mode scan learns across the whole inode walk and can judge
// only once every inode and directory block has been read (e2fsck passes 1
// and 4): link counts against the directory entries naming each inode,
// deletion times against the orphan list, and regular files' i_size against
// the last block their map gives data. Pure bookkeeping: no I/O.
//
// None of these hold on a mounted, changing filesystem (an inode is linked
// and its entry written in one transaction, but a live scan reads them at
// different moments), so the ledger exists only in stable mode: an unmounted
// image or a frozen filesystem, whose journal the freeze has checkpointed.
// Orphans are legal there: a file unlinked while open has link count 0, and
// a truncate records the inode on the orphan list before it shrinks the
// map. The list (s_last_orphan, then each inode's i_dtime) is walked, and
// its members are judged by none of these rules.
#pragma once

#include "guardian/ext4/scan_context.hpp"
#include "guardian/ext4/superblock.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace guardian::ext4 {

class LinkLedger {
public:
    explicit LinkLedger(const SuperInfo& sb);

    // Called from the inode-table threads: each call touches only `ino`'s
    // own slot. Every inode the scan read, then those in use (links and
    // mode non-zero) whose own rules held.
    void read(std::uint32_t ino) {
        if (ino < m_links.size())
            m_links[ino] |= k_read_bit;
    }
    void in_use(std::uint32_t ino, std::uint16_t links, bool dir, std::uint32_t flags);

    // An inode whose i_dtime says something: in use with dtime set, or with
    // link count 0 and a mode (deleted, or an orphan). From apply(), in order.
    struct DtimeFacts {
        std::uint32_t ino = 0;
        std::uint16_t links = 0;
        std::uint32_t dtime = 0;
        Span here;
    };
    [[nodiscard]] bool dtime_worth_noting(std::uint16_t links, std::uint32_t dtime) const;
    void dtime(const DtimeFacts& f);

    // A directory entry (including '.' and '..') naming `target`.
    void entry(std::uint32_t target) {
        if (target < m_entries.size() && m_entries[target] != UINT16_MAX)
            ++m_entries[target];
    }
    // Some directory's entries could not all be counted: link counts are
    // not judged (`why` goes into not_verified).
    void entries_incomplete(std::string why);

    // A regular file's size against its map. `last_data`: the last logical
    // block known so far to hold data (-1: none). A file whose whole map was
    // in the inode is judged at once (`complete`); others get mapped() calls
    // as their extent leaves and indirect blocks are read.
    void file_size(std::uint32_t ino, std::uint64_t size, std::int64_t last_data, bool complete,
                   const Span& here);
    // e2fsck pass 1's rule: initialised data at or past i_size (unwritten
    // extents are never counted: fallocate with KEEP_SIZE makes them legally).
    [[nodiscard]] static bool size_short(std::uint64_t size, std::int64_t last_data,
                                         std::uint32_t block_size) {
        return last_data >= 0 && size < static_cast<std::uint64_t>(last_data) * block_size;
    }
    [[nodiscard]] bool size_pending(std::uint32_t ino) const { return m_pending.count(ino) != 0; }
    void mapped(std::uint32_t ino, std::uint64_t last_logical);

    // After the walk: the findings, none for orphans. `damage_found`: other
    // findings exist, so some directory may not have been read whole and
    // link counts would only echo that damage.
    [[nodiscard]] std::vector<Suspect> judge(const std::vector<GroupDesc>& groups,
                                             bool damage_found);
    // What was not verified, for the report.
    [[nodiscard]] const std::vector<std::string>& not_verified() const { return m_notes; }

private:
    [[nodiscard]] Span table_span(const std::vector<GroupDesc>& groups, std::uint32_t ino) const;
    [[nodiscard]] Suspect inode_suspect(std::uint32_t ino, Span at, std::string detail) const;

    const SuperInfo& m_sb;
    std::uint32_t m_first_ino;
    std::uint32_t m_last_orphan;
    std::array<std::uint32_t, 3> m_quota; // s_usr/grp/prj_quota_inum: no entry names them
    std::uint32_t m_orphan_file_ino = 0;
    bool m_orphan_file = false;
    // Per inode: link count (low 16 bits; 0 = not judged), directory, read.
    static constexpr std::uint32_t k_dir_bit = 1u << 16;
    static constexpr std::uint32_t k_read_bit = 1u << 17;
    std::vector<std::uint32_t> m_links;
    std::vector<std::uint16_t> m_entries; // saturating at UINT16_MAX
    std::unordered_map<std::uint32_t, DtimeFacts> m_dtimes;
    struct Pending {
        std::uint64_t size;
        std::int64_t last;
        Span here;
    };
    std::unordered_map<std::uint32_t, Pending> m_pending;
    std::vector<std::pair<std::uint32_t, Suspect>> m_size_findings;
    bool m_entries_complete = true;
    std::vector<std::string> m_notes;
};

} // namespace guardian::ext4
