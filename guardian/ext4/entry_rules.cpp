#include "guardian/ext4/entry_rules.hpp"

#include "guardian/ext4/inode_flags.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace guardian::ext4 {
namespace {

constexpr std::uint16_t k_init_max_len = 32768; // above: an unwritten extent of len - 32768
constexpr std::size_t k_iblock = 0x28;
constexpr std::size_t k_iblock_bytes = 60;

std::uint16_t file_type(Bytes inode) {
    return le16(inode, 0x0) & 0xF000;
}

std::uint64_t inode_size(Bytes inode) {
    return le32(inode, 0x4) | (std::uint64_t{le32(inode, 0x6C)} << 32);
}

std::string range_text(std::uint64_t first, std::uint64_t count) {
    return std::to_string(first) + ".." + std::to_string(first + count - 1);
}

std::size_t rec_len_at(Bytes block, std::size_t off) {
    const std::size_t r = le16(block, off + 4);
    return block.size() == 65536 && (r == 65535 || r == 0) ? 65536 : r;
}

bool named(Bytes block, std::size_t off, const char* name) {
    const std::size_t n = std::strlen(name);
    if (u8(block, off + 6) != n || off + 8 + n > block.size())
        return false;
    return std::memcmp(block.data() + off + 8, name, n) == 0;
}

} // namespace

std::string mapped_range_problem(std::uint64_t first, std::uint64_t count, const SuperInfo& sb,
                                 const FixedMetadata& fixed) {
    if (first < sb.first_data_block || first >= sb.blocks_count || count > sb.blocks_count - first)
        return "outside the filesystem";
    if (const MetaExtent* m = fixed.overlap(first, count))
        return "on " + describe(*m);
    return {};
}

std::string extent_entries_problem(Bytes node, std::uint16_t depth, bool directory,
                                   const SuperInfo& sb, const FixedMetadata& fixed,
                                   LogicalRange range) {
    const std::uint16_t entries = le16(node, 2);
    std::uint64_t next = 0; // the first logical block the next entry may start at
    for (std::size_t k = 0; k < entries; ++k) {
        const Bytes e = node.subspan(12 + 12 * k, 12);
        const std::uint64_t logical = le32(e, 0);
        auto at = [&] { return (depth > 0 ? "index " : "extent ") + std::to_string(k) + ": "; };
        if (logical < range.lo || logical >= range.hi)
            return at() + "logical block " + std::to_string(logical) +
                   " outside the range its index covers [" + std::to_string(range.lo) + ", " +
                   std::to_string(range.hi) + ")";
        if (k == 0 && range.from_index && logical != range.lo)
            return at() + "logical start " + std::to_string(logical) +
                   " does not match its index entry's " + std::to_string(range.lo);
        if (k > 0 && logical < next)
            return at() + "logical block " + std::to_string(logical) +
                   " overlaps or precedes the previous entry";
        if (depth > 0) {
            const std::uint64_t child = le32(e, 4) | (std::uint64_t{le16(e, 8)} << 32);
            if (auto p = mapped_range_problem(child, 1, sb, fixed); !p.empty())
                return at() + "child block " + std::to_string(child) + " lies " + p;
            next = logical + 1; // index keys strictly increase
            continue;
        }
        const std::uint16_t raw = le16(e, 4);
        if (raw == 0)
            return at() + "zero length (logical block " + std::to_string(logical) + ")";
        const bool unwritten = raw > k_init_max_len;
        const std::uint64_t len = unwritten ? raw - k_init_max_len : raw;
        if (logical + len > (std::uint64_t{1} << 32))
            return at() + "logical blocks " + range_text(logical, len) + " run past 2^32";
        const std::uint64_t start = le32(e, 8) | (std::uint64_t{le16(e, 6)} << 32);
        if (auto p = mapped_range_problem(start, len, sb, fixed); !p.empty())
            return at() + "physical blocks " + range_text(start, len) + " lie " + p;
        if (unwritten && directory)
            return at() + "unwritten extent in a directory (logical block " +
                   std::to_string(logical) + ")";
        next = logical + len;
    }
    return {};
}

bool fast_symlink(Bytes inode, const SuperInfo& /*sb*/) {
    // As the kernel creates them (and libext2fs judges them): a target
    // shorter than i_block is stored in it.
    const std::uint64_t size = inode_size(inode);
    return file_type(inode) == 0xA000 && size != 0 && size < k_iblock_bytes &&
           !(le32(inode, 0x20) & (k_fl_inline_data | k_fl_extents | k_fl_encrypt));
}

std::string block_pointers_problem(Bytes inode, const SuperInfo& sb, const FixedMetadata& fixed) {
    const std::uint16_t type = file_type(inode);
    if (type != 0x8000 && type != 0x4000 && type != 0xA000)
        return {}; // devices keep a device number there, FIFOs and sockets nothing
    if (le32(inode, 0x20) & (k_fl_extents | k_fl_inline_data))
        return {};
    if (fast_symlink(inode, sb))
        return {};
    for (std::size_t k = 0; k < 15; ++k) {
        const std::uint64_t b = le32(inode, k_iblock + 4 * k);
        if (b == 0)
            continue;
        auto at = [&] { return "i_block[" + std::to_string(k) + "] = " + std::to_string(b); };
        if (auto p = mapped_range_problem(b, 1, sb, fixed); !p.empty())
            return at() + " lies " + p;
        for (std::size_t j = 0; j < k; ++j)
            if (le32(inode, k_iblock + 4 * j) == b)
                return at() + " repeats i_block[" + std::to_string(j) + "]";
    }
    return {};
}

std::string indirect_entries_problem(Bytes block, std::uint64_t self, const SuperInfo& sb,
                                     const FixedMetadata& fixed) {
    const std::size_t n = block.size() / 4;
    std::vector<std::uint32_t> seen;
    seen.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
        const std::uint32_t b = le32(block, 4 * k);
        if (b == 0)
            continue;
        auto at = [&] { return "entry " + std::to_string(k) + ": block " + std::to_string(b); };
        if (auto p = mapped_range_problem(b, 1, sb, fixed); !p.empty())
            return at() + " lies " + p;
        if (b == self)
            return at() + " is this indirect block";
        seen.push_back(b);
    }
    std::sort(seen.begin(), seen.end());
    if (const auto it = std::adjacent_find(seen.begin(), seen.end()); it != seen.end()) {
        for (std::size_t k = 0; k < n; ++k)
            if (le32(block, 4 * k) == *it)
                return "entry " + std::to_string(k) + ": block " + std::to_string(*it) +
                       " is mapped twice";
    }
    return {};
}

std::string symlink_problem(Bytes inode, const SuperInfo& sb) {
    if (file_type(inode) != 0xA000)
        return {};
    const std::uint32_t flags = le32(inode, 0x20);
    if (flags & (k_fl_inline_data | k_fl_encrypt))
        return {}; // the target is elsewhere or ciphertext: its length is not judged here
    const std::uint64_t size = inode_size(inode);
    if (size == 0)
        return "symlink i_size 0 (an empty target)";
    if (fast_symlink(inode, sb)) {
        const Bytes target = inode.subspan(k_iblock, k_iblock_bytes);
        std::size_t len = 0;
        while (len < target.size() && target[len] != std::byte{0})
            ++len;
        if (len != size)
            return "fast symlink i_size " + std::to_string(size) + " but its target is " +
                   std::to_string(len) + " bytes";
        return {};
    }
    if (size >= sb.block_size)
        return "symlink i_size " + std::to_string(size) + " does not fit one block";
    if (!(flags & k_fl_extents)) {
        for (std::size_t k = 1; k < 15; ++k)
            if (le32(inode, k_iblock + 4 * k) != 0)
                return "slow symlink maps more than one block (i_block[" + std::to_string(k) +
                       "] set)";
    }
    return {};
}

std::string dir_size_problem(Bytes inode, const SuperInfo& sb) {
    if (file_type(inode) != 0x4000)
        return {};
    const std::uint32_t flags = le32(inode, 0x20);
    const std::uint64_t size = inode_size(inode);
    if ((flags & k_fl_inline_data) || size % sb.block_size != 0)
        return {};
    const Bytes iblock = inode.subspan(k_iblock, k_iblock_bytes);
    std::uint64_t end = 0; // one past the last mapped logical block
    if (flags & k_fl_extents) {
        const std::uint16_t entries = le16(iblock, 2);
        if (le16(iblock, 0) != 0xF30A || le16(iblock, 6) != 0 || entries > 4)
            return {}; // an index root, or a header the extent rules judge
        for (std::size_t k = 0; k < entries; ++k) {
            const std::uint16_t raw = le16(iblock, 12 + 12 * k + 4);
            const std::uint64_t len = raw > k_init_max_len ? raw - k_init_max_len : raw;
            end = std::max(end, le32(iblock, 12 + 12 * k) + len);
        }
    } else {
        if (le32(iblock, 48) != 0 || le32(iblock, 52) != 0 || le32(iblock, 56) != 0)
            return {}; // indirect blocks: the map is not all here
        for (std::size_t k = 0; k < 12; ++k)
            if (le32(iblock, 4 * k) != 0)
                end = k + 1;
    }
    const std::uint64_t nblock = size / sb.block_size;
    if (nblock > end)
        return "directory i_size " + std::to_string(size) + " is larger than its mapped blocks (" +
               std::to_string(end) + ")";
    if (end > nblock + u8(Bytes(sb.raw), 0xCD))
        return "directory i_size " + std::to_string(size) +
               " is smaller than its mapped blocks (logical block " + std::to_string(end - 1) +
               " mapped)";
    return {};
}

std::string first_dir_block_problem(Bytes block, std::size_t end, std::uint32_t dir_ino) {
    // The entry chain was already found sound up to `end`.
    if (end < 12 || !named(block, 0, ".") || le32(block, 0) == 0)
        return "first block: no '.' entry";
    if (le32(block, 0) != dir_ino)
        return "first block: '.' names inode " + std::to_string(le32(block, 0)) +
               ", not the directory";
    const std::size_t second = rec_len_at(block, 0);
    if (second + 12 > end || !named(block, second, ".."))
        return "first block: no '..' entry";
    return {};
}

} // namespace guardian::ext4
