// The ext4 superblock and group descriptors, parsed from the bytes guardian
// read itself (not from libext2fs's buffered copy), plus the geometry fields
// the fingerprint records: those that never change while mounted.
#pragma once

#include "guardian/ext4/bytes.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace guardian::ext4 {

inline constexpr std::uint32_t k_compat_has_journal = 0x4;
inline constexpr std::uint32_t k_incompat_filetype = 0x2;
inline constexpr std::uint32_t k_incompat_recover = 0x4;
inline constexpr std::uint32_t k_incompat_journal_dev = 0x8;
inline constexpr std::uint32_t k_incompat_meta_bg = 0x10;
inline constexpr std::uint32_t k_incompat_extents = 0x40;
inline constexpr std::uint32_t k_incompat_64bit = 0x80;
inline constexpr std::uint32_t k_incompat_flex_bg = 0x200;
inline constexpr std::uint32_t k_incompat_ea_inode = 0x400;
inline constexpr std::uint32_t k_incompat_csum_seed = 0x2000;
inline constexpr std::uint32_t k_incompat_largedir = 0x4000;
inline constexpr std::uint32_t k_incompat_inline_data = 0x8000;
inline constexpr std::uint32_t k_ro_compat_gdt_csum = 0x10;
inline constexpr std::uint32_t k_ro_compat_bigalloc = 0x200;
inline constexpr std::uint32_t k_ro_compat_metadata_csum = 0x400;

struct SuperInfo {
    std::vector<std::byte> raw; // 1024 bytes as read
    std::uint64_t sb_block = 0; // fs block holding byte 1024
    std::uint32_t block_size = 0;
    std::uint64_t blocks_count = 0;
    std::uint32_t first_data_block = 0;
    std::uint32_t blocks_per_group = 0;
    std::uint32_t clusters_per_group = 0;
    std::uint32_t inodes_per_group = 0;
    std::uint32_t inodes_count = 0;
    std::uint32_t inode_size = 0;
    std::uint32_t desc_size = 0;
    std::uint32_t group_count = 0;
    std::uint32_t feature_compat = 0;
    std::uint32_t feature_incompat = 0;
    std::uint32_t feature_ro_compat = 0;
    std::uint32_t journal_inum = 0;
    std::uint32_t journal_dev = 0;
    std::uint32_t reserved_gdt = 0;
    std::uint32_t first_meta_bg = 0;
    std::uint32_t csum_seed = 0;

    [[nodiscard]] bool metadata_csum() const noexcept {
        return feature_ro_compat & k_ro_compat_metadata_csum;
    }
    [[nodiscard]] bool gdt_csum() const noexcept {
        return feature_ro_compat & (k_ro_compat_gdt_csum | k_ro_compat_metadata_csum);
    }
    [[nodiscard]] bool has_journal() const noexcept {
        return feature_compat & k_compat_has_journal;
    }
    [[nodiscard]] bool flex_bg() const noexcept { return feature_incompat & k_incompat_flex_bg; }
    [[nodiscard]] std::uint64_t desc_blocks() const noexcept {
        const std::uint64_t per = block_size / desc_size;
        return (group_count + per - 1) / per;
    }
    [[nodiscard]] std::uint32_t group_of(std::uint64_t block) const noexcept {
        return block < first_data_block
                   ? 0
                   : static_cast<std::uint32_t>((block - first_data_block) / blocks_per_group);
    }
    [[nodiscard]] std::uint64_t inode_table_blocks() const noexcept {
        return (std::uint64_t{inodes_per_group} * inode_size + block_size - 1) / block_size;
    }
    [[nodiscard]] std::string type() const;
    [[nodiscard]] std::string uuid() const;
    [[nodiscard]] std::string label() const;
};

// Parses `raw` (1024 bytes). An empty `insane` means the geometry is usable;
// otherwise it says which field is impossible.
[[nodiscard]] SuperInfo parse_superblock(Bytes raw, std::string& insane);

// "superblock.<field>" geometry entries.
void add_superblock_geometry(const SuperInfo& sb, std::map<std::string, std::string>& geometry);

struct GroupDesc {
    std::uint64_t block_bitmap = 0;
    std::uint64_t inode_bitmap = 0;
    std::uint64_t inode_table = 0;
    std::uint16_t flags = 0;
    std::uint32_t itable_unused = 0;
    std::uint32_t block_bitmap_csum = 0;
    std::uint32_t inode_bitmap_csum = 0;
    bool bitmap_csum_hi = false; // descriptor carries the upper 16 bits
};

inline constexpr std::uint16_t k_bg_inode_uninit = 0x1;
inline constexpr std::uint16_t k_bg_block_uninit = 0x2;

[[nodiscard]] GroupDesc parse_group_desc(Bytes desc);
void add_group_geometry(std::uint32_t group, const GroupDesc& gd,
                        std::map<std::string, std::string>& geometry);

} // namespace guardian::ext4
