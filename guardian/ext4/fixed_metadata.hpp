// The blocks whose place is fixed by the superblock and group descriptors:
// superblock copies, descriptor tables (with reserved GDT blocks), bitmaps and
// inode tables. No file may map them, and no two of them may overlap; both
// rules need no checksum, so they hold on every ext2/3/4.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace guardian::ext4 {

enum class MetaKind : std::uint8_t {
    superblock,
    descriptors,
    block_bitmap,
    inode_bitmap,
    inode_table
};

struct MetaExtent {
    std::uint64_t first = 0;
    std::uint64_t count = 0;
    MetaKind kind = MetaKind::superblock;
    std::uint32_t group = 0;
    [[nodiscard]] std::uint64_t end() const noexcept { return first + count; }
};

// "the inode table of group 3"
[[nodiscard]] std::string describe(const MetaExtent& e);

class FixedMetadata {
public:
    void add(const MetaExtent& e) { m_extents.push_back(e); }
    void finish(); // sorts; call once after the last add()
    // A fixed-metadata extent that [first, first + count) overlaps, if any.
    [[nodiscard]] const MetaExtent* overlap(std::uint64_t first, std::uint64_t count) const;
    [[nodiscard]] const std::vector<MetaExtent>& extents() const noexcept { return m_extents; }

private:
    std::vector<MetaExtent> m_extents;
};

// A group whose bitmap or inode table collides with other fixed metadata,
// and the first collision found ("block bitmap at block X overlaps the inode
// table of group 2"). Superblock/descriptor extents collide only through a
// group's bitmap or table: those are what the descriptors can get wrong.
struct Collision {
    std::uint32_t group = 0;
    std::string problem;
};
[[nodiscard]] std::vector<Collision> collisions(std::vector<MetaExtent> all);

} // namespace guardian::ext4
