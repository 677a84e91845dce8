// Orchestration of one scan: superblock, group descriptors and journal first
// (small, fixed places), then the inode tables chunk by chunk. A chunk is cut
// into pieces of a group's table that two threads read and verify; the
// results are applied in order on one thread. What the last chunk's inodes
// reference (extent, directory, xattr blocks) is read and checked on this
// thread while the helper verifies the next chunk, so neither the page
// cache's copies nor the directory checks wait for each other. Findings are
// first collected as suspects; on a live filesystem the confirmation pass
// (scan_confirm.cpp) keeps only damage that is not explained by the journal
// and persists across a re-read.
#include "guardian/ext4/scan.hpp"

#include "guardian/ext4/block_owners.hpp"
#include "guardian/ext4/checksums.hpp"
#include "guardian/ext4/dir_rules.hpp"
#include "guardian/ext4/fixed_metadata.hpp"
#include "guardian/ext4/inode_walk.hpp"
#include "guardian/ext4/scan_confirm.hpp"
#include "guardian/ext4/structure_rules.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <exception>
#include <functional>
#include <thread>
#include <tuple>

namespace guardian::ext4 {
namespace {

std::string now_iso8601() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

Error truncated(const BlockReader& r, const std::string& what, std::uint64_t block) {
    return Error{"truncated: " + what + " block " + std::to_string(block) +
                     " lies beyond the end of " + r.path() + " (" +
                     std::to_string(r.device_bytes()) + " bytes)",
                 0};
}

// One group's share of the inode table stream.
struct GroupPlan {
    std::uint32_t group = 0;
    std::uint64_t itable_blocks = 0; // blocks that can hold in-use inodes
    bool block_bitmap = false;
    bool inode_bitmap = false;
};

// A group verified on its own (either thread): applied afterwards in order.
struct GroupWork {
    struct RegionDigest {
        Structure structure;
        std::uint64_t blocks;
        std::string digest;
    };
    std::vector<RegionDigest> regions;
    std::vector<Suspect> suspects;
    std::vector<InodeWalker::BlockResult> blocks; // one per inode-table block
    std::vector<std::byte> block_bitmap;          // kept for ownership (stable mode)
    std::vector<std::byte> inode_bitmap;
};

class Scanner {
public:
    Scanner(const ScanOptions& o, BlockReader& reader, FsHandle& fs) : m_opt(o) {
        m_ctx.reader = &reader;
        m_ctx.fs = &fs;
        m_ctx.fingerprint = o.fingerprint;
        m_ctx.mode = o.mode;
        // Small chunks: each buffer page is faulted in (and cleared) once per
        // scan, and the buffers in use at once are about four chunks (the one
        // verified, the next in flight, two batches of references). 2 MiB
        // cut into k_max_run_bytes runs keeps the disk as busy as 8 MiB did.
        m_ctx.batch_bytes = std::max<std::size_t>(o.memory_budget / 16, 1u << 20);
        m_two_threads = std::thread::hardware_concurrency() > 1;
    }

    Result<ScanResult> run(Bytes sb_bytes);

private:
    Status read_group_descriptors();
    void check_geometry();
    // Stable mode: a descriptor's bitmap or table away from where its
    // neighbours' layout puts it (block_owners.hpp's displaced_position).
    [[nodiscard]] std::optional<std::uint64_t> displaced(std::uint32_t g, MetaKind kind) const;
    void start_ownership(const std::vector<MetaExtent>& all);
    void judge_ownership(bool complete);
    Status scan_journal();
    Status scan_inode_tables();
    // A piece of one group's work: its bitmaps (the piece at block 0) and
    // inode-table blocks [first, first + count).
    struct Piece {
        std::size_t group; // index into the chunk
        std::uint64_t first;
        std::uint64_t count;
    };
    void verify_bitmaps(const GroupPlan& plan, ReadBatch& batch, GroupWork& w) const;
    void verify_piece(const GroupPlan& plan, const Piece& piece, ReadBatch& batch,
                      const InodeWalker& walker, GroupWork& w) const;
    void apply_group(const GroupPlan& plan, GroupWork& work, const ReadBatch& batch,
                     InodeWalker& walker);
    // `first`: work for this thread before it joins the verification (the
    // last chunk's references); it must not touch what verification writes.
    [[nodiscard]] Status process_chunk(const std::vector<GroupPlan>& chunk, ReadBatch& batch,
                                       InodeWalker& walker, const std::function<Status()>& first);
    void add_suspect(Structure s, std::optional<std::uint32_t> group, const Span& at,
                     std::string detail) {
        Suspect x;
        x.finding = Finding{s, group, std::nullopt, at.block, std::move(detail)};
        x.at = at;
        m_ctx.suspects.push_back(std::move(x));
    }
    // The 1024-byte superblock inside its block.
    [[nodiscard]] Span sb_span() const {
        return {m_ctx.sb.sb_block, 1024 % m_ctx.sb.block_size, 1024, block_hash(m_ctx.sb.raw)};
    }

    const ScanOptions& m_opt;
    ScanContext m_ctx;
    ScanResult m_out;
    std::vector<bool> m_group_ok;
    std::optional<Journal> m_journal;
    JournalSuperblock m_jsb;
    LogScan m_log;
    bool m_two_threads = false;
    std::unique_ptr<BlockOwners> m_owners;
    std::vector<GroupBackups> m_backups;
    std::vector<BlockOwners::Displaced> m_displaced;
    std::vector<std::vector<std::byte>> m_block_bitmaps; // per group, as read (stable mode)
    std::vector<std::vector<std::byte>> m_inode_bitmaps;
};

Result<ScanResult> Scanner::run(Bytes sb_bytes) {
    auto& report = m_out.report;
    std::string insane;
    m_ctx.sb = parse_superblock(sb_bytes, insane);
    const SuperInfo& sb = m_ctx.sb;
    report.identity.type = sb.type();
    report.identity.uuid = sb.uuid();
    report.identity.label = sb.label();
    report.metadata_csum = sb.metadata_csum();
    BlockReader& reader = *m_ctx.reader;
    if (!insane.empty()) {
        report.findings.push_back({Structure::superblock, std::nullopt, std::nullopt, 0,
                                   "impossible superblock: " + insane});
        return std::move(m_out);
    }
    reader.set_block_size(sb.block_size);
    if (m_opt.mode == CheckMode::stable && (sb.feature_incompat & k_incompat_filetype)) {
        m_ctx.inode_types.assign(std::size_t{sb.inodes_count} + 1, k_inode_unknown);
        m_ctx.staged_types.assign(std::size_t{sb.inodes_count} + 1, k_inode_unknown);
    }
    if (sb.metadata_csum()) {
        const Bytes raw(sb.raw);
        if (u8(raw, 0x175) != 1)
            add_suspect(Structure::superblock, std::nullopt, sb_span(),
                        "unknown checksum type " + std::to_string(u8(raw, 0x175)));
        else if (const auto c = superblock_csum(raw); !c.ok())
            add_suspect(Structure::superblock, std::nullopt, sb_span(), c.describe());
    }
    // One finding per object: the structural rules only where the checksum held.
    if (m_ctx.suspects.empty())
        if (auto p = superblock_problem(sb); !p.empty())
            add_suspect(Structure::superblock, std::nullopt, sb_span(), std::move(p));
    if (m_ctx.fingerprint) {
        StreamDigest d;
        d.update(sb.raw);
        m_ctx.digests.add_region(Structure::superblock, std::nullopt, 1, d.hex());
    }
    add_superblock_geometry(sb, m_out.fingerprint.geometry);
    if (sb.blocks_count * sb.block_size > reader.device_bytes())
        report.findings.push_back({Structure::geometry, std::nullopt, std::nullopt, std::nullopt,
                                   "s_blocks_count " + std::to_string(sb.blocks_count) + " (" +
                                       std::to_string(sb.blocks_count * sb.block_size) +
                                       " bytes) is larger than the device (" +
                                       std::to_string(reader.device_bytes()) + " bytes)"});

    GUARDIAN_TRY(read_group_descriptors());
    check_geometry();
    GUARDIAN_TRY(scan_journal());
    GUARDIAN_TRY(scan_inode_tables());

    Confirmer confirm(m_ctx, m_opt.mode, m_journal ? &*m_journal : nullptr, m_jsb, m_log);
    GUARDIAN_TRY(confirm.run(report));

    if (!sb.metadata_csum()) {
        // What a checksum would have covered; the structural rules still ran.
        const bool extents = sb.feature_incompat & k_incompat_extents;
        std::string what = sb.gdt_csum() ? "" : "group_descriptor, ";
        what += "superblock, inode, ";
        what += extents ? "extent_block, " : "";
        what += "directory_block, htree_block, xattr_block, block_bitmap, inode_bitmap";
        if (sb.has_journal())
            what += ", journal_superblock, journal_block";
        report.not_verified.push_back(
            what + ": checksums not verified (no metadata_csum); structural checks only");
    } else if (m_opt.mode == CheckMode::live) {
        report.not_verified.push_back("block_bitmap, inode_bitmap: not verified in live mode "
                                      "(their checksums lag on a mounted filesystem)");
    }
    if (m_opt.mode == CheckMode::live && (sb.feature_incompat & k_incompat_filetype))
        report.not_verified.push_back("directory_block: file types against inode modes, entries "
                                      "of unused inodes: not verified in live mode");
    if (m_opt.mode == CheckMode::live)
        report.not_verified.push_back("directory_block: duplicate names within a block: not "
                                      "verified in live mode (a block read mid-rewrite can tear)");
    // The ledger's rules (link_ledger.hpp): stable mode, journal replayed.
    if (m_opt.mode == CheckMode::live)
        report.not_verified.push_back("inode: link counts, deletion times, regular-file sizes "
                                      "against their maps: not verified in live mode");
    else if (sb.feature_incompat & k_incompat_recover)
        report.not_verified.push_back("inode: link counts, deletion times, regular-file sizes "
                                      "against their maps: not verified (the journal holds "
                                      "transactions not yet replayed)");
    for (auto& n : m_ctx.not_verified)
        report.not_verified.push_back(std::move(n));
    m_out.fingerprint.regions = m_ctx.fingerprint ? m_ctx.digests.finish() : std::vector<Region>{};
    report.stats.inodes_checked = m_ctx.inodes_checked;
    return std::move(m_out);
}

Status Scanner::read_group_descriptors() {
    const SuperInfo& sb = m_ctx.sb;
    BlockReader& reader = *m_ctx.reader;
    const std::uint64_t n = sb.desc_blocks();
    std::vector<std::uint64_t> blocks;
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t b = m_ctx.fs->descriptor_block(i);
        if ((b + 1) * sb.block_size > reader.device_bytes())
            return truncated(reader, "group descriptor", b);
        blocks.push_back(b);
    }
    GUARDIAN_TRY_ASSIGN(auto batch, reader.read(blocks));
    const std::uint32_t per = sb.block_size / sb.desc_size;
    m_ctx.groups.reserve(sb.group_count);
    for (std::uint32_t g = 0; g < sb.group_count; ++g) {
        const std::uint64_t b = blocks[g / per];
        const Bytes d = batch->data(b).subspan(std::size_t{g % per} * sb.desc_size, sb.desc_size);
        m_ctx.groups.push_back(parse_group_desc(d));
        std::string problem;
        if (sb.gdt_csum()) {
            if (const auto c = group_desc_csum(d, g, sb.csum_seed, sb.metadata_csum(),
                                               Bytes(sb.raw).subspan(0x68, 16));
                !c.ok())
                problem = c.describe();
        }
        if (problem.empty())
            problem = group_desc_problem(d, g, sb);
        if (!problem.empty())
            add_suspect(
                Structure::group_descriptor, g,
                make_span(b, batch->data(b), std::size_t{g % per} * sb.desc_size, sb.desc_size),
                std::move(problem));
        if (m_ctx.fingerprint) {
            StreamDigest dg;
            dg.update(d);
            m_ctx.digests.add_region(Structure::group_descriptor, g, 1, dg.hex());
        }
        add_group_geometry(g, m_ctx.groups.back(), m_out.fingerprint.geometry);
    }
    return ok_status();
}

void Scanner::check_geometry() {
    const SuperInfo& sb = m_ctx.sb;
    // Group 0's superblock + descriptor table + reserved GDT blocks.
    const std::uint64_t meta_end = sb.first_data_block + 1 + sb.desc_blocks() + sb.reserved_gdt;
    const std::uint64_t itb = sb.inode_table_blocks();
    m_group_ok.assign(sb.group_count, true);
    for (std::uint32_t g = 0; g < sb.group_count; ++g) {
        const GroupDesc& gd = m_ctx.groups[g];
        const std::uint64_t gstart = sb.first_data_block + std::uint64_t{g} * sb.blocks_per_group;
        const std::uint64_t gend = std::min(sb.blocks_count, gstart + sb.blocks_per_group);
        std::string problem;
        auto check = [&](const char* what, std::uint64_t first, std::uint64_t count) {
            if (!problem.empty())
                return;
            if (first < sb.first_data_block || first + count > sb.blocks_count ||
                first + count < first)
                problem = std::string(what) + " at block " + std::to_string(first) +
                          " lies outside the filesystem";
            else if (first < meta_end && first + count > sb.first_data_block &&
                     !(sb.feature_incompat & k_incompat_meta_bg))
                problem = std::string(what) + " at block " + std::to_string(first) +
                          " overlaps the superblock / group descriptor table";
            else if (!sb.flex_bg() && (first < gstart || first + count > gend))
                problem = std::string(what) + " at block " + std::to_string(first) +
                          " lies outside its group (no flex_bg)";
        };
        check("block bitmap", gd.block_bitmap, 1);
        check("inode bitmap", gd.inode_bitmap, 1);
        check("inode table", gd.inode_table, itb);
        if (!problem.empty()) {
            m_group_ok[g] = false;
            m_out.report.findings.push_back({Structure::geometry, g, std::nullopt, std::nullopt,
                                             "group " + std::to_string(g) + ": " + problem});
        }
    }
    // No two pieces of fixed metadata may share a block: superblock copies and
    // descriptor tables where libext2fs places them, and what each group's
    // descriptor points to (only where that lies inside the filesystem).
    std::vector<MetaExtent> all;
    m_backups.clear();
    for (std::uint32_t g = 0; g < sb.group_count; ++g) {
        const GroupBackups b = m_ctx.fs->group_backups(g);
        m_backups.push_back(b);
        if (b.has_super)
            all.push_back({b.super, 1, MetaKind::superblock, g});
        if (b.old_desc_count != 0)
            all.push_back({b.old_desc, b.old_desc_count, MetaKind::descriptors, g});
        if (b.new_desc != 0)
            all.push_back({b.new_desc, 1, MetaKind::descriptors, g});
        if (!m_group_ok[g])
            continue;
        const GroupDesc& gd = m_ctx.groups[g];
        all.push_back({gd.block_bitmap, 1, MetaKind::block_bitmap, g});
        all.push_back({gd.inode_bitmap, 1, MetaKind::inode_bitmap, g});
        all.push_back({gd.inode_table, itb, MetaKind::inode_table, g});
    }
    // Ownership needs every claim the journal could still change written home,
    // and bigalloc's bitmaps count clusters (not judged).
    if (m_opt.mode == CheckMode::stable && !(sb.feature_incompat & k_incompat_recover) &&
        !(sb.feature_ro_compat & k_ro_compat_bigalloc))
        start_ownership(all);
    for (const MetaExtent& e : all) {
        const bool moved = std::any_of(m_displaced.begin(), m_displaced.end(), [&](const auto& d) {
            return d.extent.group == e.group && d.extent.kind == e.kind;
        });
        if (!moved) // a file on a moved descriptor's target is not the damaged side
            m_ctx.fixed.add(e);
    }
    m_ctx.fixed.finish();
    for (auto& c : collisions(std::move(all))) {
        m_group_ok[c.group] = false;
        m_out.report.findings.push_back({Structure::geometry, c.group, std::nullopt, std::nullopt,
                                         "group " + std::to_string(c.group) + ": " + c.problem});
    }
}

std::optional<std::uint64_t> Scanner::displaced(std::uint32_t g, MetaKind kind) const {
    const SuperInfo& sb = m_ctx.sb;
    // Without flex_bg each group's metadata sits at the same offset past its
    // own superblock copy and descriptors; with flex_bg they are packed.
    auto base = [&](std::uint32_t k) -> std::int64_t {
        if (sb.flex_bg())
            return 0;
        const GroupBackups& b = m_backups[k];
        return static_cast<std::int64_t>(
            sb.first_data_block + std::uint64_t{k} * sb.blocks_per_group + (b.has_super ? 1 : 0) +
            b.old_desc_count + (b.new_desc != 0 ? 1 : 0));
    };
    std::vector<std::int64_t> at;
    for (std::uint32_t k = 0; k < sb.group_count; ++k) {
        const GroupDesc& gd = m_ctx.groups[k];
        const std::uint64_t pos = kind == MetaKind::block_bitmap   ? gd.block_bitmap
                                  : kind == MetaKind::inode_bitmap ? gd.inode_bitmap
                                                                   : gd.inode_table;
        at.push_back(static_cast<std::int64_t>(pos) - base(k));
    }
    const auto p = displaced_position(at, g);
    if (!p)
        return std::nullopt;
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(*p) + base(g));
}

void Scanner::start_ownership(const std::vector<MetaExtent>& all) {
    const SuperInfo& sb = m_ctx.sb;
    m_owners = std::make_unique<BlockOwners>(sb);
    m_ctx.owners = m_owners.get();
    m_block_bitmaps.assign(sb.group_count, {});
    m_inode_bitmaps.assign(sb.group_count, {});
    for (const MetaExtent& e : all) {
        if (e.kind == MetaKind::superblock || e.kind == MetaKind::descriptors) {
            m_owners->claim_fixed(e.first, e.count);
            continue;
        }
        if (const auto y = displaced(e.group, e.kind)) {
            m_displaced.push_back({e, *y});
            m_owners->claim_displaced(m_displaced.back());
        } else {
            m_owners->claim_fixed(e.first, e.count);
        }
    }
    // The multi-mount protection block: claimed by the superblock.
    const Bytes raw(sb.raw);
    if (sb.feature_incompat & 0x100) // MMP
        m_owners->claim_fixed(le32(raw, 0x168) | (std::uint64_t{le32(raw, 0x16C)} << 32), 1);
}

void Scanner::judge_ownership(bool complete) {
    const SuperInfo& sb = m_ctx.sb;
    // A filesystem not cleanly unmounted (or mounted and frozen) may hold
    // preallocated blocks and orphans no inode claims: only what is in use
    // but marked free is judged there.
    const bool clean = (le16(Bytes(sb.raw), 0x3A) & 1) != 0;
    BlockOwners::Inputs in;
    in.groups = &m_ctx.groups;
    in.fixed = &m_ctx.fixed;
    in.block_bitmaps = &m_block_bitmaps;
    in.inode_bitmaps = &m_inode_bitmaps;
    in.complete = complete && clean;
    in.orphans = m_ctx.maybe_orphans || le32(Bytes(sb.raw), 0xE8) != 0;
    for (auto& x : m_owners->judge(in))
        m_ctx.suspects.push_back(std::move(x));
    if (!in.complete || in.orphans)
        m_ctx.not_verified.push_back(
            std::string("block_bitmap, inode_bitmap: blocks and inodes marked in use that no inode "
                        "claims not judged (") +
            (in.orphans ? "orphans hold them"
             : !clean   ? "the filesystem is not marked clean"
                        : "other damage found") +
            ")");
}

Status Scanner::scan_journal() {
    const SuperInfo& sb = m_ctx.sb;
    auto& report = m_out.report;
    if (!sb.has_journal())
        return ok_status();
    if (sb.journal_dev != 0 || sb.journal_inum == 0) {
        report.not_verified.push_back("journal: external journal device not verified");
        return ok_status();
    }
    if (sb.journal_inum > sb.inodes_count) {
        report.findings.push_back({Structure::journal_superblock, std::nullopt, sb.journal_inum,
                                   std::nullopt, "s_journal_inum beyond s_inodes_count"});
        return ok_status();
    }
    m_journal.emplace(*m_ctx.reader, m_ctx.fs->journal_map(sb.journal_inum), sb.blocks_count,
                      m_ctx.fs->inode_size_bytes(sb.journal_inum));
    std::vector<Finding> jf;
    GUARDIAN_TRY_ASSIGN(m_jsb, m_journal->read_superblock(jf));
    for (auto& f : jf)
        add_suspect(f.structure, std::nullopt, {*f.block, 0, 1024, block_hash(m_jsb.raw)},
                    f.detail);
    if (!m_jsb.raw.empty()) {
        auto& g = m_out.fingerprint.geometry;
        g["journal_superblock.s_blocksize"] = std::to_string(m_jsb.blocksize);
        g["journal_superblock.s_maxlen"] = std::to_string(m_jsb.maxlen);
        g["journal_superblock.s_first"] = std::to_string(m_jsb.first);
        SuperInfo tmp;
        tmp.raw.assign(0x68, std::byte{0});
        tmp.raw.insert(tmp.raw.end(), m_jsb.raw.begin() + 0x30, m_jsb.raw.begin() + 0x40);
        g["journal_superblock.s_uuid"] = tmp.uuid();
        // The journal's feature words are not geometry: jbd2 writes them
        // (64BIT, CSUM_V3, ...) into the on-disk superblock some time after
        // the mount, so a live baseline can see 0 and a later read 0x12.
        // Seen on the Xen rig as a false critical; the frozen comparison
        // still covers them byte for byte (journal_superblock region).
        if (m_ctx.fingerprint) {
            StreamDigest d;
            d.update(m_jsb.raw);
            m_ctx.digests.add_region(Structure::journal_superblock, std::nullopt, 1, d.hex());
        }
    }
    if (!jf.empty())
        return ok_status(); // no usable log to walk
    // A log with no recovery pending: e2fsck and the kernel's mount ignore
    // (and wipe) it. Stable only: a mounted filesystem always has the flag.
    if (m_opt.mode == CheckMode::stable && m_jsb.start != 0 &&
        !(sb.feature_incompat & k_incompat_recover)) {
        add_suspect(Structure::journal_superblock, std::nullopt,
                    {m_jsb.physical, 0, 1024, block_hash(m_jsb.raw)},
                    "s_start " + std::to_string(m_jsb.start) +
                        " but the filesystem's needs_recovery flag is clear");
        return ok_status();
    }
    GUARDIAN_TRY_ASSIGN(m_log, m_journal->walk(m_jsb, m_jsb.start, m_jsb.sequence,
                                               m_opt.mode == CheckMode::stable));
    if (m_ctx.fingerprint)
        for (const auto& d : m_log.log_blocks)
            m_ctx.digests.add_block(Structure::journal_block, std::nullopt, d);
    return ok_status();
}

Status Scanner::scan_inode_tables() {
    const SuperInfo& sb = m_ctx.sb;
    BlockReader& reader = *m_ctx.reader;
    const bool csum = sb.gdt_csum();
    // Plan the groups and cut them into chunks of about batch_bytes of reads.
    std::vector<std::vector<GroupPlan>> chunks(1);
    std::uint64_t chunk_bytes = 0;
    for (std::uint32_t g = 0; g < sb.group_count; ++g) {
        if (!m_group_ok[g])
            continue;
        const GroupDesc& gd = m_ctx.groups[g];
        GroupPlan p;
        p.group = g;
        std::uint64_t used = sb.inodes_per_group;
        if (csum)
            used = (gd.flags & k_bg_inode_uninit)
                       ? 0
                       : sb.inodes_per_group - std::min(gd.itable_unused, sb.inodes_per_group);
        p.itable_blocks = (used * sb.inode_size + sb.block_size - 1) / sb.block_size;
        p.block_bitmap = !(csum && (gd.flags & k_bg_block_uninit));
        p.inode_bitmap = !(csum && (gd.flags & k_bg_inode_uninit));
        if (p.block_bitmap && (gd.block_bitmap + 1) * sb.block_size > reader.device_bytes())
            return truncated(reader, "block bitmap of group " + std::to_string(g) + ":",
                             gd.block_bitmap);
        if (p.inode_bitmap && (gd.inode_bitmap + 1) * sb.block_size > reader.device_bytes())
            return truncated(reader, "inode bitmap of group " + std::to_string(g) + ":",
                             gd.inode_bitmap);
        if ((gd.inode_table + p.itable_blocks) * sb.block_size > reader.device_bytes())
            return truncated(reader, "inode table of group " + std::to_string(g) + ":",
                             gd.inode_table + p.itable_blocks - 1);
        const std::uint64_t bytes = (p.itable_blocks + 2) * sb.block_size;
        if (chunk_bytes > 0 && chunk_bytes + bytes > m_ctx.batch_bytes) {
            chunks.emplace_back();
            chunk_bytes = 0;
        }
        chunks.back().push_back(p);
        chunk_bytes += bytes;
    }
    auto submit = [&](const std::vector<GroupPlan>& chunk) {
        std::vector<std::uint64_t> blocks;
        for (const auto& p : chunk) {
            const GroupDesc& gd = m_ctx.groups[p.group];
            if (p.block_bitmap)
                blocks.push_back(gd.block_bitmap);
            if (p.inode_bitmap)
                blocks.push_back(gd.inode_bitmap);
            for (std::uint64_t b = 0; b < p.itable_blocks; ++b)
                blocks.push_back(gd.inode_table + b);
        }
        return reader.submit(std::move(blocks));
    };
    InodeWalker walker(m_ctx);
    std::unique_ptr<ReadBatch> current = submit(chunks[0]);
    for (std::size_t c = 0; c < chunks.size(); ++c) {
        std::unique_ptr<ReadBatch> next;
        if (c + 1 < chunks.size())
            next = submit(chunks[c + 1]);
        // The chunk's reads are done by the threads that verify it, each
        // piece's right before its verification (BlockReader::ensure). What
        // the last chunk's inodes reference is read and checked (pump) on
        // this thread while the helper verifies this chunk: the checks read
        // no state that verification writes (scan_context.hpp, staged_types),
        // and the order of everything applied stays that of one thread:
        // chunk c-1 applied, its references, chunk c applied.
        // On an error `next` is dropped unread (~ReadBatch withdraws it).
        const std::function<Status()> refs = [&] { return c == 0 ? ok_status() : walker.pump(); };
        GUARDIAN_TRY(process_chunk(chunks[c], *current, walker, refs));
        current = std::move(next);
    }
    GUARDIAN_TRY(walker.drain());
    // Every in-use inode's map followed without a finding: then a block no
    // one claims is a real difference (judged after the entries and ledger).
    const bool complete =
        m_ctx.suspects.empty() && m_out.report.findings.empty() && !m_ctx.walk_incomplete;
    walker.finish();
    if (m_owners)
        judge_ownership(complete);
    return ok_status();
}

void Scanner::verify_bitmaps(const GroupPlan& p, ReadBatch& batch, GroupWork& w) const {
    const SuperInfo& sb = m_ctx.sb;
    const GroupDesc& gd = m_ctx.groups[p.group];
    BlockReader& reader = *m_ctx.reader;
    if ((p.block_bitmap && !reader.ensure(batch, gd.block_bitmap, 1)) ||
        (p.inode_bitmap && !reader.ensure(batch, gd.inode_bitmap, 1)))
        return; // never applied: the chunk's wait() returns the failed read
    // Bitmap checksums cover the bits in use: clusters or inodes per group.
    const bool verify = sb.metadata_csum() && m_opt.mode == CheckMode::stable;
    // True when the bitmap's checksum (if verified) holds: only then is it
    // compared with the claims (one finding per object).
    auto bitmap = [&](Structure s, std::uint64_t block, std::size_t n, std::uint32_t stored) {
        const Bytes d = batch.data(block);
        if (m_ctx.fingerprint) {
            StreamDigest sd;
            sd.update(d);
            w.regions.push_back({s, 1, sd.hex()});
        }
        if (verify && n <= d.size()) {
            if (const auto c = bitmap_csum(d.first(n), sb.csum_seed, stored, gd.bitmap_csum_hi);
                !c.ok()) {
                Suspect x;
                x.finding = Finding{s, p.group, std::nullopt, block, c.describe()};
                x.at = make_span(block, d);
                w.suspects.push_back(std::move(x));
                return false;
            }
        }
        return true;
    };
    // Judged after the walk against the claims (block_owners.hpp).
    auto keep = [&](std::uint64_t block, std::size_t bits) {
        const Bytes d = batch.data(block);
        const Bytes part = d.first(std::min(d.size(), bits / 8));
        return std::vector<std::byte>(part.begin(), part.end());
    };
    if (p.block_bitmap &&
        bitmap(Structure::block_bitmap, gd.block_bitmap, sb.clusters_per_group / 8,
               gd.block_bitmap_csum) &&
        m_owners)
        w.block_bitmap = keep(gd.block_bitmap, sb.blocks_per_group);
    if (p.inode_bitmap &&
        bitmap(Structure::inode_bitmap, gd.inode_bitmap, sb.inodes_per_group / 8,
               gd.inode_bitmap_csum) &&
        m_owners)
        w.inode_bitmap = keep(gd.inode_bitmap, sb.inodes_per_group);
}

void Scanner::verify_piece(const GroupPlan& p, const Piece& piece, ReadBatch& batch,
                           const InodeWalker& walker, GroupWork& w) const {
    if (piece.first == 0)
        verify_bitmaps(p, batch, w);
    const SuperInfo& sb = m_ctx.sb;
    const GroupDesc& gd = m_ctx.groups[p.group];
    if (!m_ctx.reader->ensure(batch, gd.inode_table + piece.first, piece.count))
        return; // as above
    const std::uint64_t per_block = sb.block_size / sb.inode_size;
    for (std::uint64_t b = piece.first; b < piece.first + piece.count; ++b) {
        const std::uint64_t first =
            std::uint64_t{p.group} * sb.inodes_per_group + b * per_block + 1;
        w.blocks[b] = walker.verify_block(gd.inode_table + b, batch.data(gd.inode_table + b),
                                          static_cast<std::uint32_t>(first));
    }
}

void Scanner::apply_group(const GroupPlan& p, GroupWork& w, const ReadBatch& batch,
                          InodeWalker& walker) {
    const GroupDesc& gd = m_ctx.groups[p.group];
    for (auto& r : w.regions)
        m_ctx.digests.add_region(r.structure, p.group, r.blocks, std::move(r.digest));
    if (m_ctx.fingerprint) {
        // One stream over the group's table, so hashed here, in order (the
        // bytes were just verified and XXH3 is cheap beside the rules).
        StreamDigest itable;
        for (std::uint64_t b = 0; b < p.itable_blocks; ++b)
            itable.update(batch.data(gd.inode_table + b));
        m_ctx.digests.add_region(Structure::inode, p.group, p.itable_blocks, itable.hex());
    }
    for (auto& x : w.suspects)
        m_ctx.suspects.push_back(std::move(x));
    if (m_owners) {
        m_block_bitmaps[p.group] = std::move(w.block_bitmap);
        m_inode_bitmaps[p.group] = std::move(w.inode_bitmap);
    }
    for (std::uint64_t b = 0; b < w.blocks.size(); ++b)
        walker.apply(w.blocks[b], batch.data(gd.inode_table + b));
}

Status Scanner::process_chunk(const std::vector<GroupPlan>& chunk, ReadBatch& batch,
                              InodeWalker& walker, const std::function<Status()>& first) {
    // Groups are cut into pieces of k_piece_blocks inode-table blocks
    // (a group's table is often a whole chunk), verified by this thread and
    // a helper, each taking the next unclaimed piece and reading it first
    // (BlockReader::ensure), so a helper the scheduler is slow to run delays
    // the chunk by at most the one piece it holds. Results are applied in
    // group order afterwards: the outcome is that of a single-threaded pass.
    constexpr std::uint64_t k_piece_blocks = 64;
    std::vector<GroupWork> work(chunk.size());
    std::vector<Piece> pieces;
    for (std::size_t i = 0; i < chunk.size(); ++i) {
        const std::uint64_t n = chunk[i].itable_blocks;
        work[i].blocks.resize(n);
        pieces.push_back({i, 0, std::min(n, k_piece_blocks)}); // with the bitmaps
        for (std::uint64_t b = k_piece_blocks; b < n; b += k_piece_blocks)
            pieces.push_back({i, b, std::min(n - b, k_piece_blocks)});
    }
    std::atomic<std::size_t> next{0};
    auto verify_some = [&] {
        for (std::size_t i = next++; i < pieces.size(); i = next++)
            verify_piece(chunk[pieces[i].group], pieces[i], batch, walker, work[pieces[i].group]);
    };
    std::exception_ptr failed;
    std::thread helper;
    std::atomic<bool> main_done{false};
    if (m_two_threads && !pieces.empty()) {
        helper = std::thread([&] {
            try { // no exception may leave a thread
                verify_some();
                // While this thread still verifies, the helper reads what is
                // queued (the last chunk's references, the next chunk), reads
                // this thread would otherwise do itself.
                while (!main_done.load(std::memory_order_relaxed) &&
                       m_ctx.reader->read_one_queued()) {
                }
            } catch (...) {
                failed = std::current_exception();
            }
        });
    }
    Status first_status = ok_status();
    try {
        first_status = first();
        if (first_status.ok())
            verify_some();
        else
            next = pieces.size(); // the scan ends: the helper stops after its piece
        main_done = true;
    } catch (...) {
        next = pieces.size(); // let the helper stop at its current piece
        main_done = true;
        if (helper.joinable())
            helper.join();
        throw;
    }
    if (helper.joinable())
        helper.join();
    if (failed)
        std::rethrow_exception(failed); // only bad_alloc: a broken invariant
    GUARDIAN_TRY(first_status);
    // Every run read (or failed): the first failed read ends the scan.
    GUARDIAN_TRY(m_ctx.reader->wait(batch));
    for (std::size_t i = 0; i < chunk.size(); ++i)
        apply_group(chunk[i], work[i], batch, walker);
    return ok_status();
}

} // namespace

Result<ScanResult> scan(const ScanOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    GUARDIAN_TRY_ASSIGN(auto reader,
                        BlockReader::open(options.path, options.direct_io, options.queue_depth));
    if (reader->device_bytes() < 2048)
        return Error{options.path + ": truncated: too small to hold an ext2/3/4 superblock", 0};
    GUARDIAN_TRY_ASSIGN(const auto sb_bytes, reader->read_bytes(1024, 1024));
    if (le16(Bytes(sb_bytes), 0x38) != 0xEF53)
        return Error{options.path + ": not an ext2/3/4 filesystem (no superblock magic)", 0};
    GUARDIAN_TRY_ASSIGN(auto opened, FsHandle::open(options.path));
    ScanResult result;
    if (!opened.fs) {
        // libext2fs refused the superblock or descriptors: that is damage.
        std::string insane;
        const SuperInfo sb = parse_superblock(Bytes(sb_bytes), insane);
        result.report.identity = {options.path, sb.type(), sb.uuid(), sb.label()};
        result.report.metadata_csum = sb.metadata_csum();
        result.report.findings.push_back({Structure::superblock, std::nullopt, std::nullopt, 0,
                                          "rejected by libext2fs: " + opened.rejected});
    } else {
        Scanner scanner(options, *reader, *opened.fs);
        GUARDIAN_TRY_ASSIGN(result, scanner.run(Bytes(sb_bytes)));
    }
    auto& r = result.report;
    r.identity.source = options.path;
    r.mode = options.mode;
    std::sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
        return std::tie(a.structure, a.group, a.inode, a.block, a.detail) <
               std::tie(b.structure, b.group, b.inode, b.block, b.detail);
    });
    r.stats.blocks_read = reader->blocks_read;
    r.stats.bytes_read = reader->bytes_read;
    r.stats.seconds_x1e6 = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count());
    result.fingerprint.identity = r.identity;
    result.fingerprint.mode = options.mode;
    result.fingerprint.taken_at = now_iso8601();
    return result;
}

} // namespace guardian::ext4
