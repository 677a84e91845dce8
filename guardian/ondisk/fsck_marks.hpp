// The two on-disk marks that make the next boot's fsck check a filesystem:
// jbd2's s_errno (the kernel refuses to mount a journal that recorded an
// error until e2fsck clears it) and the superblock's ERROR_FS state flag,
// each with its checksum recomputed. Pure: the caller reads and writes.
#pragma once

#include "guardian/util/result.hpp"

#include <cstddef>
#include <span>

namespace guardian::ondisk {

// A journal superblock (v1 or v2): s_errno = -EIO, checksum updated.
[[nodiscard]] Status patch_journal_superblock(std::span<std::byte, 1024> jsb);
// An ext2/3/4 superblock: EXT2_ERROR_FS in s_state, checksum updated.
[[nodiscard]] Status patch_fs_superblock(std::span<std::byte, 1024> sb);

} // namespace guardian::ondisk
