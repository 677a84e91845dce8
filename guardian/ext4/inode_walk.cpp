#include "guardian/ext4/inode_walk.hpp"

#include "guardian/ext4/block_owners.hpp"
#include "guardian/ext4/checksums.hpp"
#include "guardian/ext4/dir_rules.hpp"
#include "guardian/ext4/entry_rules.hpp"
#include "guardian/ext4/inode_flags.hpp"
#include "guardian/ext4/xattr_rules.hpp"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace guardian::ext4 {
namespace {

constexpr std::uint16_t k_extent_magic = 0xF30A;
constexpr std::uint32_t k_xattr_magic = 0xEA020000;
constexpr std::uint16_t k_max_depth = 5;
constexpr std::uint32_t k_bad_blocks_ino = 1; // its "blocks" are a list, not data
constexpr std::uint32_t k_resize_ino = 7;     // its "indirect blocks" are the reserved GDT blocks
constexpr std::uint32_t k_journal_ino = 8;
constexpr std::uint32_t k_compat_ext_attr = 0x8;
// A damaged dir inode can claim an absurd size; this caps the blocks read per inode.
constexpr std::uint64_t k_max_dir_blocks = 1u << 21;
// Batches of referenced blocks (extent, directory, xattr) read at once. Six
// read a tree of small directories 5-10 % faster from the disk, but cost
// 4-5 % of a warm scan (more buffers faulted in): two.
constexpr std::size_t k_refs_in_flight = 2;
// At most this many reference batches checked per chunk (pump()) while
// more are queued: about what the helper thread needs to verify a chunk.
constexpr std::size_t k_batches_per_pump = 6;

bool all_zero(Bytes b) {
    static constexpr std::array<std::byte, 1024> zeros{};
    while (!b.empty()) {
        const std::size_t n = std::min(b.size(), zeros.size());
        if (std::memcmp(b.data(), zeros.data(), n) != 0)
            return false;
        b = b.subspan(n);
    }
    return true;
}

// Self-contained rules on one in-use inode (e2fsck pass 1).
std::string inode_problem(Bytes inode, std::uint32_t ino, const SuperInfo& sb,
                          const FixedMetadata& fixed) {
    const std::uint16_t type = le16(inode, 0x0) & 0xF000;
    if (type != 0x1000 && type != 0x2000 && type != 0x4000 && type != 0x6000 && type != 0x8000 &&
        type != 0xA000 && type != 0xC000)
        return "bad mode " + std::to_string(le16(inode, 0x0)) + " (no valid file type)";
    if (inode.size() > 128) {
        const std::uint16_t extra = le16(inode, 0x80);
        if (extra != 0 && (extra < 4 || extra > inode.size() - 128 || extra % 4 != 0))
            return "i_extra_isize " + std::to_string(extra) + " is impossible for " +
                   std::to_string(inode.size()) + "-byte inodes";
    }
    const std::uint32_t flags = le32(inode, 0x20);
    if ((flags & k_fl_extents) && !(sb.feature_incompat & k_incompat_extents))
        return "flag EXTENTS without the extents feature";
    if ((flags & k_fl_inline_data) && !(sb.feature_incompat & k_incompat_inline_data))
        return "flag INLINE_DATA without the inline_data feature";
    if ((flags & k_fl_extents) && (flags & k_fl_inline_data))
        return "flags EXTENTS and INLINE_DATA both set";
    // Linux's osd2 (s_creator_os 0): the Hurd keeps i_mode_high there.
    if (le32(Bytes(sb.raw), 0x48) == 0 && le16(inode, 0x76) != 0 &&
        !(sb.feature_incompat & k_incompat_64bit))
        return "i_file_acl_hi " + std::to_string(le16(inode, 0x76)) +
               " set without the 64bit feature";
    const std::uint64_t size = le32(inode, 0x4) | (std::uint64_t{le32(inode, 0x6C)} << 32);
    if (type == 0x4000 && !(flags & k_fl_inline_data) && size % sb.block_size != 0)
        return "directory i_size " + std::to_string(size) + " is not a multiple of the block size";
    if (auto p = symlink_problem(inode, sb); !p.empty())
        return p;
    // e2fsck pass 2 clears both: an xattr block where no xattrs may be, and
    // a journal the superblock does not know.
    const std::uint64_t acl = le32(inode, 0x68) | (std::uint64_t{le16(inode, 0x76)} << 32);
    if (acl != 0 && !(sb.feature_compat & k_compat_ext_attr))
        return "i_file_acl " + std::to_string(acl) + " set without the ext_attr feature";
    if (ino == k_journal_ino && !sb.has_journal() && !all_zero(inode.subspan(0x28, 60)))
        return "the journal inode holds blocks but the has_journal feature is clear";
    if (auto p = inode_xattr_problem(inode, sb); !p.empty())
        return p;
    if (ino != k_resize_ino)
        if (auto p = block_pointers_problem(inode, sb, fixed); !p.empty())
            return p;
    if (type == 0x4000)
        return dir_size_problem(inode, sb); // the size against pointers found sound
    return {};
}

// The last logical block an extent leaf (or the inode's depth-0 root) maps
// to initialised data, -1 if none (unwritten extents read as zeros).
std::int64_t last_data_block(Bytes leaf) {
    std::int64_t last = -1;
    const std::uint16_t entries = le16(leaf, 2);
    for (std::size_t i = 0; i < entries && 12 + 12 * (i + 1) <= leaf.size(); ++i) {
        const Bytes e = leaf.subspan(12 + 12 * i, 12);
        const std::uint16_t len = le16(e, 4);
        if (len != 0 && len <= 32768)
            last = std::max<std::int64_t>(last, std::int64_t{le32(e, 0)} + len - 1);
    }
    return last;
}

// What the map in a regular file's inode says of its data: the last logical
// block holding data that it shows (-1: none), and whether that is the whole
// map (no extent tree below it, no indirect blocks).
std::pair<std::int64_t, bool> data_in_inode_map(Bytes inode, std::uint32_t flags) {
    const Bytes iblock = inode.subspan(0x28, 60);
    if (flags & k_fl_extents)
        return le16(iblock, 6) == 0 ? std::pair{last_data_block(iblock), true}
                                    : std::pair{std::int64_t{-1}, false};
    std::int64_t last = -1;
    for (std::uint32_t k = 0; k < 12; ++k)
        if (le32(iblock, 4 * k) != 0)
            last = k;
    const bool indirect = le32(iblock, 48) != 0 || le32(iblock, 52) != 0 || le32(iblock, 56) != 0;
    return {last, !indirect};
}

std::string header_problem(Bytes node, std::uint16_t expected_depth, std::size_t max_entries) {
    if (le16(node, 0) != k_extent_magic)
        return "bad extent header: magic " + std::to_string(le16(node, 0)) + " (expected 61706)";
    const std::uint16_t entries = le16(node, 2);
    const std::uint16_t max = le16(node, 4);
    const std::uint16_t depth = le16(node, 6);
    if (max > max_entries || entries > max)
        return "bad extent header: " + std::to_string(entries) + " entries, max " +
               std::to_string(max) + " (room for " + std::to_string(max_entries) + ")";
    if (depth != expected_depth)
        return "bad extent header: depth " + std::to_string(depth) + " (expected " +
               std::to_string(expected_depth) + ")";
    return {};
}

} // namespace

std::uint64_t block_hash(Bytes data) {
    return XXH3_64bits(data.data(), data.size());
}

InodeWalker::InodeWalker(ScanContext& ctx)
    : m_ctx(ctx), m_visited(ctx.sb.blocks_count), m_xattr_seen(ctx.sb.blocks_count) {
    // An image whose journal holds transactions not yet replayed has newer
    // inodes and directory blocks there: the ledger's rules would judge the
    // older ones (scan.cpp says so in not_verified).
    if (ctx.mode == CheckMode::stable && !(ctx.sb.feature_incompat & k_incompat_recover)) {
        m_ledger = std::make_unique<LinkLedger>(ctx.sb);
        m_htree = std::make_unique<HtreeIndex>();
    }
}

Span make_span(std::uint64_t block, Bytes data, std::size_t offset, std::size_t size) {
    const Bytes part = size == 0 ? data.subspan(offset) : data.subspan(offset, size);
    return {block, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(size),
            block_hash(part)};
}

bool InodeWalker::first_visit(std::uint64_t block) {
    return m_visited.insert(block);
}

void InodeWalker::suspect(Structure s, std::uint32_t ino, const Span& at, std::optional<Span> via,
                          std::string detail) {
    if (m_htree && (s == Structure::directory_block || s == Structure::htree_block))
        m_htree->incomplete(ino); // its index is not judged on top
    m_ctx.suspects.push_back(make_suspect(s, ino, at, via, std::move(detail)));
}

void InodeWalker::record(Structure s, std::uint64_t block, Bytes data) {
    if (m_ctx.fingerprint)
        m_ctx.digests.add_block(s, m_ctx.sb.group_of(block), digest_block(block, data));
}

Suspect InodeWalker::make_suspect(Structure s, std::uint32_t ino, const Span& at,
                                  std::optional<Span> via, std::string detail) const {
    Suspect x;
    x.finding = Finding{s, std::nullopt, ino, at.block, std::move(detail)};
    if (s == Structure::inode)
        x.finding.group = (ino - 1) / m_ctx.sb.inodes_per_group;
    x.at = at;
    x.via = via;
    return x;
}

InodeWalker::BlockResult InodeWalker::verify_block(std::uint64_t block, Bytes data,
                                                   std::uint32_t first_ino) const {
    const SuperInfo& sb = m_ctx.sb;
    const std::size_t isz = sb.inode_size;
    BlockResult r;
    r.first_ino = first_ino;
    for (std::size_t off = 0; off + isz <= data.size(); off += isz) {
        const std::uint64_t ino64 = first_ino + off / isz;
        if (ino64 > sb.inodes_count)
            break;
        verify_inode(block, data, off, static_cast<std::uint32_t>(ino64), r);
        ++r.inodes;
    }
    return r;
}

void InodeWalker::verify_inode(std::uint64_t block, Bytes data, std::size_t off, std::uint32_t ino,
                               BlockResult& r) const {
    const SuperInfo& sb = m_ctx.sb;
    const std::size_t isz = sb.inode_size;
    const Bytes inode = data.subspan(off, isz);
    // Written from both threads, each to its own inodes' bytes.
    std::uint8_t* seen = m_ctx.staged_types.empty() ? nullptr : &m_ctx.staged_types[ino];
    if (m_ledger)
        m_ledger->read(ino);
    if (all_zero(inode)) { // never used, or zeroed by mkfs: fine
        if (seen)
            *seen = k_inode_unused;
        if (m_ctx.owners)
            m_ctx.owners->inode_seen(ino, false);
        return;
    }
    // Hashing every inode costs as much as verifying it, and the span is
    // only needed for a finding or a reference: computed on demand.
    auto here = [&] { return make_span(block, data, off, isz); };
    ++r.checked;
    // Only checksums use it: computed once, for the inode and what it references.
    const std::uint32_t seed =
        sb.metadata_csum() ? inode_csum_seed(sb.csum_seed, ino, le32(inode, 0x64)) : 0;
    if (sb.metadata_csum()) {
        if (const auto c = inode_csum_seeded(inode, seed); !c.ok()) {
            r.suspects.push_back(
                make_suspect(Structure::inode, ino, here(), std::nullopt, c.describe()));
            return; // what a damaged inode references is not trustworthy either
        }
    }
    const std::uint16_t mode = le16(inode, 0x0);
    const std::uint16_t links = le16(inode, 0x1A);
    const std::uint32_t dtime = le32(inode, 0x14);
    // In use as e2fsck decides it (links and mode); the self-contained
    // rules judge every such inode, but only one without i_dtime (not on
    // the orphan list) has its references followed.
    if (m_ctx.owners) // in use as e2fsck decides it, even if its rules fail
        m_ctx.owners->inode_seen(ino, links != 0 && mode != 0);
    if (m_ctx.owners && ino == k_bad_blocks_ino) {
        bad_blocks_inode(block, data, off, r);
        return;
    }
    if (links == 0 || mode == 0) {
        if (seen)
            *seen = k_inode_unused;
        r.maybe_orphan = r.maybe_orphan || (links == 0 && mode != 0 && dtime == 0);
        if (m_ledger && mode != 0 && m_ledger->dtime_worth_noting(links, dtime))
            r.dtimes.push_back({ino, links, dtime, here()});
        return;
    }
    if (auto p = inode_problem(inode, ino, sb, m_ctx.fixed); !p.empty()) {
        r.suspects.push_back(
            make_suspect(Structure::inode, ino, here(), std::nullopt, std::move(p)));
        return;
    }
    if (seen)
        *seen = dirent_type_of_mode(mode);
    const std::uint32_t flags = le32(inode, 0x20);
    const bool is_dir = (mode & 0xF000) == 0x4000;
    if (m_ledger) {
        m_ledger->in_use(ino, links, is_dir, flags);
        if (dtime != 0)
            r.dtimes.push_back({ino, links, dtime, here()});
        if (is_dir && dtime != 0)
            r.entries_incomplete.push_back("directory inode " + std::to_string(ino) +
                                           " has dtime set: its entries were not read");
        else if (is_dir && (flags & k_fl_inline_data))
            r.entries_incomplete.push_back("the entries of inline_data directories are not read");
    }
    if (dtime != 0) {
        r.skipped = true;
        return;
    }
    follow_inode(block, data, off, ino, seed, r);
}

void InodeWalker::bad_blocks_inode(std::uint64_t block, Bytes data, std::size_t off,
                                   BlockResult& r) const {
    // Not a file, but its list claims the bad blocks: a file or metadata on
    // one is a double claim (e2fsck pass 1b).
    const Bytes inode = data.subspan(off, m_ctx.sb.inode_size);
    LiveInode bad;
    bad.owner.ino = k_bad_blocks_ino;
    bad.offset = static_cast<std::uint32_t>(off);
    bad.direct = !(le32(inode, 0x20) & (k_fl_extents | k_fl_inline_data));
    bad.map = bad.direct && !all_zero(inode.subspan(0x28 + 48, 12)) ? Map::block_mapped : Map::none;
    bad.follow = bad.map != Map::none;
    if (bad.follow)
        bad.here = make_span(block, data, off, m_ctx.sb.inode_size);
    if (bad.direct)
        r.live.push_back(bad);
}

void InodeWalker::follow_inode(std::uint64_t block, Bytes data, std::size_t off, std::uint32_t ino,
                               std::uint32_t seed, BlockResult& r) const {
    // An in-use inode whose own rules held: what its map references.
    const SuperInfo& sb = m_ctx.sb;
    const std::size_t isz = sb.inode_size;
    const Bytes inode = data.subspan(off, isz);
    auto here = [&] { return make_span(block, data, off, isz); };
    const std::uint16_t mode = le16(inode, 0x0);
    const std::uint32_t flags = le32(inode, 0x20);
    const bool is_dir = (mode & 0xF000) == 0x4000;
    LiveInode live;
    Owner& owner = live.owner;
    owner.ino = ino;
    owner.seed = seed;
    owner.dir = is_dir;
    owner.htree = owner.dir && (flags & k_fl_index);
    owner.encrypted = flags & k_fl_encrypt;
    owner.hash_in_dirent = (flags & k_fl_encrypt) && (flags & k_fl_casefold);
    owner.casefold = flags & k_fl_casefold;
    const std::uint64_t size = le32(inode, 0x4) | (std::uint64_t{le32(inode, 0x6C)} << 32);
    owner.size_blocks =
        std::min<std::uint64_t>((size + sb.block_size - 1) / sb.block_size, k_max_dir_blocks);
    live.offset = static_cast<std::uint32_t>(off);
    live.acl = le32(inode, 0x68) | (std::uint64_t{le16(inode, 0x76)} << 32);
    if (flags & k_fl_inline_data) {
        // i_block holds data, not block pointers
    } else if (flags & k_fl_extents) {
        const Bytes iblock = inode.subspan(0x28, 60);
        const std::uint16_t depth = le16(iblock, 6);
        auto p = header_problem(iblock, std::min(depth, k_max_depth), 4);
        if (p.empty() && depth <= k_max_depth)
            p = extent_entries_problem(iblock, depth, owner.dir, sb, m_ctx.fixed);
        if (!p.empty() || depth > k_max_depth) {
            r.suspects.push_back(make_suspect(
                Structure::extent_block, ino, here(), std::nullopt,
                "in inode: " +
                    (p.empty() ? "extent tree depth " + std::to_string(depth) + " is impossible"
                               : p)));
            live.map = Map::none;
        } else {
            live.map = Map::extents;
        }
    } else if (owner.dir && le32(inode, 0x1C) != 0) {
        live.map = Map::block_mapped_dir;
    } else if ((mode & 0xF000) == 0x8000 && ino != k_resize_ino) {
        // Block-mapped regular file (ext2/ext3): its indirect blocks are read.
        const Bytes iblock = inode.subspan(0x28, 60);
        if (le32(iblock, 48) != 0 || le32(iblock, 52) != 0 || le32(iblock, 56) != 0)
            live.map = Map::block_mapped;
    }
    if (m_ledger && (mode & 0xF000) == 0x8000 && ino != k_bad_blocks_ino && ino != k_resize_ino &&
        !(flags & (k_fl_inline_data | k_fl_verity)) &&
        (live.map == Map::extents || !(flags & k_fl_extents))) {
        // A regular file's i_size against its map (stable mode): judged
        // at once when the inode holds the whole map.
        const auto [last, complete] = data_in_inode_map(inode, flags);
        owner.track_size = !complete;
        if (!complete || LinkLedger::size_short(size, last, sb.block_size))
            r.sizes.push_back({ino, size, last, complete, here()});
    }
    // Most inodes are small files whose extents sit in the inode: nothing
    // to follow, so they need no span (apply() reads `here` only for refs).
    live.follow = live.acl != 0 || owner.dir || live.map == Map::block_mapped_dir ||
                  live.map == Map::block_mapped ||
                  (live.map == Map::extents && le16(inode, 0x28 + 6) > 0);
    if (m_ctx.owners) {
        // Stable mode: every block the inode names is claimed.
        const std::uint16_t type = mode & 0xF000;
        live.direct = !(flags & (k_fl_extents | k_fl_inline_data)) &&
                      (type == 0x8000 || type == 0x4000 || type == 0xA000) && ino != k_resize_ino &&
                      !fast_symlink(inode, sb);
        if (ino == k_resize_ino)
            live.resize_dind = le32(inode, 0x28 + 4 * 13);
    }
    const bool claims = live.direct || live.resize_dind != 0 || live.map == Map::extents;
    if (!live.follow && !claims)
        return;
    if (live.follow)
        live.here = here();
    r.live.push_back(live);
}

void InodeWalker::apply(BlockResult& r, Bytes data) {
    const SuperInfo& sb = m_ctx.sb;
    if (!m_ctx.inode_types.empty() && r.inodes != 0)
        std::copy_n(m_ctx.staged_types.begin() + r.first_ino, r.inodes,
                    m_ctx.inode_types.begin() + r.first_ino);
    m_ctx.inodes_checked += r.checked;
    m_ctx.walk_incomplete = m_ctx.walk_incomplete || r.skipped;
    m_ctx.maybe_orphans = m_ctx.maybe_orphans || r.maybe_orphan;
    for (auto& x : r.suspects)
        m_ctx.suspects.push_back(std::move(x));
    if (m_ledger) {
        for (const auto& d : r.dtimes)
            m_ledger->dtime(d);
        for (const auto& f : r.sizes)
            m_ledger->file_size(f.ino, f.size, f.last_data, f.complete, f.here);
        for (auto& why : r.entries_incomplete)
            m_ledger->entries_incomplete(std::move(why));
    }
    for (const LiveInode& live : r.live) {
        const Owner& owner = live.owner;
        if (live.acl != 0 && live.acl < sb.blocks_count) {
            if (m_ctx.owners)
                m_ctx.owners->xattr_named(live.acl);
            if (m_xattr_seen.insert(live.acl)) {
                claim(live.acl, 1, owner.ino, Structure::xattr_block);
                m_xattrs.push_back({live.acl, owner.ino, live.here});
            }
        }
        if (live.direct)
            claim_direct(live, data.subspan(live.offset + 0x28, 60));
        if (live.resize_dind != 0)
            claim(live.resize_dind, 1, owner.ino, Structure::inode);
        if (live.map == Map::extents) {
            const Bytes iblock = data.subspan(live.offset + 0x28, 60);
            extent_entries(iblock, le16(iblock, 6), owner, live.here, LogicalRange{},
                           Structure::inode);
        }
        if (live.map == Map::block_mapped_dir || live.map == Map::block_mapped) {
            // i_block[12..14]: single, double, triple indirect blocks, mapping
            // from logical block 12, 12 + a and 12 + a + a^2 (a pointers a block).
            const Bytes iblock = data.subspan(live.offset + 0x28, 60);
            const std::uint64_t a = sb.block_size / 4;
            std::uint64_t base = 12;
            for (std::uint8_t level = 1; level <= 3; ++level) {
                const std::uint64_t b = le32(iblock, 44 + 4u * level);
                if (b != 0 && b < sb.blocks_count && b > sb.first_data_block && first_visit(b))
                    m_indirects.push_back({b, level, owner.ino, live.here, base});
                base += level == 1 ? a : level == 2 ? a * a : 0;
            }
        }
        if (live.map == Map::block_mapped_dir) {
            // Block-mapped directory (ext2/ext3): libext2fs walks the indirect
            // blocks; the directory blocks themselves are read here.
            for (const auto& [logical, physical] :
                 m_ctx.fs->block_map(owner.ino, std::max<std::uint64_t>(owner.size_blocks, 1))) {
                if (physical != 0 && physical < sb.blocks_count && first_visit(physical))
                    m_dirs.push_back({physical, logical, owner, live.here});
            }
        }
    }
}

void InodeWalker::claim(std::uint64_t first, std::uint64_t count, std::uint32_t ino,
                        Structure via) {
    if (m_ctx.owners)
        m_ctx.owners->claim(first, count, Claimant{ino, via});
}

void InodeWalker::claim_direct(const LiveInode& live, Bytes iblock) {
    // i_block[0..11] map data, [12..14] are the indirect blocks (claimed
    // here; check_indirect_block() claims what they name).
    for (std::size_t k = 0; k < 15; ++k)
        if (const std::uint64_t b = le32(iblock, 4 * k); b != 0)
            claim(b, 1, live.owner.ino, Structure::inode);
}

void InodeWalker::inode_block(std::uint64_t block, Bytes data, std::uint32_t first_ino) {
    BlockResult r = verify_block(block, data, first_ino);
    apply(r, data);
}

void InodeWalker::extent_entries(Bytes node, std::uint16_t depth, const Owner& owner,
                                 const Span& via, LogicalRange range, Structure from) {
    const SuperInfo& sb = m_ctx.sb;
    const std::uint16_t entries = le16(node, 2);
    if (m_ctx.owners) {
        for (std::size_t i = 0; i < entries; ++i) {
            const Bytes e = node.subspan(12 + 12 * i, 12);
            if (depth > 0) {
                claim(le32(e, 4) | (std::uint64_t{le16(e, 8)} << 32), 1, owner.ino, from);
                continue;
            }
            const std::uint16_t raw = le16(e, 4);
            claim(le32(e, 8) | (std::uint64_t{le16(e, 6)} << 32), raw > 32768 ? raw - 32768 : raw,
                  owner.ino, from);
        }
    }
    if (depth == 0 && owner.track_size) {
        // A regular file's leaf, read after its inode: the ledger's size rule.
        if (const std::int64_t last = last_data_block(node); last >= 0)
            m_ledger->mapped(owner.ino, static_cast<std::uint64_t>(last));
        return;
    }
    for (std::size_t i = 0; i < entries; ++i) {
        const Bytes e = node.subspan(12 + 12 * i, 12);
        if (depth > 0) {
            const std::uint64_t child = le32(e, 4) | (std::uint64_t{le16(e, 8)} << 32);
            if (child >= sb.blocks_count || child <= sb.first_data_block)
                continue; // out of range: nothing there to verify
            // The child covers this key up to the next one (or the end of ours).
            const LogicalRange covers{
                le32(e, 0), i + 1 < entries ? le32(node, 12 + 12 * (i + 1)) : range.hi, true};
            if (first_visit(child))
                m_trees.push_back(
                    {child, static_cast<std::uint16_t>(depth - 1), owner, via, covers});
            continue;
        }
        if (!owner.dir)
            continue;
        const std::uint64_t logical = le32(e, 0);
        std::uint32_t len = le16(e, 4);
        if (len > 32768)
            continue; // unwritten extent: reads as zeros, holds no entries
        const std::uint64_t start = le32(e, 8) | (std::uint64_t{le16(e, 6)} << 32);
        for (std::uint32_t k = 0; k < len; ++k) {
            if (logical + k >= owner.size_blocks || start + k >= sb.blocks_count)
                break;
            if (first_visit(start + k))
                m_dirs.push_back({start + k, logical + k, owner, via});
        }
    }
}

Status InodeWalker::submit() {
    BlockReader& reader = *m_ctx.reader;
    // Reference reads are bounded like the inode-table chunks: at most
    // k_refs_in_flight batches of a quarter chunk each; the rest stays queued.
    const std::size_t per = std::max<std::size_t>(1, m_ctx.batch_bytes / 4 / reader.block_size());
    auto check_range = [&](std::uint64_t block, std::uint32_t ino) -> Status {
        if ((block + 1) * reader.block_size() > reader.device_bytes())
            return Error{"truncated: metadata block " + std::to_string(block) + " (of inode " +
                             std::to_string(ino) + ") lies beyond the end of " + reader.path(),
                         0};
        return ok_status();
    };
    while (m_in_flight.size() < k_refs_in_flight &&
           !(m_trees.empty() && m_dirs.empty() && m_xattrs.empty() && m_indirects.empty())) {
        InFlight f;
        std::vector<std::uint64_t> blocks;
        // Extent blocks first: checking them queues the next level and the
        // directory blocks they map.
        while (blocks.size() < per && !m_trees.empty()) {
            GUARDIAN_TRY(check_range(m_trees.front().block, m_trees.front().owner.ino));
            blocks.push_back(m_trees.front().block);
            f.trees.push_back(std::move(m_trees.front()));
            m_trees.pop_front();
        }
        while (blocks.size() < per && !m_dirs.empty()) {
            GUARDIAN_TRY(check_range(m_dirs.front().block, m_dirs.front().owner.ino));
            blocks.push_back(m_dirs.front().block);
            f.dirs.push_back(std::move(m_dirs.front()));
            m_dirs.pop_front();
        }
        while (blocks.size() < per && !m_indirects.empty()) {
            GUARDIAN_TRY(check_range(m_indirects.front().block, m_indirects.front().ino));
            blocks.push_back(m_indirects.front().block);
            f.indirects.push_back(std::move(m_indirects.front()));
            m_indirects.pop_front();
        }
        while (blocks.size() < per && !m_xattrs.empty()) {
            GUARDIAN_TRY(check_range(m_xattrs.front().block, m_xattrs.front().ino));
            blocks.push_back(m_xattrs.front().block);
            f.xattrs.push_back(std::move(m_xattrs.front()));
            m_xattrs.pop_front();
        }
        f.batch = reader.submit(std::move(blocks));
        m_in_flight.push_back(std::move(f));
    }
    return ok_status();
}

Status InodeWalker::complete_oldest() {
    if (m_in_flight.empty())
        return ok_status();
    InFlight f = std::move(m_in_flight.front());
    m_in_flight.pop_front();
    // Checked in the order queued, whatever order the reads completed in: the
    // findings and digests never depend on thread timing.
    GUARDIAN_TRY(m_ctx.reader->wait(*f.batch));
    for (const auto& t : f.trees)
        check_tree_block(t, f.batch->data(t.block));
    for (const auto& d : f.dirs)
        check_dir_block(d, f.batch->data(d.block));
    for (const auto& x : f.xattrs)
        check_xattr_block(x, f.batch->data(x.block));
    for (const auto& i : f.indirects)
        check_indirect_block(i, f.batch->data(i.block));
    return ok_status();
}

Status InodeWalker::pump() {
    const std::size_t older = m_in_flight.size();
    GUARDIAN_TRY(submit());
    // The batches in flight before this chunk, and more while references
    // wait their turn (a tree of many small directories queues more than
    // two batches per chunk): left to drain(), they would all be checked at
    // the end, on one thread, while pump() runs beside the next chunk's
    // verification (scan.cpp).
    for (std::size_t done = 0;
         !m_in_flight.empty() && (done < older || (done < k_batches_per_pump && queued()));
         ++done) {
        GUARDIAN_TRY(complete_oldest());
        GUARDIAN_TRY(submit()); // what that revealed (next tree level, dir blocks)
    }
    return ok_status();
}

Status InodeWalker::drain() {
    GUARDIAN_TRY(submit());
    while (!m_in_flight.empty()) {
        GUARDIAN_TRY(complete_oldest());
        GUARDIAN_TRY(submit());
    }
    return ok_status();
}

void InodeWalker::check_tree_block(const TreeRef& ref, Bytes data) {
    record(Structure::extent_block, ref.block, data);
    const std::size_t room = (data.size() - 12) / 12;
    if (const auto p = header_problem(data, ref.depth, room); !p.empty()) {
        suspect(Structure::extent_block, ref.owner.ino, make_span(ref.block, data), ref.via, p);
        return;
    }
    if (m_ctx.sb.metadata_csum()) {
        const auto c = extent_block_csum(data, ref.owner.seed);
        if (!c || !c->ok()) {
            suspect(Structure::extent_block, ref.owner.ino, make_span(ref.block, data), ref.via,
                    c ? c->describe() : "no room for the checksum tail");
            return;
        }
    }
    if (auto p = extent_entries_problem(data, ref.depth, ref.owner.dir, m_ctx.sb, m_ctx.fixed,
                                        ref.range);
        !p.empty()) {
        suspect(Structure::extent_block, ref.owner.ino, make_span(ref.block, data), ref.via, p);
        return;
    }
    extent_entries(data, ref.depth, ref.owner, make_span(ref.block, data), ref.range,
                   Structure::extent_block);
}

void InodeWalker::finish() {
    for (const EntryRef& e : m_later_entries)
        check_entry_target(e);
    m_later_entries.clear();
    if (m_htree)
        for (auto& x : m_htree->judge())
            m_ctx.suspects.push_back(std::move(x));
    if (!m_ledger)
        return;
    auto found = m_ledger->judge(m_ctx.groups, !m_ctx.suspects.empty());
    for (auto& x : found)
        m_ctx.suspects.push_back(std::move(x));
    for (const auto& n : m_ledger->not_verified())
        m_ctx.not_verified.push_back(n);
}

void InodeWalker::check_indirect_block(const IndirectRef& ref, Bytes data) {
    const SuperInfo& sb = m_ctx.sb;
    record(Structure::indirect_block, ref.block, data);
    const Span here = make_span(ref.block, data);
    if (auto p = indirect_entries_problem(data, ref.block, sb, m_ctx.fixed); !p.empty()) {
        suspect(Structure::indirect_block, ref.ino, here, ref.via, std::move(p));
        return;
    }
    const std::size_t n = data.size() / 4;
    if (m_ctx.owners)
        for (std::size_t k = 0; k < n; ++k)
            if (const std::uint64_t b = le32(data, 4 * k); b != 0)
                claim(b, 1, ref.ino, Structure::indirect_block);
    if (ref.level == 1) {
        if (m_ledger)
            for (std::size_t k = n; k-- > 0;)
                if (le32(data, 4 * k) != 0) {
                    m_ledger->mapped(ref.ino, ref.base + k);
                    break;
                }
        return;
    }
    // What each pointer of this block covers: a^(level - 1) logical blocks.
    std::uint64_t covers = 1;
    for (std::uint8_t l = 1; l < ref.level; ++l)
        covers *= n;
    for (std::size_t k = 0; k < n; ++k) {
        const std::uint64_t b = le32(data, 4 * k);
        if (b != 0 && b > sb.first_data_block && first_visit(b))
            m_indirects.push_back({b, static_cast<std::uint8_t>(ref.level - 1), ref.ino, here,
                                   ref.base + k * covers});
    }
}

void InodeWalker::check_xattr_block(const XattrRef& ref, Bytes data) {
    record(Structure::xattr_block, ref.block, data);
    if (le32(data, 0) != k_xattr_magic || le32(data, 8) != 1) {
        suspect(Structure::xattr_block, ref.ino, make_span(ref.block, data), ref.via,
                "bad xattr block header: magic " + std::to_string(le32(data, 0)) + ", h_blocks " +
                    std::to_string(le32(data, 8)));
        return;
    }
    if (m_ctx.sb.metadata_csum()) {
        if (const auto c = xattr_block_csum(data, ref.block, m_ctx.sb.csum_seed); !c.ok()) {
            suspect(Structure::xattr_block, ref.ino, make_span(ref.block, data), ref.via,
                    c.describe());
            return;
        }
    }
    if (auto p = xattr_entries_problem(data, m_ctx.sb); !p.empty()) {
        suspect(Structure::xattr_block, ref.ino, make_span(ref.block, data), ref.via, std::move(p));
        return;
    }
    if (m_ctx.owners)
        m_ctx.owners->xattr_refcount(ref.block, le32(data, 4));
}

} // namespace guardian::ext4
