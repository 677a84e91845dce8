#include "guardian/ext4/block_owners.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace guardian::ext4 {
namespace {

constexpr std::size_t k_max_doubles = 4096; // blocks remembered to name owners
constexpr std::size_t k_max_findings = 32;  // per rule: the first few tell the story
constexpr std::size_t k_ranges_shown = 8;

bool bit(const std::vector<std::byte>& bytes, std::uint64_t i) {
    return i / 8 < bytes.size() && (std::to_integer<unsigned>(bytes[i / 8]) >> (i % 8) & 1u) != 0;
}

// "+12..15 +40 -99": e2fsck's notation, the first few ranges.
class RangeList {
public:
    void add(char sign, std::uint64_t n) {
        ++m_count;
        if (!m_runs.empty() && m_runs.back().sign == sign && m_runs.back().last + 1 == n) {
            m_runs.back().last = n;
            return;
        }
        m_runs.push_back({sign, n, n});
    }
    [[nodiscard]] bool empty() const { return m_count == 0; }
    [[nodiscard]] std::string text() const {
        std::string s;
        for (std::size_t i = 0; i < m_runs.size() && i < k_ranges_shown; ++i) {
            const Run& r = m_runs[i];
            s += (i ? " " : "") + std::string(1, r.sign) + std::to_string(r.first);
            if (r.last != r.first)
                s += ".." + std::to_string(r.last);
        }
        if (m_runs.size() > k_ranges_shown)
            s += " ...";
        return s + " (" + std::to_string(m_count) + " in all)";
    }

private:
    struct Run {
        char sign;
        std::uint64_t first;
        std::uint64_t last;
    };
    std::vector<Run> m_runs;
    std::uint64_t m_count = 0;
};

// s_first_ino: the first inode not reserved (11 before revision 1).
std::uint32_t first_ino_of(const SuperInfo& sb) {
    const Bytes raw(sb.raw);
    return le32(raw, 0x4C) == 0 ? 11 : le32(raw, 0x54);
}

std::string owner_text(const Claimant& c) {
    return "inode " + std::to_string(c.ino) + " (its " + std::string(to_string(c.via)) + ")";
}

} // namespace

std::optional<std::uint64_t> displaced_position(const std::vector<std::int64_t>& at,
                                                std::uint32_t g) {
    if (g < 2 || std::size_t{g} + 2 >= at.size())
        return std::nullopt;
    const std::int64_t left = 2 * at[g - 1] - at[g - 2];
    const std::int64_t right = 2 * at[g + 1] - at[g + 2];
    if (left != right || left == at[g] || left < 0)
        return std::nullopt;
    return static_cast<std::uint64_t>(left);
}

BlockOwners::BlockOwners(const SuperInfo& sb)
    : m_sb(sb), m_pages((sb.blocks_count + k_page_bits - 1) / k_page_bits),
      m_inodes(std::size_t{sb.inodes_count} + 1, k_not_read) {}

void BlockOwners::set_range(std::uint64_t first, std::uint64_t end,
                            std::vector<std::uint64_t>* was) {
    auto& page = m_pages[first / k_page_bits];
    if (!page)
        page = std::make_unique<Page>(k_page_bits / 64, 0);
    const std::uint64_t base = first / k_page_bits * k_page_bits;
    for (std::uint64_t b = first; b < end;) {
        const std::uint64_t bit = b - base;
        const std::uint64_t n = std::min<std::uint64_t>(end - b, 64 - bit % 64);
        const std::uint64_t mask = (n == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1))
                                   << (bit % 64);
        std::uint64_t& word = (*page)[bit / 64];
        if (std::uint64_t both = word & mask; both != 0 && was)
            for (; both != 0; both &= both - 1)
                was->push_back(base + bit / 64 * 64 + static_cast<unsigned>(__builtin_ctzll(both)));
        word |= mask;
        b += n;
    }
}

void BlockOwners::claim(std::uint64_t first, std::uint64_t count, Claimant who) {
    if (first >= m_sb.blocks_count || count == 0)
        return;
    const std::uint64_t end = std::min(m_sb.blocks_count, first + count);
    std::vector<std::uint64_t> was;
    for (std::uint64_t b = first; b < end;) {
        const std::uint64_t stop = std::min(end, (b / k_page_bits + 1) * k_page_bits);
        set_range(b, stop, &was);
        b = stop;
    }
    for (const std::uint64_t b : was) {
        ++m_double_count;
        if (m_doubles.size() < k_max_doubles)
            m_doubles.push_back({b, who});
    }
    const auto via = static_cast<std::uint32_t>(who.via) << 24;
    for (std::uint64_t b = first; b < end; b += k_log_max_count) {
        if (m_log_size % k_log_chunk == 0)
            m_log.push_back(std::make_unique_for_overwrite<LogEntry[]>(k_log_chunk));
        m_log.back()[m_log_size++ % k_log_chunk] = {
            b, static_cast<std::uint32_t>(std::min<std::uint64_t>(end - b, k_log_max_count)) | via,
            who.ino};
    }
}

void BlockOwners::claim_fixed(std::uint64_t first, std::uint64_t count) {
    const std::uint64_t end = std::min(m_sb.blocks_count, first + count);
    for (std::uint64_t b = first; b < end;) {
        const std::uint64_t stop = std::min(end, (b / k_page_bits + 1) * k_page_bits);
        set_range(b, stop, nullptr);
        b = stop;
    }
}

void BlockOwners::claim_displaced(const Displaced& d) {
    m_displaced.push_back(d);
    claim_fixed(d.extent.first, d.extent.count);
}

std::uint64_t BlockOwners::claimed_word(std::uint64_t first) const {
    if (first % 64 != 0) { // not a page word: bit by bit
        std::uint64_t w = 0;
        for (unsigned i = 0; i < 64; ++i)
            w |= std::uint64_t{claimed(first + i)} << i;
        return w;
    }
    if (first >= m_sb.blocks_count)
        return 0;
    const auto& page = m_pages[first / k_page_bits];
    return page ? (*page)[first % k_page_bits / 64] : 0;
}

bool BlockOwners::claimed(std::uint64_t block) const {
    if (block >= m_sb.blocks_count)
        return false;
    const auto& page = m_pages[block / k_page_bits];
    const std::uint64_t bit = block % k_page_bits;
    return page && ((*page)[bit / 64] >> (bit % 64) & 1u) != 0;
}

void BlockOwners::xattr_named(std::uint64_t block) {
    if (m_xattrs.empty() || m_xattrs.back().block != block || m_xattrs.back().stored != 0)
        m_xattrs.push_back({block, 0, 0});
    ++m_xattrs.back().named;
}

void BlockOwners::xattr_refcount(std::uint64_t block, std::uint32_t stored) {
    m_xattrs.push_back({block, 0, stored == 0 ? UINT32_MAX : stored});
}

std::vector<std::optional<Claimant>> BlockOwners::first_owners() const {
    // One pass over the log, in claim order: the first entry covering a
    // doubly claimed block is its first owner.
    std::vector<std::uint64_t> blocks;
    for (const Double& d : m_doubles)
        blocks.push_back(d.block);
    std::sort(blocks.begin(), blocks.end());
    blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
    std::vector<std::optional<Claimant>> owner(blocks.size());
    for (std::size_t i = 0; i < m_log_size; ++i) {
        const LogEntry& e = m_log[i / k_log_chunk][i % k_log_chunk];
        auto it = std::lower_bound(blocks.begin(), blocks.end(), e.first);
        for (; it != blocks.end() && *it - e.first < (e.count_via & k_log_max_count); ++it) {
            auto& o = owner[static_cast<std::size_t>(it - blocks.begin())];
            if (!o)
                o = Claimant{e.ino, static_cast<Structure>(e.count_via >> 24)};
        }
    }
    std::vector<std::optional<Claimant>> out;
    for (const Double& d : m_doubles)
        out.push_back(owner[static_cast<std::size_t>(
            std::lower_bound(blocks.begin(), blocks.end(), d.block) - blocks.begin())]);
    return out;
}

std::vector<Suspect> BlockOwners::judge(const Inputs& in) const {
    std::vector<Suspect> out;
    judge_doubles(in, out);
    for (std::uint32_t g = 0; g < m_sb.group_count; ++g) {
        judge_block_bitmap(in, g, out);
        judge_inode_bitmap(in, g, out);
    }
    if (in.complete)
        judge_xattr_refs(in, out);
    return out;
}

void BlockOwners::judge_doubles(const Inputs& in, std::vector<Suspect>& out) const {
    constexpr std::uint32_t k_ro_compat_shared_blocks = 0x4000; // deduplicated on purpose
    if (m_sb.feature_ro_compat & k_ro_compat_shared_blocks)
        return;
    // Blocks grouped by the pair of owners: one finding per pair.
    struct Pair {
        std::uint64_t first_block = 0;
        std::uint64_t blocks = 0;
        const Displaced* displaced = nullptr;
        std::string first_text;
    };
    std::map<std::tuple<std::uint32_t, int, std::uint32_t, int>, Pair> pairs;
    const auto owners = first_owners();
    for (std::size_t i = 0; i < m_doubles.size(); ++i) {
        const Double& d = m_doubles[i];
        const Displaced* displaced = nullptr;
        for (const Displaced& x : m_displaced)
            if (d.block >= x.extent.first && d.block < x.extent.end())
                displaced = &x;
        // Fixed metadata and displaced descriptors claimed before any file.
        const Claimant f = displaced ? Claimant{0, Structure::group_descriptor}
                           : in.fixed->overlap(d.block, 1) ? Claimant{0, Structure::geometry}
                                                           : owners[i].value_or(Claimant{});
        auto [it, fresh] = pairs.try_emplace(
            {d.second.ino, static_cast<int>(d.second.via), f.ino, static_cast<int>(f.via)});
        Pair& p = it->second;
        if (fresh) {
            p.first_block = d.block;
            p.displaced = displaced;
            if (displaced)
                p.first_text = describe(displaced->extent);
            else if (f.ino != 0)
                p.first_text = owner_text(f);
            else if (const MetaExtent* m = in.fixed->overlap(d.block, 1))
                p.first_text = describe(*m);
            else
                p.first_text = "an earlier claim";
        }
        ++p.blocks;
    }
    std::size_t n = 0;
    for (const auto& [key, p] : pairs) {
        if (++n > k_max_findings)
            break;
        const std::uint32_t ino = std::get<0>(key);
        const auto via = static_cast<Structure>(std::get<1>(key));
        Suspect x;
        x.at = Span{p.first_block, 0, 0, 0};
        if (p.displaced) {
            // The descriptor moved: the file's blocks are where they were.
            const MetaExtent& e = p.displaced->extent;
            x.finding = Finding{Structure::group_descriptor, e.group, std::nullopt, e.first,
                                describe(e) + " at block " + std::to_string(e.first) +
                                    " lies on blocks of inode " + std::to_string(ino) +
                                    "; its neighbours' layout puts it at block " +
                                    std::to_string(p.displaced->expected)};
        } else {
            x.finding =
                Finding{via, std::nullopt, ino, p.first_block,
                        "multiply-claimed block(s): " + std::to_string(p.blocks) + " from block " +
                            std::to_string(p.first_block) + " claimed by " +
                            owner_text({ino, via}) + " and by " + p.first_text};
            if (via == Structure::inode)
                x.finding.group = (ino - 1) / m_sb.inodes_per_group;
        }
        out.push_back(std::move(x));
    }
    if (m_double_count > m_doubles.size() && !out.empty())
        out.back().finding.detail +=
            " (" + std::to_string(m_double_count) + " multiply-claimed block claims in all)";
}

void BlockOwners::judge_block_bitmap(const Inputs& in, std::uint32_t g,
                                     std::vector<Suspect>& out) const {
    const GroupDesc& gd = (*in.groups)[g];
    const std::uint64_t start = m_sb.first_data_block + std::uint64_t{g} * m_sb.blocks_per_group;
    const std::uint64_t end = std::min(m_sb.blocks_count, start + m_sb.blocks_per_group);
    const auto& bytes = (*in.block_bitmaps)[g];
    RangeList diff;
    if (m_sb.gdt_csum() && (gd.flags & k_bg_block_uninit)) {
        // Never initialised: only the group's own metadata may be in use
        // (libext2fs and the kernel derive its bitmap from that alone).
        for (std::uint64_t b = start; b < end; ++b) {
            if ((b - start) % 64 == 0 && b + 64 <= end && claimed_word(b) == 0) {
                b += 63;
                continue;
            }
            if (!claimed(b))
                continue;
            const MetaExtent* m = in.fixed->overlap(b, 1);
            if (!m || m->group != g)
                diff.add('+', b);
        }
        if (!diff.empty())
            out.push_back({Finding{Structure::block_bitmap, g, std::nullopt, std::nullopt,
                                   "group " + std::to_string(g) +
                                       " is BLOCK_UNINIT but blocks are in use: " + diff.text()},
                           Span{gd.block_bitmap, 0, 0, 0}, std::nullopt, false});
        return;
    }
    if (bytes.empty())
        return;
    for (std::uint64_t b = start; b < end; ++b) {
        // 64 blocks at a time where claims and bitmap agree (nearly all).
        if ((b - start) % 64 == 0 && b + 64 <= end && (b - start) / 8 + 8 <= bytes.size()) {
            if (claimed_word(b) == le64(Bytes(bytes), (b - start) / 8)) {
                b += 63;
                continue;
            }
        }
        const bool used = claimed(b);
        const bool marked = bit(bytes, b - start);
        if (used && !marked)
            diff.add('+', b);
        else if (!used && marked && in.complete && !in.orphans)
            diff.add('-', b);
    }
    // The last group's bits past the end of the filesystem stay set.
    std::uint64_t padding = 0;
    for (std::uint64_t i = end - start; i < m_sb.blocks_per_group; ++i)
        padding += bit(bytes, i) ? 0u : 1u;
    std::string detail;
    if (!diff.empty())
        detail = "block bitmap differences: " + diff.text();
    if (padding != 0)
        detail += (detail.empty() ? "" : "; ") + std::to_string(padding) +
                  " padding bit(s) past the last block are not set";
    if (!detail.empty())
        out.push_back(
            {Finding{Structure::block_bitmap, g, std::nullopt, gd.block_bitmap, std::move(detail)},
             Span{gd.block_bitmap, 0, 0, 0}, std::nullopt, false});
}

void BlockOwners::judge_inode_bitmap(const Inputs& in, std::uint32_t g,
                                     std::vector<Suspect>& out) const {
    const auto& bytes = (*in.inode_bitmaps)[g];
    if (bytes.empty())
        return;
    const std::uint32_t first_ino = first_ino_of(m_sb);
    RangeList diff;
    for (std::uint32_t i = 0; i < m_sb.inodes_per_group; ++i) {
        const std::uint64_t ino = std::uint64_t{g} * m_sb.inodes_per_group + i + 1;
        if (ino >= m_inodes.size())
            break;
        const std::uint8_t state = m_inodes[ino];
        if (state == k_not_read)
            continue;
        const bool used = state == k_used || ino < first_ino;
        const bool marked = bit(bytes, i);
        if (used && !marked)
            diff.add('+', ino);
        else if (!used && marked && in.complete && !in.orphans)
            diff.add('-', ino);
    }
    if (!diff.empty())
        out.push_back(
            {Finding{Structure::inode_bitmap, g, std::nullopt, (*in.groups)[g].inode_bitmap,
                     "inode bitmap differences: " + diff.text()},
             Span{(*in.groups)[g].inode_bitmap, 0, 0, 0}, std::nullopt, false});
}

void BlockOwners::judge_xattr_refs(const Inputs& /*in*/, std::vector<Suspect>& out) const {
    auto refs = m_xattrs;
    std::stable_sort(refs.begin(), refs.end(),
                     [](const XattrRefs& a, const XattrRefs& b) { return a.block < b.block; });
    std::size_t n = 0;
    for (std::size_t i = 0; i < refs.size();) {
        std::uint32_t named = 0;
        std::uint32_t stored = 0;
        const std::uint64_t block = refs[i].block;
        for (; i < refs.size() && refs[i].block == block; ++i) {
            named += refs[i].named;
            stored = std::max(stored, refs[i].stored);
        }
        if (stored == 0 || named == 0)
            continue; // not read (damaged header: its own finding)
        if (stored == UINT32_MAX)
            stored = 0;
        if (stored != named && ++n <= k_max_findings)
            out.push_back({Finding{Structure::xattr_block, std::nullopt, std::nullopt, block,
                                   "h_refcount " + std::to_string(stored) + ", but " +
                                       std::to_string(named) + " inode(s) name this block"},
                           Span{block, 0, 0, 0}, std::nullopt, false});
    }
}

} // namespace guardian::ext4
