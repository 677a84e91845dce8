#include "guardian/ext4/checksums.hpp"

#include <array>
#include <cstdio>

namespace guardian::ext4 {
namespace {

constexpr std::size_t k_sb_checksum_offset = 0x3FC;
constexpr std::size_t k_sb_uuid_offset = 0x68;
constexpr std::size_t k_sb_checksum_seed_offset = 0x270;
constexpr std::uint32_t k_incompat_csum_seed = 0x2000;
constexpr std::size_t k_inode_csum_lo = 0x7C;
constexpr std::size_t k_inode_csum_hi = 0x82;
constexpr std::size_t k_inode_generation = 0x64;
constexpr std::size_t k_inode_extra_isize = 0x80;

std::array<std::byte, 4> le32_bytes(std::uint32_t v) {
    return {std::byte(v & 0xFF), std::byte((v >> 8) & 0xFF), std::byte((v >> 16) & 0xFF),
            std::byte(v >> 24)};
}
std::array<std::byte, 4> be32_bytes(std::uint32_t v) {
    return {std::byte(v >> 24), std::byte((v >> 16) & 0xFF), std::byte((v >> 8) & 0xFF),
            std::byte(v & 0xFF)};
}

// crc32c over `data` with the `width` bytes at `hole` treated as zero.
std::uint32_t crc32c_with_hole(std::uint32_t crc, Bytes data, std::size_t hole, std::size_t width) {
    static constexpr std::array<std::byte, 8> zeros{};
    crc = crc32c(crc, data.first(hole));
    crc = crc32c(crc, Bytes(zeros).first(width));
    return crc32c(crc, data.subspan(hole + width));
}

} // namespace

std::string CsumCheck::describe() const {
    char buf[80];
    std::snprintf(buf, sizeof buf, "checksum mismatch: stored 0x%08x, computed 0x%08x", stored,
                  computed);
    return buf;
}

std::uint16_t crc16(std::uint16_t crc, Bytes data) {
    // CRC-16/ARC (reflected 0x8005), as ext4's gdt_csum uses; only 32-64 bytes
    // per descriptor, so bitwise is plenty.
    for (const std::byte b : data) {
        crc = static_cast<std::uint16_t>(crc ^ static_cast<std::uint8_t>(b));
        for (int i = 0; i < 8; ++i)
            crc = static_cast<std::uint16_t>((crc & 1) ? (crc >> 1) ^ 0xA001 : crc >> 1);
    }
    return crc;
}

std::uint32_t fs_csum_seed(Bytes sb) {
    if (le32(sb, 0x60) & k_incompat_csum_seed)
        return le32(sb, k_sb_checksum_seed_offset);
    return crc32c(~0u, sb.subspan(k_sb_uuid_offset, 16));
}

std::uint32_t inode_csum_seed(std::uint32_t fs_seed, std::uint32_t ino, std::uint32_t generation) {
    const auto i = le32_bytes(ino);
    const auto g = le32_bytes(generation);
    return crc32c(crc32c(fs_seed, i), g);
}

CsumCheck superblock_csum(Bytes sb) {
    return {le32(sb, k_sb_checksum_offset), crc32c(~0u, sb.first(k_sb_checksum_offset))};
}

CsumCheck group_desc_csum(Bytes desc, std::uint32_t group, std::uint32_t fs_seed,
                          bool metadata_csum, Bytes uuid) {
    constexpr std::size_t off = 0x1E; // bg_checksum
    const auto g = le32_bytes(group);
    const std::uint32_t stored = le16(desc, off);
    if (metadata_csum) {
        const std::uint32_t crc = crc32c_with_hole(crc32c(fs_seed, g), desc, off, 2);
        return {stored, crc & 0xFFFF};
    }
    std::uint16_t crc = crc16(0xFFFF, uuid);
    crc = crc16(crc, g);
    crc = crc16(crc, desc.first(off));
    if (desc.size() > off + 2)
        crc = crc16(crc, desc.subspan(off + 2));
    return {stored, crc};
}

CsumCheck inode_csum(Bytes inode, std::uint32_t ino, std::uint32_t fs_seed) {
    return inode_csum_seeded(inode, inode_csum_seed(fs_seed, ino, le32(inode, k_inode_generation)));
}

CsumCheck inode_csum_seeded(Bytes inode, std::uint32_t seed) {
    const bool has_hi = inode.size() > 128 && le16(inode, k_inode_extra_isize) >= 4;
    std::uint32_t stored = le16(inode, k_inode_csum_lo);
    std::uint32_t crc = 0;
    if (has_hi) {
        stored |= static_cast<std::uint32_t>(le16(inode, k_inode_csum_hi)) << 16;
        static constexpr std::array<std::byte, 2> zeros{};
        crc = crc32c(seed, inode.first(k_inode_csum_lo));
        crc = crc32c(crc, zeros);
        crc =
            crc32c(crc, inode.subspan(k_inode_csum_lo + 2, k_inode_csum_hi - k_inode_csum_lo - 2));
        crc = crc32c(crc, zeros);
        crc = crc32c(crc, inode.subspan(k_inode_csum_hi + 2));
        return {stored, crc};
    }
    crc = crc32c_with_hole(seed, inode, k_inode_csum_lo, 2);
    return {stored, crc & 0xFFFF};
}

std::optional<CsumCheck> extent_block_csum(Bytes block, std::uint32_t inode_seed) {
    const std::size_t tail = 12 + 12 * static_cast<std::size_t>(le16(block, 4));
    if (tail + 4 > block.size())
        return std::nullopt;
    return CsumCheck{le32(block, tail), crc32c(inode_seed, block.first(tail))};
}

std::optional<CsumCheck> dir_leaf_csum(Bytes block, std::uint32_t inode_seed) {
    // struct ext2_dir_entry_tail: inode 0, rec_len 12, name_len 0, file_type 0xDE.
    const std::size_t t = block.size() - 12;
    if (block.size() < 12 || le32(block, t) != 0 || le16(block, t + 4) != 12 ||
        u8(block, t + 6) != 0 || u8(block, t + 7) != 0xDE)
        return std::nullopt;
    return CsumCheck{le32(block, t + 8), crc32c(inode_seed, block.first(t))};
}

std::optional<CsumCheck> dx_node_csum(Bytes block, std::size_t count_offset,
                                      std::uint32_t inode_seed) {
    const std::size_t limit = le16(block, count_offset);
    const std::size_t count = le16(block, count_offset + 2);
    // struct ext2_dx_tail { dt_reserved; dt_checksum } follows `limit` entries.
    const std::size_t tail = count_offset + limit * 8;
    if (count > limit || tail + 8 > block.size())
        return std::nullopt;
    std::uint32_t crc = crc32c(inode_seed, block.first(count_offset + count * 8));
    static constexpr std::array<std::byte, 4> zeros{};
    crc = crc32c(crc, block.subspan(tail, 4));
    crc = crc32c(crc, zeros); // dt_checksum itself, as zero
    return CsumCheck{le32(block, tail + 4), crc};
}

CsumCheck xattr_block_csum(Bytes block, std::uint64_t blocknr, std::uint32_t fs_seed) {
    const auto lo = le32_bytes(static_cast<std::uint32_t>(blocknr));
    const auto hi = le32_bytes(static_cast<std::uint32_t>(blocknr >> 32));
    std::uint32_t crc = crc32c(crc32c(fs_seed, lo), hi);
    return {le32(block, 16), crc32c_with_hole(crc, block, 16, 4)};
}

CsumCheck bitmap_csum(Bytes bitmap, std::uint32_t fs_seed, std::uint32_t stored, bool hi_present) {
    const std::uint32_t crc = crc32c(fs_seed, bitmap);
    return {stored, hi_present ? crc : crc & 0xFFFF};
}

CsumCheck jbd2_superblock_csum(Bytes jsb) {
    return {be32(jsb, 0xFC), crc32c_with_hole(~0u, jsb.first(1024), 0xFC, 4)};
}

CsumCheck jbd2_block_tail_csum(Bytes block, std::uint32_t journal_seed) {
    const std::size_t t = block.size() - 4;
    return {be32(block, t), crc32c_with_hole(journal_seed, block, t, 4)};
}

CsumCheck jbd2_commit_csum(Bytes block, std::uint32_t journal_seed) {
    return {be32(block, 16), crc32c_with_hole(journal_seed, block, 16, 4)};
}

std::uint32_t jbd2_data_csum(Bytes block, std::uint32_t journal_seed, std::uint32_t sequence) {
    const auto seq = be32_bytes(sequence);
    return crc32c(crc32c(journal_seed, seq), block);
}

} // namespace guardian::ext4
