// crc32c: the hardware path (SSE4.2, when this CPU has it) must give exactly
// what libext2fs's table code gives, for every length, alignment and seed a
// scan can pass it, including the incremental use the checksum formulas make
// (seed chaining, buffers split around a checksum field).
#include "guardian/ext4/checksums.hpp"

#include <ext2fs/ext2fs.h>
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

namespace guardian::ext4 {
namespace {

Bytes bytes_of(const std::vector<std::byte>& v, std::size_t offset, std::size_t size) {
    return Bytes(v).subspan(offset, size);
}

std::vector<std::byte> random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::byte> v(n);
    for (auto& b : v)
        b = static_cast<std::byte>(rng() & 0xFF);
    return v;
}

TEST(Crc32c, KnownVector) {
    // The CRC-32C check value: crc32c("123456789") with the usual ~0 seed and
    // final inversion is 0xE3069283.
    const char* s = "123456789";
    const auto data = std::as_bytes(std::span(s, std::strlen(s)));
    EXPECT_EQ(~crc32c(~0u, data), 0xE3069283u);
    EXPECT_EQ(~crc32c_portable(~0u, data), 0xE3069283u);
}

TEST(Crc32c, SameAsLibext2fsForEveryLengthAndAlignment) {
    std::cout << "[ info ] crc32c implementation: "
              << (crc32c_hardware() ? "SSE4.2 crc32 instruction" : "a table") << "\n";
    const auto buf = random_bytes(4096 + 64, 1);
    const std::array<std::uint32_t, 4> seeds{0u, ~0u, 0x12345678u, 0xDEADBEEFu};
    for (const std::uint32_t seed : seeds)
        for (std::size_t offset = 0; offset < 16; ++offset)
            for (std::size_t len = 0; len <= 300; ++len) {
                const Bytes b = bytes_of(buf, offset, len);
                ASSERT_EQ(crc32c(seed, b), crc32c_portable(seed, b))
                    << "seed " << seed << " offset " << offset << " length " << len;
                // guardian/ondisk's own table against e2fsck's.
                ASSERT_EQ(crc32c_portable(seed, b),
                          ext2fs_crc32c_le(seed, reinterpret_cast<const unsigned char*>(b.data()),
                                           b.size()))
                    << "seed " << seed << " offset " << offset << " length " << len;
            }
    // Block-sized and odd large sizes, as metadata blocks and inode tables are.
    // 1008 = three lanes of 336 bytes (crc32c.cpp): just under, at, just over.
    for (const std::size_t len : {1024u, 4096u, 4095u, 4097u - 16u, 256u, 128u, 12u, 4092u, 1007u,
                                  1008u, 1009u, 2016u, 3031u})
        for (std::size_t offset = 0; offset < 8; ++offset) {
            const Bytes b = bytes_of(buf, offset, len);
            ASSERT_EQ(crc32c(0xA5A5A5A5u, b), crc32c_portable(0xA5A5A5A5u, b)) << len;
        }
}

TEST(Crc32c, RandomBuffersAndChaining) {
    std::mt19937 rng(7);
    for (int i = 0; i < 2000; ++i) {
        const std::size_t n = rng() % 70000;
        const auto v = random_bytes(n, static_cast<std::uint32_t>(rng()));
        const std::uint32_t seed = static_cast<std::uint32_t>(rng());
        const Bytes all(v);
        const std::uint32_t whole = crc32c(seed, all);
        ASSERT_EQ(whole, crc32c_portable(seed, all)) << "length " << n;
        // Split anywhere: chaining the raw update must equal one pass.
        const std::size_t cut = n == 0 ? 0 : rng() % (n + 1);
        EXPECT_EQ(crc32c(crc32c(seed, all.first(cut)), all.subspan(cut)), whole);
    }
}

TEST(Crc32c, ChecksumFormulasAgreeOnARealInode) {
    // An inode checksum computed with the dispatching crc32c must verify
    // against a stored value computed with the portable one.
    auto inode = random_bytes(256, 3);
    inode[0x80] = std::byte{32}; // i_extra_isize: the high 16 bits are present
    inode[0x81] = std::byte{0};
    const std::uint32_t fs_seed = 0x1BADB002;
    const std::uint32_t ino = 12;
    const std::uint32_t gen = static_cast<std::uint32_t>(inode[0x64]) |
                              static_cast<std::uint32_t>(inode[0x65]) << 8 |
                              static_cast<std::uint32_t>(inode[0x66]) << 16 |
                              static_cast<std::uint32_t>(inode[0x67]) << 24;
    // Zero the checksum fields, compute the portable crc, store it.
    inode[0x7C] = inode[0x7D] = inode[0x82] = inode[0x83] = std::byte{0};
    std::array<std::byte, 4> le{};
    auto put = [&](std::uint32_t v) {
        for (std::size_t i = 0; i < 4; ++i)
            le[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
        return Bytes(le);
    };
    std::uint32_t seed = crc32c_portable(fs_seed, put(ino));
    seed = crc32c_portable(seed, put(gen));
    const std::uint32_t crc = crc32c_portable(seed, Bytes(inode));
    inode[0x7C] = static_cast<std::byte>(crc & 0xFF);
    inode[0x7D] = static_cast<std::byte>((crc >> 8) & 0xFF);
    inode[0x82] = static_cast<std::byte>((crc >> 16) & 0xFF);
    inode[0x83] = static_cast<std::byte>(crc >> 24);
    EXPECT_TRUE(inode_csum(Bytes(inode), ino, fs_seed).ok());
    EXPECT_EQ(inode_csum_seed(fs_seed, ino, gen), seed);
    EXPECT_TRUE(inode_csum_seeded(Bytes(inode), seed).ok());
    inode[0x10] ^= std::byte{1};
    EXPECT_FALSE(inode_csum(Bytes(inode), ino, fs_seed).ok());
    EXPECT_FALSE(inode_csum_seeded(Bytes(inode), seed).ok());
}

TEST(Crc32c, ShortPiecesAtEveryAlignmentAsLibext2fs) {
    // The seeds chain 4-byte pieces and the checksum formulas cut buffers
    // around 2- and 4-byte fields: the tail steps (4, 2, 1 bytes) at random
    // lengths below 64, random alignments and random seeds, against e2fsck's
    // ext2fs_crc32c_le directly.
    std::mt19937 rng(11);
    const auto buf = random_bytes(4096, 5);
    for (int i = 0; i < 200000; ++i) {
        const std::size_t len = rng() % 64;
        const std::size_t offset = rng() % (buf.size() - 64);
        const auto seed = static_cast<std::uint32_t>(rng());
        const Bytes b = bytes_of(buf, offset, len);
        ASSERT_EQ(crc32c(seed, b),
                  ext2fs_crc32c_le(seed, reinterpret_cast<const unsigned char*>(b.data()), len))
            << "seed " << seed << " offset " << offset << " length " << len;
    }
}

} // namespace
} // namespace guardian::ext4
