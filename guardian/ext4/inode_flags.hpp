// The inode flags (i_flags, le32 at 0x20) the rules read (fs/ext4/ext4.h).
#pragma once

#include <cstdint>

namespace guardian::ext4 {

inline constexpr std::uint32_t k_fl_encrypt = 0x800;
inline constexpr std::uint32_t k_fl_index = 0x1000; // an htree directory
inline constexpr std::uint32_t k_fl_extents = 0x80000;
inline constexpr std::uint32_t k_fl_verity = 0x100000; // its Merkle tree lies past i_size
inline constexpr std::uint32_t k_fl_inline_data = 0x10000000;
inline constexpr std::uint32_t k_fl_casefold = 0x40000000;

} // namespace guardian::ext4
