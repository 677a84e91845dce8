// The ext2/3/4 superblock fields that more than one module reads or writes
// (little-endian, offsets within the 1024 bytes at byte 1024 of the device).
#pragma once

#include <cstddef>
#include <cstdint>

namespace guardian::ondisk::sb {

inline constexpr std::uint64_t k_offset = 1024; // on the device
inline constexpr std::size_t k_size = 1024;
inline constexpr std::size_t k_magic = 0x38;
inline constexpr std::size_t k_state = 0x3A;
inline constexpr std::size_t k_ro_compat = 0x64;
inline constexpr std::size_t k_error_count = 0x194;
inline constexpr std::size_t k_checksum = 0x3FC;

inline constexpr std::uint16_t k_magic_value = 0xEF53;
inline constexpr std::uint16_t k_state_valid = 0x1;
inline constexpr std::uint16_t k_state_error = 0x2;
inline constexpr std::uint32_t k_ro_compat_metadata_csum = 0x400;

} // namespace guardian::ondisk::sb
