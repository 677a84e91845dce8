// Little/big-endian field access on raw on-disk buffers, reading and
// writing. Every on-disk field is read through these with an explicit
// offset, never by casting a buffer to a struct, so a hostile image cannot
// cause a misaligned or out-of-bounds read: reads past the end give 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace guardian::ondisk {

using Bytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

[[nodiscard]] inline std::uint8_t u8(Bytes b, std::size_t off) {
    return off < b.size() ? static_cast<std::uint8_t>(b[off]) : 0;
}
[[nodiscard]] inline std::uint16_t le16(Bytes b, std::size_t off) {
    return static_cast<std::uint16_t>(u8(b, off) | (u8(b, off + 1) << 8));
}
[[nodiscard]] inline std::uint32_t le32(Bytes b, std::size_t off) {
    return static_cast<std::uint32_t>(le16(b, off)) |
           (static_cast<std::uint32_t>(le16(b, off + 2)) << 16);
}
[[nodiscard]] inline std::uint64_t le64(Bytes b, std::size_t off) {
    return static_cast<std::uint64_t>(le32(b, off)) |
           (static_cast<std::uint64_t>(le32(b, off + 4)) << 32);
}
// jbd2 is big-endian on disk.
[[nodiscard]] inline std::uint32_t be32(Bytes b, std::size_t off) {
    return (static_cast<std::uint32_t>(u8(b, off)) << 24) |
           (static_cast<std::uint32_t>(u8(b, off + 1)) << 16) |
           (static_cast<std::uint32_t>(u8(b, off + 2)) << 8) | u8(b, off + 3);
}
[[nodiscard]] inline std::uint16_t be16(Bytes b, std::size_t off) {
    return static_cast<std::uint16_t>((u8(b, off) << 8) | u8(b, off + 1));
}

// Writers: the caller has checked that [off, off + width) lies in `b`.
inline void put_le16(MutableBytes b, std::size_t off, std::uint16_t v) {
    b[off] = static_cast<std::byte>(v & 0xFF);
    b[off + 1] = static_cast<std::byte>(v >> 8);
}
inline void put_le32(MutableBytes b, std::size_t off, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i)
        b[off + i] = static_cast<std::byte>(v >> (8 * i));
}
inline void put_be32(MutableBytes b, std::size_t off, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i)
        b[off + i] = static_cast<std::byte>(v >> (24 - 8 * i));
}

} // namespace guardian::ondisk
