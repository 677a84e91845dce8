#include "guardian/ext4/fixed_metadata.hpp"

#include <algorithm>
#include <map>

namespace guardian::ext4 {
namespace {

const char* kind_name(MetaKind k) {
    switch (k) {
    case MetaKind::superblock:
        return "superblock";
    case MetaKind::descriptors:
        return "group descriptors";
    case MetaKind::block_bitmap:
        return "block bitmap";
    case MetaKind::inode_bitmap:
        return "inode bitmap";
    case MetaKind::inode_table:
        return "inode table";
    }
    return "metadata";
}

bool from_descriptor(MetaKind k) {
    return k == MetaKind::block_bitmap || k == MetaKind::inode_bitmap || k == MetaKind::inode_table;
}

bool before(const MetaExtent& a, const MetaExtent& b) {
    return a.first != b.first ? a.first < b.first : a.count > b.count;
}

} // namespace

std::string describe(const MetaExtent& e) {
    return std::string("the ") + kind_name(e.kind) + " of group " + std::to_string(e.group);
}

void FixedMetadata::finish() {
    std::sort(m_extents.begin(), m_extents.end(), before);
}

const MetaExtent* FixedMetadata::overlap(std::uint64_t first, std::uint64_t count) const {
    if (count == 0 || m_extents.empty())
        return nullptr;
    const std::uint64_t end = first + count < first ? ~std::uint64_t{0} : first + count;
    // The extent with the largest start below `end`: in a healthy layout
    // extents do not overlap, so if it ends at or before `first`, all earlier
    // ones do too.
    auto it = std::lower_bound(m_extents.begin(), m_extents.end(), end,
                               [](const MetaExtent& e, std::uint64_t v) { return e.first < v; });
    if (it == m_extents.begin())
        return nullptr;
    --it;
    return it->end() > first ? &*it : nullptr;
}

std::vector<Collision> collisions(std::vector<MetaExtent> all) {
    std::sort(all.begin(), all.end(), before);
    std::map<std::uint32_t, std::string> found; // first problem per group
    auto note = [&found](const MetaExtent& e, const MetaExtent& other) {
        if (!from_descriptor(e.kind) || found.count(e.group))
            return;
        found[e.group] = std::string(kind_name(e.kind)) + " at block " + std::to_string(e.first) +
                         " overlaps " + describe(other);
    };
    const MetaExtent* reach = nullptr; // the extent reaching furthest so far
    for (const MetaExtent& e : all) {
        if (e.count == 0)
            continue;
        if (reach && e.first < reach->end()) {
            note(e, *reach);
            note(*reach, e);
        }
        if (!reach || e.end() > reach->end())
            reach = &e;
    }
    std::vector<Collision> out;
    for (auto& [g, p] : found)
        out.push_back({g, std::move(p)});
    return out;
}

} // namespace guardian::ext4
