// The metadata checksum formulas of ext4 (metadata_csum, crc32c) and jbd2,
// computed over raw buffers. They are computed here, from the bytes guardian
// read itself, rather than through libext2fs's *_csum_verify helpers because
// several of those re-read the owning inode through libext2fs's own buffered
// I/O to get i_generation: the verdict must be about exactly the bytes that
// were read (and fingerprinted), with O_DIRECT, in one pass.
// Every function takes the stored value out of the buffer and returns both.
#pragma once

#include "guardian/ext4/bytes.hpp"
#include "guardian/ondisk/crc32c.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace guardian::ext4 {

struct CsumCheck {
    std::uint32_t stored = 0;
    std::uint32_t computed = 0;
    [[nodiscard]] bool ok() const noexcept { return stored == computed; }
    [[nodiscard]] std::string describe() const; // "checksum mismatch: stored 0x.., computed 0x.."
};

// crc32c lives with the other on-disk formats (guardian/ondisk/crc32c.hpp).
using ondisk::crc32c;
using ondisk::crc32c_hardware;
using ondisk::crc32c_portable;
[[nodiscard]] std::uint16_t crc16(std::uint16_t crc, Bytes data);

// Filesystem checksum seed: s_checksum_seed (csum_seed feature) or crc32c(~0, uuid).
[[nodiscard]] std::uint32_t fs_csum_seed(Bytes superblock);
// Per-inode seed used by inode, extent and directory checksums.
[[nodiscard]] std::uint32_t inode_csum_seed(std::uint32_t fs_seed, std::uint32_t ino,
                                            std::uint32_t generation);

[[nodiscard]] CsumCheck superblock_csum(Bytes sb);
// metadata_csum: crc32c-derived, 16 bits; gdt_csum (uninit_bg): crc16.
[[nodiscard]] CsumCheck group_desc_csum(Bytes desc, std::uint32_t group, std::uint32_t fs_seed,
                                        bool metadata_csum, Bytes uuid);
[[nodiscard]] CsumCheck inode_csum(Bytes inode, std::uint32_t ino, std::uint32_t fs_seed);
// The same with the inode's seed (inode_csum_seed) already computed: the
// walk needs it again for the blocks the inode references.
[[nodiscard]] CsumCheck inode_csum_seeded(Bytes inode, std::uint32_t inode_seed);
// nullopt: the block has no room for the checksum tail (itself damage).
[[nodiscard]] std::optional<CsumCheck> extent_block_csum(Bytes block, std::uint32_t inode_seed);
[[nodiscard]] std::optional<CsumCheck> dir_leaf_csum(Bytes block, std::uint32_t inode_seed);
[[nodiscard]] std::optional<CsumCheck> dx_node_csum(Bytes block, std::size_t count_offset,
                                                    std::uint32_t inode_seed);
[[nodiscard]] CsumCheck xattr_block_csum(Bytes block, std::uint64_t blocknr, std::uint32_t fs_seed);
// Bitmap checksums are stored in the descriptor: `hi_present` when the
// descriptor is large enough to carry the upper 16 bits.
[[nodiscard]] CsumCheck bitmap_csum(Bytes bitmap, std::uint32_t fs_seed, std::uint32_t stored,
                                    bool hi_present);

// jbd2 (big-endian structures, crc32c v2/v3).
[[nodiscard]] CsumCheck jbd2_superblock_csum(Bytes jsb);
[[nodiscard]] CsumCheck jbd2_block_tail_csum(Bytes block, std::uint32_t journal_seed);
[[nodiscard]] CsumCheck jbd2_commit_csum(Bytes block, std::uint32_t journal_seed);
// Data-block checksum from a descriptor tag: full 32 bits (v3) or low 16 (v2).
[[nodiscard]] std::uint32_t jbd2_data_csum(Bytes block, std::uint32_t journal_seed,
                                           std::uint32_t sequence);

} // namespace guardian::ext4
