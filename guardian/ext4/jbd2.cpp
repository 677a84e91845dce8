#include "guardian/ext4/jbd2.hpp"

#include "guardian/ext4/checksums.hpp"
#include "guardian/ondisk/jbd2_format.hpp"

#include <algorithm>
#include <optional>

namespace guardian::ext4 {
namespace {

using namespace jbd2; // NOLINT: the format constants, in a .cpp
constexpr std::uint32_t k_tag_same_uuid = 2;
constexpr std::uint32_t k_tag_last = 8;
// A log longer than this many blocks is not walked further (hostile s_maxlen).
constexpr std::uint64_t k_max_log_blocks = 1u << 22;
constexpr std::uint64_t k_window = 64; // log blocks read at once

Finding journal_finding(Structure s, std::uint64_t block, std::string detail) {
    return Finding{s, std::nullopt, std::nullopt, block, std::move(detail)};
}

// Reads log blocks in windows of k_window so a walk costs a few large reads,
// not one read per block.
class LogReader {
public:
    LogReader(BlockReader& reader, const Journal& journal, const JournalSuperblock& jsb,
              std::uint32_t last)
        : m_reader(reader), m_journal(journal), m_jsb(jsb), m_last(last) {}

    // nullopt-like empty span: unmapped or unreadable.
    Result<Bytes> get(std::uint32_t logical) {
        if (m_batch && m_window.count(logical))
            return m_batch->data(m_window[logical]);
        std::vector<std::uint64_t> blocks;
        m_window.clear();
        std::uint32_t l = logical;
        for (std::uint64_t i = 0; i < k_window; ++i) {
            const std::uint64_t p = m_journal.physical(l);
            if (p != 0 && (p + 1) * m_reader.block_size() > m_reader.device_bytes())
                return Error{"truncated: journal block " + std::to_string(p) +
                                 " lies beyond the end of " + m_reader.path(),
                             0};
            if (p != 0) {
                blocks.push_back(p);
                m_window[l] = p;
            }
            l = l + 1 >= m_last ? m_jsb.first : l + 1;
        }
        if (!m_window.count(logical))
            return Bytes{};
        GUARDIAN_TRY_ASSIGN(m_batch, m_reader.read(std::move(blocks)));
        return m_batch->data(m_window[logical]);
    }

private:
    BlockReader& m_reader;
    const Journal& m_journal;
    const JournalSuperblock& m_jsb;
    std::uint32_t m_last;
    std::unique_ptr<ReadBatch> m_batch;
    std::map<std::uint32_t, std::uint64_t> m_window;
};

// The journal superblock names (start, sequence) as the first block of the
// log; jbd2 writes it there before it reuses that log space, so a block at
// `start` that is not a jbd2 block of that sequence is damage (a misdirected
// write over the descriptor), not an empty log: an empty log has s_start 0.
// One legitimate exception: when a checkpoint has written everything home,
// the kernel moves the tail to the log head, where the *next* transaction
// will be written (jbd2_journal_get_log_tail: j_head and the running tid).
// Until that transaction commits, the block at `start` is stale, and the
// block just before it is the commit block of transaction `sequence - 1`
// (j_head only moves by writing log blocks). A damaged descriptor whose
// predecessor happens to be that commit block is indistinguishable from it
// and goes unreported.
Result<std::optional<JournalFinding>> head_finding(LogReader& reader, const JournalSuperblock& jsb,
                                                   std::uint32_t start, std::uint32_t sequence,
                                                   std::uint64_t phys, Bytes head,
                                                   std::uint32_t last) {
    std::string why;
    if (be32(head, 0) != k_magic)
        why = "no jbd2 magic";
    else if (be32(head, 8) != sequence)
        why = "it carries sequence " + std::to_string(be32(head, 8));
    else
        why = "it has block type " + std::to_string(be32(head, 4));
    const std::uint32_t prev = start == jsb.first ? last - 1 : start - 1;
    GUARDIAN_TRY_ASSIGN(const Bytes before, reader.get(prev));
    if (!before.empty() && be32(before, 0) == k_magic && be32(before, 4) == k_commit &&
        be32(before, 8) == sequence - 1)
        return std::optional<JournalFinding>{};
    return std::optional<JournalFinding>{JournalFinding{
        journal_finding(Structure::journal_block, phys,
                        "journal superblock says the log starts at journal block " +
                            std::to_string(start) + " with sequence " + std::to_string(sequence) +
                            ", but that block has no jbd2 descriptor (" + why + ")"),
        phys, sequence, true}};
}

// One walk of the log from (start, sequence), as recovery's scan pass does
// it, in named steps: each log block is a descriptor (its tags name home
// blocks, whose logged copies follow it), a revoke block or a commit block;
// the walk ends at the first block that is none of them (or of another
// sequence). A transaction's damage, home blocks and log digests count only
// once its commit block is seen.
class LogWalk {
public:
    LogWalk(BlockReader& reader, const Journal& journal, const JournalSuperblock& jsb,
            std::uint32_t start, std::uint32_t sequence)
        : m_journal(journal), m_jsb(jsb), m_bs(reader.block_size()), m_csum(jsb.csum_v2or3()),
          m_tag_bytes(jsb.csum_v3() ? 16u
                                    : (8u + (m_csum ? 2u : 0u) + (jsb.has_64bit() ? 4u : 0u))),
          m_last(log_end(jsb)), m_reader(reader, journal, jsb, m_last), m_start(start),
          m_pos(start), m_seq(sequence) {}

    Result<LogScan> run(bool verify_open) {
        std::uint64_t walked = 0;
        for (;;) {
            if (++walked > k_max_log_blocks) {
                m_out.truncated = true;
                break;
            }
            GUARDIAN_TRY_ASSIGN(const bool go_on, step(walked == 1));
            if (!go_on)
                break;
            if (m_pos == m_start && walked > 1)
                break; // wrapped all the way round
        }
        if (verify_open)
            m_out.findings.insert(m_out.findings.end(), m_tx_findings.begin(), m_tx_findings.end());
        // An open transaction's home blocks are pending too: being generous here
        // only means verifying less on a live filesystem, never a false alarm.
        m_out.pending_home.insert(m_tx_homes.begin(), m_tx_homes.end());
        return std::move(m_out);
    }

private:
    // A descriptor tag: the home block of the logged copy that follows.
    struct Tag {
        std::uint64_t home = 0;
        std::uint32_t flags = 0;
        std::uint32_t stored = 0; // the logged copy's checksum (16 bits before csum v3)
    };

    // The log's last block + 1: the fast-commit area at the end is not log.
    static std::uint32_t log_end(const JournalSuperblock& jsb) {
        std::uint32_t last = jsb.maxlen;
        if ((jsb.feature_incompat & k_incompat_fast_commit) && jsb.num_fc_blocks < last - jsb.first)
            last -= jsb.num_fc_blocks;
        return last;
    }
    [[nodiscard]] std::uint32_t next(std::uint32_t p) const {
        return p + 1 >= m_last ? m_jsb.first : p + 1;
    }
    void tx_damage(std::uint64_t block, std::string detail) {
        m_tx_findings.push_back(
            {journal_finding(Structure::journal_block, block, std::move(detail)), block, m_seq});
    }

    // Reads the block at m_pos and handles it; false: the log ends here.
    Result<bool> step(bool first) {
        const std::uint64_t phys = m_journal.physical(m_pos);
        GUARDIAN_TRY_ASSIGN(const Bytes window, m_reader.get(m_pos));
        const std::uint32_t kind = window.empty() ? 0 : be32(window, 4);
        const bool is_log_block = !window.empty() && be32(window, 0) == k_magic &&
                                  be32(window, 8) == m_seq &&
                                  (kind == k_descriptor || kind == k_commit || kind == k_revoke);
        if (!is_log_block) {
            // End of log, as recovery decides it. At the very first block that
            // is not an empty log, though: see head_finding().
            if (first && !window.empty())
                GUARDIAN_TRY(judge_head(phys, window));
            return false;
        }
        // Copied: reading the data blocks that follow may move the window.
        const std::vector<std::byte> copy(window.begin(), window.end());
        const Bytes b(copy);
        m_tx_log.push_back(digest_block(phys, b));
        switch (kind) {
        case k_descriptor:
            GUARDIAN_TRY(descriptor(phys, b));
            return true;
        case k_revoke:
            revoke(phys, b);
            return true;
        default: // k_commit: is_log_block admits only the three log block types
            return commit(phys, b);
        }
    }

    Status judge_head(std::uint64_t phys, Bytes window) {
        const std::vector<std::byte> head(window.begin(), window.end());
        GUARDIAN_TRY_ASSIGN(
            auto f, head_finding(m_reader, m_jsb, m_start, m_seq, phys, Bytes(head), m_last));
        if (f)
            m_out.findings.push_back(std::move(*f));
        return ok_status();
    }

    [[nodiscard]] Tag parse_tag(Bytes b, std::size_t off) const {
        Tag t;
        t.home = be32(b, off);
        if (m_jsb.csum_v3()) {
            t.flags = be32(b, off + 4);
            if (m_jsb.has_64bit())
                t.home |= static_cast<std::uint64_t>(be32(b, off + 8)) << 32;
            t.stored = be32(b, off + 12);
        } else {
            t.stored = be16(b, off + 4);
            t.flags = be16(b, off + 6);
            if (m_jsb.has_64bit())
                t.home |= static_cast<std::uint64_t>(be32(b, off + 8)) << 32;
        }
        return t;
    }

    // A descriptor and the logged copies its tags announce (each in the log
    // block after the previous one).
    Status descriptor(std::uint64_t phys, Bytes b) {
        if (m_csum)
            if (const auto c = jbd2_block_tail_csum(b, m_jsb.csum_seed); !c.ok())
                tx_damage(phys, "descriptor block: " + c.describe());
        const std::size_t end = m_bs - (m_csum ? 4 : 0);
        std::size_t off = 12;
        bool stop = false;
        while (!stop && off + m_tag_bytes <= end) {
            const Tag tag = parse_tag(b, off);
            off += m_tag_bytes;
            if (!(tag.flags & k_tag_same_uuid))
                off += 16;
            stop = (tag.flags & k_tag_last) != 0;
            m_pos = next(m_pos);
            GUARDIAN_TRY(logged_copy(tag));
        }
        m_pos = next(m_pos);
        return ok_status();
    }

    // The logged copy of `tag`'s home block at m_pos.
    Status logged_copy(const Tag& tag) {
        const std::uint64_t data_phys = m_journal.physical(m_pos);
        m_tx_homes.push_back(tag.home);
        GUARDIAN_TRY_ASSIGN(const Bytes d, m_reader.get(m_pos));
        if (d.empty())
            return ok_status();
        m_tx_log.push_back(digest_block(data_phys, d));
        if (!m_csum)
            return ok_status();
        std::uint32_t computed = jbd2_data_csum(d, m_jsb.csum_seed, m_seq);
        if (!m_jsb.csum_v3())
            computed &= 0xFFFF;
        if (computed != tag.stored)
            tx_damage(data_phys, "logged copy of block " + std::to_string(tag.home) +
                                     ": checksum mismatch: stored " + hex32(tag.stored) +
                                     ", computed " + hex32(computed));
        return ok_status();
    }

    void revoke(std::uint64_t phys, Bytes b) {
        if (m_csum)
            if (const auto c = jbd2_block_tail_csum(b, m_jsb.csum_seed); !c.ok())
                tx_damage(phys, "revoke block: " + c.describe());
        // r_count (bytes used, header included) beyond the block is what
        // recovery refuses with EINVAL; jbd2 never writes it. Counted, like
        // any log damage, only once the transaction's commit block is seen.
        const std::size_t usable = m_bs - (m_csum ? 4 : 0);
        if (const std::uint32_t used = be32(b, 12); used > usable)
            tx_damage(phys, "revoke block: r_count " + std::to_string(used) +
                                " exceeds the block (" + std::to_string(usable) + " bytes usable)");
        m_pos = next(m_pos);
    }

    // A commit block that is missing or carries the wrong sequence
    // (e2fsprogs' j_corrupt_commit_tid) is not reported: it reads as a
    // transaction that was never committed, which is exactly what a crash
    // (or, on a live filesystem, a commit in progress) leaves, and recovery
    // drops such a transaction without harm. Only the transaction's own
    // blocks could be damaged, and they are verified above (in stable mode,
    // even without a commit). False: the log ends here.
    bool commit(std::uint64_t phys, Bytes b) {
        if (m_csum)
            if (const auto c = jbd2_commit_csum(b, m_jsb.csum_seed); !c.ok()) {
                // Recovery stops at a commit block that fails its checksum.
                m_out.findings.push_back({journal_finding(Structure::journal_block, phys,
                                                          "commit block: " + c.describe()),
                                          phys, m_seq});
                return false;
            }
        m_out.findings.insert(m_out.findings.end(), m_tx_findings.begin(), m_tx_findings.end());
        m_out.pending_home.insert(m_tx_homes.begin(), m_tx_homes.end());
        m_out.log_blocks.insert(m_out.log_blocks.end(), m_tx_log.begin(), m_tx_log.end());
        m_tx_findings.clear();
        m_tx_homes.clear();
        m_tx_log.clear();
        ++m_out.transactions;
        ++m_seq;
        m_pos = next(m_pos);
        return true;
    }

    const Journal& m_journal;
    const JournalSuperblock& m_jsb;
    const std::size_t m_bs;
    const bool m_csum;
    const std::size_t m_tag_bytes;
    const std::uint32_t m_last;
    LogReader m_reader;
    const std::uint32_t m_start;
    std::uint32_t m_pos;
    std::uint32_t m_seq;
    LogScan m_out;
    // The open transaction: counted only once its commit block is seen.
    std::vector<JournalFinding> m_tx_findings;
    std::vector<std::uint64_t> m_tx_homes;
    std::vector<BlockDigest> m_tx_log;
};

} // namespace

Journal::Journal(BlockReader& reader, std::vector<JournalExtent> map, std::uint64_t fs_blocks,
                 std::uint64_t inode_size)
    : m_reader(reader), m_map(std::move(map)), m_fs_blocks(fs_blocks) {
    m_inode.fs_block_size = static_cast<std::uint32_t>(reader.block_size());
    m_inode.size_blocks = inode_size / reader.block_size();
    // Logical blocks mapped from 0 without a hole (the map is in logical order).
    for (const auto& e : m_map) {
        if (e.logical != m_inode.mapped_blocks)
            break;
        m_inode.mapped_blocks += e.count;
    }
}

std::uint64_t Journal::physical(std::uint64_t logical) const {
    auto it =
        std::upper_bound(m_map.begin(), m_map.end(), logical,
                         [](std::uint64_t l, const JournalExtent& e) { return l < e.logical; });
    if (it == m_map.begin())
        return 0;
    --it;
    if (logical >= it->logical + it->count)
        return 0;
    const std::uint64_t p = it->physical + (logical - it->logical);
    return p < m_fs_blocks ? p : 0;
}

Result<JournalSuperblock> Journal::read_superblock(std::vector<Finding>& findings) {
    JournalSuperblock j;
    j.physical = physical(0);
    if (j.physical == 0) {
        findings.push_back(journal_finding(Structure::journal_superblock, 0,
                                           "journal inode does not map its first block"));
        return j;
    }
    if ((j.physical + 1) * m_reader.block_size() > m_reader.device_bytes())
        return Error{"truncated: journal superblock block " + std::to_string(j.physical) +
                         " lies beyond the end of " + m_reader.path(),
                     0};
    GUARDIAN_TRY_ASSIGN(auto batch, m_reader.read({j.physical}));
    const Bytes b =
        batch->data(j.physical).first(std::min<std::size_t>(1024, m_reader.block_size()));
    j.raw.assign(b.begin(), b.end());
    j.raw.resize(1024);
    const Bytes r(j.raw);
    j.blocktype = be32(r, 4);
    j.blocksize = be32(r, 0xC);
    j.maxlen = be32(r, 0x10);
    j.first = be32(r, 0x14);
    j.sequence = be32(r, 0x18);
    j.start = be32(r, 0x1C);
    j.feature_compat = be32(r, 0x24);
    j.feature_incompat = be32(r, 0x28);
    j.feature_ro_compat = be32(r, 0x2C);
    j.num_fc_blocks = be32(r, 0x54);
    j.csum_seed = crc32c(~0u, r.subspan(0x30, 16));
    if (const auto p = journal_superblock_problem(r, m_inode); !p.empty())
        findings.push_back(journal_finding(Structure::journal_superblock, j.physical, p));
    return j;
}

Result<LogScan> Journal::walk(const JournalSuperblock& jsb, std::uint32_t start,
                              std::uint32_t sequence, bool verify_open) {
    if (start == 0 || jsb.blocktype != k_sb_v2 || jsb.blocksize != m_reader.block_size() ||
        jsb.first == 0 || jsb.first >= jsb.maxlen || start < jsb.first || start >= jsb.maxlen)
        return LogScan{};
    LogWalk walk(m_reader, *this, jsb, start, sequence);
    return walk.run(verify_open);
}

} // namespace guardian::ext4
