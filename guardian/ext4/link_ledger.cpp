#include "guardian/ext4/link_ledger.hpp"

#include "guardian/ext4/bytes.hpp"

#include <unordered_set>

namespace guardian::ext4 {
namespace {

constexpr std::uint32_t k_fl_ea_inode = 0x200000; // holds a large xattr value, named by none
constexpr std::uint32_t k_compat_orphan_file = 0x1000;
constexpr std::uint32_t k_ro_compat_dir_nlink = 0x20;
constexpr std::uint32_t k_link_max = 65000; // EXT4_LINK_MAX: past it a directory counts 1

} // namespace

LinkLedger::LinkLedger(const SuperInfo& sb)
    : m_sb(sb), m_first_ino(le32(Bytes(sb.raw), 0x54)),
      m_last_orphan(le32(Bytes(sb.raw), 0xE8)), m_quota{le32(Bytes(sb.raw), 0x240),
                                                        le32(Bytes(sb.raw), 0x244),
                                                        le32(Bytes(sb.raw), 0x26C)},
      m_links(std::size_t{sb.inodes_count} + 1, 0), m_entries(std::size_t{sb.inodes_count} + 1, 0) {
    if (sb.feature_compat & k_compat_orphan_file) {
        m_orphan_file = true;
        m_orphan_file_ino = le32(Bytes(sb.raw), 0x280);
    }
}

void LinkLedger::in_use(std::uint32_t ino, std::uint16_t links, bool dir, std::uint32_t flags) {
    // e2fsck pass 4 judges the root and every inode from s_first_ino on,
    // except the ones no directory names by design.
    if (ino >= m_links.size() || (ino != 2 && ino < m_first_ino) || (flags & k_fl_ea_inode) ||
        ino == m_orphan_file_ino)
        return;
    if (ino == m_quota[0] || ino == m_quota[1] || ino == m_quota[2])
        return; // quota inodes
    m_links[ino] = links | (dir ? k_dir_bit : 0) | k_read_bit;
}

bool LinkLedger::dtime_worth_noting(std::uint16_t links, std::uint32_t dtime) const {
    // In use with dtime set; or deleted-looking with dtime 0 (the last
    // orphan, or damage) or small enough to be the next orphan's number.
    // A real deletion time is a timestamp, far above s_inodes_count.
    return links != 0 ? dtime != 0 : (dtime == 0 || dtime <= m_sb.inodes_count);
}

void LinkLedger::dtime(const DtimeFacts& f) {
    m_dtimes[f.ino] = f;
}

void LinkLedger::entries_incomplete(std::string why) {
    if (m_entries_complete)
        m_notes.push_back("inode: link counts not verified (" + std::move(why) + ")");
    m_entries_complete = false;
}

void LinkLedger::file_size(std::uint32_t ino, std::uint64_t size, std::int64_t last_data,
                           bool complete, const Span& here) {
    if (!complete) {
        m_pending[ino] = Pending{size, last_data, here};
        return;
    }
    if (size_short(size, last_data, m_sb.block_size))
        m_size_findings.emplace_back(
            ino, inode_suspect(ino, here,
                               "i_size " + std::to_string(size) + " ends before logical block " +
                                   std::to_string(last_data) + ", which holds data"));
}

void LinkLedger::mapped(std::uint32_t ino, std::uint64_t last_logical) {
    const auto it = m_pending.find(ino);
    if (it != m_pending.end() && static_cast<std::int64_t>(last_logical) > it->second.last)
        it->second.last = static_cast<std::int64_t>(last_logical);
}

Span LinkLedger::table_span(const std::vector<GroupDesc>& groups, std::uint32_t ino) const {
    const std::uint32_t group = (ino - 1) / m_sb.inodes_per_group;
    const std::uint32_t index = (ino - 1) % m_sb.inodes_per_group;
    const std::uint64_t table = group < groups.size() ? groups[group].inode_table : 0;
    return Span{table + std::uint64_t{index} * m_sb.inode_size / m_sb.block_size, 0, 0, 0};
}

Suspect LinkLedger::inode_suspect(std::uint32_t ino, Span at, std::string detail) const {
    Suspect x;
    x.finding = Finding{Structure::inode, (ino - 1) / m_sb.inodes_per_group, ino, at.block,
                        std::move(detail)};
    x.at = at;
    return x;
}

std::vector<Suspect> LinkLedger::judge(const std::vector<GroupDesc>& groups, bool damage_found) {
    // The orphan list: s_last_orphan, then each member's i_dtime. Bounded by
    // what was noted, so a damaged list cannot loop.
    std::unordered_set<std::uint32_t> orphans;
    for (std::uint32_t cur = m_last_orphan;
         cur != 0 && cur <= m_sb.inodes_count && orphans.insert(cur).second;) {
        const auto it = m_dtimes.find(cur);
        if (it == m_dtimes.end())
            break; // the last member (a truncate's: in use, dtime 0), or damage
        cur = it->second.dtime;
    }
    std::vector<Suspect> out;
    for (const auto& [ino, f] : m_dtimes) {
        if (orphans.count(ino) != 0)
            continue;
        if (f.links == 0 && f.dtime == 0 && !m_orphan_file)
            out.push_back(inode_suspect(
                ino, f.here, "link count 0 (deleted) but dtime 0, and not on the orphan list"));
        else if (f.links != 0)
            out.push_back(inode_suspect(ino, f.here,
                                        "in use (link count " + std::to_string(f.links) +
                                            ") but dtime " + std::to_string(f.dtime) +
                                            " set, and not on the orphan list"));
    }
    if (!m_orphan_file) {
        for (const auto& [ino, p] : m_pending)
            file_size(ino, p.size, p.last, true, p.here);
        for (auto& [ino, x] : m_size_findings)
            if (orphans.count(ino) == 0)
                out.push_back(std::move(x));
    } else {
        m_notes.push_back("inode: deletion times and regular-file sizes not verified "
                          "(orphan_file: the orphan file is not read)");
    }
    m_pending.clear();
    m_size_findings.clear();

    if (damage_found)
        entries_incomplete("other damage was found first");
    if (!m_entries_complete)
        return out;
    const bool dir_nlink = m_sb.feature_ro_compat & k_ro_compat_dir_nlink;
    // Almost always empty: no hash lookup per inode then (the benchmark's
    // image has a million inode slots).
    const bool any_orphans = !orphans.empty();
    // One pass over both arrays (they are megabytes: memory-bound). The
    // link findings count only if every entry named an inode the scan read.
    std::vector<Suspect> links_found;
    for (std::uint32_t ino = 1; ino < m_links.size(); ++ino) {
        const std::uint32_t v = m_links[ino];
        std::uint32_t counted = m_entries[ino];
        if (counted != 0 && !(v & k_read_bit)) {
            // An inode table's unused area: if that is a directory, its own
            // entries were not counted.
            entries_incomplete("an entry names inode " + std::to_string(ino) +
                               ", which the scan did not read");
            return out;
        }
        const std::uint32_t links = v & 0xFFFF;
        if (links == 0 || (any_orphans && orphans.count(ino) != 0))
            continue;
        const bool dir = v & k_dir_bit;
        if (dir && counted > k_link_max)
            counted = 1;
        // A directory that once passed EXT4_LINK_MAX keeps count 1 as its
        // subdirectories go (the kernel never raises it again).
        if (dir && links == 1 && dir_nlink && counted >= 2)
            continue;
        if (counted == links)
            continue;
        links_found.push_back(
            inode_suspect(ino, table_span(groups, ino),
                          counted == 0 ? "link count " + std::to_string(links) +
                                             " but no directory entry names it (unattached)"
                                       : "link count " + std::to_string(links) + " but " +
                                             std::to_string(counted) + " directory entr" +
                                             (counted == 1 ? "y names" : "ies name") + " it"));
    }
    for (auto& x : links_found)
        out.push_back(std::move(x));
    return out;
}

} // namespace guardian::ext4
