#include "guardian/ext4/htree_index.hpp"

#include <algorithm>

namespace guardian::ext4 {

void HtreeIndex::root(std::uint32_t dir, std::uint64_t size_blocks, std::uint8_t levels,
                      std::uint8_t hash_version) {
    Dir& d = m_dirs[dir];
    d.size_blocks = size_blocks;
    d.levels = levels;
    d.version = hash_version;
    d.rooted = true;
}

std::optional<std::uint8_t> HtreeIndex::hash_version(std::uint32_t dir) const {
    const auto it = m_dirs.find(dir);
    if (it == m_dirs.end() || !it->second.rooted)
        return std::nullopt;
    return it->second.version;
}

void HtreeIndex::node(std::uint32_t dir, std::uint64_t logical, std::uint64_t block,
                      std::vector<Entry> entries) {
    m_dirs[dir].nodes[logical] = Node{block, std::move(entries)};
}

void HtreeIndex::leaf(std::uint32_t dir, std::uint64_t logical, std::uint64_t block,
                      std::uint32_t min, std::uint32_t max, std::uint32_t names) {
    m_dirs[dir].leaves[logical] = Leaf{block, min, max, names};
}

void HtreeIndex::incomplete(std::uint32_t dir) {
    m_dirs[dir].incomplete = true;
}

std::string HtreeIndex::walk(const Dir& d, std::uint64_t logical, std::uint8_t level,
                             std::uint32_t lo, std::uint32_t hi,
                             std::unordered_map<std::uint64_t, int>& refs,
                             std::uint64_t& at) const {
    const Node& n = d.nodes.at(logical);
    at = n.block;
    const std::string where = logical == 0 ? "root" : "index block " + std::to_string(logical);
    for (std::size_t i = 0; i < n.entries.size(); ++i) {
        const Entry& e = n.entries[i];
        auto entry = [&] { return where + " entry " + std::to_string(i) + ": "; };
        if (i >= 2 && e.hash < n.entries[i - 1].hash)
            return entry() + "hash " + std::to_string(e.hash) + " below the previous entry's " +
                   std::to_string(n.entries[i - 1].hash) + " (unordered hash table)";
        // The child's range: from this entry's hash (the low bit marks a
        // collision continued from the previous block) up to the next one's.
        const std::uint32_t clo = i == 0 ? lo : (e.hash & ~1u);
        const std::uint32_t chi = i + 1 < n.entries.size() ? n.entries[i + 1].hash : hi;
        if (e.child == 0 || e.child >= d.size_blocks)
            return entry() + "child block " + std::to_string(e.child) +
                   (e.child == 0 ? " is the root"
                                 : " lies past the end of the directory (" +
                                       std::to_string(d.size_blocks) + " blocks)");
        const bool is_node = d.nodes.count(e.child) != 0;
        const auto leaf = d.leaves.find(e.child);
        if (level < d.levels) {
            if (leaf != d.leaves.end())
                return entry() + "child block " + std::to_string(e.child) +
                       " is a leaf where an index block of level " + std::to_string(level + 1) +
                       " belongs (invalid depth)";
            if (is_node) {
                if (++refs[e.child] > 1)
                    return entry() + "index block " + std::to_string(e.child) +
                           " is referenced twice";
                if (auto p =
                        walk(d, e.child, static_cast<std::uint8_t>(level + 1), clo, chi, refs, at);
                    !p.empty())
                    return p;
                at = n.block;
            }
            continue;
        }
        if (is_node)
            return entry() + "child block " + std::to_string(e.child) +
                   " is an index block where a leaf belongs (indirect_levels " +
                   std::to_string(d.levels) + ": invalid depth)";
        if (leaf == d.leaves.end())
            continue; // not read (a hole: its own finding)
        if (++refs[e.child] > 1)
            return entry() + "leaf block " + std::to_string(e.child) + " is referenced twice";
        const Leaf& l = leaf->second;
        if (l.names != 0 && (l.min < clo || l.max > chi))
            return entry() + "leaf block " + std::to_string(e.child) + " holds name hashes " +
                   std::to_string(l.min) + ".." + std::to_string(l.max) + " outside its range " +
                   std::to_string(clo) + ".." + std::to_string(chi) + " (bad min/max hash)";
    }
    return {};
}

std::vector<Suspect> HtreeIndex::judge() const {
    std::vector<std::uint32_t> order;
    for (const auto& [ino, d] : m_dirs)
        order.push_back(ino);
    std::sort(order.begin(), order.end()); // findings in a stable order
    std::vector<Suspect> out;
    for (const std::uint32_t ino : order) {
        const Dir& d = m_dirs.at(ino);
        if (!d.rooted || d.incomplete || d.nodes.count(0) == 0)
            continue;
        std::unordered_map<std::uint64_t, int> refs;
        std::uint64_t at = d.nodes.at(0).block;
        std::string p = walk(d, 0, 0, 0, 0xFFFFFFFFu, refs, at);
        if (p.empty()) {
            std::uint64_t first = UINT64_MAX;
            for (const auto& [logical, leaf] : d.leaves)
                if (refs.count(logical) == 0)
                    first = std::min(first, logical);
            if (first != UINT64_MAX) {
                p = "leaf block " + std::to_string(first) + " is not referenced by the index";
                at = d.leaves.at(first).block;
            }
        }
        if (p.empty())
            continue;
        Suspect x;
        x.finding = Finding{Structure::htree_block, std::nullopt, ino, at, std::move(p)};
        x.at = Span{at, 0, 0, 0};
        out.push_back(std::move(x));
    }
    return out;
}

} // namespace guardian::ext4
