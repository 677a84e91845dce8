// The inode walk's directory blocks (InodeWalker, inode_walk.hpp): htree
// roots and index nodes, blocks of entries, and the entries' target inodes.
#include "guardian/ext4/checksums.hpp"
#include "guardian/ext4/dir_rules.hpp"
#include "guardian/ext4/inode_walk.hpp"

namespace guardian::ext4 {

void InodeWalker::check_dir_block(const DirRef& ref, Bytes data) {
    const std::size_t bs = data.size();
    // htree interior nodes: the root is logical block 0; other nodes start with
    // an empty dirent spanning the whole block (that is how readers skip them).
    std::size_t count_offset = 0;
    if (ref.owner.htree && ref.logical == 0) {
        if (le16(data, 4) != 12 || le16(data, 12 + 4) != bs - 12 || u8(data, 0x1D) != 8) {
            record(Structure::htree_block, ref.block, data);
            suspect(Structure::htree_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                    "bad dx_root: '.' / '..' entries or dx_root_info malformed");
            return;
        }
        if (auto p = dx_root_problem(data, m_ctx.sb, ref.owner.hash_in_dirent); !p.empty()) {
            record(Structure::htree_block, ref.block, data);
            suspect(Structure::htree_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                    std::move(p));
            return;
        }
        if (m_htree)
            m_htree->root(ref.owner.ino, ref.owner.size_blocks, u8(data, 0x1E), u8(data, 0x1C));
        if (m_ledger) { // '.' and '..', which the dx_root keeps as entries
            m_ledger->entry(le32(data, 0));
            m_ledger->entry(le32(data, 12));
        }
        count_offset = 32;
    } else if (ref.owner.htree && le32(data, 0) == 0 && u8(data, 6) == 0 &&
               (le16(data, 4) == bs || (bs == 65536 && le16(data, 4) == 0))) {
        count_offset = 8;
    }
    if (count_offset != 0) {
        check_dx_node(ref, data, count_offset);
        return;
    }
    check_dir_leaf(ref, data);
}

// An htree index node (the root past its dx_root_info, or an interior node):
// limit, count, checksum, and its entries for the index (stable mode).
void InodeWalker::check_dx_node(const DirRef& ref, Bytes data, std::size_t count_offset) {
    const std::size_t bs = data.size();
    const bool csum = m_ctx.sb.metadata_csum();
    record(Structure::htree_block, ref.block, data);
    const std::size_t limit = le16(data, count_offset);
    const std::size_t count = le16(data, count_offset + 2);
    // e2fsck's expected limit: the entries that fit before the dx tail.
    const std::size_t expect = (bs - count_offset - (csum ? 8 : 0)) / 8;
    if (limit != expect) {
        suspect(Structure::htree_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                "bad dx limit: " + std::to_string(limit) + " (expected " + std::to_string(expect) +
                    ")");
        return;
    }
    if (count > limit || count == 0) {
        suspect(Structure::htree_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                "bad dx count/limit: count " + std::to_string(count) + ", limit " +
                    std::to_string(limit));
        return;
    }
    if (csum) {
        const auto c = dx_node_csum(data, count_offset, ref.owner.seed);
        if (!c || !c->ok()) {
            suspect(Structure::htree_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                    c ? c->describe() : "no room for the dx checksum tail");
            return;
        }
    }
    if (m_htree) {
        // dx_entry i: hash (none for entry 0, which holds limit/count), block.
        std::vector<HtreeIndex::Entry> entries;
        entries.reserve(count);
        for (std::size_t i = 0; i < count; ++i)
            entries.push_back({i == 0 ? 0u : le32(data, count_offset + 8 * i),
                               le32(data, count_offset + 8 * i + 4) & 0x0FFFFFFFu});
        m_htree->node(ref.owner.ino, ref.logical, ref.block, std::move(entries));
    }
}

// A block of directory entries (linear, or an htree leaf).
void InodeWalker::check_dir_leaf(const DirRef& ref, Bytes data) {
    const std::size_t bs = data.size();
    const bool csum = m_ctx.sb.metadata_csum();
    record(Structure::directory_block, ref.block, data);
    std::size_t end = bs;
    if (csum) {
        const auto c = dir_leaf_csum(data, ref.owner.seed);
        if (!c || !c->ok()) {
            suspect(Structure::directory_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                    c ? c->describe() : "no directory entry tail for the checksum");
            return;
        }
        end = bs - 12;
    }
    // The entry chain itself (catches damage on filesystems without checksums).
    const bool filetype = m_ctx.sb.feature_incompat & k_incompat_filetype;
    std::optional<EntryRef> wrong_target; // the first entry whose inode disagrees
    // An htree leaf's names against the range its index gives it (stable
    // mode; encrypted names hash as stored only with siphash: not judged).
    std::optional<std::uint8_t> version;
    if (m_htree && ref.owner.htree && !ref.owner.encrypted && ref.logical != 0)
        version = m_htree->hash_version(ref.owner.ino);
    std::uint32_t min_hash = UINT32_MAX;
    std::uint32_t max_hash = 0;
    std::uint32_t names = 0;
    const bool unique_names = m_ledger && !ref.owner.casefold; // stable mode
    m_leaf_names.clear();
    for (std::size_t off = 0; off < end;) {
        std::size_t rec_len = le16(data, off + 4);
        if (bs == 65536 && (rec_len == 65535 || rec_len == 0))
            rec_len = 65536;
        const std::size_t name_len = u8(data, off + 6);
        const std::uint32_t ino = le32(data, off);
        std::string problem;
        if (rec_len < 12 || rec_len % 4 != 0 || off + rec_len > end)
            problem = "bad rec_len " + std::to_string(rec_len);
        else if (name_len + 8 > rec_len)
            problem = "name_len " + std::to_string(name_len) + " exceeds rec_len " +
                      std::to_string(rec_len);
        else if (ino > m_ctx.sb.inodes_count)
            problem = "inode number " + std::to_string(ino) + " beyond s_inodes_count";
        else if (ino != 0 && name_len == 0)
            problem = "zero-length name";
        else if (ino != 0 && !ref.owner.encrypted && illegal_name(data.subspan(off + 8, name_len)))
            problem = "name contains '/' or NUL";
        else if (const std::uint8_t t = u8(data, off + 7); ino != 0 && t != 0 && !filetype)
            problem = "file type " + std::to_string(t) + " set without the filetype feature";
        else if (ino != 0 && t > 7)
            problem = "file type " + std::to_string(t) + " unknown";
        if (!problem.empty()) {
            suspect(Structure::directory_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                    "entry at offset " + std::to_string(off) + ": " + problem);
            return;
        }
        if (ino != 0 && m_ledger)
            m_ledger->entry(ino);
        if (ino != 0 && unique_names)
            m_leaf_names.emplace_back(
                std::string_view(reinterpret_cast<const char*>(data.data()) + off + 8, name_len),
                off);
        if (ino != 0 && version) {
            if (const auto h = m_ctx.fs->dir_hash(*version, data.subspan(off + 8, name_len),
                                                  ref.owner.casefold)) {
                min_hash = std::min(min_hash, *h);
                max_hash = std::max(max_hash, *h);
                ++names;
            }
        }
        if (ino != 0 && !m_ctx.inode_types.empty() && !wrong_target) {
            const EntryRef e{ref.block, ref.owner.ino, static_cast<std::uint32_t>(off), ino,
                             u8(data, off + 7)};
            const std::uint8_t seen = m_ctx.inode_types[ino];
            if (seen == k_inode_unknown)
                m_later_entries.push_back(e); // its inode table block comes later
            else if (seen != e.type)
                wrong_target = e;
        }
        off += rec_len;
    }
    if (version)
        m_htree->leaf(ref.owner.ino, ref.logical, ref.block, min_hash, max_hash, names);
    if (auto p = duplicate_name_problem(m_leaf_names); !p.empty()) {
        suspect(Structure::directory_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                std::move(p));
        return;
    }
    if (wrong_target) {
        check_entry_target(*wrong_target);
        return;
    }
    if (ref.logical == 0 && !ref.owner.htree) {
        if (auto p = first_dir_block_problem(data, end, ref.owner.ino); !p.empty())
            suspect(Structure::directory_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                    std::move(p));
    }
}

void InodeWalker::check_entry_target(const EntryRef& e) {
    const SuperInfo& sb = m_ctx.sb;
    const std::uint32_t group = (e.target - 1) / sb.inodes_per_group;
    const std::uint32_t index = (e.target - 1) % sb.inodes_per_group;
    const GroupDesc& gd = m_ctx.groups[group];
    // With descriptor checksums, inodes past bg_itable_unused (or all of an
    // INODE_UNINIT group) were never handed out: the scan does not read them,
    // and an entry naming one is damage (e2fsck pass 2's "unused inodes area").
    const bool unused_area =
        sb.gdt_csum() &&
        ((gd.flags & k_bg_inode_uninit) ||
         index >= sb.inodes_per_group - std::min(gd.itable_unused, sb.inodes_per_group));
    auto p = unused_area ? "inode " + std::to_string(e.target) + " lies in group " +
                               std::to_string(group) + "'s unused inodes area"
                         : entry_target_problem(e.type, e.target, m_ctx.inode_types[e.target]);
    if (p.empty() || !m_flagged_dirs.insert(e.block).second)
        return;
    // The inode's table block is what a newer journaled version could change.
    Suspect x;
    x.finding = Finding{Structure::directory_block, std::nullopt, e.dir, e.block,
                        "entry at offset " + std::to_string(e.offset) + ": " + std::move(p)};
    x.at = Span{e.block, 0, 0, 0};
    x.via = Span{gd.inode_table + std::uint64_t{index} * sb.inode_size / sb.block_size, 0, 0, 0};
    m_ctx.suspects.push_back(std::move(x));
}

} // namespace guardian::ext4
