// Deterministic, real ext4 images for the integration tests, built with
// mkfs.ext4 -d the way e2fsprogs builds its own test images: fixed UUID and
// hash seed, E2FSPROGS_FAKE_TIME, TZ=UTC. Each kind is built once per test
// binary run and copied per test, so a test may damage its copy freely.
#pragma once

#include <filesystem>
#include <string>

namespace guardian::test {

enum class ImageKind {
    // ext4 + metadata_csum, 128 MiB, 4 KiB blocks, 4 groups of 8192 blocks,
    // 1024 inodes per group. Holds /data.bin (regular file), /frag.bin
    // (3000 one-block extents: a depth-2 extent tree), /big (3000 entries,
    // an htree directory), /sub/a.txt (a 3000-byte xattr in an xattr block).
    full,
    // `full` plus one committed, unreplayed transaction in a jbd2 v3 journal
    // (debugfs journal_write), so the log holds a descriptor and a commit block.
    journal_log,
    // Same contents without metadata_csum (checksums cannot be verified).
    no_metadata_csum,
    // ext2: no journal, no extents, no checksums.
    ext2,
    // Debian 8's ext4: the same contents, no metadata_csum, uninit_bg's
    // crc16 group descriptor checksums (no 64bit: 32-byte descriptors).
    ext4_uninit_bg,
    // ext3 (mkfs.ext3 -d): journal, no extents (indirect block maps), no
    // checksums; /frag.bin's map has single and double indirect blocks.
    ext3,
};

[[nodiscard]] std::string to_string(ImageKind kind);

// Paths inside the `full` image the tests refer to.
inline constexpr const char* k_data_file = "/data.bin";
inline constexpr const char* k_frag_file = "/frag.bin";
inline constexpr const char* k_htree_dir = "/big";
inline constexpr const char* k_small_dir = "/sub";
inline constexpr const char* k_xattr_file = "/sub/a.txt";
inline constexpr unsigned k_block_size = 4096;

// Copies the cached image of `kind` (built on first use) to `dest`.
// Throws std::runtime_error when the image cannot be built (missing tools).
void copy_image(ImageKind kind, const std::filesystem::path& dest);

// Runs a command with the deterministic e2fsprogs environment prepended.
[[nodiscard]] std::string e2fs_env();

} // namespace guardian::test
